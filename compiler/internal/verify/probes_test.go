package verify

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/regedge/regedge/compiler/internal/answer"
	"github.com/regedge/regedge/compiler/internal/compile"
	"github.com/regedge/regedge/compiler/internal/config"
	"github.com/regedge/regedge/compiler/internal/plantest"
	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

// blob is the digest the test mirrors hold.
var blob = "sha256:" + strings.Repeat("0123456789abcdef", 4)

// wantAbsent is absentDigest written out, so a change to it shows here.
const wantAbsent = "sha256:6e0ea4cddb025f6508af0f7c20da9b85da558cb26baec3b54237eb5b7d9f1643"

// planAddresses is addresses(plantest.Plan, 0): sorted, IPv4 before
// IPv6, each once.
var planAddresses = []string{
	"9.255.255.255", // before the first interval
	"10.0.0.0",
	"10.0.0.127",
	"10.0.0.255", // also just before the second interval
	"10.0.1.0",   // also just after the first interval
	"10.0.1.127",
	"10.0.1.255",
	"10.0.2.0",
	"192.0.2.1",
	"::ffff:10.0.0.127",
	"::ffff:10.0.1.127",
	"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
	"2001:db8::",
	"2001:db8::1", // the fixed IPv6 address, inside the interval
	"2001:db8::7fff",
	"2001:db8::ffff",
	"2001:db8::1:0",
}

func TestAbsentDigest(t *testing.T) {
	if absentDigest != wantAbsent {
		t.Errorf("absentDigest = %s, want %s", absentDigest, wantAbsent)
	}
}

func TestAddresses(t *testing.T) {
	got := addresses(plantest.Plan(""), 0)
	var want []netip.Addr
	for _, s := range planAddresses {
		want = append(want, netip.MustParseAddr(s))
	}
	if !slices.Equal(got, want) {
		t.Errorf("addresses =\n%v\nwant\n%v", got, want)
	}
}

func TestAddressesAtTheEdges(t *testing.T) {
	p := plantest.Plan("")
	p.V4, p.V6 = nil, nil
	plantest.AtTheEdges(p)
	got := addresses(p, 0)
	var gotStr []string
	for _, a := range got {
		gotStr = append(gotStr, a.String())
	}
	// No address before the lowest nor after the highest address of a family.
	want := []string{
		"0.0.0.0", "0.0.0.127", "0.0.0.255", "0.0.1.0",
		"192.0.2.1",
		"255.255.254.255", "255.255.255.0", "255.255.255.127", "255.255.255.255",
		"::", "::7f", "::ff", "::100",
		"::ffff:0.0.0.127", "::ffff:255.255.255.127",
		"2001:db8::1",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:feff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff7f", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	}
	if !slices.Equal(gotStr, want) {
		t.Errorf("addresses =\n%q\nwant\n%q", gotStr, want)
	}
}

func TestAddressesEmptyPlan(t *testing.T) {
	p := plantest.Plan("")
	p.V4, p.V6 = nil, nil
	got := addresses(p, 0)
	want := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")}
	if !slices.Equal(got, want) {
		t.Errorf("addresses = %v, want %v", got, want)
	}
	if got := addresses(p, 1); len(got) != 1 {
		t.Errorf("addresses(sample 1) = %v, want one address (one label)", got)
	}
}

func TestAddressesSample(t *testing.T) {
	p := shippedPlan(t)
	all := addresses(p, 0)
	labelsOf := func(addrs []netip.Addr) map[int]bool {
		m := map[int]bool{}
		for _, a := range addrs {
			m[p.Lookup(a)] = true
		}
		return m
	}
	allLabels := labelsOf(all)
	for _, n := range []int{1, 10, 100, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			got := addresses(p, n)
			if labels := labelsOf(got); len(labels) != len(allLabels) {
				t.Errorf("sample %d covers %d labels, want all %d", n, len(labels), len(allLabels))
			}
			if want := max(n, len(allLabels)); len(got) != want {
				t.Errorf("sample %d kept %d addresses, want %d", n, len(got), want)
			}
			if !slices.IsSortedFunc(got, netip.Addr.Compare) {
				t.Errorf("sample %d is not sorted", n)
			}
			if len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Errorf("sample %d holds duplicates", n)
			}
			for _, a := range got {
				if _, found := slices.BinarySearchFunc(all, a, netip.Addr.Compare); !found {
					t.Errorf("sample %d holds %v, which is no probe address", n, a)
				}
			}
		})
	}
	if got := addresses(p, len(all)+5); !slices.Equal(got, all) {
		t.Errorf("a sample larger than the address count is not every address")
	}
}

