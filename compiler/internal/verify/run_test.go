package verify

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regedge/regedge/compiler/internal/plantest"
	"github.com/regedge/regedge/compiler/proxy"
)

// newMirror starts a loopback mirror that holds blob under any path.
func newMirror(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/containers/images/"+blob) {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(s.Close)
	return s
}

func startTarget(t *testing.T, h http.Handler) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}

func TestRunAgainstProxy(t *testing.T) {
	mirror := newMirror(t)
	p := plantest.Plan(mirror.URL)
	endpoint := startTarget(t, proxy.New(p))

	var mu sync.Mutex
	calls, lastDone, lastTotal := 0, 0, 0
	report := Run(context.Background(), Config{
		Plan: p, Endpoint: endpoint + "/", Blob: blob, Concurrency: 4,
		Progress: func(done, total int) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			lastDone, lastTotal = done, total
		},
	})
	for _, m := range report.Mismatches {
		t.Errorf("mismatch: %s %s from %v (%s): want %+v, got %+v", m.Probe.Method, m.Probe.Target, m.Probe.Client, m.Probe.Kind, m.Want, m.Got)
	}
	want := len(Probes(p, blob, 0))
	if report.Probes != want {
		t.Errorf("Probes = %d, want %d", report.Probes, want)
	}
	if report.Addresses != len(planAddresses) {
		t.Errorf("Addresses = %d, want %d", report.Addresses, len(planAddresses))
	}
	if calls != want || lastDone != want || lastTotal != want {
		t.Errorf("Progress called %d times, last with (%d, %d); want %d calls ending (%d, %d)", calls, lastDone, lastTotal, want, want, want)
	}
}

func TestRunAgainstProxyPeerMode(t *testing.T) {
	mirror := newMirror(t)
	p := plantest.Plan(mirror.URL)
	p.ClientIP.Header = ""
	report := Run(context.Background(), Config{Plan: p, Endpoint: startTarget(t, proxy.New(p)), Blob: blob})
	if len(report.Mismatches) != 0 {
		t.Errorf("%d mismatches, want 0: %+v", len(report.Mismatches), report.Mismatches)
	}
	if report.Addresses != 1 {
		t.Errorf("Addresses = %d, want 1 (the loopback peer)", report.Addresses)
	}
}

func TestRunAgainstShippedPolicy(t *testing.T) {
	mirror := newMirror(t)
	upstream := httptest.NewServer(http.NotFoundHandler()) // never asked: redirects are not followed
	t.Cleanup(upstream.Close)
	p := loopbackPlan(t, mirror.URL, upstream.URL)
	report := Run(context.Background(), Config{
		Plan: p, Endpoint: startTarget(t, proxy.New(p)), Blob: blob, Sample: 150, Concurrency: 8,
	})
	if report.Probes == 0 {
		t.Fatal("no probes")
	}
	for i, m := range report.Mismatches {
		if i == 10 {
			t.Errorf("... %d mismatches in all", len(report.Mismatches))
			break
		}
		t.Errorf("mismatch: %s %s from %v (%s): want %+v, got %+v", m.Probe.Method, m.Probe.Target, m.Probe.Client, m.Probe.Kind, m.Want, m.Got)
	}
}

