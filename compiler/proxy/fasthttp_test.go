package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/regedge/regedge/compiler/internal/plantest"
)

// TestFastHTTPRefusals: what fasthttp cannot read gets a plain 4xx before
// the rules.
func TestFastHTTPRefusals(t *testing.T) {
	addr := startServer(t, "fasthttp", New(plantest.Plan("http://mirror.invalid")))
	tests := []struct{ name, request, status string }{
		// Refused on its Content-Length, before the body is sent.
		{"body over the limit", "POST /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\nConnection: close\r\n\r\n",
			"HTTP/1.1 413 Request Entity Too Large"},
		{"headers over the limit", "GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("x", 33<<10) + "\r\nConnection: close\r\n\r\n",
			"HTTP/1.1 431 Request Header Fields Too Large"},
		{"malformed request line", "GET /v2/\r\nHost: x\r\nConnection: close\r\n\r\n", "HTTP/1.1 400 Bad Request"},
		{"small body", "POST /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", "HTTP/1.1 405 Method Not Allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := rawExchange(t, addr, tt.request)
			if got := status(raw); got != tt.status {
				t.Errorf("status %q, want %q", got, tt.status)
			}
		})
	}
}

// TestFastHTTPFragmentAfterHost: a fragment right after an absolute-form
// target's host is dropped as the rules say, not taken for the path.
// net/http refuses such a target with 400 before the handler.
func TestFastHTTPFragmentAfterHost(t *testing.T) {
	addr := startServer(t, "fasthttp", New(plantest.Plan("http://mirror.invalid")))
	raw := rawExchange(t, addr, "GET http://x#/v2/pause/manifests/latest HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if status(raw) != "HTTP/1.1 307 Temporary Redirect" || !strings.Contains(raw, "\r\nLocation: https://example.com/info\r\n") {
		t.Errorf("want 307 to the info page, got\n%s", raw)
	}
}

// TestFastHTTPPanic: a panic in the handler answers 500 and is logged;
// the server goes on serving.
func TestFastHTTPPanic(t *testing.T) {
	var logs syncBuffer
	// No plan: every request panics.
	h := &Handler{log: slog.New(slog.NewTextHandler(&logs, nil))}
	addr := startServer(t, "fasthttp", h)
	for range 2 {
		raw := rawExchange(t, addr, "GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
		if got := status(raw); got != "HTTP/1.1 500 Internal Server Error" {
			t.Fatalf("status %q, want 500", got)
		}
	}
	if n := strings.Count(logs.String(), "panic answering a request"); n != 2 {
		t.Errorf("%d panics logged, want 2:\n%s", n, logs.String())
	}
}

// syncBuffer is a bytes.Buffer that a server goroutine can write to while
// the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// flakyListener fails its first accepts with errs, then accepts from the
// real listener.
type flakyListener struct {
	net.Listener
	errs []error
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if len(l.errs) > 0 {
		err := l.errs[0]
		l.errs = l.errs[1:]
		return nil, err
	}
	return l.Listener.Accept()
}

func TestRetryAccept(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	emfile := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	var logs bytes.Buffer
	retrying := RetryAccept(&flakyListener{ln, []error{emfile, emfile}}, slog.New(slog.NewTextHandler(&logs, nil)))

	go func() {
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			defer c.Close()
			c.Read(make([]byte, 1))
		}
	}()
	conn, err := retrying.Accept()
	if err != nil {
		t.Fatalf("Accept after running out of descriptors twice: %v", err)
	}
	conn.Close()
	if n := strings.Count(logs.String(), "accept failed; retrying"); n != 2 {
		t.Errorf("%d retries logged, want 2:\n%s", n, logs.String())
	}

	// An error that will not pass is returned at once.
	closed := fmt.Errorf("accept: %w", net.ErrClosed)
	if _, err := RetryAccept(&flakyListener{ln, []error{closed}}, slog.New(slog.DiscardHandler)).Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept = %v, want %v", err, net.ErrClosed)
	}
}
