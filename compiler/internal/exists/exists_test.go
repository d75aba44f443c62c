package exists

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
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

func TestExistsStatus(t *testing.T) {
	tests := []struct {
		status      int
		wantPresent bool
	}{
		{http.StatusOK, true},
		{http.StatusNoContent, true},
		{http.StatusNotFound, false},
		{http.StatusForbidden, false},
		{http.StatusInternalServerError, false},
		{http.StatusServiceUnavailable, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			m := statusMirror(t, tt.status)
			c := New(testConfig, nil, nil)
			url := m.URL + "/containers/images/sha256:abc"
			got := c.Exists(context.Background(), "east", url)
			want := Result{Present: tt.wantPresent, Status: tt.status}
			if got != want {
				t.Errorf("Exists = %+v, want %+v", got, want)
			}
			if log := m.log(); len(log) != 1 || log[0] != "HEAD /containers/images/sha256:abc" {
				t.Errorf("mirror saw %q, want one HEAD of the blob path", log)
			}
			// The mirror answered, so the answer is cached, present or not.
			again := c.Exists(context.Background(), "east", url)
			want.Cached = true
			if again != want {
				t.Errorf("second Exists = %+v, want %+v", again, want)
			}
			if n := m.count(); n != 1 {
				t.Errorf("mirror saw %d requests after a cached answer, want 1", n)
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
	c := New(testConfig, nil, nil)
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
	c := New(testConfig, nil, func(site string, r Result, _ time.Duration) { checks = append(checks, r) })
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
	c := New(cfg, nil, nil)

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
	c := New(testConfig, nil, nil)
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
	c := New(cfg, nil, nil)
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
	c := New(testConfig, nil, nil)
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
	c := New(testConfig, nil, nil)
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
	c := New(testConfig, nil, func(site string, r Result, took time.Duration) {
		if r.Cached && took != 0 {
			t.Errorf("cached answer observed with took = %v, want 0", took)
		}
		got = append(got, seen{site, r})
	})
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
	c := New(cfg, nil, nil) // must not panic: size 0 becomes 1, a nil observer a no-op
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
