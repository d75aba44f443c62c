package exists

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// switchMirror answers every request with the status it holds now.
func switchMirror(t *testing.T, status *atomic.Int64) *mirror {
	return newMirror(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(int(status.Load())) })
}

// TestHealth walks a site through the health rule: down after three
// checks in a row without an answer, left alone for down_for, one trial at
// its end, a failed trial doubling the period, and back up on an answer.
func TestHealth(t *testing.T) {
	var status atomic.Int64
	status.Store(http.StatusInternalServerError)
	m := switchMirror(t, &status)
	changes := make(chan Change, 10)
	c := New(testConfig, Options{Changed: func(ch Change) { changes <- ch }})
	clock := newFakeClock(c)
	ctx := context.Background()
	blob := func(i int) string { return fmt.Sprintf("%s/b%d", m.URL, i) }

	for i := range 3 {
		if r := c.Exists(ctx, "east", blob(i)); r.Err == nil || r.Down {
			t.Fatalf("check %d = %+v, want no answer from the mirror", i+1, r)
		}
	}
	if got, want := <-changes, (Change{Site: "east", Failures: 3, For: 30 * time.Second}); got != want {
		t.Fatalf("change %+v, want %+v", got, want)
	}
	if c.Up("east") || !c.Up("west") {
		t.Errorf("Up(east) = %v, Up(west) = %v; want false, true", c.Up("east"), c.Up("west"))
	}

	// Down: nobody asks the mirror, for any blob, until the period ends.
	for i := range 5 {
		if r := c.Exists(ctx, "east", blob(100+i)); !r.Down || r.Err != ErrDown {
			t.Fatalf("while down: %+v, want Down", r)
		}
	}
	clock.advance(29 * time.Second)
	c.Exists(ctx, "east", blob(1))
	if n := m.count(); n != 3 {
		t.Fatalf("the mirror saw %d checks while down, want the first 3 only", n)
	}

	// The trial fails in the background: down for twice as long, and no
	// new change. The request that started it got the fallback at once.
	clock.advance(time.Second)
	if r := c.Exists(ctx, "east", blob(200)); !r.Down {
		t.Fatalf("the request that starts the trial: %+v, want Down", r)
	}
	waitTrial(t, c, "east")
	if n := m.count(); n != 4 {
		t.Fatalf("the mirror saw %d checks, want 4 with the trial", n)
	}
	clock.advance(59 * time.Second)
	if r := c.Exists(ctx, "east", blob(201)); !r.Down {
		t.Fatalf("59s into a 60s period: %+v, want Down", r)
	}

	// The mirror recovers; the next trial answers and the site is up.
	status.Store(http.StatusNotFound)
	clock.advance(time.Second)
	c.Exists(ctx, "east", blob(202))
	select {
	case got := <-changes:
		if got != (Change{Site: "east", Up: true}) {
			t.Fatalf("change %+v, want the site back up", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the site did not come back up")
	}
	if len(changes) != 0 {
		t.Errorf("more changes: %+v", <-changes)
	}
	if r := c.Exists(ctx, "east", blob(203)); r.Err != nil || r.Cached || r.Present {
		t.Fatalf("after recovery: %+v, want the mirror asked, and absent", r)
	}
	if r := c.Exists(ctx, "east", blob(202)); !r.Cached {
		t.Errorf("the trial's answer: %+v, want it cached", r)
	}
	if n := m.count(); n != 6 {
		t.Errorf("the mirror saw %d checks, want 6", n)
	}
}

// waitTrial waits until site's trial check has its outcome.
func waitTrial(t *testing.T, c *Checker, site string) {
	t.Helper()
	h := c.health(site)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		h.mu.Lock()
		open := h.trialOpen
		h.mu.Unlock()
		if !open {
			return
		}
	}
	t.Fatal("the trial check did not end")
}

// TestHealthAnswersKeepASiteUp: 404s and 403s are answers, and an answer
// between failures starts the count again.
func TestHealthAnswersKeepASiteUp(t *testing.T) {
	var status atomic.Int64
	m := switchMirror(t, &status)
	c := New(testConfig, Options{})
	for i, code := range []int{404, 403, 404, 500, 500, 404, 500, 500, 404} {
		status.Store(int64(code))
		c.Exists(context.Background(), "east", fmt.Sprintf("%s/b%d", m.URL, i))
	}
	if !c.Up("east") {
		t.Error("the site is down, but never failed 3 checks in a row")
	}
}

// TestHealthOneTrial: when the period ends, one request starts the trial,
// and neither it nor the others, at the same moment, wait for it.
func TestHealthOneTrial(t *testing.T) {
	release := make(chan struct{})
	var hung atomic.Bool
	m := newMirror(t, func(w http.ResponseWriter, r *http.Request) {
		if hung.Load() {
			<-release
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	c := New(testConfig, Options{})
	clock := newFakeClock(c)
	for i := range 3 {
		c.Exists(context.Background(), "east", fmt.Sprintf("%s/b%d", m.URL, i))
	}
	clock.advance(30 * time.Second)
	hung.Store(true)

	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if r := c.Exists(context.Background(), "east", fmt.Sprintf("%s/other%d", m.URL, i)); !r.Down {
				t.Errorf("during the trial: %+v, want Down", r)
			}
		})
	}
	wg.Wait()
	for m.count() < 4 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	waitTrial(t, c, "east")
	if n := m.count(); n != 4 {
		t.Errorf("the mirror saw %d checks, want 3 and one trial", n)
	}
}
