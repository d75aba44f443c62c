package answer

import (
	"reflect"
	"strings"
	"testing"

	"github.com/regedge/regedge/compiler/internal/plantest"
	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

var (
	hex64  = strings.Repeat("0123456789abcdef", 4)
	sha256 = "sha256:" + hex64
	sha512 = "sha512:" + hex64 + hex64
	sig    = "sha256-" + hex64 + ".sig"
)

// testPlan is plantest.Uneven, whose site "east" has a path and goes on
// after {digest}, with or without its check.
func testPlan(check bool) *plan.Plan {
	p := plantest.Uneven("https://east.example/base")
	if !check {
		p.Check = nil
	}
	return p
}

func TestFor(t *testing.T) {
	const (
		mainBase  = "https://main.example/v2/proj/images/"
		otherBase = "http://other.example:5000/v2/mirror/"
		eastBlob  = "https://east.example/base/b/sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/data"
	)
	tests := []struct {
		name   string
		method string
		target string
		label  int
		check  bool
		// exists answers the check; nil means it must not be asked.
		exists *bool
		want   Response
	}{
		{name: "rule 1", method: "POST", target: "/v2/a/blobs/" + sha256, label: plantest.LabelEast,
			want: Response{Status: 405}},
		{name: "rule 2", method: "GET", target: "/v2/%2e%2e/a/blobs/" + sha256, label: plantest.LabelEast,
			want: Response{Status: 404}},
		{name: "rule 3", method: "GET", target: "/", label: plantest.LabelEast,
			want: Response{Status: 307, Location: "https://example.com/info"}},
		{name: "rule 4", method: "HEAD", target: "/privacy", label: plantest.LabelOther,
			want: Response{Status: 307, Location: "https://example.com/privacy"}},
		{name: "rule 5", method: "GET", target: "/v2/", label: plantest.LabelEast,
			want: Response{Status: 200, Body: "{}", Headers: map[string]string{
				"Docker-Distribution-Api-Version": "registry/2.0",
				"Content-Type":                    "application/json",
			}}},
		{name: "rule 11", method: "GET", target: "/healthz", label: plantest.LabelEast,
			want: Response{Status: 200, Body: "ok\n", Headers: map[string]string{"Content-Type": "text/plain"}}},
		{name: "rule 6", method: "GET", target: "/v2/a/b/manifests/" + sig + "?x=1", label: plantest.LabelEast,
			want: Response{Status: 307, Location: mainBase + "a/b/manifests/" + sig, Route: "east-signature"}},
		{name: "rule 6 other upstream", method: "GET", target: "/v2/a/manifests/" + sig, label: plantest.LabelOther,
			want: Response{Status: 307, Location: otherBase + "a/manifests/" + sig, Route: "other-signature"}},
		{name: "rule 7 tag, query dropped", method: "GET", target: "/v2/pause/manifests/3.9?x=1", label: plantest.LabelEast,
			want: Response{Status: 307, Location: mainBase + "pause/manifests/3.9", Route: "east-manifest"}},
		{name: "rule 7 digest", method: "HEAD", target: "/v2/pause/manifests/" + sha512, label: plantest.LabelOther,
			want: Response{Status: 307, Location: otherBase + "pause/manifests/" + sha512, Route: "other-manifest"}},
		{name: "rule 8 with query", method: "GET", target: "/v2/pause/tags/list?n=10&last=b", label: plantest.LabelEast,
			want: Response{Status: 307, Location: mainBase + "pause/tags/list?n=10&last=b", Route: "east-tags"}},
		{name: "rule 8 without query", method: "GET", target: "/v2/pause/tags/list", label: plantest.LabelOther,
			want: Response{Status: 307, Location: otherBase + "pause/tags/list", Route: "other-tags"}},
		{name: "rule 8 empty query", method: "GET", target: "/v2/pause/tags/list?", label: plantest.LabelOther,
			want: Response{Status: 307, Location: otherBase + "pause/tags/list", Route: "other-tags"}},
		{name: "rule 9 with query", method: "GET", target: "/v2/pause/referrers/" + sha256 + "?artifactType=x", label: plantest.LabelEast,
			want: Response{Status: 307, Location: mainBase + "pause/referrers/" + sha256 + "?artifactType=x", Route: "east-referrers"}},
		{name: "rule 9 without query", method: "GET", target: "/v2/pause/referrers/" + sha256, label: plantest.LabelOther,
			want: Response{Status: 307, Location: otherBase + "pause/referrers/" + sha256, Route: "other-referrers"}},
		{name: "rule 10 upstream only", method: "GET", target: "/v2/pause/blobs/" + sha256, label: plantest.LabelOther, check: true,
			want: Response{Status: 307, Location: otherBase + "pause/blobs/" + sha256, Route: "other-blob"}},
		{name: "rule 10 site unchecked", method: "GET", target: "/v2/pause/blobs/" + sha256, label: plantest.LabelEast,
			want: Response{Status: 307, Location: eastBlob, Site: "east", Route: "east-blob"}},
		{name: "rule 10 site checked, present", method: "GET", target: "/v2/pause/blobs/" + sha256 + "?x=1", label: plantest.LabelEast, check: true, exists: ptr(true),
			want: Response{Status: 307, Location: eastBlob, Site: "east", Route: "east-blob"}},
		{name: "rule 10 site checked, absent", method: "GET", target: "/v2/pause/blobs/" + sha256, label: plantest.LabelEast, check: true, exists: ptr(false),
			want: Response{Status: 307, Location: mainBase + "pause/blobs/" + sha256, Route: "east-blob"}},
		{name: "rule 10 site, sha512", method: "HEAD", target: "/v2/a/b/blobs/" + sha512, label: plantest.LabelEast,
			want: Response{Status: 307, Location: "https://east.example/base/b/" + sha512 + "/data", Site: "east", Route: "east-blob"}},
		{name: "rule 11", method: "GET", target: "/v2/_catalog", label: plantest.LabelEast,
			want: Response{Status: 404}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request.Parse(tt.method, tt.target)
			asked := 0
			exists := func(site, url string) bool {
				if tt.exists == nil {
					t.Fatalf("exists(%q, %q) called, but the answer must not check", site, url)
				}
				asked++
				if site != "east" {
					t.Errorf("exists asked about site %q, want %q", site, "east")
				}
				if url != eastBlob {
					t.Errorf("exists asked about %q, want %q", url, eastBlob)
				}
				return *tt.exists
			}
			got := For(testPlan(tt.check), r, tt.label, exists)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("For(%s %s) =\n%+v\nwant\n%+v", tt.method, tt.target, got, tt.want)
			}
			if tt.exists != nil && asked != 1 {
				t.Errorf("exists asked %d times, want 1", asked)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
