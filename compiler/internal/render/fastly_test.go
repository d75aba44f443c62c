package render

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/regedge/regedge/compiler/plan"
)

func TestFastlyString(t *testing.T) {
	for s, want := range map[string]string{
		"https://example.com/a(b)*c+d,e=f:g@h!i&j~k": `"https://example.com/a(b)*c+d,e=f:g@h!i&j~k"`,
		`^[^?]*(?:%|//|/\.\.?(?:[/?]|$))`:            `"^[^?]*(?:%25|//|/\.\.?(?:[/?]|$))"`,
		"{digest}":                                   `"{digest}"`,
	} {
		if got, err := fastlyString(s); err != nil || got != want {
			t.Errorf("fastlyString(%q) = %s, %v; want %s", s, got, err, want)
		}
	}
	for _, s := range []string{`a"b`, "a\nb", "a\x00b", "é"} {
		if got, err := fastlyString(s); err == nil {
			t.Errorf("fastlyString(%q) = %s; want an error", s, got)
		}
	}
}

func TestFastlyNames(t *testing.T) {
	got := fastlyNames("label_", []string{"s3-us-east-1", "s3_us_east_1", "S3.us-east-1", "cloudfront"})
	want := []string{"label_s3_us_east_1", "label_s3_us_east_1_1", "label_s3_us_east_1_2", "label_cloudfront"}
	if !slices.Equal(got, want) {
		t.Errorf("fastlyNames = %q; want %q", got, want)
	}
}

