package exists

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regedge/regedge/compiler/plan"
)

// testConfig is a check with a timeout generous enough for a loaded
// machine; the test of a hanging mirror shortens it.
var testConfig = plan.Check{
	PositiveTTL: plan.Duration(time.Hour),
	NegativeTTL: plan.Duration(time.Minute),
	Timeout:     plan.Duration(5 * time.Second),
	CacheSize:   100,
	DownAfter:   3,
	DownFor:     plan.Duration(30 * time.Second),
	DownForMax:  plan.Duration(5 * time.Minute),
}

// mirror is a loopback mirror that answers every request with status and
// counts the requests it sees, by method and path.
type mirror struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string
}

func newMirror(t *testing.T, h http.HandlerFunc) *mirror {
	t.Helper()
	m := &mirror{}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.requests = append(m.requests, r.Method+" "+r.URL.Path)
		m.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(m.Close)
	return m
}

func statusMirror(t *testing.T, status int) *mirror {
	return newMirror(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) })
}

func (m *mirror) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.requests)
}

func (m *mirror) log() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.requests...)
}

// fakeClock is a time source tests move by hand. It is read from the
// goroutine singleflight runs the check in, so it is atomic.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(c *Checker) *fakeClock {
	f := &fakeClock{}
	f.ns.Store(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	c.now = f.now
	return f
}

func (f *fakeClock) now() time.Time          { return time.Unix(0, f.ns.Load()) }
func (f *fakeClock) advance(d time.Duration) { f.ns.Add(int64(d)) }

