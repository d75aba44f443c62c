package proxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/regedge/regedge/compiler/internal/plantest"
	"github.com/regedge/regedge/compiler/plan"
)

var (
	hex64         = strings.Repeat("0123456789abcdef", 4)
	presentDigest = "sha256:" + hex64
	absentDigest  = "sha256:" + strings.Repeat("f", 64)
	sig           = "sha256-" + hex64 + ".sig"
	att           = "sha256-" + hex64 + ".att"
)

const (
	mainBase  = "https://main.example/v2/proj/images/"
	otherBase = "http://other.example:5000/v2/mirror/"
)

// A client address of each label of plantest.Plan.
const (
	clientDefault = "192.0.2.1"
	clientEast    = "10.0.0.5"
	clientOther   = "10.0.1.3"
	clientEast6   = "2001:db8::5"
)

// mirror is a loopback mirror holding presentDigest only. It counts HEADs.
type mirror struct {
	*httptest.Server
	heads atomic.Int32
}

func newMirror(t testing.TB) *mirror {
	t.Helper()
	m := &mirror{}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			m.heads.Add(1)
		}
		if r.URL.Path == "/containers/images/"+presentDigest {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(m.Close)
	return m
}

// xff is an X-Forwarded-For value that makes client the client under
// TrustedHops 1.
func xff(client string) string { return client + ", 130.211.0.1" }

