package render

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/regedge/regedge/compiler/internal/answer"
	"github.com/regedge/regedge/compiler/internal/verify"
	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

// workerPlan has three labels whose manifests go to three upstreams, so
// that a manifest's Location names the client's label, and tables with
// gaps, touching intervals and both ends of each address family.
func workerPlan() *plan.Plan {
	actions := func(manifest, site string) []plan.Action {
		var a []plan.Action
		for _, k := range request.Kinds {
			act := plan.Action{Kind: k, Route: "r", Upstream: "a"}
			switch k {
			case request.KindManifest, request.KindSignature:
				act.Upstream = manifest
			case request.KindBlob:
				act.Site = site
			}
			a = append(a, act)
		}
		return a
	}
	iv := func(first, last string, label int) plan.Interval {
		return plan.Interval{First: netip.MustParseAddr(first), Last: netip.MustParseAddr(last), Label: label}
	}
	return &plan.Plan{
		Registry: plan.Registry{InfoURL: "https://example.com/info", PrivacyURL: "https://example.com/privacy"},
		ClientIP: plan.ClientIP{Header: "X-Forwarded-For", TrustedHops: 1},
		Upstreams: []plan.Upstream{
			{Name: "a", Endpoint: "https://a.example.com", Prefix: "pa"},
			{Name: "b", Endpoint: "https://b.example.com:8443", Prefix: "pb/nested"},
			{Name: "c", Endpoint: "http://[::1]:9", Prefix: "pc"},
		},
		Sites: []plan.Site{
			{Name: "east", URL: "https://east.example.com/m", BlobPath: "/b/{digest}/data"},
			{Name: "west", URL: "http://127.0.0.1:9/w", BlobPath: "/{digest}"},
		},
		Check: &plan.Check{PositiveTTL: plan.Duration(3600e9), NegativeTTL: plan.Duration(90e9), Timeout: plan.Duration(1500e6), CacheSize: 20000},
		Labels: []plan.Label{
			{Name: "up", Actions: actions("a", "")},
			{Name: "east", Actions: actions("b", "east")},
			{Name: "west", Actions: actions("c", "west")},
		},
		Default: 0,
		V4: []plan.Interval{
			iv("0.0.0.0", "0.0.0.255", 1),
			iv("10.0.0.0", "10.0.0.255", 1),
			iv("10.0.1.0", "10.0.1.255", 2),
			iv("192.0.2.0", "192.0.2.127", 2),
			iv("255.255.255.0", "255.255.255.255", 1),
		},
		V6: []plan.Interval{
			iv("::", "::ff", 2),
			iv("2001:db8::", "2001:db8::ffff", 1),
			iv("2001:db8::1:0", "2001:db8::1:ffff", 2),
			iv("2600::", "26ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1),
			iv("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 2),
		},
	}
}

func renderWorker(t *testing.T, p *plan.Plan) map[string]string {
	t.Helper()
	files, err := Worker(p)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		out[f.Path] = string(f.Data)
	}
	return out
}

// probeAddrs are the addresses around every interval of p.
func probeAddrs(p *plan.Plan) []netip.Addr {
	var out []netip.Addr
	for _, table := range [][]plan.Interval{p.V4, p.V6} {
		for _, iv := range table {
			for _, a := range []netip.Addr{iv.First, iv.Last, iv.First.Prev(), iv.Last.Next(), verify.Mid(iv.First, iv.Last)} {
				if a.IsValid() {
					out = append(out, a)
				}
			}
		}
	}
	return out
}

func TestWorkerTableDecodesToPlan(t *testing.T) {
	p := workerPlan()
	js := renderWorker(t, p)["worker/worker.js"]
	decode := func(name string) []byte {
		m := regexp.MustCompile(`(?m)^const ` + name + ` = (?:words|labels)\("([A-Za-z0-9+/=]*)"\);$`).FindStringSubmatch(js)
		if m == nil {
			t.Fatalf("worker.js has no table %s", name)
		}
		b, err := base64.StdEncoding.DecodeString(m[1])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return b
	}
	v4, v4Labels, v6, v6Labels := decode("V4"), decode("V4_LABELS"), decode("V6"), decode("V6_LABELS")
	want4 := "0.0.0.0=1 0.0.1.0=0 10.0.0.0=1 10.0.1.0=2 10.0.2.0=0 192.0.2.0=2 192.0.2.128=0 255.255.255.0=1"
	want6 := "::=2 ::100=0 2001:db8::=1 2001:db8::1:0=2 2001:db8::2:0=0 2600::=1 2700::=0 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00=2"
	for _, c := range []struct {
		bounds, labels []byte
		size           int
		want           string
	}{{v4, v4Labels, 4, want4}, {v6, v6Labels, 16, want6}} {
		var got []string
		for i := range c.labels {
			addr, _ := netip.AddrFromSlice(c.bounds[i*c.size : (i+1)*c.size])
			got = append(got, fmt.Sprintf("%s=%d", addr, c.labels[i]))
		}
		if len(c.bounds) != len(c.labels)*c.size || strings.Join(got, " ") != c.want {
			t.Errorf("decoded bounds:\n%s\nwant:\n%s", strings.Join(got, " "), c.want)
		}
	}
	// The last bound at or below each address gives the plan's label.
	lookup := func(bounds, labels []byte, size int, addr netip.Addr) int {
		label := p.Default
		for i := range labels {
			b, _ := netip.AddrFromSlice(bounds[i*size : (i+1)*size])
			if b.Compare(addr) <= 0 {
				label = int(labels[i])
			}
		}
		return label
	}
	for _, a := range probeAddrs(p) {
		got := lookup(v6, v6Labels, 16, a)
		if a.Is4() {
			got = lookup(v4, v4Labels, 4, a)
		}
		if want := p.Lookup(a); got != want {
			t.Errorf("%s: label %d, want %d", a, got, want)
		}
	}
}

func TestWorkerSnippets(t *testing.T) {
	p := workerPlan()
	p.Deployment = "staging"
	files := renderWorker(t, p)
	for path, wants := range map[string][]string{
		"worker/worker.js": {
			"// Generated by regedge devel from a policy, deployment staging,",
			"const CLIENT_HEADER = \"X-Forwarded-For\";\nconst TRUSTED_HOPS = 1;",
			"const UNSAFE_PATH = /%|\\/\\/|\\/\\.\\.?(?:\\/|$)/;",
			"const MAX_PATH = 405;",
			"const MAX_QUERY = 1024;",
			"const MAX_NAME = 255;",
			"const DEFAULT_LABEL = 0;",
			"  // 1: \"east\"\n  {\n    upstream: { \"blob\": \"https://a.example.com/v2/pa\", \"manifest\": \"https://b.example.com:8443/v2/pb/nested\", \"referrers\": \"https://a.example.com/v2/pa\", \"signature\": \"https://b.example.com:8443/v2/pb/nested\", \"tags\": \"https://a.example.com/v2/pa\" },\n    site: [\"https://east.example.com/m/b/\", \"/data\"],\n  },",
			"  // 0: \"up\"\n  {\n    upstream: { \"blob\": \"https://a.example.com/v2/pa\", \"manifest\": \"https://a.example.com/v2/pa\", \"referrers\": \"https://a.example.com/v2/pa\", \"signature\": \"https://a.example.com/v2/pa\", \"tags\": \"https://a.example.com/v2/pa\" },\n    site: null,\n  },",
			"const CHECK = {\n  timeoutMs: 1500,\n  positiveSec: 3600,\n  negativeSec: 90,\n  memoryAnswers: 10000,\n};",
			"headers: { \"Docker-Distribution-Api-Version\": \"registry/2.0\", \"Content-Type\": \"application/json\" },",
			"const V4_LABELS = labels(\"AQABAgACAAE=\");",
			"signal: AbortSignal.timeout(CHECK.timeoutMs),",
		},
		"worker/wrangler.toml": {
			"name = \"regedge-staging\"\nmain = \"worker.js\"\ncompatibility_date = \"" + workerCompatibilityDate + "\"\n",
		},
		"worker/workerd.capnp": {
			"(name = \"sites\", network = (allow = [\"public\"], tlsOptions = (trustBrowserCas = true))),",
			"sockets = [(name = \"http\", address = \"*:8080\", http = (style = proxy), service = \"regedge\")],",
			"modules = [(name = \"worker.js\", esModule = embed \"worker.js\")],",
			"globalOutbound = \"sites\",",
		},
	} {
		for _, want := range wants {
			if !strings.Contains(files[path], want) {
				t.Errorf("%s lacks:\n%s", path, want)
			}
		}
	}

	p.Check = nil
	if js := renderWorker(t, p)["worker/worker.js"]; !strings.Contains(js, "const CHECK = null;") {
		t.Error("a plan without a check renders one")
	}
}

func TestWorkerLabelWidth(t *testing.T) {
	p := workerPlan()
	for len(p.Labels) <= 256 {
		p.Labels = append(p.Labels, plan.Label{Name: fmt.Sprintf("l%d", len(p.Labels)), Actions: p.Labels[0].Actions})
	}
	p.V4[0].Label = 300
	js := renderWorker(t, p)["worker/worker.js"]
	// 300, then the high byte of 0, as 16-bit big-endian numbers.
	want := base64.StdEncoding.EncodeToString([]byte{1, 44, 0})
	if !strings.Contains(js, `const V4_LABELS = labels("`+want) || !strings.Contains(js, "new Uint16Array") {
		t.Errorf("worker.js does not hold 16-bit labels starting %s", want)
	}
}

func TestWorkerAllow(t *testing.T) {
	for _, c := range []struct {
		urls []string
		want string
	}{
		{[]string{"http://127.0.0.1:8080/a", "http://[::1]:9", "http://localhost:1"}, "local"},
		{[]string{"http://127.0.0.1:8080/a", "https://bucket.example.com"}, "public"},
		{[]string{"http://10.0.0.1"}, "public"},
		{nil, "public"},
	} {
		var sites []plan.Site
		for _, u := range c.urls {
			sites = append(sites, plan.Site{URL: u})
		}
		if got := workerAllow(sites); got != c.want {
			t.Errorf("workerAllow(%v) = %s, want %s", c.urls, got, c.want)
		}
	}
}

func TestWorkerRefusesPeer(t *testing.T) {
	p := workerPlan()
	p.ClientIP = plan.ClientIP{}
	_, err := Worker(p)
	if err == nil || !strings.Contains(err.Error(), "the worker block's client_ip takes the client from the TCP peer") {
		t.Errorf("err = %v; want one naming client_ip", err)
	}
}

func TestWorkerRefusesUnquotableValues(t *testing.T) {
	for _, mutate := range []func(p *plan.Plan){
		func(p *plan.Plan) { p.Registry.InfoURL = `https://example.com/"; fetch("x"); "` },
		func(p *plan.Plan) { p.Sites[0].URL = "https://example.com/\u2028x" },
		func(p *plan.Plan) { p.Upstreams[0].Prefix = `pa\` },
		func(p *plan.Plan) { p.ClientIP.Header = "X-A\nB" },
	} {
		p := workerPlan()
		mutate(p)
		if _, err := Worker(p); err == nil || !strings.Contains(err.Error(), "refusing to quote") {
			t.Errorf("err = %v; want a refusal", err)
		}
	}
}

func TestJSRegex(t *testing.T) {
	for in, want := range map[string]string{
		`^/v2/(?<x>[a-z]+)\.sig$`: `/^\/v2\/(?<x>[a-z]+)\.sig$/`,
		`[/?]\/`:                  `/[\/?]\//`,
	} {
		if got, err := jsRegex(in); err != nil || got != want {
			t.Errorf("jsRegex(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, s := range []string{`a\`, "a b", "a\nb", "a\\\nb", "é"} {
		if got, err := jsRegex(s); err == nil {
			t.Errorf("jsRegex(%q) = %q; want an error", s, got)
		}
	}
}

// shippedPlan reads the shipped policy's plan from out/plan.json, which
// make verify keeps current, as the worker sees it.
func shippedPlan(t *testing.T) *plan.Plan {
	t.Helper()
	data, err := os.ReadFile("../../../out/plan.json")
	if err != nil {
		t.Fatal(err)
	}
	var p plan.Plan
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	return p.For("worker")
}

func TestWorkerShippedModuleSize(t *testing.T) {
	files, err := Worker(shippedPlan(t))
	if err != nil {
		t.Fatal(err)
	}
	// Workers refuse compressed scripts above 3 MB on the free plan; the
	// bar here is far lower, so that startup stays quick.
	const limit = 1 << 20
	if n := len(files[0].Data); n >= limit {
		t.Errorf("worker.js is %d bytes, want under %d", n, limit)
	} else {
		t.Logf("worker.js: %d bytes, %d bounds", n, files[0].Entries)
	}
}

// harness runs worker.js under node on requests read as JSON from stdin,
// one after another or all at once, and prints each answer as JSON. Its
// fetch answers a HEAD with 200 when the URL holds a present digest, else
// 404, after a moment; it refuses URLs holding "unreachable" and never
// answers those holding "hang".
const harness = `
import worker from "./worker.mjs";
const input = JSON.parse(await new Response(process.stdin).text());
const heads = [];
globalThis.fetch = async (url, init) => {
  heads.push(url);
  if (init.method !== "HEAD" || init.redirect !== "manual" || !init.signal) throw new Error("bad check");
  if (url.includes("unreachable")) throw new TypeError("connection refused");
  if (url.includes("hang")) return new Promise(() => {});
  await new Promise((resolve) => setTimeout(resolve, 10));
  return new Response(null, { status: input.present.some((p) => url.includes(p)) ? 200 : 404 });
};
async function answer(c) {
  const request = { method: c.method, url: "http://worker.test" + c.target, headers: new Headers(c.headers) };
  const res = await worker.fetch(request, {}, { waitUntil() {} });
  const headers = {};
  for (const name of ["Docker-Distribution-Api-Version", "Content-Type"]) {
    if (res.headers.has(name)) headers[name] = res.headers.get(name);
  }
  return { status: res.status, location: res.headers.get("Location") ?? "", headers };
}
const out = [];
if (input.parallel) {
  out.push(...(await Promise.all(input.cases.map(answer))));
} else {
  for (const c of input.cases) out.push(await answer(c));
}
// Exit once written: a hanging check would keep node waiting.
process.stdout.write(JSON.stringify({ answers: out, heads }), () => process.exit(0));
`

type nodeCase struct {
	Method  string            `json:"method"`
	Target  string            `json:"target"`
	Headers map[string]string `json:"headers"`
}

type nodeAnswer struct {
	Status   int               `json:"status"`
	Location string            `json:"location"`
	Headers  map[string]string `json:"headers"`
}

// runWorker runs the Worker rendered from p on cases under node.
func runWorker(t *testing.T, p *plan.Plan, cases []nodeCase, present []string, parallel bool) ([]nodeAnswer, []string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	dir := t.TempDir()
	js := renderWorker(t, p)["worker/worker.js"]
	for name, data := range map[string]string{"worker.mjs": js, "harness.mjs": harness} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	in, _ := json.Marshal(map[string]any{"cases": cases, "present": present, "parallel": parallel})
	cmd := exec.Command(node, "harness.mjs")
	cmd.Dir, cmd.Stdin = dir, bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.Bytes())
	}
	var out struct {
		Answers []nodeAnswer `json:"answers"`
		Heads   []string     `json:"heads"`
	}
	if err := json.Unmarshal(stdout, &out); err != nil {
		t.Fatalf("node's output: %v", err)
	}
	return out.Answers, out.Heads
}

// clientLabel is the client address rule of docs/request-handling.md, as
// the proxy implements it.
func clientLabel(p *plan.Plan, headers map[string]string) int {
	value, ok := headers[p.ClientIP.Header]
	if !ok {
		return p.Default
	}
	entries := strings.Split(value, ",")
	i := len(entries) - 1 - p.ClientIP.TrustedHops
	if i < 0 {
		return p.Default
	}
	entry := strings.TrimSpace(entries[i])
	addr, err := netip.ParseAddr(entry)
	if err != nil || strings.ContainsAny(entry, " \t%") {
		return p.Default
	}
	return p.Lookup(addr)
}

// compareWithAnswer runs cases through the Worker and compares each
// answer with package answer's.
func compareWithAnswer(t *testing.T, p *plan.Plan, cases []nodeCase, present []string) []string {
	t.Helper()
	got, heads := runWorker(t, p, cases, present, false)
	if len(got) != len(cases) {
		t.Fatalf("%d answers to %d cases", len(got), len(cases))
	}
	exists := func(_, url string) bool {
		for _, d := range present {
			if strings.Contains(url, d) {
				return true
			}
		}
		return false
	}
	bad := 0
	for i, c := range cases {
		res := answer.For(p, request.Parse(c.Method, c.Target), clientLabel(p, c.Headers), exists)
		want := nodeAnswer{Status: res.Status, Location: res.Location, Headers: res.Headers}
		g := got[i]
		same := g.Status == want.Status && g.Location == want.Location
		for name, v := range want.Headers {
			same = same && g.Headers[name] == v
		}
		if !same && bad < 20 {
			bad++
			t.Errorf("%s %s %q:\n got  %d %s %v\n want %d %s %v", c.Method, c.Target, c.Headers,
				g.Status, g.Location, g.Headers, want.Status, want.Location, want.Headers)
		}
	}
	return heads
}

const (
	presentDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	absentDigest  = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

func TestWorkerAnswersLikeTheReference(t *testing.T) {
	p := workerPlan()
	xff := func(v string) map[string]string { return map[string]string{"X-Forwarded-For": v} }
	var cases []nodeCase
	add := func(method, target string, h map[string]string) {
		if h == nil {
			h = map[string]string{}
		}
		cases = append(cases, nodeCase{Method: method, Target: target, Headers: h})
	}
	// Every rule, from one client of each label and from none.
	targets := []string{
		"/", "/privacy", "/v2", "/v2/", "/healthz", "/v2/_catalog", "/favicon.ico", "/v2/x/uploads/", "/v2/?a=b",
		"/v2/x/manifests/latest", "/v2/x/y/manifests/" + presentDigest, "/v2/x/manifests/latest?a=b",
		"/v2/x/tags/list", "/v2/x/tags/list?n=1&last=a%2Fb", "/v2/x/tags/list?",
		"/v2/x/referrers/" + presentDigest + "?artifactType=a%2Fb",
		"/v2/x/manifests/sha256-" + strings.Repeat("a", 64) + ".sig",
		"/v2/x/manifests/sha256-" + strings.Repeat("a", 64) + ".att",
		"/v2/x/blobs/" + presentDigest, "/v2/x/blobs/" + absentDigest, "/v2/x/blobs/" + strings.Repeat("a", 10),
		"/v2/" + strings.Repeat("a", 255) + "/manifests/latest",
		"/v2/" + strings.Repeat("a", 256) + "/manifests/latest",
		"/v2/" + strings.Repeat("a", 256) + "/blobs/" + presentDigest,
		"/v2/x/manifests/lat?e/../st",
	}
	targets = append(targets, verify.HostilePaths(presentDigest)...)
	for _, h := range []map[string]string{nil, xff("10.0.0.1, 127.0.0.1"), xff("10.0.1.1, 127.0.0.1"), xff("192.0.2.200, 127.0.0.1")} {
		for _, target := range targets {
			add("GET", target, h)
			add("HEAD", target, h)
		}
		for _, m := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "get"} {
			add(m, "/v2/x/manifests/latest", h)
		}
	}
	// Every address around every interval, in several spellings, with
	// each request kind whose answer depends on the client.
	var values []string
	for _, a := range probeAddrs(p) {
		values = append(values, a.String(), a.StringExpanded(), strings.ToUpper(a.String()))
		if a.Is4() {
			values = append(values, "::ffff:"+a.String(), netip.AddrFrom16(a.As16()).StringExpanded())
		}
	}
	// Entries that are not plain addresses, and random strings from the
	// characters addresses are made of.
	values = append(values, "", " ", "garbage", "010.0.0.1", "10.0.0.01", "10.0.0.1:80", "10.0.0", "10.0.0.1.1",
		"10.0.0.256", "10..0.1", ".10.0.0.1", "10.0.0.1.", "[2001:db8::1]", "2001:db8::1%eth0", "%10.0.0.1",
		"1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::", "::1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8::", ":1:2:3:4:5:6:7:8",
		"::10.0.1.1", "::ffff:10.0.1.1", "::ffff:a00:101", "::FFFF:10.0.0.1", "1:2:3:4:5:6:10.0.0.1", "1:2:3:4:5:6:7:10.0.0.1",
		"::12345", "::1:", "2001:db8::1::", "0x10.0.0.1", "10.0.0.1 10.0.0.2", "2001:db8:0:0:0:0:1:1", "2001:0db8::00001",
		"::ffff:010.0.0.1", "::ffff:1.2.3", "ffff::1.2.3.4", "\t10.0.1.1\t")
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "0123456789abcdefABCDEF.:%"
	for range 3000 {
		b := make([]byte, 1+rng.IntN(24))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		values = append(values, string(b))
	}
	for _, v := range values {
		add("GET", "/v2/x/manifests/latest", xff(v+", 127.0.0.1"))
		add("GET", "/v2/x/blobs/"+presentDigest, xff(v+", 127.0.0.1"))
	}
	for _, v := range []string{"10.0.0.1", "10.0.0.1,", "10.0.0.1, 127.0.0.1, 127.0.0.2", ", 10.0.0.1", "10.0.1.1 , 127.0.0.1"} {
		add("GET", "/v2/x/manifests/latest", xff(v))
	}
	heads := compareWithAnswer(t, p, cases, []string{presentDigest})

	// One HEAD per blob URL: answers are kept.
	seen := map[string]bool{}
	for _, h := range heads {
		if seen[h] {
			t.Errorf("the site was asked twice for %s", h)
		}
		seen[h] = true
	}
	if len(heads) == 0 {
		t.Error("no existence check reached the site")
	}
}

func TestWorkerFallsBackWhenTheSiteGivesNoAnswer(t *testing.T) {
	p := workerPlan()
	p.Check.Timeout = plan.Duration(200e6)
	east := map[string]string{"X-Forwarded-For": "10.0.0.1, 127.0.0.1"}
	west := map[string]string{"X-Forwarded-For": "10.0.1.1, 127.0.0.1"}
	p.Sites[0].URL = "https://unreachable.example.com"
	p.Sites[1].URL = "https://hang.example.com"
	blob := "/v2/x/blobs/" + presentDigest
	cases := []nodeCase{{"GET", blob, east}, {"GET", blob, west}, {"GET", blob, east}, {"GET", blob, west}}
	start := time.Now()
	got, heads := runWorker(t, p, cases, []string{presentDigest}, false)
	for _, g := range got {
		if want := "https://a.example.com/v2/pa/x/blobs/" + presentDigest; g.Status != 307 || g.Location != want {
			t.Errorf("got %d %s, want 307 %s", g.Status, g.Location, want)
		}
	}
	// A site that gave no answer is asked again.
	if len(heads) != 4 {
		t.Errorf("heads = %q, want each site twice", heads)
	}
	// Each hanging check ends at the timeout.
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v", took)
	}
}

func TestWorkerSharesConcurrentChecks(t *testing.T) {
	p := workerPlan()
	var cases []nodeCase
	for range 5 {
		cases = append(cases, nodeCase{"GET", "/v2/x/blobs/" + presentDigest, map[string]string{"X-Forwarded-For": "10.0.0.1, 127.0.0.1"}})
	}
	got, heads := runWorker(t, p, cases, []string{presentDigest}, true)
	for _, g := range got {
		if want := "https://east.example.com/m/b/" + presentDigest + "/data"; g.Location != want {
			t.Errorf("got %d %s, want 307 %s", g.Status, g.Location, want)
		}
	}
	if len(heads) != 1 {
		t.Errorf("heads = %q, want one", heads)
	}
}

func TestWorkerShippedTableLikeThePlan(t *testing.T) {
	p := shippedPlan(t)
	var cases []nodeCase
	for _, a := range probeAddrs(p) {
		for _, v := range []string{a.String(), netip.AddrFrom16(a.As16()).String()} {
			cases = append(cases, nodeCase{Method: "GET", Target: "/v2/x/blobs/" + presentDigest, Headers: map[string]string{"CF-Connecting-IP": v}})
		}
	}
	compareWithAnswer(t, p, cases, []string{presentDigest})
}
