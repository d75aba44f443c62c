package verify

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/regedge/regedge/compiler/internal/plantest"
	"github.com/regedge/regedge/compiler/internal/target"
	"github.com/regedge/regedge/compiler/proxy"
)

// startServe serves h the way regedge serve does, through fasthttp, and
// returns its base URL.
func startServe(t *testing.T, h *proxy.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := proxy.NewServer(h)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	return "http://" + ln.Addr().String()
}

func TestCorpusSize(t *testing.T) {
	p := plantest.Plan("http://mirror.invalid")
	cases := corpus(p, blob, corpusClient(p))
	if len(cases) < 500 {
		t.Errorf("the corpus holds %d requests, want at least 500", len(cases))
	}
	names := map[string]bool{}
	for _, c := range cases {
		if names[c.Name] {
			t.Errorf("two cases are named %q", c.Name)
		}
		names[c.Name] = true
	}
}

// TestCorpusClient: the corpus's client is routed to a site, so that its
// blob requests reach the existence check.
func TestCorpusClient(t *testing.T) {
	p := plantest.Plan("http://mirror.invalid")
	if got := corpusClient(p); p.Lookup(got) != plantest.LabelEast {
		t.Errorf("corpusClient = %v, label %d; want an address of label east", got, p.Lookup(got))
	}
	p.Labels[plantest.LabelEast].Actions = p.Labels[plantest.LabelDefault].Actions
	if got, want := corpusClient(p), netip.MustParseAddr("192.0.2.1"); got != want {
		t.Errorf("without a site, corpusClient = %v, want %v", got, want)
	}
}

// TestRefusalsAreClientErrors: a target may answer a request before the
// rules only with a 4xx, unless its runtime gives it no choice and the
// refusal says why.
func TestRefusalsAreClientErrors(t *testing.T) {
	for _, r := range refusals {
		if (r.status < 400 || r.status > 499) && r.runtime == "" {
			t.Errorf("%s records status %d without saying why its runtime answers so", r.target, r.status)
		}
	}
}

// TestCorpusAgainstServe: regedge serve answers every corpus request as
// the rules allow.
func TestCorpusAgainstServe(t *testing.T) {
	mirror := newMirror(t)
	p := plantest.Plan(mirror.URL)
	cfg := Config{Plan: p, Endpoint: startServe(t, proxy.New(p)), Blob: blob, Concurrency: 4, Target: targetProxy}
	n, mismatches := runCorpus(context.Background(), cfg, newMirrorState(), &errorRun{})
	for _, m := range mismatches {
		t.Errorf("%s: %s\n  want %s\n  got  %s", m.Case, m.Request, describe(m.Want), describe(m.Got))
	}
	if n < 500 {
		t.Errorf("%d corpus requests, want at least 500", n)
	}
}

// TestCorpusCatchesDivergence: a target that copies a tag list's query
// into its Location unchecked, keeps a #fragment in the target and fails
// on long paths is caught on each count.
func TestCorpusCatchesDivergence(t *testing.T) {
	mirror := newMirror(t)
	p := plantest.Plan(mirror.URL)
	good := proxy.New(p)
	bad := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, query, _ := strings.Cut(r.RequestURI, "?")
		switch {
		case len(path) > 1000:
			w.WriteHeader(http.StatusInternalServerError)
		case strings.Contains(r.RequestURI, "#"):
			w.WriteHeader(http.StatusNotFound)
		case strings.HasSuffix(path, "/tags/list") && query != "":
			w.Header()["Location"] = []string{"https://main.example/v2/proj/images/regedge/corpus/tags/list?" + query}
			w.WriteHeader(http.StatusTemporaryRedirect)
		default:
			good.ServeHTTP(w, r)
		}
	})
	cfg := Config{Plan: p, Endpoint: startTarget(t, bad), Blob: blob, Concurrency: 4}
	_, mismatches := runCorpus(context.Background(), cfg, newMirrorState(), &errorRun{})
	found := map[string]bool{}
	for _, m := range mismatches {
		found[m.Case] = true
	}
	for _, name := range []string{
		"path /v2/regedge/corpus/tags/list?a=<script>",
		"query byte 0x80",
		"tags query of 1025 bytes",
		"path of 1990 short segments",
		"fragment /v2/regedge/corpus/manifests/latest#/../x",
	} {
		if !found[name] {
			t.Errorf("the corpus missed %q", name)
		}
	}
}

