package request

import (
	"net/netip"
	"regexp"
	"strings"
	"testing"
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
		{"dot inside tag", "GET", "/v2/pause/manifests/3.9", Request{Rule: RuleManifest, Kind: KindManifest, Repo: "pause", Ref: "3.9"}},
		{"tag starting with dots is not a tag", "GET", "/v2/pause/manifests/..x", Request{Rule: RuleNotFound}},
		{"percent in query only", "GET", "/v2/pause/tags/list?last=a%2Fb", Request{Rule: RuleTags, Kind: KindTags, Repo: "pause", Query: "last=a%2Fb"}},
		{"double slash in query only", "GET", "/v2/pause/tags/list?x=//..", Request{Rule: RuleTags, Kind: KindTags, Repo: "pause", Query: "x=//.."}},

		// Rules 3 to 5.
		{"root", "GET", "/", Request{Rule: RuleInfo}},
		{"root HEAD", "HEAD", "/", Request{Rule: RuleInfo}},
		{"root with query", "GET", "/?x=1", Request{Rule: RuleInfo}},
		{"privacy", "GET", "/privacy", Request{Rule: RulePrivacy}},
		{"privacy with slash", "GET", "/privacy/", Request{Rule: RuleNotFound}},
		{"health", "GET", "/healthz", Request{Rule: RuleHealth}},
		{"fragment dropped", "GET", "/v2/pause/manifests/latest#x", Request{Rule: RuleManifest, Kind: KindManifest, Repo: "pause", Ref: "latest"}},
		{"fragment after query dropped", "GET", "/v2/pause/tags/list?n=1#/../x", Request{Rule: RuleTags, Kind: KindTags, Repo: "pause", Query: "n=1"}},
		{"health with slash", "GET", "/healthz/", Request{Rule: RuleNotFound}},
		{"v2", "GET", "/v2", Request{Rule: RuleVersion}},
		{"v2 slash", "GET", "/v2/", Request{Rule: RuleVersion}},
		{"v2 HEAD", "HEAD", "/v2/", Request{Rule: RuleVersion}},
		{"v2 with query", "GET", "/v2/?x=1", Request{Rule: RuleVersion}},
		{"V2 upper-case", "GET", "/V2/", Request{Rule: RuleNotFound}},

		// Rule 6.
		{"signature", "GET", "/v2/pause/manifests/sha256-" + hex64 + ".sig",
			Request{Rule: RuleSignature, Kind: KindSignature, Repo: "pause", Ref: "sha256-" + hex64 + ".sig"}},
		{"attestation", "HEAD", "/v2/a/b/manifests/sha256-" + hex64 + ".att",
			Request{Rule: RuleSignature, Kind: KindSignature, Repo: "a/b", Ref: "sha256-" + hex64 + ".att"}},
		{"sbom suffix is a plain tag", "GET", "/v2/pause/manifests/sha256-" + hex64 + ".sbom",
			Request{Rule: RuleManifest, Kind: KindManifest, Repo: "pause", Ref: "sha256-" + hex64 + ".sbom"}},
		{"upper-case hex signature is a plain tag", "GET", "/v2/pause/manifests/sha256-" + strings.ToUpper(hex64) + ".sig",
			Request{Rule: RuleManifest, Kind: KindManifest, Repo: "pause", Ref: "sha256-" + strings.ToUpper(hex64) + ".sig"}},
		{"short signature is a plain tag", "GET", "/v2/pause/manifests/sha256-" + hex64[:63] + ".sig",
			Request{Rule: RuleManifest, Kind: KindManifest, Repo: "pause", Ref: "sha256-" + hex64[:63] + ".sig"}},
		{"sha512 signature is a plain tag", "GET", "/v2/pause/manifests/sha512-" + hex64 + ".sig",
			Request{Rule: RuleManifest, Kind: KindManifest, Repo: "pause", Ref: "sha512-" + hex64 + ".sig"}},
		{"signature query dropped", "GET", "/v2/pause/manifests/sha256-" + hex64 + ".sig?x=1",
			Request{Rule: RuleSignature, Kind: KindSignature, Repo: "pause", Ref: "sha256-" + hex64 + ".sig"}},

		// Rule 7.
		{"tag", "GET", "/v2/pause/manifests/latest", Request{Rule: RuleManifest, Kind: KindManifest, Repo: "pause", Ref: "latest"}},
		{"nested name", "GET", "/v2/kube-apiserver/sub.dir/a__b/manifests/v1.31.0",
			Request{Rule: RuleManifest, Kind: KindManifest, Repo: "kube-apiserver/sub.dir/a__b", Ref: "v1.31.0"}},
		{"name holding manifests", "GET", "/v2/a/manifests/b/manifests/latest",
			Request{Rule: RuleManifest, Kind: KindManifest, Repo: "a/manifests/b", Ref: "latest"}},
		{"sha256 digest", "GET", "/v2/pause/manifests/" + sha256, Request{Rule: RuleManifest, Kind: KindManifest, Repo: "pause", Ref: sha256}},
		{"sha512 digest", "GET", "/v2/pause/manifests/" + sha512, Request{Rule: RuleManifest, Kind: KindManifest, Repo: "pause", Ref: sha512}},
		{"upper-case digest", "GET", "/v2/pause/manifests/sha256:" + strings.ToUpper(hex64), Request{Rule: RuleNotFound}},
		{"short digest", "GET", "/v2/pause/manifests/sha256:" + hex64[:63], Request{Rule: RuleNotFound}},
		{"long digest", "GET", "/v2/pause/manifests/sha256:" + hex64 + "0", Request{Rule: RuleNotFound}},
		{"sha512 of sha256 length", "GET", "/v2/pause/manifests/sha512:" + hex64, Request{Rule: RuleNotFound}},
		{"sha384", "GET", "/v2/pause/manifests/sha384:" + hex64[:48] + hex64[:48], Request{Rule: RuleNotFound}},
		{"tag of 128", "GET", "/v2/pause/manifests/" + strings.Repeat("a", 128),
			Request{Rule: RuleManifest, Kind: KindManifest, Repo: "pause", Ref: strings.Repeat("a", 128)}},
		{"tag of 129", "GET", "/v2/pause/manifests/" + strings.Repeat("a", 129), Request{Rule: RuleNotFound}},
		{"tag starting with dash", "GET", "/v2/pause/manifests/-x", Request{Rule: RuleNotFound}},
		{"tag with upper case and underscore", "GET", "/v2/pause/manifests/_Tag-1.X",
			Request{Rule: RuleManifest, Kind: KindManifest, Repo: "pause", Ref: "_Tag-1.X"}},
		{"empty reference", "GET", "/v2/pause/manifests/", Request{Rule: RuleNotFound}},
		{"manifest query dropped", "GET", "/v2/pause/manifests/latest?x=1",
			Request{Rule: RuleManifest, Kind: KindManifest, Repo: "pause", Ref: "latest"}},
		{"upper-case name", "GET", "/v2/Pause/manifests/latest", Request{Rule: RuleNotFound}},
		{"name ending in separator", "GET", "/v2/pause-/manifests/latest", Request{Rule: RuleNotFound}},
		{"name with triple underscore", "GET", "/v2/a___b/manifests/latest", Request{Rule: RuleNotFound}},
		{"name with many dashes", "GET", "/v2/a---b/manifests/latest",
			Request{Rule: RuleManifest, Kind: KindManifest, Repo: "a---b", Ref: "latest"}},

		// Rule 8.
		{"tags", "GET", "/v2/pause/tags/list", Request{Rule: RuleTags, Kind: KindTags, Repo: "pause"}},
		{"tags with query", "GET", "/v2/pause/tags/list?n=10&last=3.9", Request{Rule: RuleTags, Kind: KindTags, Repo: "pause", Query: "n=10&last=3.9"}},
		{"tags with empty query", "GET", "/v2/pause/tags/list?", Request{Rule: RuleTags, Kind: KindTags, Repo: "pause"}},
		{"tags trailing slash", "GET", "/v2/pause/tags/list/", Request{Rule: RuleNotFound}},
		{"upper-case tags name", "GET", "/v2/PAUSE/tags/list", Request{Rule: RuleNotFound}},

		// Rules 8 and 9 copy the query only if it is safe to: at most
		// MaxQuery bytes of RFC 3986 query characters.
		{"tags query of every allowed character", "GET", "/v2/pause/tags/list?aZ09-._~!$&'()*+,;=:@/?%2F",
			Request{Rule: RuleTags, Kind: KindTags, Repo: "pause", Query: "aZ09-._~!$&'()*+,;=:@/?%2F"}},
		{"tags query with a raw high byte", "GET", "/v2/pause/tags/list?n=\x80", Request{Rule: RuleUnsafePath}},
		{"tags query with CR LF", "GET", "/v2/pause/tags/list?n=1\r\nX: y", Request{Rule: RuleUnsafePath}},
		{"tags query with a space", "GET", "/v2/pause/tags/list?n=1 2", Request{Rule: RuleUnsafePath}},
		{"tags query with a quote", "GET", "/v2/pause/tags/list?n=\"", Request{Rule: RuleUnsafePath}},
		{"tags query with angle brackets", "GET", "/v2/pause/tags/list?a=<script>", Request{Rule: RuleUnsafePath}},
		{"tags query with a backslash", "GET", "/v2/pause/tags/list?a=\\", Request{Rule: RuleUnsafePath}},
		{"tags query with a bare percent", "GET", "/v2/pause/tags/list?a=%", Request{Rule: RuleUnsafePath}},
		{"tags query with a short escape", "GET", "/v2/pause/tags/list?a=%4", Request{Rule: RuleUnsafePath}},
		{"tags query with a non-hex escape", "GET", "/v2/pause/tags/list?a=%4g", Request{Rule: RuleUnsafePath}},
		{"tags query of MaxQuery bytes", "GET", "/v2/pause/tags/list?" + strings.Repeat("a", MaxQuery),
			Request{Rule: RuleTags, Kind: KindTags, Repo: "pause", Query: strings.Repeat("a", MaxQuery)}},
		{"tags query over MaxQuery bytes", "GET", "/v2/pause/tags/list?" + strings.Repeat("a", MaxQuery+1), Request{Rule: RuleUnsafePath}},
		{"referrers query with a raw byte", "GET", "/v2/pause/referrers/" + sha256 + "?a=\xff", Request{Rule: RuleUnsafePath}},
		{"a manifest's query is not read", "GET", "/v2/pause/manifests/latest?a=<\xff>",
			Request{Rule: RuleManifest, Kind: KindManifest, Repo: "pause", Ref: "latest"}},

		// Rule 9.
		{"referrers", "GET", "/v2/pause/referrers/" + sha256, Request{Rule: RuleReferrers, Kind: KindReferrers, Repo: "pause", Ref: sha256}},
		{"referrers with query", "GET", "/v2/pause/referrers/" + sha512 + "?artifactType=application/vnd.x",
			Request{Rule: RuleReferrers, Kind: KindReferrers, Repo: "pause", Ref: sha512, Query: "artifactType=application/vnd.x"}},
		{"referrers by tag", "GET", "/v2/pause/referrers/latest", Request{Rule: RuleNotFound}},

		// Rule 10.
		{"blob", "GET", "/v2/pause/blobs/" + sha256, Request{Rule: RuleBlob, Kind: KindBlob, Repo: "pause", Ref: sha256}},
		{"blob HEAD sha512", "HEAD", "/v2/a/b/blobs/" + sha512, Request{Rule: RuleBlob, Kind: KindBlob, Repo: "a/b", Ref: sha512}},
		{"blob query dropped", "GET", "/v2/pause/blobs/" + sha256 + "?x=1", Request{Rule: RuleBlob, Kind: KindBlob, Repo: "pause", Ref: sha256}},
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
		{"asterisk", "GET", "*", Request{Rule: RuleNotFound}},
		{"authority form", "GET", "example.com:443", Request{Rule: RuleNotFound}},
		{"fragment alone", "GET", "#", Request{Rule: RuleNotFound}},
		{"path of MaxPath characters", "GET", "/v2/" + strings.Repeat("a", MaxName) + "/referrers/" + sha512,
			Request{Rule: RuleReferrers, Kind: KindReferrers, Repo: strings.Repeat("a", MaxName), Ref: sha512}},
		{"path over MaxPath characters", "GET", "/v2/" + strings.Repeat("a/", 200) + "manifests/latest", Request{Rule: RuleNotFound}},
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

// TestSafeTarget: on every target of up to seven characters drawn from
// those the patterns care about, SafeTarget matches exactly when the path,
// cut at the first '?' or '#' as nginx cuts $uri, is empty or starts with
// '/' and UnsafeInPath does not match it. Go's regexp has no possessive
// quantifiers; as they give back nothing a match needs, the pattern
// without them matches the same targets.
func TestSafeTarget(t *testing.T) {
	greedy := strings.NewReplacer("*+", "*", "++", "+").Replace(SafeTarget)
	safe, unsafe := regexp.MustCompile(greedy), regexp.MustCompile(UnsafeInPath)
	const alphabet = "/.%?#a"
	var walk func(target string)
	walk = func(target string) {
		p := target[:len(target)-len(strings.TrimLeft(target, "/.%a"))]
		want := (p == "" || p[0] == '/') && !unsafe.MatchString(p)
		if got := safe.MatchString(target); got != want {
			t.Fatalf("%q: SafeTarget %v, want %v", target, got, want)
		}
		if len(target) < 7 {
			for _, c := range alphabet {
				walk(target + string(c))
			}
		}
	}
	walk("")
}

func TestOriginForm(t *testing.T) {
	tests := []struct{ target, want string }{
		{"/v2/x?y", "/v2/x?y"},
		{"http://x/v2/%2e%2e/x", "/v2/%2e%2e/x"},
		{"http://x/v2/tags/list?n=1", "/v2/tags/list?n=1"},
		{"http://x?q=1", "/?q=1"},
		{"http://x#/v2/pause/manifests/latest", "/#/v2/pause/manifests/latest"},
		{"http://x", "/"},
		{"*", "*"},
		{"x/y", "x/y"},
		{"", ""},
		{"https://h:8/v2/?a=1", "/v2/?a=1"},
		// Only a scheme in RFC 3986's grammar, at the very start, makes
		// a target absolute-form.
		{"HTTP://x/v2/", "/v2/"},
		{"ftp://x/v2/", "/v2/"},
		{"a+b-c.9://x/v2/", "/v2/"},
		{"/v2/a://b/v2/x/manifests/latest", "/v2/a://b/v2/x/manifests/latest"},
		{"://x/v2/x/manifests/latest", "://x/v2/x/manifests/latest"},
		{"1http://x/v2/x/manifests/latest", "1http://x/v2/x/manifests/latest"},
		{"+http://x/v2/", "+http://x/v2/"},
		{"ht_tp://x/v2/", "ht_tp://x/v2/"},
		{"ht%74p://x/v2/", "ht%74p://x/v2/"},
		{"x/y://x/v2/", "x/y://x/v2/"},
		{"x?y://x/v2/", "x?y://x/v2/"},
		{"http:/x/v2/", "http:/x/v2/"},
		{"http:x/v2/", "http:x/v2/"},
		{"http//x/v2/", "http//x/v2/"},
		{"http:///v2/", "/v2/"},
	}
	for _, tt := range tests {
		if got := OriginForm(tt.target); got != tt.want {
			t.Errorf("OriginForm(%q) = %q, want %q", tt.target, got, tt.want)
		}
	}
}

// TestAbsoluteForm: on every target of up to six characters from an
// alphabet of scheme characters and separators, OriginForm reads as
// absolute-form exactly the targets the AbsoluteForm pattern (the one
// every target's template writes) matches.
func TestAbsoluteForm(t *testing.T) {
	pattern := regexp.MustCompile(AbsoluteForm)
	const alphabet = "aZ1+.-:/_%"
	var walk func(target string)
	walk = func(target string) {
		if got, want := absolutePrefix(target), len(pattern.FindString(target)); got != want {
			t.Fatalf("%q: absolutePrefix %d, AbsoluteForm matches %d bytes", target, got, want)
		}
		if len(target) < 6 {
			for i := 0; i < len(alphabet); i++ {
				walk(target + alphabet[i:i+1])
			}
		}
	}
	walk("")
}

// TestBadQuery: on every query of up to three bytes drawn from each byte
// value's class, BadQuery (the pattern the targets use) refuses exactly
// what validQuery refuses.
func TestBadQuery(t *testing.T) {
	bad := regexp.MustCompile(BadQuery)
	for b := range 256 {
		q := "a" + string([]byte{byte(b)}) + "a"
		if got, want := bad.MatchString(q), !validQuery(q); got != want {
			t.Errorf("byte %#02x: BadQuery %v, validQuery refuses %v", b, got, want)
		}
	}
	const alphabet = "%a4g\n \x80"
	var walk func(q string)
	walk = func(q string) {
		if got, want := bad.MatchString(q), !validQuery(q); got != want {
			t.Fatalf("%q: BadQuery %v, validQuery refuses %v", q, got, want)
		}
		if len(q) < 4 {
			for i := 0; i < len(alphabet); i++ {
				walk(q + alphabet[i:i+1])
			}
		}
	}
	walk("")
}

// TestAddress: Address accepts exactly what netip.ParseAddr accepts
// without a zone, on hand-picked forms and on every string of up to five
// characters from an alphabet that makes addresses.
func TestAddress(t *testing.T) {
	full := regexp.MustCompile(`^` + Address + `$`)
	check := func(s string) {
		t.Helper()
		addr, err := netip.ParseAddr(s)
		want := err == nil && addr.Zone() == ""
		if got := full.MatchString(s); got != want {
			t.Errorf("Address matching %q = %v, netip says %v", s, got, want)
		}
	}
	for _, s := range []string{
		"1.2.3.4", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1.2.3.04",
		"::", "::1", "1::", "2600:1f18::1", ":2600:1f18::1", "2600:1f18::1:", ":2600:1f18:0:0:0:0:0:1",
		"2600:1f18::1::", "2600:1f18:::1", "12345::1", "2600:1f18::g", "2600:1f18:0:0:0:0:0:1:2",
		"2600:1f18:0:0:0:0:0:1", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1::3:4:5:6:7:8", "1:2:3:4:5:6::8",
		"::ffff:1.2.3.4", "::FFFF:1.2.3.4", "::1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4",
		"1::1.2.3.4", "::ffff:01.2.3.4", "2600:01f18::1", "2600:0000:0000::0001", "fe80::1%eth0", "[::1]",
		"1.2.3.4:80", "", " 1.2.3.4", "1.2.3.4 ",
	} {
		check(s)
	}
	const alphabet = "0f:.1"
	var walk func(s string)
	walk = func(s string) {
		check(s)
		if len(s) < 5 {
			for i := 0; i < len(alphabet); i++ {
				walk(s + alphabet[i:i+1])
			}
		}
	}
	walk("")
	for i := range 2000 {
		// Eight groups, some dropped, some joined by "::".
		var b strings.Builder
		for g := range 8 {
			if i>>g&1 == 1 {
				continue
			}
			if b.Len() > 0 || i%3 == 0 {
				b.WriteString(":")
			}
			b.WriteString(strings.Repeat("a", 1+(i+g)%5))
		}
		check(b.String())
		check("::" + b.String())
		check(b.String() + "::")
	}
}