// rawMirror answers every request on its connections with head, written
// as it is, and counts the requests.
func rawMirror(t *testing.T, head string) (url string, count func() int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var n atomic.Int64
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				r := bufio.NewReader(conn)
				for {
					if _, err := http.ReadRequest(r); err != nil {
						return
					}
					n.Add(1)
					if _, err := io.WriteString(conn, head); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "http://" + l.Addr().String(), func() int { return int(n.Load()) }
}

// TestExistsStatus follows docs/request-handling.md's rule 10: a 2xx is
// present, a 3xx or 4xx absent, both cached; anything else is no answer,
// asked again next time.
func TestExistsStatus(t *testing.T) {
	const (
		present = "present"
		absent  = "absent"
		none    = "no answer"
	)
	many := ""
	for i := range 101 {
		many += fmt.Sprintf("X-%d: %d\r\n", i, i)
	}
	tests := []struct {
		name, head, want string
		status           int
	}{
		{"200", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", present, 200},
		{"204", "HTTP/1.1 204 No Content\r\n\r\n", present, 204},
		{"103 then 200", "HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", present, 200},
		{"304", "HTTP/1.1 304 Not Modified\r\n\r\n", absent, 304},
		{"302", "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n", absent, 302},
		{"404", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", absent, 404},
		{"403", "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", absent, 403},
		{"100 then 404", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", absent, 404},
		{"500", "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n", none, 500},
		{"503", "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", none, 503},
		{"101", "HTTP/1.1 101 Switching Protocols\r\n\r\n", none, 0},
		{"099", "HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n", none, 0},
		{"600", "HTTP/1.1 600 High\r\nContent-Length: 0\r\n\r\n", none, 0},
		{"2000", "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", none, 0},
		{"101 fields", "HTTP/1.1 200 OK\r\n" + many + "Content-Length: 0\r\n\r\n", none, 0},
		{"65 KiB header", "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("b", 65<<10) + "\r\nContent-Length: 0\r\n\r\n", none, 0},
		{"4 KiB header", "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("b", 4000) + "\r\nContent-Length: 0\r\n\r\n", present, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, count := rawMirror(t, tt.head)
			c := New(testConfig, Options{})
			url := base + "/containers/images/sha256:abc"
			for i, cached := range []bool{false, tt.want != none} {
				got := c.Exists(context.Background(), "east", url)
				outcome := absent
				switch {
				case got.Err != nil:
					outcome = none
				case got.Present:
					outcome = present
				}
				if outcome != tt.want || got.Status != tt.status || got.Cached != cached {
					t.Errorf("Exists #%d = %+v (%s), want %s with status %d, cached %v", i+1, got, outcome, tt.want, tt.status, cached)
				}
			}
			// An answer is cached; no answer is asked again.
			want := 1
			if tt.want == none {
				want = 2
			}
			if n := count(); n != want {
				t.Errorf("mirror saw %d requests, want %d", n, want)
			}
		})
	}
}

func TestExistsDoesNotFollowRedirect(t *testing.T) {
	var followed atomic.Int32
	m := newMirror(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			followed.Add(1)
			w.WriteHeader(http.StatusOK)
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	})
	c := New(testConfig, Options{})
	got := c.Exists(context.Background(), "east", m.URL+"/blob")
	if want := (Result{Present: false, Status: http.StatusFound}); got != want {
		t.Errorf("Exists = %+v, want %+v", got, want)
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times, want 0", n)
	}
}

// refusedURL returns a loopback URL on which nothing listens.
func refusedURL(t *testing.T) string {
	t.Helper()
	s := httptest.NewServer(http.NotFoundHandler())
	url := s.URL
	s.Close()
	return url + "/blob"
}

func TestExistsRefusedIsNotCached(t *testing.T) {
	var checks []Result
	c := New(testConfig, Options{Observe: func(site string, r Result, _ time.Duration) { checks = append(checks, r) }})
	url := refusedURL(t)
	for i := range 2 {
		got := c.Exists(context.Background(), "east", url)
		if got.Err == nil || got.Present || got.Cached || got.Status != 0 {
			t.Errorf("call %d: Exists = %+v, want Err set, absent, not cached, status 0", i, got)
		}
	}
	if len(checks) != 2 {
		t.Fatalf("observer saw %d checks, want 2 (a refused connection is asked again)", len(checks))
	}
	for i, r := range checks {
		if r.Cached || r.Err == nil {
			t.Errorf("check %d = %+v, want an uncached error", i, r)
		}
	}
	if n := c.Len(); n != 0 {
		t.Errorf("Len = %d after refused checks, want 0", n)
	}
}

func TestExistsTimeout(t *testing.T) {
	release := make(chan struct{})
	m := newMirror(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // runs before m.Close
	cfg := testConfig
	cfg.Timeout = plan.Duration(200 * time.Millisecond)
	c := New(cfg, Options{})

	start := time.Now()
	got := c.Exists(context.Background(), "east", m.URL+"/blob")
	if took := time.Since(start); took > time.Duration(cfg.Timeout)+time.Second {
		t.Errorf("Exists took %v against a hanging mirror, want at most the %v timeout plus 1s", took, time.Duration(cfg.Timeout))
	}
	if got.Err == nil || got.Present || got.Cached {
		t.Errorf("Exists = %+v, want a timeout error", got)
	}
	if !errors.Is(got.Err, context.DeadlineExceeded) {
		t.Errorf("Err = %v, want one wrapping context.DeadlineExceeded", got.Err)
	}
	if n := c.Len(); n != 0 {
		t.Errorf("Len = %d after a timeout, want 0", n)
	}
}

func TestExistsTTL(t *testing.T) {
	present := statusMirror(t, http.StatusOK)
	absent := statusMirror(t, http.StatusNotFound)
	c := New(testConfig, Options{})
	clock := newFakeClock(c)
	ctx := context.Background()
	presentURL, absentURL := present.URL+"/p", absent.URL+"/a"

	check := func(step string, wantPresentCached, wantAbsentCached bool, wantPresentN, wantAbsentN int) {
		t.Helper()
		if got := c.Exists(ctx, "east", presentURL); !got.Present || got.Cached != wantPresentCached {
			t.Errorf("%s: present blob: %+v, want present, cached %v", step, got, wantPresentCached)
		}
		if got := c.Exists(ctx, "east", absentURL); got.Present || got.Cached != wantAbsentCached {
			t.Errorf("%s: absent blob: %+v, want absent, cached %v", step, got, wantAbsentCached)
		}
		if n := present.count(); n != wantPresentN {
			t.Errorf("%s: present mirror saw %d requests, want %d", step, n, wantPresentN)
		}
		if n := absent.count(); n != wantAbsentN {
			t.Errorf("%s: absent mirror saw %d requests, want %d", step, n, wantAbsentN)
		}
	}

	check("first", false, false, 1, 1)
	clock.advance(time.Minute - time.Nanosecond)
	check("just before the negative TTL", true, true, 1, 1)
	clock.advance(time.Nanosecond) // exactly one negative TTL after the check
	check("at the negative TTL", true, false, 1, 2)
	// The absent answer was refreshed at 1m; the present one expires at 1h.
	clock.advance(time.Hour - time.Minute - time.Nanosecond)
	check("just before the positive TTL", true, false, 1, 3)
	clock.advance(time.Nanosecond)
	check("at the positive TTL", false, true, 2, 3)
}

func TestExistsCacheIsBounded(t *testing.T) {
	m := statusMirror(t, http.StatusOK)
	cfg := testConfig
	cfg.CacheSize = 10
	c := New(cfg, Options{})
	for i := range 100 {
		c.Exists(context.Background(), "east", fmt.Sprintf("%s/blob/%d", m.URL, i))
		if n := c.Len(); n > 10 {
			t.Fatalf("after %d URLs Len = %d, want at most 10", i+1, n)
		}
	}
	if n := c.Len(); n != 10 {
		t.Errorf("Len = %d, want 10", n)
	}
	// The most recent URL is kept; the first was evicted.
	if r := c.Exists(context.Background(), "east", m.URL+"/blob/99"); !r.Cached {
		t.Errorf("most recent URL: %+v, want cached", r)
	}
	if r := c.Exists(context.Background(), "east", m.URL+"/blob/0"); r.Cached {
		t.Errorf("first URL: %+v, want evicted and asked again", r)
	}
}

func TestExistsCollapsesConcurrentChecks(t *testing.T) {
	m := newMirror(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond)
		w.WriteHeader(http.StatusOK)
	})
	c := New(testConfig, Options{})
	url := m.URL + "/blob"

	var wg sync.WaitGroup
	results := make([]Result, 50)
	for i := range results {
		wg.Go(func() { results[i] = c.Exists(context.Background(), "east", url) })
	}
	wg.Wait()
	for i, r := range results {
		if !r.Present || r.Err != nil {
			t.Errorf("caller %d: %+v, want present", i, r)
		}
	}
	// A caller either shared the one check or, arriving after it, found its
	// answer in the cache.
	if n := m.count(); n != 1 {
		t.Errorf("mirror saw %d requests from 50 concurrent checks, want 1", n)
	}
}

func TestExistsCancelledCallerLeavesSharedCheck(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	m := newMirror(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.WriteHeader(http.StatusOK)
	})
	t.Cleanup(unblock) // runs before m.Close, even when the test fails early
	c := New(testConfig, Options{})
	url := m.URL + "/blob"

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result)
	go func() { done <- c.Exists(ctx, "east", url) }()
	// Wait until the check reached the mirror, then give up on it.
	for m.count() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case r := <-done:
		if !errors.Is(r.Err, context.Canceled) || r.Present || r.Cached {
			t.Errorf("cancelled Exists = %+v, want Err context.Canceled", r)
		}
	case <-time.After(time.Second):
		t.Fatal("Exists did not return within 1s of its context being cancelled")
	}

	unblock()
	// This call joins the check still in flight, or finds its answer cached.
	if r := c.Exists(context.Background(), "east", url); !r.Present || r.Err != nil {
		t.Errorf("Exists after release = %+v, want present", r)
	}
	if r := c.Exists(context.Background(), "east", url); !r.Present || !r.Cached {
		t.Errorf("Exists once the shared check finished = %+v, want present and cached", r)
	}
	if n := m.count(); n != 1 {
		t.Errorf("mirror saw %d requests, want 1", n)
	}
}