// TestRunFindsWrongAnswers: a target that differs from the policy in two
// places is reported in exactly those two places.
func TestRunFindsWrongAnswers(t *testing.T) {
	mirror := newMirror(t)
	p := plantest.Plan(mirror.URL)
	const (
		wrongClient = "10.0.0.127"
		wrongTarget = "/v2/regedge/verify/manifests/v1.0"
		hostile     = "/v2/Regedge/manifests/latest"
	)
	good := proxy.New(p)
	bad := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client, _, _ := strings.Cut(r.Header.Get("X-Forwarded-For"), ",")
		switch {
		case client == wrongClient && r.RequestURI == wrongTarget:
			w.Header().Set("Location", "https://evil.example/x")
			w.WriteHeader(http.StatusTemporaryRedirect)
		case r.RequestURI == hostile:
			w.WriteHeader(http.StatusOK)
		default:
			good.ServeHTTP(w, r)
		}
	})
	report := Run(context.Background(), Config{Plan: p, Endpoint: startTarget(t, bad), Blob: blob, Concurrency: 3})

	wrong404 := Answer{Status: 404}
	got200 := Answer{Status: 200}
	want := []Mismatch{
		// The hostile path is a fixed probe: one per label, from the first
		// address of each (9.255.255.255, 10.0.0.0, 10.0.1.0).
		{Probe: Probe{Method: "GET", Target: hostile, Client: netip.MustParseAddr("9.255.255.255"), Kind: "hostile path"}, Want: wrong404, Got: got200},
		{Probe: Probe{Method: "GET", Target: hostile, Client: netip.MustParseAddr("10.0.0.0"), Kind: "hostile path"}, Want: wrong404, Got: got200},
		{Probe: Probe{Method: "GET", Target: wrongTarget, Client: netip.MustParseAddr(wrongClient), Kind: "manifest by tag"},
			Want: Answer{Status: 307, Location: "https://main.example/v2/proj/images/regedge/verify/manifests/v1.0"},
			Got:  Answer{Status: 307, Location: "https://evil.example/x"}},
		{Probe: Probe{Method: "GET", Target: hostile, Client: netip.MustParseAddr("10.0.1.0"), Kind: "hostile path"}, Want: wrong404, Got: got200},
	}
	if len(report.Mismatches) != len(want) {
		t.Fatalf("%d mismatches, want %d:\n%+v", len(report.Mismatches), len(want), report.Mismatches)
	}
	for i := range want {
		if g, w := report.Mismatches[i], want[i]; g.Probe != w.Probe || !sameAnswer(g.Want, w.Want) || !sameAnswer(g.Got, w.Got) {
			t.Errorf("mismatch %d =\n%+v\nwant\n%+v", i, g, w)
		}
	}
}

func sameAnswer(a, b Answer) bool {
	return a.Status == b.Status && a.Location == b.Location && a.Err == b.Err && len(a.Headers) == len(b.Headers)
}

// TestRunComparesRequiredHeaders: /v2/ must carry the API version header.
func TestRunComparesRequiredHeaders(t *testing.T) {
	mirror := newMirror(t)
	p := plantest.Plan(mirror.URL)
	p.V4, p.V6 = nil, nil // one label: fixed probes come from one address
	good := proxy.New(p)
	bad := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.RequestURI == "/v2/" {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte("{}"))
			return
		}
		good.ServeHTTP(w, r)
	})
	report := Run(context.Background(), Config{Plan: p, Endpoint: startTarget(t, bad), Blob: blob})
	if len(report.Mismatches) != 1 {
		t.Fatalf("%d mismatches, want 1: %+v", len(report.Mismatches), report.Mismatches)
	}
	m := report.Mismatches[0]
	if m.Probe.Target != "/v2/" || m.Want.Headers["Docker-Distribution-Api-Version"] != "registry/2.0" ||
		m.Got.Headers["Docker-Distribution-Api-Version"] != "" || m.Got.Headers["Content-Type"] != "application/json" {
		t.Errorf("mismatch = %+v", m)
	}
}

func TestRunUnreachableTarget(t *testing.T) {
	mirror := newMirror(t)
	p := plantest.Plan(mirror.URL)
	p.V4, p.V6 = nil, nil
	s := httptest.NewServer(http.NotFoundHandler())
	endpoint := s.URL
	s.Close()
	report := Run(context.Background(), Config{Plan: p, Endpoint: endpoint, Blob: blob})
	if len(report.Mismatches) != report.Probes || report.Probes == 0 {
		t.Fatalf("%d mismatches of %d probes, want every probe", len(report.Mismatches), report.Probes)
	}
	for _, m := range report.Mismatches {
		if m.Got.Err == "" {
			t.Errorf("%s %s: Got %+v, want an error", m.Probe.Method, m.Probe.Target, m.Got)
		}
	}
	bad := Run(context.Background(), Config{Plan: p, Endpoint: "ftp://127.0.0.1", Blob: blob})
	if len(bad.Mismatches) != bad.Probes || bad.Mismatches[0].Got.Err == "" {
		t.Errorf("a non-HTTP endpoint: %d mismatches of %d probes", len(bad.Mismatches), bad.Probes)
	}
}

