package scriptcmd

import (
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regedge/regedge/compiler/internal/fastlycheck"
)

// TestProberFlaps runs falcoProber against a mirror that answers its
// probes as a script says, 404 for an answer and 500 for none, with a
// window of 2 and a threshold of 1, as regedge writes the probe for
// down_after = 2: a mirror that flaps, one answer between failures, is
// never down; two failures in a row take it down, and the next answer
// brings it back.
func TestProberFlaps(t *testing.T) {
	answers := []int{500, 404, 500, 404, 500, 500, 500, 404, 404}
	var (
		mu sync.Mutex
		n  int
	)
	done := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		status := 404
		if n < len(answers) {
			status = answers[n]
		}
		n++
		if n == len(answers) {
			close(done)
		}
		w.WriteHeader(status)
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()

	var logged strings.Builder
	p := &falcoProber{log: log.New(&logged, "", 0), stop: make(chan struct{})}
	pr := fastlycheck.Probe{Backend: "site_x", Addr: l.Addr().String(), Request: "HEAD /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		Status: 404, Interval: 10 * time.Millisecond, Timeout: time.Second, Window: 2, Threshold: 1, Initial: 1}
	h := &atomic.Bool{}
	h.Store(true)
	p.wg.Go(func() { p.run(pr, h) })
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the probes did not all run")
	}
	p.close()

	var changes []string
	for line := range strings.SplitSeq(logged.String(), "\n") {
		if strings.HasPrefix(line, "site_x went") || strings.HasPrefix(line, "site_x back") {
			changes = append(changes, line)
		}
	}
	if got, want := strings.Join(changes, "; "), "site_x went sick; site_x back healthy"; got != want {
		t.Errorf("the health changed: %s; want %s\n%s", got, want, logged.String())
	}
	if !strings.Contains(logged.String(), "site_x: 500, good false; 0 of the last 2 good\nsite_x went sick\n") {
		t.Errorf("the mirror went sick other than after two failures in a row:\n%s", logged.String())
	}
}
