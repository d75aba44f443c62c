package scriptcmd

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/rogpeppe/go-internal/testscript"
)

// cmdMirror serves the files under DIR over HTTP and sets NAME to the
// server's base URL; with -6 it listens on ::1.
func cmdMirror(ts *testscript.TestScript, neg bool, args []string) {
	listen := "127.0.0.1:0"
	if len(args) > 0 && args[0] == "-6" {
		listen, args = "[::1]:0", args[1:]
	}
	if neg || len(args) != 2 {
		ts.Fatalf("usage: mirror [-6] NAME DIR")
	}
	name, dir := args[0], args[1]
	checkName(ts, name)
	if err := os.MkdirAll(ts.MkAbs(dir), 0o777); err != nil {
		ts.Fatalf("mirror: %s: %v", dir, pathless(err))
	}
	root, err := os.OpenRoot(ts.MkAbs(dir))
	if err != nil {
		ts.Fatalf("mirror: %s: %v", dir, pathless(err))
	}
	ts.Defer(func() { root.Close() })
	ts.Setenv(name, "http://"+serveOn(ts, name, listen, fileHandler(root)))
}

// cmdFaultMirror runs a mirror that misbehaves as MODE says, setting NAME
// to its base URL. See faultHandler for the modes.
func cmdFaultMirror(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "usage: faultmirror NAME [target:]hang|slow=DURATION|status=CODE|trickle=DURATION|continue=CODE|headbody=CODE|raw=CODE|reason=CODE|header=CODE:NAME:VALUE|bigheader=N|headers=N|longbody|garbage|cut"
	if neg || len(args) != 2 {
		ts.Fatalf(usage)
	}
	name, mode := args[0], args[1]
	checkName(ts, name)
	h, err := faultHandler(mode)
	if err != nil {
		ts.Fatalf("%s: %v", usage, err)
	}
	ts.Setenv(name, "http://"+serve(ts, name, h))
}