func TestWriteText(t *testing.T) {
	p := plantest.Plan("")
	client := netip.MustParseAddr("10.0.0.5")
	report := Report{
		Probes:    10,
		Addresses: 2,
		Mismatches: []Mismatch{
			{
				Probe: Probe{Method: "GET", Target: "/v2/x/manifests/v1", Client: client, Kind: "manifest by tag"},
				Want:  Answer{Status: 307, Location: "https://a.example/v2/x/manifests/v1"},
				Got:   Answer{Status: 307, Location: "https://b.example/v2/x/manifests/v1"},
			},
			{
				Probe: Probe{Method: "HEAD", Target: "/v2/", Client: client, Kind: "version"},
				Want: Answer{Status: 200, Headers: map[string]string{
					"Docker-Distribution-Api-Version": "registry/2.0",
					"Content-Type":                    "application/json",
				}},
				Got: Answer{Err: "connection refused"},
			},
			{
				Probe: Probe{Method: "GET", Target: "/v2/_catalog", Client: client, Kind: "catalog"},
				Want:  Answer{Status: 404},
				Got:   Answer{Status: 200},
			},
		},
		Corpus: 600,
		CorpusMismatches: []CaseMismatch{
			{Case: "query byte 0x80", Request: `"GET /v2/x/tags/list?a=\x80 HTTP/1.1\r\n\r\n"`, Want: Answer{Status: 404}, Refusable: true,
				Got: Answer{Status: 307, Location: "https://a.example/v2/x/tags/list?a=\x80"}},
			{Case: "path byte 0x0a", Request: `"GET /v2/\n HTTP/1.1\r\n\r\n"`, Want: Answer{Status: 404}, Got: Answer{Status: statusHTTP09}},
		},
	}
	oracle := []OracleMismatch{{Addr: netip.MustParseAddr("10.0.0.7"), Plan: "east", Oracle: "default", Prefix: "10.0.0.0/24"}}
	var b strings.Builder
	WriteText(&b, p, report, oracle)
	const want = `MISMATCH GET /v2/x/manifests/v1 (manifest by tag)
  X-Forwarded-For: 10.0.0.5, 127.0.0.1
  want 307 https://a.example/v2/x/manifests/v1
  got  307 https://b.example/v2/x/manifests/v1
MISMATCH HEAD /v2/ (version)
  X-Forwarded-For: 10.0.0.5, 127.0.0.1
  want 200 [Content-Type: application/json] [Docker-Distribution-Api-Version: registry/2.0]
  got  error: connection refused
MISMATCH GET /v2/_catalog (catalog)
  X-Forwarded-For: 10.0.0.5, 127.0.0.1
  want 404
  got  200
CORPUS MISMATCH query byte 0x80
  "GET /v2/x/tags/list?a=\x80 HTTP/1.1\r\n\r\n"
  want 404 or any 4xx
  got  307 "https://a.example/v2/x/tags/list?a=\x80"
CORPUS MISMATCH path byte 0x0a
  "GET /v2/\n HTTP/1.1\r\n\r\n"
  want 404
  got  an HTTP/0.9 answer (no status line)
TABLE MISMATCH 10.0.0.7: plan says east, cidranger over the feeds says default (prefix 10.0.0.0/24)
verify: 10 probes from 2 addresses, 3 mismatches; corpus: 600 requests, 2 mismatches; table check: 1 mismatches
`
	if b.String() != want {
		t.Errorf("WriteText =\n%s\nwant\n%s", b.String(), want)
	}

	// Peer mode: no header line; an empty report is the summary alone.
	p.ClientIP.Header = ""
	b.Reset()
	WriteText(&b, p, Report{Probes: 1, Addresses: 1, Mismatches: report.Mismatches[2:]}, nil)
	const wantPeer = `MISMATCH GET /v2/_catalog (catalog)
  want 404
  got  200
verify: 1 probes from 1 addresses, 1 mismatches; corpus: 0 requests, 0 mismatches; table check: 0 mismatches
`
	if b.String() != wantPeer {
		t.Errorf("WriteText in peer mode =\n%s\nwant\n%s", b.String(), wantPeer)
	}
}

// i10-ops: what verify reads of an answer is bounded, and a run stops
// early at its time limit or after requests in a row without an answer.

// hostileTarget starts a loopback server that takes over each request's
// connection, its head read, and hands it to answer. It returns the base
// URL.
func hostileTarget(t *testing.T, answer func(net.Conn)) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		defer conn.Close()
		answer(conn)
	}))
	t.Cleanup(s.Close)
	return s.URL
}

