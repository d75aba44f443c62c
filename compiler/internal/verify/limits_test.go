package verify

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regedge/regedge/compiler/internal/plantest"
)

// hostileTarget starts a loopback server that reads each request's head
// and then hands the connection to answer. It returns the base URL.
func hostileTarget(t *testing.T, answer func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				r := bufio.NewReader(conn)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if line == "\r\n" {
						break
					}
				}
				answer(conn)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
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
			got := sendRaw(context.Background(), endpoint, Case{Method: "GET", Target: "/"}, Answer{})
			if !strings.Contains(got.Err, "go on past 65536 bytes") {
				t.Errorf("answer %+v, want an error saying the headers go on past the limit", got)
			}
		})
	}
}

// TestCorpusLeavesBodiesUnread: a corpus request's answer is its status
// and headers; its body, however long, is not read.
func TestCorpusLeavesBodiesUnread(t *testing.T) {
	var all atomic.Bool
	endpoint := hostileTarget(t, func(conn net.Conn) {
		io.WriteString(conn, "HTTP/1.1 404 Not Found\r\nContent-Length: 1073741824\r\n\r\n")
		all.Store(flood(conn, "a", floodSize))
	})
	got := sendRaw(context.Background(), endpoint, Case{Method: "GET", Target: "/"}, Answer{})
	if got.Status != http.StatusNotFound || got.Err != "" {
		t.Errorf("answer %+v, want 404", got)
	}
	time.Sleep(100 * time.Millisecond)
	if all.Load() {
		t.Errorf("verify read all %d bytes of the body", floodSize)
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

	var all atomic.Bool
	cfg.Endpoint = hostileTarget(t, func(conn net.Conn) {
		io.WriteString(conn, "HTTP/1.1 404 Not Found\r\nContent-Length: 1073741824\r\n\r\n")
		all.Store(flood(conn, "a", floodSize))
	})
	got = send(context.Background(), client, cfg, Probe{Method: "GET", Target: "/"}, Answer{})
	if got.Status != http.StatusNotFound || got.Err != "" {
		t.Errorf("a long body: answer %+v, want 404", got)
	}
	time.Sleep(100 * time.Millisecond)
	if all.Load() {
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