// faultHandler answers every request as mode says:
//   - hang: never answers;
//   - slow=DURATION: 200 after DURATION;
//   - status=CODE: CODE;
//   - trickle=DURATION: a 200 whose status line and headers come one byte
//     every DURATION;
//   - continue=CODE: "100 Continue", then after a pause CODE;
//   - headbody=CODE: CODE with a body, even to a HEAD, sent after a pause.
//     The body is itself a whole response with another answer (a 200 when
//     CODE is not 2xx, else a 404), so a client that takes it for the
//     answer to its next request on the connection gets that one wrong;
//   - raw=CODE: a status line with CODE as it is, which may be no HTTP
//     status (2000, 099) or one net/http would not send as the answer
//     (101, 103), and an empty body;
//   - reason=CODE: CODE with a reason phrase of characters a terminal
//     acts on (hostileReason) and an empty body;
//   - header=CODE:NAME:VALUE: CODE with the header NAME: VALUE;
//   - bigheader=N: a 200 with one header whose value is N bytes;
//   - headers=N: a 200 with N headers;
//   - longbody: a 404 whose body goes on for 1 GiB;
//   - garbage: bytes that are not HTTP, then closes the connection;
//   - cut: half a status line and header, then closes the connection.
//
// With the prefix target: (target:hang, say) it answers GET /healthz with
// 200 "ok\n", as every regedge target does (rule 11), and everything else
// as the mode says: a faulty target that verify's health check lets by.
//
// Each keeps the connection open for further requests unless it says it
// closes it. The log gives each request the final status the mode answers
// it with, "-" for none. slow and status log it as they answer (slow logs
// "-" if the client leaves first); the others as the request comes, so
// the line is there however early the client gives up.
func faultHandler(mode string) (http.Handler, error) {
	if inner, ok := strings.CutPrefix(mode, "target:"); ok {
		h, err := faultHandler(inner)
		if err != nil {
			return nil, err
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && r.RequestURI == "/healthz" {
				w.Write([]byte("ok\n"))
				return
			}
			h.ServeHTTP(w, r)
		}), nil
	}
	kind, arg, _ := strings.Cut(mode, "=")
	switch kind {
	case "hang":
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			logAs(w, "-")
			<-r.Context().Done()
			panic(http.ErrAbortHandler)
		}), nil
	case "slow":
		d, err := time.ParseDuration(arg)
		if err != nil {
			return nil, err
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(d):
				w.WriteHeader(http.StatusOK)
			case <-r.Context().Done():
				logAs(w, "-")
				panic(http.ErrAbortHandler)
			}
		}), nil
	case "status", "continue", "headbody":
		code, err := strconv.Atoi(arg)
		if err != nil || code < 200 || code > 599 {
			return nil, fmt.Errorf("bad status %q", arg)
		}
		switch kind {
		case "continue":
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				logAs(w, strconv.Itoa(code))
				w.WriteHeader(http.StatusContinue)
				if !pause(r.Context()) {
					panic(http.ErrAbortHandler)
				}
				w.WriteHeader(code)
			}), nil
		case "headbody":
			other := http.StatusOK
			if code >= 200 && code < 300 {
				other = http.StatusNotFound
			}
			body := responseHead(other, "Content-Length: 0")
			head := responseHead(code, "Content-Length: "+strconv.Itoa(len(body)))
			return rawHandler(strconv.Itoa(code), func(ctx context.Context, conn net.Conn) bool {
				return write(conn, head) && pause(ctx) && write(conn, body)
			}), nil
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(code)
		}), nil
	case "trickle":
		d, err := time.ParseDuration(arg)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("bad duration %q", arg)
		}
		head := responseHead(http.StatusOK, "Content-Length: 0")
		return rawHandler("200", func(ctx context.Context, conn net.Conn) bool {
			return trickle(ctx, conn, head, d)
		}), nil
	case "raw", "reason":
		if arg == "" || strings.Trim(arg, "0123456789") != "" {
			return nil, fmt.Errorf("bad status %q", arg)
		}
		reason := "Whatever"
		if kind == "reason" {
			reason = hostileReason
		}
		return rawHandler(arg, func(_ context.Context, conn net.Conn) bool {
			return write(conn, "HTTP/1.1 "+arg+" "+reason+"\r\nContent-Length: 0\r\n\r\n")
		}), nil
	case "header":
		code, name, value, ok := cutHeader(arg)
		if !ok {
			return nil, fmt.Errorf("bad header answer %q, want CODE:NAME:VALUE", arg)
		}
		head := responseHead(code, name+": "+value, "Content-Length: 0")
		return rawHandler(strconv.Itoa(code), func(_ context.Context, conn net.Conn) bool {
			return write(conn, head)
		}), nil
	case "bigheader", "headers":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 0 || n > 1<<20 {
			return nil, fmt.Errorf("bad count %q", arg)
		}
		lines := []string{"X-Big: " + strings.Repeat("b", n)}
		if kind == "headers" {
			lines = make([]string, n)
			for i := range lines {
				lines[i] = fmt.Sprintf("X-Header-%d: %d", i, i)
			}
		}
		head := responseHead(http.StatusOK, append(lines, "Content-Length: 0")...)
		return rawHandler("200", func(_ context.Context, conn net.Conn) bool {
			return write(conn, head)
		}), nil
	case "longbody":
		const size = 1 << 30
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(size))
			w.WriteHeader(http.StatusNotFound)
			chunk := strings.Repeat("a", 64<<10)
			for n := 0; n < size; n += len(chunk) {
				if _, err := io.WriteString(w, chunk); err != nil {
					return
				}
			}
		}), nil
	case "garbage":
		return rawHandler("-", func(_ context.Context, conn net.Conn) bool {
			write(conn, "SSH-2.0-OpenSSH_9.2\r\n\x00\xff garbage \r\n\r\n")
			return false
		}), nil
	case "cut":
		return rawHandler("-", func(_ context.Context, conn net.Conn) bool {
			write(conn, "HTTP/1.1 200 OK\r\nContent-Le")
			return false
		}), nil
	}
	return nil, fmt.Errorf("unknown mode %q", mode)
}

// hostileReason is the reason phrase of reason=CODE: a colour change
// (ESC), NUL, BEL, a bare CR, U+202E (which turns the rest of a line
// around) and a byte that is not UTF-8.
const hostileReason = "Bad \x1b[31mred\x00\a\r\u202e\xff"

// cutHeader splits a header mode's CODE:NAME:VALUE.
func cutHeader(arg string) (code int, name, value string, ok bool) {
	c, rest, ok1 := strings.Cut(arg, ":")
	name, value, ok2 := strings.Cut(rest, ":")
	code, err := strconv.Atoi(c)
	if !ok1 || !ok2 || err != nil || code < 100 || code > 599 || name == "" || strings.ContainsAny(arg, "\r\n") {
		return 0, "", "", false
	}
	return code, name, value, true
}

// faultPause separates the parts of an answer that a client must not read
// as one: a client that stops reading after the first has sent its next
// request on the connection by the time the second comes.
const faultPause = 100 * time.Millisecond

// pause waits faultPause, and says whether ctx outlived it.
func pause(ctx context.Context) bool {
	select {
	case <-time.After(faultPause):
		return true
	case <-ctx.Done():
		return false
	}
}