// TestForbidden: the requests HTTP/1.1 forbids, which a parser may refuse.
func TestForbidden(t *testing.T) {
	ok := Case{Method: "GET", Target: "/v2/", Headers: []string{"Host: x"}}
	tests := []struct {
		name string
		edit func(c *Case)
		want bool
	}{
		{"plain", func(c *Case) {}, false},
		{"fragment", func(c *Case) { c.Target = "/v2/#x" }, false},
		{"absolute form", func(c *Case) { c.Target = "http://x/v2/" }, false},
		{"HTTP/1.0 without Host", func(c *Case) { c.Proto, c.Headers = "HTTP/1.0", nil }, false},
		{"HTTP/1.1 without Host", func(c *Case) { c.Headers = nil }, true},
		{"two Hosts", func(c *Case) { c.Headers = append(c.Headers, "Host: y") }, true},
		{"Host with a path", func(c *Case) { c.Headers = []string{"Host: x/y"} }, true},
		{"IPv6 Host", func(c *Case) { c.Headers = []string{"Host: [::1]:80"} }, false},
		{"empty Host", func(c *Case) { c.Headers = []string{"Host: "} }, false},
		{"lower-case method", func(c *Case) { c.Method = "get" }, false},
		{"method with a space", func(c *Case) { c.Method = "G T" }, true},
		{"HTTP/2.0", func(c *Case) { c.Proto = "HTTP/2.0" }, true},
		{"raw byte in the target", func(c *Case) { c.Target = "/v2/\x80" }, true},
		{"quote in the target", func(c *Case) { c.Target = "/v2/?a=\"" }, true},
		{"asterisk with GET", func(c *Case) { c.Target = "*" }, true},
		{"asterisk with OPTIONS", func(c *Case) { c.Method, c.Target = "OPTIONS", "*" }, false},
		{"control character in a header", func(c *Case) { c.Headers = append(c.Headers, "X: \va") }, true},
		{"tab in a header", func(c *Case) { c.Headers = append(c.Headers, "X: \ta") }, false},
	}
	for _, tt := range tests {
		c := ok
		c.Headers = append([]string(nil), ok.Headers...)
		tt.edit(&c)
		if got := forbidden(c); got != tt.want {
			t.Errorf("%s: forbidden = %v, want %v", tt.name, got, tt.want)
		}
	}
	// i10-ops: only a scheme in RFC 3986's grammar at the very start makes
	// a target absolute-form, and an http URI names a host.
	for target, want := range map[string]bool{
		"ftp://x/v2/": false, "http://u@x:80/v2/": false,
		"v2/a://x/v2/": true, "://x/v2/": true, "1http://x/v2/": true,
		"http:///v2/": true, "http://u@:80/v2/": true,
	} {
		c := ok
		c.Target = target
		if got := forbidden(c); got != want {
			t.Errorf("target %q: forbidden = %v, want %v", target, got, want)
		}
	}
}

// TestAllowed: what a target may answer instead of the rules' answer.
func TestAllowed(t *testing.T) {
	want := Answer{Status: 307, Location: "https://x/y"}
	c := Case{Refused: map[string]int{targetHAProxy: 400}}
	tests := []struct {
		name      string
		refusable bool
		target    string
		got       Answer
		ok        bool
	}{
		{"the rules' answer", false, targetNginx, want, true},
		{"another Location", false, targetNginx, Answer{Status: 307, Location: "https://x/z"}, false},
		{"a 4xx where the rules answer", false, targetNginx, Answer{Status: 400}, false},
		{"a 4xx for a forbidden request", true, targetNginx, Answer{Status: 400}, true},
		{"a 5xx for a forbidden request", true, targetNginx, Answer{Status: 500}, false},
		{"no answer for a forbidden request", true, targetNginx, Answer{Err: "EOF"}, false},
		{"the recorded refusal", false, targetHAProxy, Answer{Status: 400}, true},
		{"another target's refusal", false, targetVarnish, Answer{Status: 400}, false},
		{"any target's refusal when none is named", false, "", Answer{Status: 400}, true},
		{"a refusal other than the recorded one", false, targetHAProxy, Answer{Status: 404}, false},
	}
	for _, tt := range tests {
		c.Refusable = tt.refusable
		if got := allowed(c, tt.target, want, tt.got); got != tt.ok {
			t.Errorf("%s: allowed = %v, want %v", tt.name, got, tt.ok)
		}
	}
}

// TestRefusalsNameTargets: every recorded refusal is a target's.
func TestRefusalsNameTargets(t *testing.T) {
	for _, r := range refusals {
		if !slices.Contains(target.Names(), r.target) {
			t.Errorf("a refusal names %q, which is not a target", r.target)
		}
	}
}

// TestBodyRefusals (i10-ops): the proxy's 413 for a body over 64 KiB is
// recorded, and only beyond its limit; nginx reads a body of any size.
func TestBodyRefusals(t *testing.T) {
	p := plantest.Plan("http://mirror.invalid")
	want := map[string]map[string]int{
		"GET with a body of 65536 bytes":   nil,
		"GET with a body of 65537 bytes":   {targetProxy: 413},
		"GET with a body of 1048576 bytes": {targetProxy: 413},
		"GET with a body of 2097152 bytes": {targetProxy: 413},
	}
	seen := 0
	for _, c := range corpus(p, blob, corpusClient(p)) {
		w, ok := want[c.Name]
		if !ok {
			continue
		}
		seen++
		if len(c.Refused) != len(w) {
			t.Errorf("%s: refused by %v, want %v", c.Name, c.Refused, w)
		}
		for target, status := range w {
			if c.Refused[target] != status {
				t.Errorf("%s: refused by %v, want %v", c.Name, c.Refused, w)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("%d of the %d body cases are in the corpus", seen, len(want))
	}
}