func TestExistsObserver(t *testing.T) {
	present := statusMirror(t, http.StatusOK)
	absent := statusMirror(t, http.StatusNotFound)
	type seen struct {
		site   string
		result Result
	}
	var got []seen
	c := New(testConfig, Options{Observe: func(site string, r Result, took time.Duration) {
		if r.Cached && took != 0 {
			t.Errorf("cached answer observed with took = %v, want 0", took)
		}
		got = append(got, seen{site, r})
	}})
	ctx := context.Background()
	c.Exists(ctx, "east", present.URL+"/p")
	c.Exists(ctx, "east", present.URL+"/p")
	c.Exists(ctx, "west", absent.URL+"/a")
	c.Exists(ctx, "west", absent.URL+"/a")
	want := []seen{
		{"east", Result{Present: true, Status: 200}},
		{"east", Result{Present: true, Status: 200, Cached: true}},
		{"west", Result{Status: 404}},
		{"west", Result{Status: 404, Cached: true}},
	}
	if len(got) != len(want) {
		t.Fatalf("observer saw %d checks, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("check %d: observer saw %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestNewDefaults(t *testing.T) {
	cfg := testConfig
	cfg.CacheSize = 0
	c := New(cfg, Options{}) // must not panic: size 0 becomes 1, a nil observer a no-op
	if c.Config() != cfg {
		t.Errorf("Config() = %+v, want %+v", c.Config(), cfg)
	}
	m := statusMirror(t, http.StatusOK)
	c.Exists(context.Background(), "east", m.URL+"/a")
	c.Exists(context.Background(), "east", m.URL+"/b")
	if n := c.Len(); n != 1 {
		t.Errorf("Len = %d with cache size 0, want 1", n)
	}
	if r := c.Exists(context.Background(), "east", "http://127.0.0.1:0/\x7f"); r.Err == nil {
		t.Errorf("Exists with a bad URL = %+v, want Err set", r)
	}
}