// serve sends one request through h, with the raw target sent verbatim.
func serve(h http.Handler, method, target, xffValue string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	r.RemoteAddr = "198.51.100.7:40000"
	if xffValue != "" {
		r.Header.Set("X-Forwarded-For", xffValue)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestServeHTTPRules(t *testing.T) {
	m := newMirror(t)
	h := New(plantest.Plan(m.URL))
	eastBlob := m.URL + "/containers/images/" + presentDigest
	versionHeaders := map[string]string{
		"Docker-Distribution-Api-Version": "registry/2.0",
		"Content-Type":                    "application/json",
	}
	tests := []struct {
		name, method, target, client string
		status                       int
		location                     string
		headers                      map[string]string
		body                         string
	}{
		{name: "1 POST", method: "POST", target: "/v2/", status: 405},
		{name: "1 DELETE", method: "DELETE", target: "/v2/pause/manifests/latest", status: 405},
		{name: "1 PUT blob", method: "PUT", target: "/v2/pause/blobs/" + presentDigest, client: clientEast, status: 405},
		{name: "2 dot-dot", method: "GET", target: "/v2/../x", status: 404},
		{name: "2 encoded dot", method: "GET", target: "/v2/%2e%2e/x/manifests/latest", status: 404},
		{name: "2 encoded slash", method: "GET", target: "/v2/pause%2fmanifests/latest", status: 404},
		{name: "2 double slash", method: "GET", target: "/v2//pause/manifests/latest", status: 404},
		{name: "2 dot segment", method: "GET", target: "/v2/./pause/manifests/latest", status: 404},
		{name: "2 blob dot-dot", method: "GET", target: "/v2/pause/blobs/" + presentDigest + "/..", client: clientEast, status: 404},
		{name: "3 root", method: "GET", target: "/", status: 307, location: "https://example.com/info"},
		{name: "3 root with query", method: "HEAD", target: "/?x=1", status: 307, location: "https://example.com/info"},
		{name: "4 privacy", method: "GET", target: "/privacy", status: 307, location: "https://example.com/privacy"},
		{name: "5 /v2/", method: "GET", target: "/v2/", status: 200, headers: versionHeaders, body: "{}"},
		{name: "5 /v2", method: "GET", target: "/v2", status: 200, headers: versionHeaders, body: "{}"},
		{name: "6 signature", method: "GET", target: "/v2/pause/manifests/" + sig, status: 307,
			location: mainBase + "pause/manifests/" + sig},
		{name: "6 attestation other", method: "GET", target: "/v2/a/b/manifests/" + att, client: clientOther, status: 307,
			location: otherBase + "a/b/manifests/" + att},
		{name: "7 tag, query dropped", method: "GET", target: "/v2/pause/manifests/3.10?x=1", status: 307,
			location: mainBase + "pause/manifests/3.10"},
		{name: "7 digest other", method: "HEAD", target: "/v2/pause/manifests/" + presentDigest, client: clientOther, status: 307,
			location: otherBase + "pause/manifests/" + presentDigest},
		{name: "8 tags with query", method: "GET", target: "/v2/pause/tags/list?n=10&last=3.9", status: 307,
			location: mainBase + "pause/tags/list?n=10&last=3.9"},
		{name: "9 referrers with query", method: "GET", target: "/v2/pause/referrers/" + presentDigest + "?artifactType=application%2Fspdx",
			client: clientOther, status: 307, location: otherBase + "pause/referrers/" + presentDigest + "?artifactType=application%2Fspdx"},
		{name: "10 blob default label", method: "GET", target: "/v2/pause/blobs/" + presentDigest, client: clientDefault, status: 307,
			location: mainBase + "pause/blobs/" + presentDigest},
		{name: "10 blob present at site", method: "GET", target: "/v2/pause/blobs/" + presentDigest, client: clientEast, status: 307,
			location: eastBlob},
		{name: "10 blob present at site, IPv6 client", method: "HEAD", target: "/v2/pause/blobs/" + presentDigest, client: clientEast6, status: 307,
			location: eastBlob},
		{name: "10 blob present at site, IPv4-mapped client", method: "GET", target: "/v2/pause/blobs/" + presentDigest, client: "::ffff:" + clientEast,
			status: 307, location: eastBlob},
		{name: "10 blob absent at site", method: "GET", target: "/v2/pause/blobs/" + absentDigest, client: clientEast, status: 307,
			location: mainBase + "pause/blobs/" + absentDigest},
		{name: "11 healthz", method: "GET", target: "/healthz", status: 200, headers: map[string]string{"Content-Type": "text/plain"}, body: "ok\n"},
		{name: "12 catalog", method: "GET", target: "/v2/_catalog", status: 404},
		{name: "12 favicon", method: "GET", target: "/favicon.ico", status: 404},
		{name: "12 uppercase name", method: "GET", target: "/v2/Pause/manifests/latest", status: 404},
		{name: "12 name too long", method: "GET", target: "/v2/" + strings.Repeat("a/", 129) + "manifests/latest", status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := tt.client
			if client == "" {
				client = clientDefault
			}
			w := serve(h, tt.method, tt.target, xff(client))
			if w.Code != tt.status {
				t.Errorf("status = %d, want %d", w.Code, tt.status)
			}
			if got := w.Header().Get("Location"); got != tt.location {
				t.Errorf("Location = %q, want %q", got, tt.location)
			}
			for name, want := range tt.headers {
				if got := w.Header().Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if tt.status == 200 && w.Body.String() != tt.body {
				t.Errorf("body = %q, want %q", w.Body.String(), tt.body)
			}
			if tt.status != 200 && w.Header().Get("Docker-Distribution-Api-Version") != "" {
				t.Errorf("a %d answer carries Docker-Distribution-Api-Version", w.Code)
			}
		})
	}
}

// rawExchange sends request to the server at addr over one loopback
// connection and returns everything the server sent back.
func rawExchange(t *testing.T, addr, request string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(conn)
	// A server that refuses a request before reading all of it resets the
	// connection after its answer.
	if err != nil && !(errors.Is(err, syscall.ECONNRESET) && len(out) > 0) {
		t.Fatal(err)
	}
	return string(out)
}

// serverKinds are the servers a Handler answers through.
var serverKinds = []string{"net/http", "fasthttp"}

// startServer serves h on loopback through the server of the given kind,
// fasthttp's set up as `regedge serve` runs it, and returns its address.
func startServer(t *testing.T, kind string, h *Handler) string {
	t.Helper()
	if kind == "net/http" {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.Listener.Addr().String()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(h)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	return ln.Addr().String()
}

func TestServeHTTPHeadHasNoBody(t *testing.T) {
	for _, kind := range serverKinds {
		addr := startServer(t, kind, New(plantest.Plan("http://mirror.invalid")))
		for _, target := range []string{"/v2/", "/v2", "/healthz", "/v2/_catalog", "/"} {
			t.Run(kind+target, func(t *testing.T) { testHeadHasNoBody(t, addr, target) })
		}
	}
}

func testHeadHasNoBody(t *testing.T, addr, target string) {
	raw := rawExchange(t, addr, "HEAD "+target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	head, body, ok := strings.Cut(raw, "\r\n\r\n")
	if !ok {
		t.Fatalf("no end of headers in %q", raw)
	}
	if body != "" {
		t.Errorf("HEAD %s sent a body %q after %q", target, body, head)
	}
	get := rawExchange(t, addr, "GET "+target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if status(head) != status(get) {
		t.Errorf("HEAD status %q, GET status %q", status(head), status(get))
	}
}

func status(raw string) string {
	line, _, _ := strings.Cut(raw, "\r\n")
	return line
}

func TestServeHTTPOverTheWire(t *testing.T) {
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) { testOverTheWire(t, kind) })
	}
}

func testOverTheWire(t *testing.T, kind string) {
	m := newMirror(t)
	url := "http://" + startServer(t, kind, New(plantest.Plan(m.URL)))
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	get := func(t *testing.T, method, path, xffValue string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, url+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if xffValue != "" {
			req.Header.Set("X-Forwarded-For", xffValue)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}

	resp, body := get(t, "GET", "/v2/", "")
	if resp.StatusCode != 200 || body != "{}" ||
		resp.Header.Get("Docker-Distribution-Api-Version") != "registry/2.0" ||
		resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("GET /v2/ = %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, body = get(t, "GET", "/healthz", "")
	if resp.StatusCode != 200 || body != "ok\n" {
		t.Errorf("GET /healthz = %d %q", resp.StatusCode, body)
	}
	resp, _ = get(t, "GET", "/v2/pause/blobs/"+presentDigest, xff(clientEast))
	if want := m.URL + "/containers/images/" + presentDigest; resp.StatusCode != 307 || resp.Header.Get("Location") != want {
		t.Errorf("present blob = %d %q, want 307 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	resp, _ = get(t, "GET", "/v2/pause/blobs/"+absentDigest, xff(clientEast))
	if want := mainBase + "pause/blobs/" + absentDigest; resp.StatusCode != 307 || resp.Header.Get("Location") != want {
		t.Errorf("absent blob = %d %q, want 307 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	if n := m.heads.Load(); n != 2 {
		t.Errorf("mirror saw %d HEADs, want 2", n)
	}
}

func TestClientAddr(t *testing.T) {
	const h = "X-Forwarded-For"
	tests := []struct {
		name   string
		hops   int
		header []string // nil: no header
		want   string   // "" for the zero Addr
	}{
		{"hops 0 takes the last", 0, []string{"1.1.1.1, 2.2.2.2, 3.3.3.3"}, "3.3.3.3"},
		{"hops 1 takes the second-to-last", 1, []string{"1.1.1.1, 2.2.2.2, 3.3.3.3"}, "2.2.2.2"},
		{"hops 2 takes the third-to-last", 2, []string{"1.1.1.1, 2.2.2.2, 3.3.3.3"}, "1.1.1.1"},
		{"hops 0, one entry", 0, []string{"1.1.1.1"}, "1.1.1.1"},
		{"hops 1, one entry", 1, []string{"1.1.1.1"}, ""},
		{"hops 2, two entries", 2, []string{"1.1.1.1, 2.2.2.2"}, ""},
		{"no spaces", 1, []string{"1.1.1.1,2.2.2.2"}, "1.1.1.1"},
		{"extra spaces and tabs", 1, []string{"  1.1.1.1 \t,\t2.2.2.2  "}, "1.1.1.1"},
		{"a space inside the entry", 1, []string{"1.1.1.1 9.9.9.9, 2.2.2.2"}, ""},
		{"IPv6", 1, []string{"2001:db8::5, 2.2.2.2"}, "2001:db8::5"},
		{"IPv6 in brackets", 1, []string{"[2001:db8::5], 2.2.2.2"}, ""},
		{"IPv4 with a port", 1, []string{"1.1.1.1:80, 2.2.2.2"}, ""},
		{"IPv4-mapped", 1, []string{"::ffff:10.0.0.5, 2.2.2.2"}, "::ffff:10.0.0.5"},
		{"zone", 1, []string{"fe80::1%eth0, 2.2.2.2"}, ""},
		{"garbage", 1, []string{"not-an-ip, 2.2.2.2"}, ""},
		{"empty entry", 1, []string{", 2.2.2.2"}, ""},
		{"empty header", 0, []string{""}, ""},
		{"missing header, hops 0", 0, nil, ""},
		{"missing header, hops 1", 1, nil, ""},
		{"only the header's own list counts", 1, []string{"1.1.1.1, 2.2.2.2"}, "1.1.1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = "127.0.0.1:5555"
			if tt.header != nil {
				r.Header[h] = tt.header
			}
			got := clientAddr(plan.ClientIP{Header: h, TrustedHops: tt.hops}, (*netRequest)(r))
			if want := parseOrZero(tt.want); got != want {
				t.Errorf("clientAddr = %v, want %v", got, want)
			}
		})
	}
}

// TestClientAddrHeaderLines: by RFC 9110 several lines of one header are
// one comma-separated list, which is what nginx's $http_x_forwarded_for
// holds. A proxy that appends its own line instead of extending the
// client's must still place the client by counting from the right of all
// lines, not of the first (client-controlled) one.
func TestClientAddrHeaderLines(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	// Only the first line would give 10.1.2.3; only the last, nothing.
	r.Header["X-Forwarded-For"] = []string{"10.1.2.3, 10.0.0.5", "130.211.0.1"}
	got := clientAddr(plan.ClientIP{Header: "X-Forwarded-For", TrustedHops: 1}, (*netRequest)(r))
	if want := netip.MustParseAddr("10.0.0.5"); got != want {
		t.Errorf("clientAddr = %v, want %v (second-to-last of all lines)", got, want)
	}
}

func TestClientAddrPeer(t *testing.T) {
	tests := []struct{ remote, want string }{
		{"127.0.0.1:5555", "127.0.0.1"},
		{"[::1]:80", "::1"},
		{"[::ffff:10.0.0.5]:80", "::ffff:10.0.0.5"},
		{"10.0.0.5", ""}, // no port
		{"", ""},
		{"garbage:80", ""},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		// A header is ignored when the policy takes the peer.
		r.Header.Set("X-Forwarded-For", "10.1.2.3, 10.1.2.4")
		if got, want := clientAddr(plan.ClientIP{}, (*netRequest)(r)), parseOrZero(tt.want); got != want {
			t.Errorf("clientAddr(RemoteAddr %q) = %v, want %v", tt.remote, got, want)
		}
	}
}

func parseOrZero(s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	return netip.MustParseAddr(s)
}

// TestServeHTTPUnknownClientGetsDefault: any client the header does not
// name is classified with the default label.
func TestServeHTTPUnknownClientGetsDefault(t *testing.T) {
	m := newMirror(t)
	h := New(plantest.Plan(m.URL))
	want := mainBase + "pause/blobs/" + presentDigest
	for _, v := range []string{"", clientEast, "garbage, 130.211.0.1", "fe80::1%eth0, 130.211.0.1", clientEast + " x, 130.211.0.1"} {
		w := serve(h, "GET", "/v2/pause/blobs/"+presentDigest, v)
		if w.Code != 307 || w.Header().Get("Location") != want {
			t.Errorf("X-Forwarded-For %q: %d %q, want 307 %q", v, w.Code, w.Header().Get("Location"), want)
		}
	}
	if n := m.heads.Load(); n != 0 {
		t.Errorf("mirror saw %d HEADs for default-label clients, want 0", n)
	}
}

func TestServeHTTPPeerMode(t *testing.T) {
	m := newMirror(t)
	p := plantest.Plan(m.URL)
	p.ClientIP = plan.ClientIP{}
	p.V4 = append(p.V4, plan.Interval{First: netip.MustParseAddr("127.0.0.0"), Last: netip.MustParseAddr("127.255.255.255"), Label: plantest.LabelOther})
	h := New(p)
	r := httptest.NewRequest("GET", "/v2/pause/manifests/latest", nil)
	r.RemoteAddr = "127.0.0.1:5555"
	r.Header.Set("X-Forwarded-For", clientEast+", 130.211.0.1")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if want := otherBase + "pause/manifests/latest"; w.Header().Get("Location") != want {
		t.Errorf("Location = %q, want %q (classified by the TCP peer)", w.Header().Get("Location"), want)
	}
}

func TestServeHTTPMirrorFaults(t *testing.T) {
	fallback := mainBase + "pause/blobs/" + presentDigest

	t.Run("refused", func(t *testing.T) {
		s := httptest.NewServer(http.NotFoundHandler())
		s.Close()
		h := New(plantest.Plan(s.URL))
		w := serve(h, "GET", "/v2/pause/blobs/"+presentDigest, xff(clientEast))
		if w.Code != 307 || w.Header().Get("Location") != fallback {
			t.Errorf("%d %q, want 307 %q", w.Code, w.Header().Get("Location"), fallback)
		}
	})

	t.Run("error status", func(t *testing.T) {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
		t.Cleanup(s.Close)
		h := New(plantest.Plan(s.URL))
		w := serve(h, "GET", "/v2/pause/blobs/"+presentDigest, xff(clientEast))
		if w.Code != 307 || w.Header().Get("Location") != fallback {
			t.Errorf("%d %q, want 307 %q", w.Code, w.Header().Get("Location"), fallback)
		}
	})

	t.Run("hanging", func(t *testing.T) {
		release := make(chan struct{})
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		t.Cleanup(s.Close)
		t.Cleanup(func() { close(release) })
		p := plantest.Plan(s.URL)
		p.Check.Timeout = plan.Duration(200 * time.Millisecond)
		h := New(p)
		start := time.Now()
		w := serve(h, "GET", "/v2/pause/blobs/"+presentDigest, xff(clientEast))
		if took, limit := time.Since(start), time.Duration(p.Check.Timeout)+time.Second; took > limit {
			t.Errorf("answer took %v, want at most %v", took, limit)
		}
		if w.Code != 307 || w.Header().Get("Location") != fallback {
			t.Errorf("%d %q, want 307 %q", w.Code, w.Header().Get("Location"), fallback)
		}
	})

	t.Run("client gone", func(t *testing.T) {
		m := newMirror(t)
		h := New(plantest.Plan(m.URL))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r := httptest.NewRequestWithContext(ctx, "GET", "/v2/pause/blobs/"+presentDigest, nil)
		r.Header.Set("X-Forwarded-For", xff(clientEast))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Errorf("status %d for a cancelled request, want no 5xx", w.Code)
		}
	})
}

func TestSwapUsesNewPlan(t *testing.T) {
	m := newMirror(t)
	h := New(plantest.Plan(m.URL))
	target := "/v2/pause/manifests/latest"
	if got := serve(h, "GET", target, xff(clientEast)).Header().Get("Location"); got != mainBase+"pause/manifests/latest" {
		t.Fatalf("before Swap: Location %q", got)
	}
	p := plantest.Plan(m.URL)
	p.Labels[plantest.LabelEast].Actions = plantest.Actions("east", "other", "east")
	p.Registry.InfoURL = "https://example.com/new-info"
	h.Swap(p)
	if h.Plan() != p {
		t.Errorf("Plan() is not the plan given to Swap")
	}
	if got := serve(h, "GET", target, xff(clientEast)).Header().Get("Location"); got != otherBase+"pause/manifests/latest" {
		t.Errorf("after Swap: Location %q, want %q", got, otherBase+"pause/manifests/latest")
	}
	if got := serve(h, "GET", "/", "").Header().Get("Location"); got != "https://example.com/new-info" {
		t.Errorf("after Swap: / Location %q", got)
	}
}

func TestSwapKeepsExistenceCache(t *testing.T) {
	m := newMirror(t)
	h := New(plantest.Plan(m.URL))
	blob := "/v2/pause/blobs/" + presentDigest
	serve(h, "GET", blob, xff(clientEast))
	if n := m.heads.Load(); n != 1 {
		t.Fatalf("mirror saw %d HEADs, want 1", n)
	}

	// Same check settings, other changes: the cache carries over.
	p := plantest.Plan(m.URL)
	p.Registry.InfoURL = "https://example.com/new-info"
	h.Swap(p)
	serve(h, "GET", blob, xff(clientEast))
	if n := m.heads.Load(); n != 1 {
		t.Errorf("after a Swap with the same check settings the mirror saw %d HEADs, want 1 (cache kept)", n)
	}

	// Changed check settings: a new cache, so the mirror is asked again.
	p = plantest.Plan(m.URL)
	p.Check.PositiveTTL = plan.Duration(2 * time.Hour)
	h.Swap(p)
	w := serve(h, "GET", blob, xff(clientEast))
	if n := m.heads.Load(); n != 2 {
		t.Errorf("after a Swap with new check settings the mirror saw %d HEADs, want 2 (cache replaced)", n)
	}
	if want := m.URL + "/containers/images/" + presentDigest; w.Header().Get("Location") != want {
		t.Errorf("Location %q, want %q", w.Header().Get("Location"), want)
	}

	// A plan without a check never asks.
	p = plantest.Plan(m.URL)
	p.Check = nil
	h.Swap(p)
	w = serve(h, "GET", "/v2/pause/blobs/"+absentDigest, xff(clientEast))
	if want := m.URL + "/containers/images/" + absentDigest; w.Header().Get("Location") != want {
		t.Errorf("unchecked: Location %q, want %q", w.Header().Get("Location"), want)
	}
	if n := m.heads.Load(); n != 2 {
		t.Errorf("unchecked plan: mirror saw %d HEADs, want 2", n)
	}
}

// TestConcurrentServeAndSwap is for go test -race: requests and Swaps at
// once, each request answered wholly by one plan.
func TestConcurrentServeAndSwap(t *testing.T) {
	m := newMirror(t)
	metrics := NewMetrics()
	a := plantest.Plan(m.URL)
	b := plantest.Plan(m.URL)
	b.Labels[plantest.LabelEast].Actions = plantest.Actions("east", "other", "east")
	b.Check.NegativeTTL = plan.Duration(2 * time.Minute)
	// Every Swap between a and b replaces the cache, so the mirror is asked
	// often; a generous timeout keeps a loaded (-race) machine from
	// turning a present blob into a fallback.
	a.Check.Timeout = plan.Duration(10 * time.Second)
	b.Check.Timeout = a.Check.Timeout
	h := New(a, WithMetrics(metrics))

	wantManifest := map[string]bool{mainBase + "pause/manifests/latest": true, otherBase + "pause/manifests/latest": true}
	wantBlob := map[string]bool{
		m.URL + "/containers/images/" + presentDigest: true,
		mainBase + "pause/blobs/" + absentDigest:      true,
		otherBase + "pause/blobs/" + absentDigest:     true,
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i%2 == 0 {
				h.Swap(b)
			} else {
				h.Swap(a)
			}
		}
	})
	var served sync.WaitGroup
	for g := range 8 {
		served.Go(func() {
			for i := range 200 {
				digest := presentDigest
				if (g+i)%2 == 0 {
					digest = absentDigest
				}
				w := serve(h, "GET", "/v2/pause/blobs/"+digest, xff(clientEast))
				if !wantBlob[w.Header().Get("Location")] {
					t.Errorf("blob Location %q", w.Header().Get("Location"))
				}
				w = serve(h, "GET", "/v2/pause/manifests/latest", xff(clientEast))
				if !wantManifest[w.Header().Get("Location")] {
					t.Errorf("manifest Location %q", w.Header().Get("Location"))
				}
			}
		})
	}
	served.Wait()
	close(stop)
	wg.Wait()
	scrape(t, metrics) // the registry is readable after it all
}

// TestSwapMidRequest: a request that started under one plan is answered
// wholly by it, though a Swap happens while it waits for the mirror.
func TestSwapMidRequest(t *testing.T) {
	arrived := make(chan struct{})
	release := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(s.Close)
	p := plantest.Plan(s.URL)
	p.Check.Timeout = plan.Duration(5 * time.Second)
	h := New(p)
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- serve(h, "GET", "/v2/pause/blobs/"+presentDigest, xff(clientEast)) }()
	<-arrived
	q := plantest.Plan(s.URL)
	q.Check = p.Check
	q.Labels[plantest.LabelEast].Actions = plantest.Actions("east", "other", "east")
	h.Swap(q)
	close(release)
	w := <-done
	if want := mainBase + "pause/blobs/" + presentDigest; w.Header().Get("Location") != want {
		t.Errorf("Location %q, want the old plan's fallback %q", w.Header().Get("Location"), want)
	}
}

func TestWithLogger(t *testing.T) {
	// Logging must not change answers; a logger that writes exercises the
	// decision line, including for an unknown client.
	var buf strings.Builder
	var mu sync.Mutex
	h := New(plantest.Plan("http://mirror.invalid"), WithLogger(newTextLogger(&lockedWriter{w: &buf, mu: &mu})))
	w := serve(h, "GET", "/v2/pause/manifests/latest", "garbage")
	if w.Code != 307 {
		t.Errorf("status %d, want 307", w.Code)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(buf.String(), "msg=decision") || !strings.Contains(buf.String(), "label=default") {
		t.Errorf("log %q lacks the decision line", buf.String())
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// readLines splits a scrape into lines, for the tests of metrics.
func readLines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func newTextLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestServeHTTPAbsoluteForm: a request line with an absolute URL is
// answered by its path and query, still as sent.
func TestServeHTTPAbsoluteForm(t *testing.T) {
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			testAbsoluteForm(t, startServer(t, kind, New(plantest.Plan("http://mirror.invalid"))))
		})
	}
}

func testAbsoluteForm(t *testing.T, addr string) {
	tests := []struct{ target, status, location string }{
		{"http://x/v2/%2e%2e/x/manifests/latest", "HTTP/1.1 404 Not Found", ""},
		{"http://x/v2/pause%2fmanifests/latest", "HTTP/1.1 404 Not Found", ""},
		{"http://x/v2/pause/manifests/latest", "HTTP/1.1 307 Temporary Redirect", mainBase + "pause/manifests/latest"},
		{"http://x/v2/pause/tags/list?n=1", "HTTP/1.1 307 Temporary Redirect", mainBase + "pause/tags/list?n=1"},
		{"http://x", "HTTP/1.1 307 Temporary Redirect", "https://example.com/info"},
	}
	for _, tt := range tests {
		raw := rawExchange(t, addr, "GET "+tt.target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if got := status(raw); got != tt.status {
			t.Errorf("GET %s: %q, want %q", tt.target, got, tt.status)
		}
		if tt.location != "" && !strings.Contains(raw, "\r\nLocation: "+tt.location+"\r\n") {
			t.Errorf("GET %s: no Location %s in\n%s", tt.target, tt.location, raw)
		}
	}
}

// TestClientOverTheWire: each server reads the client from every line of
// X-Forwarded-For, or from the TCP peer when the policy says so.
func TestClientOverTheWire(t *testing.T) {
	blob := "/v2/pause/blobs/" + absentDigest
	peer := plantest.Plan("http://mirror.invalid")
	peer.ClientIP = plan.ClientIP{}
	peer.V4 = []plan.Interval{{First: netip.MustParseAddr("127.0.0.0"), Last: netip.MustParseAddr("127.255.255.255"), Label: plantest.LabelOther}}
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			addr := startServer(t, kind, New(plantest.Plan("http://mirror.invalid")))
			raw := rawExchange(t, addr, "GET "+blob+" HTTP/1.1\r\nHost: x\r\n"+
				"X-Forwarded-For: 10.0.0.5, 10.0.1.3\r\nX-Forwarded-For: 130.211.0.1\r\nConnection: close\r\n\r\n")
			if want := "\r\nLocation: " + otherBase + "pause/blobs/" + absentDigest + "\r\n"; !strings.Contains(raw, want) {
				// Only the first line would give label east, only the
				// last the default label.
				t.Errorf("two X-Forwarded-For lines: want the second-to-last entry of both (label other), got\n%s", raw)
			}
			addr = startServer(t, kind, New(peer))
			raw = rawExchange(t, addr, "GET "+blob+" HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.5, 1.1.1.1\r\nConnection: close\r\n\r\n")
			if want := "\r\nLocation: " + otherBase + "pause/blobs/" + absentDigest + "\r\n"; !strings.Contains(raw, want) {
				t.Errorf("peer 127.0.0.1: want label other, got\n%s", raw)
			}
		})
	}
}
