package scriptcmd

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdSiteMirror runs a mirror that answers as MODE says (see faultHandler),
// setting NAME to its base URL, for the site health scripts. With -probe
// it answers a request for PATH with 404 whatever MODE says: a site whose
// health probe passes while its blobs fail. With -conns it writes the
// client address of each connection it serves to NAME.conns, once: a
// target that keeps its connections to the mirror open shows few lines
// for many requests.
func cmdSiteMirror(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "usage: sitemirror [-probe PATH] [-conns] NAME MODE"
	fs := flag.NewFlagSet("sitemirror", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	probe := fs.String("probe", "", "")
	conns := fs.Bool("conns", false, "")
	if err := fs.Parse(args); neg || err != nil || fs.NArg() != 2 {
		ts.Fatalf(usage)
	}
	name := fs.Arg(0)
	checkName(ts, name)
	h, err := faultHandler(fs.Arg(1))
	if err != nil {
		ts.Fatalf("%s: %v", usage, err)
	}
	if *probe != "" {
		h = answerProbe(*probe, h)
	}
	if *conns {
		h = logConns(ts, name, h)
	}
	ts.Setenv(name, "http://"+serve(ts, name, h))
}

// answerProbe answers a request for path with 404, and passes the others
// to h.
func answerProbe(path string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == path {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// logConns writes each new connection's client address to NAME.conns
// before passing its requests to h.
func logConns(ts *testscript.TestScript, name string, h http.Handler) http.Handler {
	conns, err := os.Create(filepath.Join(ts.Getenv("WORK"), name+".conns"))
	if err != nil {
		ts.Fatalf("%s.conns: %v", name, pathless(err))
	}
	ts.Defer(func() { conns.Close() })
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if !seen[r.RemoteAddr] {
			seen[r.RemoteAddr] = true
			fmt.Fprintln(conns, r.RemoteAddr)
		}
		mu.Unlock()
		h.ServeHTTP(w, r)
	})
}
