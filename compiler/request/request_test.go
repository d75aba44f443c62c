package request

import (
	"regexp"
	"strings"
	"testing"

	"github.com/regedge/regedge/compiler/config"
)

var (
	hex64  = strings.Repeat("0123456789abcdef", 4)
	hex128 = hex64 + hex64
	sha256 = "sha256:" + hex64
	sha512 = "sha512:" + hex128
)

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		method string
		target string
		want   Request
	}{
		// Rule 1.
		{"POST", "POST", "/v2/", Request{Rule: RuleMethod}},
		{"PUT blob", "PUT", "/v2/pause/blobs/" + sha256, Request{Rule: RuleMethod}},
		{"DELETE", "DELETE", "/v2/pause/manifests/3.9", Request{Rule: RuleMethod}},
		{"OPTIONS", "OPTIONS", "/", Request{Rule: RuleMethod}},
		{"lower-case get", "get", "/v2/", Request{Rule: RuleMethod}},
		{"empty method", "", "/v2/", Request{Rule: RuleMethod}},
		{"method before unsafe path", "POST", "/v2/../x", Request{Rule: RuleMethod}},

		// Rule 2.
		{"dot-dot segment", "GET", "/v2/../x", Request{Rule: RuleUnsafePath}},
		{"encoded dot-dot", "GET", "/v2/%2e%2e/x", Request{Rule: RuleUnsafePath}},
		{"encoded upper-case dot-dot", "GET", "/v2/%2E%2E/x", Request{Rule: RuleUnsafePath}},
		{"encoded slash in name", "GET", "/v2/foo%2Fbar/manifests/x", Request{Rule: RuleUnsafePath}},
		{"any percent", "GET", "/v2/pause/manifests/3%2e9", Request{Rule: RuleUnsafePath}},
		{"percent at the end", "GET", "/v2/pause/manifests/x%", Request{Rule: RuleUnsafePath}},
		{"empty segment", "GET", "/v2//x", Request{Rule: RuleUnsafePath}},
		{"empty segment in name", "GET", "/v2/a//b/manifests/latest", Request{Rule: RuleUnsafePath}},
		{"leading double slash", "GET", "//v2/", Request{Rule: RuleUnsafePath}},
		{"dot segment", "GET", "/v2/./x", Request{Rule: RuleUnsafePath}},
		{"dot-dot as reference", "GET", "/v2/x/manifests/..", Request{Rule: RuleUnsafePath}},
		{"dot as reference", "GET", "/v2/x/manifests/.", Request{Rule: RuleUnsafePath}},
		{"trailing dot segment", "GET", "/v2/x/tags/list/.", Request{Rule: RuleUnsafePath}},
		{"trailing dot-dot segment", "GET", "/v2/x/tags/list/..", Request{Rule: RuleUnsafePath}},
		{"dot segment before query", "GET", "/v2/x/tags/list/.?n=1", Request{Rule: RuleUnsafePath}},
		{"dot-dot before query", "GET", "/v2/..?n=1", Request{Rule: RuleUnsafePath}},
		{"root dot", "GET", "/.", Request{Rule: RuleUnsafePath}},
		{"HEAD unsafe", "HEAD", "/v2/../x", Request{Rule: RuleUnsafePath}},

		// Dots inside a segment, and unsafe-looking queries, are fine.
		{"dot inside tag", "GET", "/v2/pause/manifests/3.9", Request{Rule: RuleManifest, Kind: config.KindManifest, Repo: "pause", Ref: "3.9"}},
		{"tag starting with dots is not a tag", "GET", "/v2/pause/manifests/..x", Request{Rule: RuleNotFound}},
		{"percent in query only", "GET", "/v2/pause/tags/list?last=a%2Fb", Request{Rule: RuleTags, Kind: config.KindTags, Repo: "pause", Query: "last=a%2Fb"}},
		{"double slash in query only", "GET", "/v2/pause/tags/list?x=//..", Request{Rule: RuleTags, Kind: config.KindTags, Repo: "pause", Query: "x=//.."}},

		// Rules 3 to 5.
		{"root", "GET", "/", Request{Rule: RuleInfo}},
		{"root HEAD", "HEAD", "/", Request{Rule: RuleInfo}},
		{"root with query", "GET", "/?x=1", Request{Rule: RuleInfo}},
		{"privacy", "GET", "/privacy", Request{Rule: RulePrivacy}},
		{"privacy with slash", "GET", "/privacy/", Request{Rule: RuleNotFound}},
		{"health", "GET", "/healthz", Request{Rule: RuleHealth}},
		{"fragment dropped", "GET", "/v2/pause/manifests/latest#x", Request{Rule: RuleManifest, Kind: config.KindManifest, Repo: "pause", Ref: "latest"}},
		{"fragment after query dropped", "GET", "/v2/pause/tags/list?n=1#/../x", Request{Rule: RuleTags, Kind: config.KindTags, Repo: "pause", Query: "n=1"}},
		{"health with slash", "GET", "/healthz/", Request{Rule: RuleNotFound}},
		{"v2", "GET", "/v2", Request{Rule: RuleVersion}},
		{"v2 slash", "GET", "/v2/", Request{Rule: RuleVersion}},
		{"v2 HEAD", "HEAD", "/v2/", Request{Rule: RuleVersion}},
		{"v2 with query", "GET", "/v2/?x=1", Request{Rule: RuleVersion}},
		{"V2 upper-case", "GET", "/V2/", Request{Rule: RuleNotFound}},

		// Rule 6.
		{"signature", "GET", "/v2/pause/manifests/sha256-" + hex64 + ".sig",
			Request{Rule: RuleSignature, Kind: config.KindSignature, Repo: "pause", Ref: "sha256-" + hex64 + ".sig"}},
		{"attestation", "HEAD", "/v2/a/b/manifests/sha256-" + hex64 + ".att",
			Request{Rule: RuleSignature, Kind: config.KindSignature, Repo: "a/b", Ref: "sha256-" + hex64 + ".att"}},
		{"sbom suffix is a plain tag", "GET", "/v2/pause/manifests/sha256-" + hex64 + ".sbom",
			Request{Rule: RuleManifest, Kind: config.KindManifest, Repo: "pause", Ref: "sha256-" + hex64 + ".sbom"}},
		{"upper-case hex signature is a plain tag", "GET", "/v2/pause/manifests/sha256-" + strings.ToUpper(hex64) + ".sig",
			Request{Rule: RuleManifest, Kind: config.KindManifest, Repo: "pause", Ref: "sha256-" + strings.ToUpper(hex64) + ".sig"}},
		{"short signature is a plain tag", "GET", "/v2/pause/manifests/sha256-" + hex64[:63] + ".sig",
			Request{Rule: RuleManifest, Kind: config.KindManifest, Repo: "pause", Ref: "sha256-" + hex64[:63] + ".sig"}},
		{"sha512 signature is a plain tag", "GET", "/v2/pause/manifests/sha512-" + hex64 + ".sig",
			Request{Rule: RuleManifest, Kind: config.KindManifest, Repo: "pause", Ref: "sha512-" + hex64 + ".sig"}},
		{"signature query dropped", "GET", "/v2/pause/manifests/sha256-" + hex64 + ".sig?x=1",
			Request{Rule: RuleSignature, Kind: config.KindSignature, Repo: "pause", Ref: "sha256-" + hex64 + ".sig"}},

		// Rule 7.
		{"tag", "GET", "/v2/pause/manifests/latest", Request{Rule: RuleManifest, Kind: config.KindManifest, Repo: "pause", Ref: "latest"}},
		{"nested name", "GET", "/v2/kube-apiserver/sub.dir/a__b/manifests/v1.31.0",
			Request{Rule: RuleManifest, Kind: config.KindManifest, Repo: "kube-apiserver/sub.dir/a__b", Ref: "v1.31.0"}},
		{"name holding manifests", "GET", "/v2/a/manifests/b/manifests/latest",
			Request{Rule: RuleManifest, Kind: config.KindManifest, Repo: "a/manifests/b", Ref: "latest"}},
		{"sha256 digest", "GET", "/v2/pause/manifests/" + sha256, Request{Rule: RuleManifest, Kind: config.KindManifest, Repo: "pause", Ref: sha256}},
		{"sha512 digest", "GET", "/v2/pause/manifests/" + sha512, Request{Rule: RuleManifest, Kind: config.KindManifest, Repo: "pause", Ref: sha512}},
		{"upper-case digest", "GET", "/v2/pause/manifests/sha256:" + strings.ToUpper(hex64), Request{Rule: RuleNotFound}},
		{"short digest", "GET", "/v2/pause/manifests/sha256:" + hex64[:63], Request{Rule: RuleNotFound}},
		{"long digest", "GET", "/v2/pause/manifests/sha256:" + hex64 + "0", Request{Rule: RuleNotFound}},
		{"sha512 of sha256 length", "GET", "/v2/pause/manifests/sha512:" + hex64, Request{Rule: RuleNotFound}},
		{"sha384", "GET", "/v2/pause/manifests/sha384:" + hex64[:48] + hex64[:48], Request{Rule: RuleNotFound}},
		{"tag of 128", "GET", "/v2/pause/manifests/" + strings.Repeat("a", 128),
			Request{Rule: RuleManifest, Kind: config.KindManifest, Repo: "pause", Ref: strings.Repeat("a", 128)}},
		{"tag of 129", "GET", "/v2/pause/manifests/" + strings.Repeat("a", 129), Request{Rule: RuleNotFound}},
		{"tag starting with dash", "GET", "/v2/pause/manifests/-x", Request{Rule: RuleNotFound}},
		{"tag with upper case and underscore", "GET", "/v2/pause/manifests/_Tag-1.X",
			Request{Rule: RuleManifest, Kind: config.KindManifest, Repo: "pause", Ref: "_Tag-1.X"}},
		{"empty reference", "GET", "/v2/pause/manifests/", Request{Rule: RuleNotFound}},
		{"manifest query dropped", "GET", "/v2/pause/manifests/latest?x=1",
			Request{Rule: RuleManifest, Kind: config.KindManifest, Repo: "pause", Ref: "latest"}},
		{"upper-case name", "GET", "/v2/Pause/manifests/latest", Request{Rule: RuleNotFound}},
		{"name ending in separator", "GET", "/v2/pause-/manifests/latest", Request{Rule: RuleNotFound}},
		{"name with triple underscore", "GET", "/v2/a___b/manifests/latest", Request{Rule: RuleNotFound}},
		{"name with many dashes", "GET", "/v2/a---b/manifests/latest",
			Request{Rule: RuleManifest, Kind: config.KindManifest, Repo: "a---b", Ref: "latest"}},

		// Rule 8.
		{"tags", "GET", "/v2/pause/tags/list", Request{Rule: RuleTags, Kind: config.KindTags, Repo: "pause"}},
		{"tags with query", "GET", "/v2/pause/tags/list?n=10&last=3.9", Request{Rule: RuleTags, Kind: config.KindTags, Repo: "pause", Query: "n=10&last=3.9"}},
		{"tags with empty query", "GET", "/v2/pause/tags/list?", Request{Rule: RuleTags, Kind: config.KindTags, Repo: "pause"}},
		{"tags trailing slash", "GET", "/v2/pause/tags/list/", Request{Rule: RuleNotFound}},
		{"upper-case tags name", "GET", "/v2/PAUSE/tags/list", Request{Rule: RuleNotFound}},

		// Rule 9.
		{"referrers", "GET", "/v2/pause/referrers/" + sha256, Request{Rule: RuleReferrers, Kind: config.KindReferrers, Repo: "pause", Ref: sha256}},
		{"referrers with query", "GET", "/v2/pause/referrers/" + sha512 + "?artifactType=application/vnd.x",
			Request{Rule: RuleReferrers, Kind: config.KindReferrers, Repo: "pause", Ref: sha512, Query: "artifactType=application/vnd.x"}},
		{"referrers by tag", "GET", "/v2/pause/referrers/latest", Request{Rule: RuleNotFound}},

		// Rule 10.
		{"blob", "GET", "/v2/pause/blobs/" + sha256, Request{Rule: RuleBlob, Kind: config.KindBlob, Repo: "pause", Ref: sha256}},
		{"blob HEAD sha512", "HEAD", "/v2/a/b/blobs/" + sha512, Request{Rule: RuleBlob, Kind: config.KindBlob, Repo: "a/b", Ref: sha512}},
		{"blob query dropped", "GET", "/v2/pause/blobs/" + sha256 + "?x=1", Request{Rule: RuleBlob, Kind: config.KindBlob, Repo: "pause", Ref: sha256}},
		{"blob by tag", "GET", "/v2/pause/blobs/latest", Request{Rule: RuleNotFound}},
		{"blob upper-case digest", "GET", "/v2/pause/blobs/sha256:" + strings.ToUpper(hex64), Request{Rule: RuleNotFound}},
		{"blob sha384", "GET", "/v2/pause/blobs/sha384:" + hex64[:48] + hex64[:48], Request{Rule: RuleNotFound}},
		{"blob upload", "GET", "/v2/pause/blobs/uploads/", Request{Rule: RuleNotFound}},

		// Rule 11.
		{"catalog", "GET", "/v2/_catalog", Request{Rule: RuleNotFound}},
		{"catalog with query", "GET", "/v2/_catalog?n=100", Request{Rule: RuleNotFound}},
		{"name only", "GET", "/v2/pause", Request{Rule: RuleNotFound}},
		{"unknown path", "GET", "/favicon.ico", Request{Rule: RuleNotFound}},
		{"empty target", "GET", "", Request{Rule: RuleNotFound}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Parse(tt.method, tt.target); got != tt.want {
				t.Errorf("Parse(%q, %q) = %+v, want %+v", tt.method, tt.target, got, tt.want)
			}
		})
	}
}

