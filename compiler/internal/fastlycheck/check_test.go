package fastlycheck

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/regedge/regedge/compiler/internal/compile"
	"github.com/regedge/regedge/compiler/internal/config"
	"github.com/regedge/regedge/compiler/internal/render"
	"github.com/regedge/regedge/compiler/plan"
)

// shipped renders the shipped policy's Fastly VCL once for every test.
var shipped = sync.OnceValues(func() (*plan.Plan, error) {
	plans, diags := compile.Plans(config.NewLoader(config.Disk{}), "../../../policy/registry.k8s.io.hcl", "")
	if diags.HasErrors() {
		return nil, diags
	}
	return plans[0].For("fastly"), nil
})

func shippedVCL(t *testing.T) (*plan.Plan, string) {
	t.Helper()
	p, err := shipped()
	if err != nil {
		t.Fatal(err)
	}
	files, err := render.Fastly(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, string(files[0].Data)
}

func TestShippedPolicyPasses(t *testing.T) {
	p, vcl := shippedVCL(t)
	if err := Check([]byte(vcl), p); err != nil {
		t.Fatalf("the shipped policy's VCL fails the check:\n%v", err)
	}
	f, err := parse(vcl)
	if err != nil {
		t.Fatal(err)
	}
	entries := 0
	for _, a := range f.acls {
		entries += len(a.entries)
	}
	t.Logf("shipped policy: %d bytes, %d ACLs, %d ACL entries, %d backends", len(vcl), len(f.acls), entries, len(f.backends))
}

// TestOverridesPass checks the shipped policy under overrides that change
// what the VCL holds: loopback http mirrors on one host with the client in
// X-Forwarded-For, and no existence check with the client in
// Fastly-Client-IP.
func TestOverridesPass(t *testing.T) {
	for _, tc := range []struct {
		override, header string
		check            bool
	}{
		{"testdata/loopback-header.hcl", "X-Forwarded-For", true},
		{"testdata/nocheck-header.hcl", "Fastly-Client-IP", false},
	} {
		override := tc.override
		plans, diags := compile.Plans(config.NewLoader(config.Disk{}), "../../../policy/registry.k8s.io.hcl", override)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		p := plans[0].For("fastly")
		if p.ClientIP.Header != tc.header || (p.Check != nil) != tc.check {
			t.Fatalf("%s: the plan reads the client from %q and checks: %v; want %q and %v", override, p.ClientIP.Header, p.Check != nil, tc.header, tc.check)
		}
		files, err := render.Fastly(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := Check(files[0].Data, p); err != nil {
			t.Errorf("%s: the VCL fails the check:\n%v", override, err)
		}
	}
}

// firstEntry returns the first entry line of an ACL.
func firstEntry(t *testing.T, vcl, acl string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^acl ` + acl + ` \{\n(    "[^\n]+\n)`).FindStringSubmatch(vcl)
	if m == nil {
		t.Fatalf("no acl %s", acl)
	}
	return m[1]
}

// addTo inserts a line at the top of an ACL.
func addTo(vcl, acl, line string) string {
	head := "acl " + acl + " {\n"
	return strings.Replace(vcl, head, head+line, 1)
}

func TestCorruptedVCLFails(t *testing.T) {
	p, vcl := shippedVCL(t)
	east := firstEntry(t, vcl, "label_s3_us_east_1")
	eastPrefix := strings.Trim(strings.TrimSpace(east), `";`)
	eastPrefix = strings.Replace(eastPrefix, `"/`, "/", 1)
	nACLs := strings.Count(vcl, "\nacl ")
	for _, tc := range []struct {
		name    string
		corrupt func(string) string
		want    []string
	}{{
		name: "entry moved to another ACL",
		corrupt: func(s string) string {
			return addTo(strings.Replace(s, east, "", 1), "label_s3_eu_west_1", east)
		},
		want: []string{
			"label s3-us-east-1: its ACLs lack " + eastPrefix + " (plan: s3-us-east-1)",
			"label s3-eu-west-1: its ACLs hold " + eastPrefix + " (plan: s3-us-east-1)",
		},
	}, {
		name:    "entry deleted",
		corrupt: func(s string) string { return strings.Replace(s, east, "", 1) },
		want:    []string{"label s3-us-east-1: its ACLs lack " + eastPrefix + " (plan: s3-us-east-1), which the plan gives it"},
	}, {
		name:    "overlapping entry added",
		corrupt: func(s string) string { return addTo(s, "label_s3_eu_west_1", east) },
		want: []string{
			"acls label_s3_eu_west_1 and label_s3_us_east_1 overlap",
			"so the order of the label chain would matter",
			"label s3-eu-west-1: its ACLs hold " + eastPrefix,
		},
	}, {
		name:    "negated entry",
		corrupt: func(s string) string { return addTo(s, "label_s3_us_east_1", "    !\"198.51.100.7\"/32;\n") },
		want:    []string{"acl label_s3_us_east_1 negates 198.51.100.7/32; regedge's ACLs hold no negated entries"},
	}, {
		name: "wrong label in the chain",
		corrupt: func(s string) string {
			return strings.Replace(s, `(var.client ~ label_s3_us_east_1) {
        set req.http.X-Regedge-Label = "s3-us-east-1";`, `(var.client ~ label_s3_us_east_1) {
        set req.http.X-Regedge-Label = "s3-us-east-2";`, 1)
		},
		want: []string{
			"label s3-us-east-1: its ACLs lack",
			"label s3-us-east-2: its ACLs hold",
		},
	}, {
		name: "wrong default label",
		corrupt: func(s string) string {
			return strings.Replace(s, `set req.http.X-Regedge-Label = "cloudfront";`, `set req.http.X-Regedge-Label = "s3-us-east-1";`, 1)
		},
		want: []string{`the default label is "s3-us-east-1"; the plan's is "cloudfront"`},
	}, {
		name: "label set after the chain",
		corrupt: func(s string) string {
			return strings.Replace(s, "    call regedge_label_recv;\n", "    call regedge_label_recv;\n    set req.http.X-Regedge-Label = \"cloudfront\";\n", 1)
		},
		want: []string{"the label is assigned 35 times, 1 of them outside the chain"},
	}, {
		name: "wrong upstream URL",
		corrupt: func(s string) string {
			// In the manifest table only.
			before, after, _ := strings.Cut(s, "table regedge_manifest_upstream {")
			return before + "table regedge_manifest_upstream {" + strings.Replace(after, `"s3-us-east-1": "https://us-central1-docker.pkg.dev/v2/k8s-artifacts-prod/images",`,
				`"s3-us-east-1": "https://us-central1-docker.pkg.dev/v2/k8s-artifacts-prod/other",`, 1)
		},
		want: []string{"table regedge_manifest_upstream gives label s3-us-east-1 https://us-central1-docker.pkg.dev/v2/k8s-artifacts-prod/other; the plan says https://us-central1-docker.pkg.dev/v2/k8s-artifacts-prod/images"},
	}, {
		name: "wrong site URL",
		corrupt: func(s string) string {
			return strings.Replace(s, `"s3-us-east-1": "https://prod-registry-k8s-io-us-east-1`, `"s3-us-east-1": "https://prod-registry-k8s-io-us-east-2`, 1)
		},
		want: []string{"table regedge_blob_site gives label s3-us-east-1 https://prod-registry-k8s-io-us-east-2"},
	}, {
		name: "rule reads another kind's table",
		corrupt: func(s string) string {
			return strings.Replace(s, "table.lookup(regedge_signature_upstream,", "table.lookup(regedge_manifest_upstream,", 1)
		},
		want: []string{"the rule for signature requests does not redirect through table regedge_signature_upstream"},
	}, {
		name: "wrong backend host",
		corrupt: func(s string) string {
			return strings.Replace(s, `.host = "d1be1w964nk82h.cloudfront.net";`, `.host = "example.net";`, 1)
		},
		want: []string{`backend site_cloudfront for https://d1be1w964nk82h.cloudfront.net has .host "example.net"; want "d1be1w964nk82h.cloudfront.net"`},
	}, {
		name:    "probe without a window",
		corrupt: func(s string) string { return strings.Replace(s, "        .window = 3;\n", "", 1) },
		want:    []string{`the probe of backend site_cloudfront lacks .window; want "3"`},
	}, {
		name: "probe expects another status",
		corrupt: func(s string) string {
			return strings.Replace(s, ".expected_response = 404;", ".expected_response = 200;", 1)
		},
		want: []string{`the probe of backend site_cloudfront has .expected_response "200"; want "404"`},
	}, {
		name: "probe asks another host",
		corrupt: func(s string) string {
			return strings.Replace(s, `"Host: d1be1w964nk82h.cloudfront.net"`, `"Host: example.net"`, 1)
		},
		want: []string{"the probe of backend site_cloudfront sends \"HEAD /containers/images/sha256:"},
	}, {
		name: "backend without a probe",
		corrupt: func(s string) string {
			i := strings.Index(s, "    .probe = {")
			return s[:i] + s[i+strings.Index(s[i:], "    }\n")+len("    }\n"):]
		},
		want: []string{"backend site_cloudfront has no health probe; the plan takes a site down after 3 checks without an answer"},
	}, {
		name: "health read nowhere",
		corrupt: func(s string) string {
			return strings.Replace(s, "if (!req.backend.healthy) {", "if (false) {", 1)
		},
		want: []string{"does not then send the clients of a sick one to the fallback before the lookup", "vcl_recv reads a backend's health 0 times; want once"},
	}, {
		name: "sick clients sent to the site",
		corrupt: func(s string) string {
			const sick = "if (!req.backend.healthy) {\n            set req.http.X-Regedge-Location = req.http.X-Regedge-"
			return strings.Replace(s, sick+"Fallback;", sick+"Site;", 1)
		},
		want: []string{"does not then send the clients of a sick one to the fallback before the lookup"},
	}, {
		name: "1,001 ACLs",
		corrupt: func(s string) string {
			for i := nACLs; i < 1001; i++ {
				s += fmt.Sprintf("\nacl extra_%d {\n}\n", i)
			}
			return s
		},
		want: []string{"the VCL declares 1001 ACLs; Fastly allows at most 1000", "acl extra_1000 is not in the label chain"},
	}, {
		name: "not VCL",
		corrupt: func(s string) string {
			return strings.Replace(s, `set req.http.X-Regedge-Label = "cloudfront";`, `set req.http.X-Regedge-Label = "cloudfront"`, 1)
		},
		want: []string{"cannot parse the VCL: Parse Error: ", ", line: "},
	}, {
		name:    "over 1 MB",
		corrupt: func(s string) string { return s + "# " + strings.Repeat("x", render.FastlyMaxVCLBytes) + "\n" },
		want:    []string{"bytes; Fastly accepts at most 1000000 (1 MB)"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			bad := tc.corrupt(vcl)
			if bad == vcl {
				t.Fatal("the corruption changed nothing")
			}
			err := Check([]byte(bad), p)
			if err == nil {
				t.Fatal("the check passed")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the check's error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}
