package plan

import (
	"strings"
	"testing"

	"github.com/regedge/regedge/compiler/request"
)

var (
	sha256 = "sha256:" + strings.Repeat("0123456789abcdef", 4)
	sig    = "sha256-" + strings.Repeat("0123456789abcdef", 4) + ".sig"
)

func TestUpstreamURL(t *testing.T) {
	u := Upstream{Name: "main", Endpoint: "https://registry.example:8443", Prefix: "a/b"}
	tests := []struct {
		r    request.Request
		want string
	}{
		{request.Request{Rule: request.RuleBlob, Kind: request.KindBlob, Repo: "x/y", Ref: sha256},
			"https://registry.example:8443/v2/a/b/x/y/blobs/" + sha256},
		{request.Request{Rule: request.RuleManifest, Kind: request.KindManifest, Repo: "x", Ref: "v1"},
			"https://registry.example:8443/v2/a/b/x/manifests/v1"},
		{request.Request{Rule: request.RuleSignature, Kind: request.KindSignature, Repo: "x", Ref: sig},
			"https://registry.example:8443/v2/a/b/x/manifests/" + sig},
		{request.Request{Rule: request.RuleTags, Kind: request.KindTags, Repo: "x", Query: "n=1"},
			"https://registry.example:8443/v2/a/b/x/tags/list?n=1"},
		{request.Request{Rule: request.RuleReferrers, Kind: request.KindReferrers, Repo: "x", Ref: sha256},
			"https://registry.example:8443/v2/a/b/x/referrers/" + sha256},
	}
	for _, tt := range tests {
		if got := u.URL(tt.r.Kind, tt.r.Repo, tt.r.Ref, tt.r.Query); got != tt.want {
			t.Errorf("URL(%+v) = %q, want %q", tt.r, got, tt.want)
		}
	}
}

func TestBlobURL(t *testing.T) {
	tests := []struct {
		site Site
		want string
	}{
		{Site{URL: "https://s.example", BlobPath: "/containers/images/{digest}"}, "https://s.example/containers/images/" + sha256},
		{Site{URL: "https://s.example/base", BlobPath: "/blobs/{digest}/data"}, "https://s.example/base/blobs/" + sha256 + "/data"},
		{Site{URL: "http://s.example:81", BlobPath: "/{digest}"}, "http://s.example:81/" + sha256},
		{Site{URL: "https://s.example", BlobPath: "/b/x{digest}.bin"}, "https://s.example/b/x" + sha256 + ".bin"},
	}
	for _, tt := range tests {
		if got := tt.site.BlobURL(sha256); got != tt.want {
			t.Errorf("BlobURL(%+v) = %q, want %q", tt.site, got, tt.want)
		}
	}
}

func TestBlobURLParts(t *testing.T) {
	before, after := Site{URL: "https://s.example/base", BlobPath: "/blobs/{digest}/data"}.BlobURLParts()
	if before != "https://s.example/base/blobs/" || after != "/data" {
		t.Errorf("BlobURLParts = %q, %q", before, after)
	}
}
