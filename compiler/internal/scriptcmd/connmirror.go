package scriptcmd

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdConnMirror runs a mirror that answers as MODE says (see faultHandler),
// setting NAME to its base URL, and writes the client address of each
// connection it serves to NAME.conns, once: a target that keeps its
// connections to the mirror open shows few lines for many requests.
func cmdConnMirror(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "usage: connmirror NAME MODE"
	if neg || len(args) != 2 {
		ts.Fatalf(usage)
	}
	name, mode := args[0], args[1]
	checkName(ts, name)
	h, err := faultHandler(mode)
	if err != nil {
		ts.Fatalf("%s: %v", usage, err)
	}
	conns, err := os.Create(filepath.Join(ts.Getenv("WORK"), name+".conns"))
	if err != nil {
		ts.Fatalf("%s.conns: %v", name, pathless(err))
	}
	ts.Defer(func() { conns.Close() })
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
	)
	ts.Setenv(name, "http://"+serve(ts, name, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if !seen[r.RemoteAddr] {
			seen[r.RemoteAddr] = true
			fmt.Fprintln(conns, r.RemoteAddr)
		}
		mu.Unlock()
		h.ServeHTTP(w, r)
	})))
}
