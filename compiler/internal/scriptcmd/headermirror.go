package scriptcmd

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdHeaderMirror runs a mirror that holds every blob but answers 404 to
// a request that carries any of the HEADERs, as S3 does to an
// x-amz-expected-bucket-owner that is not the bucket's, setting NAME to
// its base URL and NAME_HOST to its host and port. Besides NAME.log it writes each request's header to
// $WORK/NAME.headers (see headerHandler), so a script sees everything a
// target sent, what it added of its own included.
func cmdHeaderMirror(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: headermirror NAME HEADER...")
	}
	name := args[0]
	checkName(ts, name)
	out, err := os.Create(filepath.Join(ts.Getenv("WORK"), name+".headers"))
	if err != nil {
		ts.Fatalf("%s.headers: %v", name, pathless(err))
	}
	ts.Defer(func() { out.Close() })
	addr := serve(ts, name, headerHandler(args[1:], out))
	ts.Setenv(name, "http://"+addr)
	ts.Setenv(name+"_HOST", addr)
}

// headerHandler answers 200 to any request, or 404 to one that carries
// any of the refused headers. It first writes the request to out: a
// "METHOD REQUEST-URI" line, then one "Name: value" line per field, Host
// first, then the rest sorted by name.
func headerHandler(refused []string, out io.Writer) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s\nHost: %s\n", r.Method, r.RequestURI, r.Host)
		for _, k := range slices.Sorted(maps.Keys(r.Header)) {
			for _, v := range r.Header[k] {
				fmt.Fprintf(&b, "%s: %s\n", k, v)
			}
		}
		mu.Lock()
		_, err := io.WriteString(out, b.String())
		mu.Unlock()
		if err != nil {
			// Fail the request rather than lose the lines.
			panic(http.ErrAbortHandler)
		}
		for _, h := range refused {
			if _, ok := r.Header[http.CanonicalHeaderKey(h)]; ok {
				w.WriteHeader(http.StatusNotFound)
				return
			}
		}
		w.WriteHeader(http.StatusOK)
	})
}