// TestGrammars checks the exported patterns on their own, since targets
// other than Go use them directly.
func TestGrammars(t *testing.T) {
	full := func(p string) *regexp.Regexp { return regexp.MustCompile(`^(?:` + p + `)$`) }
	tests := []struct {
		pattern string
		in      string
		want    bool
	}{
		{Name, "pause", true},
		{Name, "a/b/c", true},
		{Name, "a.b_c__d-e--f", true},
		{Name, "a", true},
		{Name, "", false},
		{Name, "A", false},
		{Name, "a/", false},
		{Name, "/a", false},
		{Name, "a//b", false},
		{Name, "a..b", false},
		{Name, "a.-b", false},
		{Name, "_a", false},
		{Name, "_catalog", false},
		{Tag, "latest", true},
		{Tag, "_", true},
		{Tag, strings.Repeat("x", 128), true},
		{Tag, strings.Repeat("x", 129), false},
		{Tag, ".x", false},
		{Tag, "-x", false},
		{Tag, "a:b", false},
		{Digest, sha256, true},
		{Digest, sha512, true},
		{Digest, "sha256:" + strings.ToUpper(hex64), false},
		{Digest, "sha256:" + hex128, false},
		{Digest, "sha512:" + hex64, false},
		{Digest, "sha384:" + hex64[:48] + hex64[:48], false},
		{Digest, "sha256:" + hex64[:63] + "g", false},
		{Signature, "sha256-" + hex64 + ".sig", true},
		{Signature, "sha256-" + hex64 + ".att", true},
		{Signature, "sha256-" + hex64 + ".sbom", false},
		{Signature, "sha256-" + hex64 + "xsig", false},
	}
	for _, tt := range tests {
		if got := full(tt.pattern).MatchString(tt.in); got != tt.want {
			t.Errorf("%q matching %q = %v, want %v", tt.pattern, tt.in, got, tt.want)
		}
	}

	unsafeTests := []struct {
		target string
		want   bool
	}{
		{"/v2/", false},
		{"/v2/a.b/manifests/1.0", false},
		{"/v2/a/tags/list?x=%20", false},
		{"/v2/a/tags/list?x=/../", false},
		{"/v2/%61", true},
		{"/v2//", true},
		{"/v2/./", true},
		{"/v2/..", true},
		{"/v2/.?", true},
		{"/v2/.hidden", false},
		{"/v2/..hidden", false},
	}
	for _, tt := range unsafeTests {
		if got := regexp.MustCompile(Unsafe).MatchString(tt.target); got != tt.want {
			t.Errorf("Unsafe matching %q = %v, want %v", tt.target, got, tt.want)
		}
	}
}