func TestFastlyUnknownAddr(t *testing.T) {
	iv := func(first, last string, label int) plan.Interval {
		return plan.Interval{First: netip.MustParseAddr(first), Last: netip.MustParseAddr(last), Label: label}
	}
	for _, tc := range []struct {
		v4, v6 []plan.Interval
		want   string
	}{
		{nil, nil, "0.0.0.0"},
		{[]plan.Interval{iv("0.0.0.0", "9.255.255.255", 1), iv("10.0.0.0", "10.0.0.255", 1)}, nil, "10.0.1.0"},
		{[]plan.Interval{iv("0.0.0.0", "9.255.255.255", 1), iv("10.0.0.0", "10.0.0.255", 0)}, nil, "10.0.0.0"},
		{[]plan.Interval{iv("0.0.0.0", "255.255.255.255", 1)}, []plan.Interval{iv("::", "::1", 1)}, "::2"},
	} {
		p := testPlan()
		p.V4, p.V6 = tc.v4, tc.v6
		if got, err := fastlyUnknownAddr(p); err != nil || got.String() != tc.want {
			t.Errorf("fastlyUnknownAddr(%v, %v) = %v, %v; want %s", tc.v4, tc.v6, got, err, tc.want)
		}
	}
	p := testPlan()
	p.V4 = []plan.Interval{iv("0.0.0.0", "255.255.255.255", 1)}
	p.V6 = []plan.Interval{iv("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1)}
	if _, err := fastlyUnknownAddr(p); err == nil {
		t.Error("a plan that gives every address another label has an address for unknown clients")
	}
}

func TestFastlyRendersRulesAndTables(t *testing.T) {
	files, err := Fastly(testPlan())
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Path != "fastly/regedge.vcl" || files[0].Entries != 6 {
		t.Fatalf("Fastly rendered %d files, the first %s with %d entries; want fastly/regedge.vcl with 6", len(files), files[0].Path, files[0].Entries)
	}
	wantSnippets(t, "regedge.vcl", string(files[0].Data),
		"acl label_east {\n    \"10.0.0.1\"/32;\n    \"10.0.0.2\"/31;\n    \"10.0.0.4\"/31;\n    \"10.0.0.6\"/32;\n    \"2001:db8::\"/112;\n}",
		"set req.http.X-Regedge-Label = \"default\";\n    if (var.client ~ label_east) {\n        set req.http.X-Regedge-Label = \"east\";\n    } else if (var.client ~ label_other) {\n        set req.http.X-Regedge-Label = \"other\";\n    }\n}",
		"# The client is the second-to-last entry of X-Forwarded-For,",
		`if (req.http.X-Forwarded-For ~ "(?:^|,)[ \t]*([^, \t]+)[ \t]*(?:,[^,]*){1}$") {`,
		"table regedge_blob_site {\n    \"east\": \"https://east.example.com/m/b/{digest}/data\",\n}",
		"\"default\": \"https://main.example/v2/proj/images\",\n    \"east\": \"https://main.example/v2/proj/images\",\n    \"other\": \"http://other.example:5000/v2/mirror\",",
		"backend site_east {",
		".ssl_sni_hostname = \"east.example.com\";",
		".first_byte_timeout = 1500ms;",
		"set beresp.ttl = 3600s;",
		"set beresp.ttl = 90s;",
		"set bereq.method = \"HEAD\";",
		"} else if (beresp.status >= 300 && beresp.status < 500) {",
		"set beresp.ttl = 0s;\n        set beresp.cacheable = false;",
		"set req.url = regsub(req.url, \"#.*$\", \"\");",
		"#FASTLY recv\n",
		"error 605 \"Method Not Allowed\";")
}

// manyLabels returns a plan with n labels besides the default, each with
// the given number of one-address intervals.
func manyLabels(n, perLabel int) *plan.Plan {
	p := testPlan()
	east := p.Labels[1]
	p.Labels = p.Labels[:1]
	p.V4, p.V6 = nil, nil
	addr := netip.MustParseAddr("1.0.0.0")
	for i := range n {
		p.Labels = append(p.Labels, plan.Label{Name: fmt.Sprintf("l%d", i), Actions: east.Actions})
		for range perLabel {
			p.V4 = append(p.V4, plan.Interval{First: addr, Last: addr, Label: i + 1})
			addr = addr.Next().Next()
		}
	}
	return p
}

func TestFastlyLimits(t *testing.T) {
	if _, err := Fastly(manyLabels(FastlyMaxACLs, 1)); err != nil {
		t.Errorf("%d labels: %v", FastlyMaxACLs, err)
	}
	_, err := Fastly(manyLabels(FastlyMaxACLs+1, 1))
	if err == nil || !strings.Contains(err.Error(), "1001 ACLs") || !strings.Contains(err.Error(), "at most 1000 ACLs") {
		t.Errorf("%d labels: err = %v; want one naming the limit of 1000 ACLs", FastlyMaxACLs+1, err)
	}
	_, err = Fastly(manyLabels(1, 50_000))
	if err == nil || !strings.Contains(err.Error(), "Fastly accepts at most 1000000 (1 MB)") {
		t.Errorf("50,000 prefixes: err = %v; want one naming the 1 MB limit", err)
	}
}

// TestFastlyProbeWindow: a probe's window holds down_after results, up to
// FastlyMaxWindow; a plan that waits for more failures does not render.
func TestFastlyProbeWindow(t *testing.T) {
	p := testPlan()
	p.Check.DownAfter = FastlyMaxWindow
	files, err := Fastly(p)
	if err != nil {
		t.Fatalf("down_after %d: %v", FastlyMaxWindow, err)
	}
	wantSnippets(t, "regedge.vcl", string(files[0].Data), ".window = 64;")
	p.Check.DownAfter = FastlyMaxWindow + 1
	if _, err := Fastly(p); err == nil || !strings.Contains(err.Error(), "at most 64 results") || !strings.Contains(err.Error(), "down_after is 65") {
		t.Errorf("down_after %d: err = %v; want one naming the limit of 64", FastlyMaxWindow+1, err)
	}
}

func TestFastlyRefusesBadHeader(t *testing.T) {
	p := testPlan()
	p.ClientIP.Header = "X-Forwarded-For; foo"
	if _, err := Fastly(p); err == nil {
		t.Error("a header name that is not a token renders")
	}
}

func TestFastlyClientEntry(t *testing.T) {
	for hops, want := range []string{"the last entry", "the second-to-last entry", "the third-to-last entry", "the entry with 3 after it"} {
		if got := fastlyClientEntry(hops); got != want {
			t.Errorf("fastlyClientEntry(%d) = %q; want %q", hops, got, want)
		}
	}
}
