package scriptcmd

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regedge/regedge/compiler/internal/verify"
)

func TestMirrorServesFilesAndLogs(t *testing.T) {
	dir := t.TempDir()
	blobs := filepath.Join(dir, "files", "v2", "lib", "blobs")
	if err := os.MkdirAll(blobs, 0o777); err != nil {
		t.Fatal(err)
	}
	d := digest("hello")
	if err := os.WriteFile(filepath.Join(blobs, d), []byte("hello"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("no"), 0o666); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(filepath.Join(dir, "files"))
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	logFile, err := os.Create(filepath.Join(dir, "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	srv := httptest.NewServer(accessLog(fileHandler(root), logFile))
	defer srv.Close()

	blob := "/v2/lib/blobs/" + d
	for _, tc := range []struct {
		method, target string
		status         int
		body           string
	}{
		{"GET", blob, 200, "hello"},
		{"HEAD", blob, 200, ""},
		{"GET", "/v2/lib/blobs/sha256:0", 404, "404 page not found\n"},
		{"GET", "/v2/lib/blobs/", 404, "404 page not found\n"},
		{"GET", "/../secret", 404, "404 page not found\n"},
		{"POST", blob, 405, "method not allowed\n"},
	} {
		req, err := verify.NewRawRequest(t.Context(), tc.method, srv.URL+tc.target)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tc.status || string(body) != tc.body {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.target, resp.StatusCode, body, tc.status, tc.body)
		}
	}
	logged, err := os.ReadFile(logFile.Name())
	if err != nil {
		t.Fatal(err)
	}
	want := "GET " + blob + " 200\n" +
		"HEAD " + blob + " 200\n" +
		"GET /v2/lib/blobs/sha256:0 404\n" +
		"GET /v2/lib/blobs/ 404\n" +
		"GET /../secret 404\n" +
		"POST " + blob + " 405\n"
	if string(logged) != want {
		t.Errorf("access log:\n%s\nwant:\n%s", logged, want)
	}
}

func TestAccessLogImplicitOK(t *testing.T) {
	logFile, err := os.Create(filepath.Join(t.TempDir(), "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	srv := httptest.NewServer(accessLog(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), logFile))
	defer srv.Close()
	g := &httpGet{method: http.MethodGet, headers: http.Header{}, url: srv.URL + "/x?y"}
	if _, err := g.do(); err != nil {
		t.Fatal(err)
	}
	if logged, _ := os.ReadFile(logFile.Name()); string(logged) != "GET /x?y 200\n" {
		t.Errorf("access log %q, want %q", logged, "GET /x?y 200\n")
	}
}

// startFault runs faultmirror's handler for mode behind accessLog. It
// returns its address, a function that reads its log, and one that stops
// it as the end of a script does.
func startFault(t *testing.T, mode string) (addr string, logged func() string, stop func()) {
	t.Helper()
	h, err := faultHandler(mode)
	if err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(t.TempDir(), "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := httptest.NewUnstartedServer(accessLog(h, logFile))
	srv.Config.BaseContext = func(net.Listener) context.Context { return ctx }
	srv.Start()
	stop = sync.OnceFunc(func() {
		cancel()
		srv.Close()
	})
	t.Cleanup(func() {
		stop()
		logFile.Close()
	})
	return srv.Listener.Addr().String(), func() string {
		b, err := os.ReadFile(logFile.Name())
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}, stop
}

// dialFault opens a connection to addr that fails the test when a read
// blocks for more than 5 s.
func dialFault(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return conn, bufio.NewReader(conn)
}

func sendHead(t *testing.T, conn net.Conn, path string) {
	t.Helper()
	if _, err := fmt.Fprintf(conn, "HEAD %s HTTP/1.1\r\nHost: mirror\r\n\r\n", path); err != nil {
		t.Fatal(err)
	}
}

// readN reads exactly n bytes.
func readN(t *testing.T, r io.Reader, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		t.Fatalf("after %q: %v", b, err)
	}
	return string(b)
}

func TestFaultTrickleSendsOneByteAtATime(t *testing.T) {
	const gap = 20 * time.Millisecond
	const head = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
	addr, logged, _ := startFault(t, "trickle=20ms")
	conn, r := dialFault(t, addr)
	for _, path := range []string{"/a", "/b"} {
		start := time.Now()
		sendHead(t, conn, path)
		if got := readN(t, r, len(head)); got != head {
			t.Errorf("%s: got %q, want %q", path, got, head)
		}
		// A lower bound, which no slow machine can break.
		if took, least := time.Since(start), time.Duration(len(head)-1)*gap; took < least {
			t.Errorf("%s: the answer took %v, less than %v", path, took, least)
		}
	}
	if got, want := logged(), "HEAD /a 200\nHEAD /b 200\n"; got != want {
		t.Errorf("log %q, want %q", got, want)
	}
}

func TestFaultContinueThenFinalAnswer(t *testing.T) {
	addr, logged, _ := startFault(t, "continue=404")
	conn, r := dialFault(t, addr)
	for _, path := range []string{"/a", "/b"} {
		start := time.Now()
		sendHead(t, conn, path)
		if got, want := readN(t, r, len("HTTP/1.1 100 Continue\r\n\r\n")), "HTTP/1.1 100 Continue\r\n\r\n"; got != want {
			t.Fatalf("%s: got %q, want %q", path, got, want)
		}
		resp, err := http.ReadResponse(r, &http.Request{Method: http.MethodHead})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 || resp.Close {
			t.Errorf("%s: final answer %d (close %v), want 404 on an open connection", path, resp.StatusCode, resp.Close)
		}
		if took := time.Since(start); took < faultPause {
			t.Errorf("%s: the final answer came after %v, less than the pause", path, took)
		}
	}
	if got, want := logged(), "HEAD /a 404\nHEAD /b 404\n"; got != want {
		t.Errorf("log %q, want %q", got, want)
	}
}

func TestFaultHeadBodyCarriesAnotherAnswer(t *testing.T) {
	for _, tc := range []struct{ code, body string }{
		{"404", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
		{"200", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"},
	} {
		addr, logged, _ := startFault(t, "headbody="+tc.code)
		conn, r := dialFault(t, addr)
		for _, path := range []string{"/a", "/b"} {
			start := time.Now()
			sendHead(t, conn, path)
			want := fmt.Sprintf("HTTP/1.1 %s %s\r\nContent-Length: %d\r\n\r\n%s", tc.code, map[string]string{"200": "OK", "404": "Not Found"}[tc.code], len(tc.body), tc.body)
			if got := readN(t, r, len(want)); got != want {
				t.Errorf("headbody=%s %s: got %q, want %q", tc.code, path, got, want)
			}
			if took := time.Since(start); took < faultPause {
				t.Errorf("headbody=%s %s: the body came after %v, less than the pause", tc.code, path, took)
			}
		}
		if got, want := logged(), "HEAD /a "+tc.code+"\nHEAD /b "+tc.code+"\n"; got != want {
			t.Errorf("headbody=%s: log %q, want %q", tc.code, got, want)
		}
	}
}

func TestFaultGarbageAndCutClose(t *testing.T) {
	for mode, want := range map[string]string{
		"garbage": "SSH-2.0-OpenSSH_9.2\r\n\x00\xff garbage \r\n\r\n",
		"cut":     "HTTP/1.1 200 OK\r\nContent-Le",
	} {
		addr, logged, _ := startFault(t, mode)
		conn, r := dialFault(t, addr)
		sendHead(t, conn, "/a")
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if string(got) != want {
			t.Errorf("%s: got %q then end of connection, want %q", mode, got, want)
		}
		if got := logged(); got != "HEAD /a -\n" {
			t.Errorf("%s: log %q, want %q", mode, got, "HEAD /a -\n")
		}
	}
}

func TestFaultStatusAndSlow(t *testing.T) {
	for mode, want := range map[string]string{"status=403": "403", "slow=10ms": "200"} {
		addr, logged, _ := startFault(t, mode)
		conn, r := dialFault(t, addr)
		sendHead(t, conn, "/a")
		resp, err := http.ReadResponse(r, &http.Request{Method: http.MethodHead})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := strconv.Itoa(resp.StatusCode); got != want {
			t.Errorf("%s: %s, want %s", mode, got, want)
		}
		if got := logged(); got != "HEAD /a "+want+"\n" {
			t.Errorf("%s: log %q", mode, got)
		}
	}
}

func TestFaultRawHeaderAndBigAnswers(t *testing.T) {
	for mode, want := range map[string]string{
		"raw=2000":                         "HTTP/1.1 2000 Whatever\r\nContent-Length: 0\r\n\r\n",
		"raw=101":                          "HTTP/1.1 101 Whatever\r\nContent-Length: 0\r\n\r\n",
		"reason=500":                       "HTTP/1.1 500 Bad \x1b[31mred\x00\a\r\u202e\xff\r\nContent-Length: 0\r\n\r\n",
		"header=404:X-Accel-Redirect:/v2/": "HTTP/1.1 404 Not Found\r\nX-Accel-Redirect: /v2/\r\nContent-Length: 0\r\n\r\n",
		"bigheader=5":                      "HTTP/1.1 200 OK\r\nX-Big: bbbbb\r\nContent-Length: 0\r\n\r\n",
		"headers=2":                        "HTTP/1.1 200 OK\r\nX-Header-0: 0\r\nX-Header-1: 1\r\nContent-Length: 0\r\n\r\n",
	} {
		addr, logged, _ := startFault(t, mode)
		conn, r := dialFault(t, addr)
		for _, path := range []string{"/a", "/b"} {
			sendHead(t, conn, path)
			if got := readN(t, r, len(want)); got != want {
				t.Errorf("%s %s: got %q, want %q", mode, path, got, want)
			}
		}
		status := strings.Fields(want)[1]
		if got := logged(); got != "HEAD /a "+status+"\nHEAD /b "+status+"\n" {
			t.Errorf("%s: log %q", mode, got)
		}
	}
}

func TestFaultHangEndsWithTheServer(t *testing.T) {
	for _, mode := range []string{"hang", "trickle=1h"} {
		addr, logged, stop := startFault(t, mode)
		conn, r := dialFault(t, addr)
		sendHead(t, conn, "/a")
		// The first byte of a trickle comes at once; a hang sends nothing
		// but logs at once that it will not answer.
		want := "HEAD /a 200\n"
		if mode == "hang" {
			want = "HEAD /a -\n"
			for deadline := time.Now().Add(5 * time.Second); logged() == "" && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
		} else {
			readN(t, r, 1)
		}
		stop()
		// The connection ends, closed or reset, with nothing more sent,
		// rather than running into the read deadline.
		rest, err := io.ReadAll(r)
		if ne, ok := err.(net.Error); len(rest) != 0 || ok && ne.Timeout() {
			t.Errorf("%s: after the server closed, read %q, %v; want the end of the connection", mode, rest, err)
		}
		if got := logged(); got != want {
			t.Errorf("%s: log %q, want %q", mode, got, want)
		}
	}
}

// TestFaultTargetAndLongBody: with target:, a mode answers /healthz as a
// regedge target does and misbehaves on everything else; longbody's body
// goes on for a gigabyte.
func TestFaultTargetAndLongBody(t *testing.T) {
	addr, logged, _ := startFault(t, "target:longbody")
	for _, path := range []string{"/healthz", "/v2/"} {
		conn, r := dialFault(t, addr)
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: target\r\n\r\n", path)
		resp, err := http.ReadResponse(r, &http.Request{Method: http.MethodGet})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		got := fmt.Sprintf("%d %d %d", resp.StatusCode, resp.ContentLength, len(body))
		if want := map[string]string{"/healthz": "200 3 3", "/v2/": "404 1073741824 1048576"}[path]; got != want {
			t.Errorf("%s: status, length and body read %s, want %s", path, got, want)
		}
	}
	if got, want := logged(), "GET /healthz 200\nGET /v2/ 404\n"; got != want {
		t.Errorf("log %q, want %q", got, want)
	}
}

func TestFaultModeErrors(t *testing.T) {
	for _, mode := range []string{"", "nosuch", "target:", "target:nosuch", "slow=x", "status=99", "status=600", "continue=100", "continue=x", "headbody=", "trickle=0s", "trickle=-1s", "trickle=x", "raw=", "raw=2x", "reason=", "reason=5x", "header=404", "header=404:X", "header=99:X:y", "header=x:X:y", "bigheader=-1", "headers=x"} {
		if _, err := faultHandler(mode); err == nil {
			t.Errorf("faultHandler(%q) accepted", mode)
		}
	}
}