// TestPatternsCaptureNames checks the capture names the generated configs
// read.
func TestPatternsCaptureNames(t *testing.T) {
	tests := []struct {
		pattern string
		names   string
	}{
		{SignaturePattern, ",regedge_repo,regedge_ref"},
		{ManifestPattern, ",regedge_repo,regedge_ref"},
		{TagsPattern, ",regedge_repo"},
		{ReferrersPattern, ",regedge_repo,regedge_ref"},
		{BlobPattern, ",regedge_repo,regedge_digest"},
	}
	for _, tt := range tests {
		if got := strings.Join(regexp.MustCompile(tt.pattern).SubexpNames(), ","); got != tt.names {
			t.Errorf("%s captures %q, want %q", tt.pattern, got, tt.names)
		}
	}
}

// TestUnsafeInPath: on every target of up to seven characters drawn from
// those the patterns care about, UnsafeInPath on the path agrees with
// Unsafe on the whole target.
func TestUnsafeInPath(t *testing.T) {
	whole, path := regexp.MustCompile(Unsafe), regexp.MustCompile(UnsafeInPath)
	const alphabet = "/.%?a"
	var walk func(target string)
	walk = func(target string) {
		p, _, _ := strings.Cut(target, "?")
		if w, in := whole.MatchString(target), path.MatchString(p); w != in {
			t.Fatalf("%q: Unsafe %v, UnsafeInPath on %q %v", target, w, p, in)
		}
		if len(target) < 7 {
			for _, c := range alphabet {
				walk(target + string(c))
			}
		}
	}
	walk("")
}