// responseHead is an HTTP/1.1 status line and header with CODE and the
// given header lines.
func responseHead(code int, lines ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", code, http.StatusText(code))
	for _, l := range lines {
		b.WriteString(l + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// write sends s on conn and says whether it all went.
func write(conn net.Conn, s string) bool {
	_, err := io.WriteString(conn, s)
	return err == nil
}

// trickle sends s on conn one byte every d, and says whether it all went.
func trickle(ctx context.Context, conn net.Conn, s string, d time.Duration) bool {
	for i := range len(s) {
		if i > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return false
			}
		}
		if !write(conn, s[i:i+1]) {
			return false
		}
	}
	return true
}

// rawHandler takes over the connection and answers its requests, the one
// it was given and any that follow on it, by writing the bytes itself with
// answer, as net/http cannot send a malformed answer or a body to a HEAD.
// Each request is logged with status, as accessLog does, before answer
// runs; answer says whether the connection can take another request.
func rawHandler(status string, answer func(ctx context.Context, conn net.Conn) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger := logAs(w, status)
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		defer conn.Close()
		// A hijacked connection outlives http.Server.Close: the end of the
		// server's base context closes it.
		ctx := r.Context()
		defer context.AfterFunc(ctx, func() { conn.Close() })()
		for answer(ctx, conn) {
			if r, err = http.ReadRequest(rw.Reader); err != nil {
				return
			}
			logger.line(r, status)
		}
	})
}

// cmdMemregistry runs an in-memory OCI registry, setting NAME to its base
// URL and NAME_HOST to its host and port.
func cmdMemregistry(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: memregistry NAME")
	}
	name := args[0]
	checkName(ts, name)
	addr := serve(ts, name, registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	ts.Setenv(name, "http://"+addr)
	ts.Setenv(name+"_HOST", addr)
}

// serve runs h on a free port of 127.0.0.1 until the script ends, logging
// each request to $WORK/NAME.log, and returns the listening address.
func serve(ts *testscript.TestScript, name string, h http.Handler) string {
	return serveOn(ts, name, "127.0.0.1:0", h)
}

// serveOn is serve listening on addr.
func serveOn(ts *testscript.TestScript, name, addr string, h http.Handler) string {
	logFile, err := os.Create(filepath.Join(ts.Getenv("WORK"), name+".log"))
	if err != nil {
		ts.Fatalf("%s.log: %v", name, pathless(err))
	}
	l, err := net.Listen("tcp", addr)
	ts.Check(err)
	ctx, cancel := context.WithCancel(context.Background())
	srv := &http.Server{
		Handler:     accessLog(h, logFile),
		ErrorLog:    log.New(io.Discard, "", 0),
		BaseContext: func(net.Listener) context.Context { return ctx },
		// h answers every request, "OPTIONS *" included.
		DisableGeneralOptionsHandler: true,
	}
	go srv.Serve(l)
	ts.Defer(func() {
		cancel()
		srv.Close()
		logFile.Close()
	})
	return l.Addr().String()
}

// accessLog wraps h to write "METHOD REQUEST-URI STATUS" lines to out.
// Each line is written before the response starts, so a client that has
// its response can already read the line.
func accessLog(h http.Handler, out io.Writer) http.Handler {
	logger := &accessLogger{out: out}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lw := &logWriter{ResponseWriter: w, logger: logger, r: r}
		h.ServeHTTP(lw, r)
		if !lw.logged {
			lw.WriteHeader(http.StatusOK)
		}
	})
}

// accessLogger writes the lines of one access log.
type accessLogger struct {
	mu  sync.Mutex
	out io.Writer
}

// line logs that r was answered with status, "-" when it got no answer.
func (l *accessLogger) line(r *http.Request, status string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := fmt.Fprintf(l.out, "%s %s %s\n", r.Method, r.RequestURI, status); err != nil {
		// Fail the request rather than lose the line.
		panic(http.ErrAbortHandler)
	}
}

// logWriter logs the status before the response header is sent.
type logWriter struct {
	http.ResponseWriter
	logger *accessLogger
	r      *http.Request
	logged bool
}

func (w *logWriter) WriteHeader(status int) {
	if !w.logged && status >= 200 {
		w.logged = true
		w.logger.line(w.r, strconv.Itoa(status))
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *logWriter) Write(p []byte) (int, error) {
	if !w.logged {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// logAs logs w's request with status and keeps accessLog from logging it
// again. It returns the log, for requests that follow on a hijacked
// connection.
func logAs(w http.ResponseWriter, status string) *accessLogger {
	lw, ok := w.(*logWriter)
	if !ok {
		panic("faultmirror: the handler is not wrapped in accessLog")
	}
	if !lw.logged {
		lw.logged = true
		lw.logger.line(lw.r, status)
	}
	return lw.logger
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *logWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// fileHandler answers GET and HEAD with the regular file under root at
// the request path, and 404 for anything else, including directories.
func fileHandler(root *os.Root) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		f, err := root.Open(strings.TrimPrefix(r.URL.Path, "/"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "", time.Time{}, f)
	})
}
