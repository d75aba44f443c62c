package scriptcmd

import (
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
// server's base URL.
func cmdMirror(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: mirror NAME DIR")
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
	ts.Setenv(name, "http://"+serve(ts, name, fileHandler(root)))
}

// cmdFaultMirror runs a mirror that misbehaves as MODE says, setting NAME
// to its base URL: "hang" never answers, "slow=DURATION" answers 200 after
// DURATION, and "status=CODE" answers every request with CODE.
func cmdFaultMirror(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "usage: faultmirror NAME hang|slow=DURATION|status=CODE"
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

func faultHandler(mode string) (http.Handler, error) {
	kind, arg, _ := strings.Cut(mode, "=")
	switch kind {
	case "hang":
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
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
			}
		}), nil
	case "status":
		code, err := strconv.Atoi(arg)
		if err != nil || code < 100 || code > 599 {
			return nil, fmt.Errorf("bad status %q", arg)
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(code)
		}), nil
	}
	return nil, fmt.Errorf("unknown mode %q", mode)
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
	logFile, err := os.Create(filepath.Join(ts.Getenv("WORK"), name+".log"))
	if err != nil {
		ts.Fatalf("%s.log: %v", name, pathless(err))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	srv := &http.Server{Handler: accessLog(h, logFile), ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(l)
	ts.Defer(func() {
		srv.Close()
		logFile.Close()
	})
	return l.Addr().String()
}

// accessLog wraps h to write "METHOD REQUEST-URI STATUS" lines to out.
// Each line is written before the response starts, so a client that has
// its response can already read the line.
func accessLog(h http.Handler, out io.Writer) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lw := &logWriter{ResponseWriter: w, log: func(status int) {
			mu.Lock()
			defer mu.Unlock()
			if _, err := fmt.Fprintf(out, "%s %s %d\n", r.Method, r.RequestURI, status); err != nil {
				// Fail the request rather than lose the line.
				panic(http.ErrAbortHandler)
			}
		}}
		h.ServeHTTP(lw, r)
		if !lw.logged {
			lw.WriteHeader(http.StatusOK)
		}
	})
}

// logWriter calls log with the status before the response header is sent.
type logWriter struct {
	http.ResponseWriter
	log    func(status int)
	logged bool
}

func (w *logWriter) WriteHeader(status int) {
	if !w.logged && status >= 200 {
		w.logged = true
		w.log(status)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *logWriter) Write(p []byte) (int, error) {
	if !w.logged {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
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