func TestMid(t *testing.T) {
	tests := []struct{ first, last, want string }{
		{"10.0.0.0", "10.0.0.255", "10.0.0.127"},
		{"1.2.3.4", "1.2.3.4", "1.2.3.4"},
		{"1.2.3.4", "1.2.3.5", "1.2.3.4"},
		{"0.0.0.0", "255.255.255.255", "127.255.255.255"},
		{"255.255.255.254", "255.255.255.255", "255.255.255.254"},
		{"10.0.0.255", "10.0.1.0", "10.0.0.255"},
		{"2001:db8::", "2001:db8::ffff", "2001:db8::7fff"},
		{"::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		// The sum overflows 128 bits; the carry is the halved top bit.
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"},
		{"8000::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "bfff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"::", "::1", "::"},
		{"2001:db8:0:0:ffff:ffff:ffff:ffff", "2001:db8:0:1::", "2001:db8::ffff:ffff:ffff:ffff"},
	}
	for _, tt := range tests {
		first, last := netip.MustParseAddr(tt.first), netip.MustParseAddr(tt.last)
		got := Mid(first, last)
		if want := netip.MustParseAddr(tt.want); got != want {
			t.Errorf("Mid(%s, %s) = %s, want %s", tt.first, tt.last, got, want)
		}
		if got.Is4() != first.Is4() {
			t.Errorf("Mid(%s, %s) = %s, of another family", tt.first, tt.last, got)
		}
	}
}

func TestHeader(t *testing.T) {
	client := netip.MustParseAddr("10.0.0.5")
	tests := []struct {
		rule plan.ClientIP
		want string // "" for no header at all
	}{
		{plan.ClientIP{}, ""},
		{plan.ClientIP{Header: "X-Forwarded-For"}, "10.0.0.5"},
		{plan.ClientIP{Header: "X-Forwarded-For", TrustedHops: 1}, "10.0.0.5, 127.0.0.1"},
		{plan.ClientIP{Header: "X-Real-Client", TrustedHops: 2}, "10.0.0.5, 127.0.0.1, 127.0.0.1"},
	}
	for _, tt := range tests {
		p := plantest.Plan("")
		p.ClientIP = tt.rule
		h := header(p, client)
		if tt.want == "" {
			if h != nil {
				t.Errorf("header(%+v) = %v, want none", tt.rule, h)
			}
			continue
		}
		if len(h) != 1 || len(h[tt.rule.Header]) != 1 || h[tt.rule.Header][0] != tt.want {
			t.Errorf("header(%+v) = %v, want %s: %q", tt.rule, h, tt.rule.Header, tt.want)
		}
	}
	p := plantest.Plan("")
	p.ClientIP.TrustedHops = 0
	if got := header(p, netip.MustParseAddr("2001:db8::5"))["X-Forwarded-For"]; !slices.Equal(got, []string{"2001:db8::5"}) {
		t.Errorf("IPv6 header = %q", got)
	}
}

func TestProbes(t *testing.T) {
	p := plantest.Plan("")
	probes := Probes(p, blob, 0)

	// Labels of planAddresses, in order: default (9.255.255.255), east
	// (10.0.0.0), other (10.0.1.0).
	fixed := len(fixedKinds(blob))
	if want := 8*len(planAddresses) + 3*fixed; len(probes) != want {
		t.Errorf("%d probes, want %d", len(probes), want)
	}
	if fixed != 11+len(HostilePaths(blob)) {
		t.Errorf("%d fixed kinds, want 11 plus the hostile paths", fixed)
	}

	var got []string
	for _, pr := range probes {
		if pr.Client == netip.MustParseAddr("10.0.0.127") {
			got = append(got, pr.Method+" "+pr.Target+" ("+pr.Kind+")")
		}
	}
	sig := "sha256-" + strings.TrimPrefix(wantAbsent, "sha256:")
	want := []string{
		"GET /v2/regedge/verify/manifests/v1.0 (manifest by tag)",
		"HEAD /v2/regedge/verify/manifests/" + blob + " (manifest by digest)",
		"GET /v2/regedge/verify/tags/list?n=10&last=v1 (tags)",
		"GET /v2/regedge/verify/referrers/" + blob + "?artifactType=application%2Fspdx%2Bjson (referrers)",
		"GET /v2/regedge/verify/blobs/" + blob + " (blob at the mirror)",
		"HEAD /v2/regedge/verify/blobs/" + wantAbsent + " (blob not at the mirror)",
		"GET /v2/regedge/verify/manifests/" + sig + ".sig (cosign signature)",
		"GET /v2/regedge/verify/manifests/" + sig + ".att (cosign attestation)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("probes from 10.0.0.127:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Each routed probe parses to the rule its kind names.
	wantRule := map[string]request.Rule{
		"manifest by tag": request.RuleManifest, "manifest by digest": request.RuleManifest,
		"tags": request.RuleTags, "referrers": request.RuleReferrers,
		"blob at the mirror": request.RuleBlob, "blob not at the mirror": request.RuleBlob,
		"cosign signature": request.RuleSignature, "cosign attestation": request.RuleSignature,
	}
	fixedFrom := map[netip.Addr]int{}
	for _, pr := range probes {
		if rule, ok := wantRule[pr.Kind]; ok {
			if got := request.Parse(pr.Method, pr.Target).Rule; got != rule {
				t.Errorf("%s %s parses to rule %d, want %d", pr.Method, pr.Target, got, rule)
			}
		} else {
			fixedFrom[pr.Client]++
		}
	}
	wantFixed := map[netip.Addr]int{
		netip.MustParseAddr("9.255.255.255"): fixed,
		netip.MustParseAddr("10.0.0.0"):      fixed,
		netip.MustParseAddr("10.0.1.0"):      fixed,
	}
	if fmt.Sprint(fixedFrom) != fmt.Sprint(wantFixed) {
		t.Errorf("fixed probes per address = %v, want %v", fixedFrom, wantFixed)
	}
}

func TestProbesPeerMode(t *testing.T) {
	p := plantest.Plan("")
	p.ClientIP = plan.ClientIP{}
	probes := Probes(p, blob, 0)
	if want := 8 + len(fixedKinds(blob)); len(probes) != want {
		t.Errorf("%d probes, want %d", len(probes), want)
	}
	for _, pr := range probes {
		if pr.Client != netip.MustParseAddr("127.0.0.1") {
			t.Errorf("probe %s %s from %v, want 127.0.0.1", pr.Method, pr.Target, pr.Client)
		}
	}
}

// TestHostilePathsAnswer404 holds for sha256 and sha512 blobs, and for
// one of digits only, such as verify's default, which has no letter to
// put in upper case.
func TestHostilePathsAnswer404(t *testing.T) {
	for _, c := range []struct{ name, digest string }{
		{"sha256", blob},
		{"sha512", "sha512:" + strings.Repeat("0123456789abcdef", 8)},
		{"digits", "sha256:" + strings.Repeat("0", 64)},
	} {
		if !IsDigest(c.digest) {
			t.Fatalf("%s is not a digest", c.digest)
		}
		t.Run(c.name, func(t *testing.T) { testHostilePathsAnswer404(t, c.digest) })
	}
}

func testHostilePathsAnswer404(t *testing.T, digest string) {
	p := plantest.Plan("http://mirror.invalid")
	paths := HostilePaths(digest)
	if len(slices.Compact(slices.Sorted(slices.Values(paths)))) != len(paths) {
		t.Errorf("HostilePaths holds duplicates")
	}
	if len(paths) != 29 {
		t.Errorf("%d hostile paths, want the 29 README.md counts", len(paths))
	}
	for _, target := range paths {
		for _, method := range []string{"GET", "HEAD"} {
			r := request.Parse(method, target)
			if r.Rule != request.RuleUnsafePath && r.Rule != request.RuleNotFound {
				t.Errorf("%s %s parses to rule %d, want 2 or 12", method, target, r.Rule)
				continue
			}
			for label := range p.Labels {
				res := answer.For(p, r, label, func(string, string) bool { return true })
				if res.Status != 404 || res.Location != "" {
					t.Errorf("%s %s under label %d: %d %q, want 404", method, target, label, res.Status, res.Location)
				}
			}
		}
	}
}

// TestHostilePathsAnyString: verify checks its blob with IsDigest before
// it builds probes, but HostilePaths assumes nothing of it: -blob notadigest
// once panicked here.
func TestHostilePathsAnyString(t *testing.T) {
	for _, s := range []string{"", ":", "notadigest", "sha256:", "sha256:ZZZ", "sha512:ab"} {
		if n := len(HostilePaths(s)); n != 29 {
			t.Errorf("HostilePaths(%q): %d paths, want 29", s, n)
		}
	}
}

var shipped struct {
	once sync.Once
	plan *plan.Plan
	err  string
}

// shippedPlan returns the plan of the shipped policy. Tests must not change
// it.
func shippedPlan(t *testing.T) *plan.Plan {
	t.Helper()
	shipped.once.Do(func() {
		plans, diags := compile.Plans(config.NewLoader(config.Disk{}), "../../../policy/registry.k8s.io.hcl", "")
		if diags.HasErrors() || len(plans) != 1 {
			shipped.err = fmt.Sprintf("%d plans, diagnostics: %v", len(plans), diags)
			return
		}
		shipped.plan = plans[0]
	})
	if shipped.plan == nil {
		t.Fatalf("shipped policy: %s", shipped.err)
	}
	return shipped.plan
}

// loopbackPlan returns the shipped plan with every site at mirrorURL and
// the upstream at upstreamURL, through an override file.
func loopbackPlan(t *testing.T, mirrorURL, upstreamURL string) *plan.Plan {
	t.Helper()
	override := filepath.Join(t.TempDir(), "override.hcl")
	src := fmt.Sprintf(`upstream "artifact-registry" {
  endpoint = %q
}
site "s3" {
  url = "%s/${each.key}"
}
site "cloudfront" {
  url = "%s/cdn"
}
`, upstreamURL, mirrorURL, mirrorURL)
	if err := os.WriteFile(override, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	plans, diags := compile.Plans(config.NewLoader(config.Disk{}), "../../../policy/registry.k8s.io.hcl", override)
	if diags.HasErrors() || len(plans) != 1 {
		t.Fatalf("shipped policy with override: %d plans, diagnostics: %v", len(plans), diags)
	}
	return plans[0]
}