// longBodyTarget starts a target that answers 404 with a body longer than
// a loopback connection's buffers hold, and reports, once the client has
// left, whether it could send all of it.
func longBodyTarget(t *testing.T) (string, func() bool) {
	var all atomic.Bool
	endpoint := hostileTarget(t, func(conn net.Conn) {
		io.WriteString(conn, "HTTP/1.1 404 Not Found\r\nContent-Length: 1073741824\r\n\r\n")
		all.Store(flood(conn, "a", floodSize))
	})
	return endpoint, func() bool {
		time.Sleep(100 * time.Millisecond)
		return all.Load()
	}
}

// flood writes s to conn until total bytes are written or a write fails,
// and reports whether it wrote them all.
func flood(conn net.Conn, s string, total int) bool {
	chunk := strings.Repeat(s, 64<<10/len(s))
	for written := 0; written < total; written += len(chunk) {
		if _, err := io.WriteString(conn, chunk); err != nil {
			return false
		}
	}
	return true
}

// floodSize is more than a loopback connection's buffers hold, so that a
// flood ends early only if the reader stops reading.
const floodSize = 32 << 20

// TestCorpusReadsBoundedHeaders: a corpus request whose answer's headers,
// or interim answers, go on and on gets no answer once they pass the
// limit, rather than being read into memory until the case's timeout.
func TestCorpusReadsBoundedHeaders(t *testing.T) {
	for name, head := range map[string]string{
		"a long header line": "HTTP/1.1 200 OK\r\nX-Long: ",
		"many header lines":  "HTTP/1.1 200 OK\r\n",
		"interim answers":    "",
	} {
		t.Run(name, func(t *testing.T) {
			filler := map[string]string{"a long header line": "a", "many header lines": "X-A: a\r\n", "interim answers": "HTTP/1.1 100 Continue\r\n\r\n"}[name]
			endpoint := hostileTarget(t, func(conn net.Conn) {
				io.WriteString(conn, head)
				flood(conn, filler, floodSize)
				// Then wait, as a target that never finishes would.
				io.Copy(io.Discard, conn)
			})
			got := sendRaw(context.Background(), endpoint, Case{Method: "GET", Target: "/", Headers: []string{"Host: x"}}, Answer{})
			if !strings.Contains(got.Err, "go on past 65536 bytes") {
				t.Errorf("answer %+v, want an error saying the headers go on past the limit", got)
			}
		})
	}
}

// TestCorpusLeavesBodiesUnread: a corpus request's answer is its status
// and headers; its body, however long, is not read.
func TestCorpusLeavesBodiesUnread(t *testing.T) {
	endpoint, sentAll := longBodyTarget(t)
	got := sendRaw(context.Background(), endpoint, Case{Method: "GET", Target: "/", Headers: []string{"Host: x"}}, Answer{})
	if got.Status != http.StatusNotFound || got.Err != "" {
		t.Errorf("answer %+v, want 404", got)
	}
	if sentAll() {
		t.Errorf("verify read all %d bytes of the body", floodSize)
	}
}

// TestCorpusReadsEarlyAnswers: a target that answers before it has read
// a request's body, and then closes the connection or stops reading, has
// its answer read, not the error of writing the rest.
func TestCorpusReadsEarlyAnswers(t *testing.T) {
	const early = "HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
	c := Case{Method: "GET", Target: "/", Headers: []string{"Host: x"}, Body: strings.Repeat("a", 16<<20)}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	for name, after := range map[string]func(net.Conn){
		"then closes":        func(net.Conn) {},
		"then stops reading": func(net.Conn) { <-stop },
	} {
		endpoint := hostileTarget(t, func(conn net.Conn) {
			io.WriteString(conn, early)
			after(conn)
		})
		if got := sendRaw(context.Background(), endpoint, c, Answer{}); got.Status != http.StatusRequestEntityTooLarge || got.Err != "" {
			t.Errorf("%s: answer %+v, want 413", name, got)
		}
	}
}

