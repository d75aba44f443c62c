package fastlycheck

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/regedge/regedge/compiler/internal/render"
	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

var update = flag.Bool("update", false, "rewrite testdata/*.vcl from the renderer (or set UPDATE_GOLDEN=1)")

// smallPlan has three labels: upstream-main (the default) sends everything
// upstream, east sends blobs to an https site, and west sends blobs to
// either of two sites on one http host and manifests to a second upstream.
func smallPlan() *plan.Plan {
	actions := func(manifests, site string) []plan.Action {
		var out []plan.Action
		for _, k := range request.Kinds {
			a := plan.Action{Kind: k, Route: "r", Upstream: "main"}
			if k == request.KindManifest || k == request.KindSignature {
				a.Upstream = manifests
			}
			if k == request.KindBlob {
				a.Site, a.Route = site, "blobs"
			}
			out = append(out, a)
		}
		return out
	}
	iv := func(first, last string, label int) plan.Interval {
		return plan.Interval{First: netip.MustParseAddr(first), Last: netip.MustParseAddr(last), Label: label}
	}
	return &plan.Plan{
		Registry: plan.Registry{InfoURL: "https://example.com/info", PrivacyURL: "https://example.com/privacy"},
		ClientIP: plan.ClientIP{Header: "X-Forwarded-For", TrustedHops: 2},
		Upstreams: []plan.Upstream{
			{Name: "backup", Endpoint: "http://127.0.0.1:5000", Prefix: "mirror/images"},
			{Name: "main", Endpoint: "https://registry.example.com", Prefix: "images"},
		},
		Sites: []plan.Site{
			{Name: "east", URL: "https://east.example.com/m", BlobPath: "/b/{digest}/data"},
			{Name: "west", URL: "http://127.0.0.1:8081/west", BlobPath: "/containers/images/{digest}"},
			{Name: "west-2", URL: "http://127.0.0.1:8081/west2", BlobPath: "/containers/images/{digest}"},
		},
		Check: &plan.Check{PositiveTTL: plan.Duration(3600e9), NegativeTTL: plan.Duration(90e9), Timeout: plan.Duration(1500e6), CacheSize: 1000},
		Labels: []plan.Label{
			{Name: "upstream-main", Actions: actions("main", "")},
			{Name: "east", Actions: actions("main", "east")},
			{Name: "west", Actions: actions("backup", "west")},
			{Name: "west-2", Actions: actions("backup", "west-2")},
		},
		Default: 0,
		V4: []plan.Interval{
			iv("10.0.0.1", "10.0.0.6", 1),
			iv("10.0.1.0", "10.0.1.255", 2),
			iv("10.0.2.0", "10.0.2.127", 3),
		},
		V6: []plan.Interval{
			iv("2001:db8::", "2001:db8::ffff", 1),
			iv("2001:db8:1::", "2001:db8:1::ff", 2),
		},
	}
}

func TestGolden(t *testing.T) {
	peer := smallPlan()
	peer.ClientIP, peer.Check = plan.ClientIP{}, nil
	for _, tc := range []struct {
		name string
		p    *plan.Plan
	}{
		{"header-check", smallPlan()},
		{"peer-nocheck", peer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files, err := render.Fastly(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			got := files[0].Data
			if err := Check(got, tc.p); err != nil {
				t.Errorf("the check fails:\n%v", err)
			}
			path := filepath.Join("testdata", tc.name+".vcl")
			if *update || os.Getenv("UPDATE_GOLDEN") != "" {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("render.Fastly differs from %s; run go test ./compiler/fastlycheck -update and review the diff", path)
			}
		})
	}
}
