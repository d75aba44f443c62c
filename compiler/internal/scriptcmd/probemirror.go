package scriptcmd

import (
	"net/http"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdProbeMirror runs a mirror that answers a request for PATH with 404
// and every other request as MODE says (see faultHandler), setting NAME to
// its base URL: a site whose health probe passes while its blobs fail.
func cmdProbeMirror(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "usage: probemirror NAME PATH MODE"
	if neg || len(args) != 3 {
		ts.Fatalf(usage)
	}
	name, path, mode := args[0], args[1], args[2]
	checkName(ts, name)
	h, err := faultHandler(mode)
	if err != nil {
		ts.Fatalf("%s: %v", usage, err)
	}
	ts.Setenv(name, "http://"+serve(ts, name, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == path {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		h.ServeHTTP(w, r)
	})))
}