// TestProbeReadsBoundedAnswers: a probe's answer is read up to the limits
// on its headers and its body.
func TestProbeReadsBoundedAnswers(t *testing.T) {
	p := plantest.Plan("http://mirror.invalid")
	client := probeClient(1)
	cfg := Config{Plan: p}

	cfg.Endpoint = hostileTarget(t, func(conn net.Conn) {
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nX-Long: ")
		flood(conn, "a", 1<<20)
		io.WriteString(conn, "\r\nContent-Length: 0\r\n\r\n")
	})
	got := send(context.Background(), client, cfg, Probe{Method: "GET", Target: "/"}, Answer{})
	if !strings.Contains(got.Err, "exceeded 65536 bytes") {
		t.Errorf("a 1 MiB header: answer %+v, want an error naming the limit", got)
	}

	endpoint, sentAll := longBodyTarget(t)
	cfg.Endpoint = endpoint
	got = send(context.Background(), client, cfg, Probe{Method: "GET", Target: "/"}, Answer{})
	if got.Status != http.StatusNotFound || got.Err != "" {
		t.Errorf("a long body: answer %+v, want 404", got)
	}
	if sentAll() {
		t.Errorf("verify read all %d bytes of the body", floodSize)
	}
}

// TestHealthAndMirrorReadBoundedHeaders: verify's GET /healthz and its
// own HEAD to a mirror read no more of the headers than the probes do.
func TestHealthAndMirrorReadBoundedHeaders(t *testing.T) {
	endpoint := hostileTarget(t, func(conn net.Conn) {
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nX-Long: ")
		flood(conn, "a", 1<<20)
		io.WriteString(conn, "\r\nContent-Length: 2\r\n\r\nok")
	})
	p := plantest.Plan("http://mirror.invalid")
	if err := CheckHealth(context.Background(), p, endpoint); err == nil || !strings.Contains(err.Error(), "exceeded 65536 bytes") {
		t.Errorf("CheckHealth: %v, want an error naming the limit", err)
	}
	if newMirrorState().exists(context.Background(), endpoint+"/blob") {
		t.Error("a mirror whose answer's headers pass the limit holds the blob, says verify")
	}
}

// TestRunStopsAfterErrors: against a target that closes every connection
// unanswered, a run stops once MaxErrors requests in a row got no answer,
// says so, and sends no corpus.
func TestRunStopsAfterErrors(t *testing.T) {
	mirror := newMirror(t)
	p := plantest.Plan(mirror.URL)
	endpoint := hostileTarget(t, func(net.Conn) {})
	report := Run(context.Background(), Config{Plan: p, Endpoint: endpoint, Blob: blob, Concurrency: 4, MaxErrors: 5})
	if !strings.HasPrefix(report.Stopped, "5 requests in a row got no answer; the last, ") {
		t.Errorf("Stopped = %q, want it to say 5 requests in a row got no answer", report.Stopped)
	}
	if total := len(Probes(p, blob, 0)); report.Probes < 5 || report.Probes >= total {
		t.Errorf("%d probes answered of %d, want 5 or a few more", report.Probes, total)
	}
	if report.Corpus != 0 {
		t.Errorf("%d corpus requests sent after the stop", report.Corpus)
	}
}

// TestRunStopsAtTimeout: against a target that never answers, a run ends
// when its time is up and says so.
func TestRunStopsAtTimeout(t *testing.T) {
	mirror := newMirror(t)
	p := plantest.Plan(mirror.URL)
	endpoint := hostileTarget(t, func(conn net.Conn) { io.Copy(io.Discard, conn) })
	report := Run(context.Background(), Config{Plan: p, Endpoint: endpoint, Blob: blob, Concurrency: 4, Timeout: 500 * time.Millisecond})
	if report.Stopped != "it ran for its whole time limit, 500ms" {
		t.Errorf("Stopped = %q, want the time limit", report.Stopped)
	}
	if report.Probes != 0 || len(report.Mismatches) != 0 {
		t.Errorf("%d probes, %d mismatches: the requests the stop cut short count as neither", report.Probes, len(report.Mismatches))
	}
}

// TestErrorRun: only requests in a row without an answer count; one
// answer starts the count again.
func TestErrorRun(t *testing.T) {
	var cause error
	e := &errorRun{max: 3, cancel: func(err error) { cause = err }}
	for _, err := range []string{"x", "x", "", "x", "x"} {
		e.answered("GET /", Answer{Err: err})
	}
	if cause != nil {
		t.Fatalf("stopped after %v", cause)
	}
	e.answered("GET /last", Answer{Err: "refused"})
	if want := "3 requests in a row got no answer; the last, GET /last, got: refused"; cause == nil || cause.Error() != want {
		t.Errorf("cause = %v, want %q", cause, want)
	}
	(&errorRun{}).answered("GET /", Answer{Err: "x"})
}
