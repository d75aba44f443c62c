package scriptcmd

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

const badTargetUsage = "usage: badtarget NAME hang|close|hugeheader|longbody"

// cmdBadTarget runs a target that passes verify's health check and
// misbehaves on every other request as MODE says, setting NAME to its
// base URL. See badTargetHandler for the modes.
func cmdBadTarget(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf(badTargetUsage)
	}
	name, mode := args[0], args[1]
	checkName(ts, name)
	h, err := badTargetHandler(mode)
	if err != nil {
		ts.Fatalf("%s: %v", badTargetUsage, err)
	}
	ts.Setenv(name, "http://"+serve(ts, name, h))
}

// badTargetFlood is how much a flooding mode sends: more than any client
// should read, less than would fill a disk or take minutes on loopback.
const badTargetFlood = 1 << 30

// badTargetHandler answers GET /healthz with 200 "ok\n", as every regedge
// target does (rule 11), and every other request as mode says:
//   - hang: never answers;
//   - close: closes the connection unanswered;
//   - hugeheader: a 200 status line, then one header line that goes on
//     for 1 GiB, then waits;
//   - longbody: a 404 whose body goes on for 1 GiB.
func badTargetHandler(mode string) (http.Handler, error) {
	var other http.Handler
	switch mode {
	case "hang":
		other, _ = faultHandler("hang")
	case "close":
		other = rawHandler("-", func(context.Context, net.Conn) bool { return false })
	case "hugeheader":
		other = rawHandler("-", func(ctx context.Context, conn net.Conn) bool {
			if _, err := io.WriteString(conn, "HTTP/1.1 200 OK\r\nX-Long: "); err == nil {
				floodWriter(conn, badTargetFlood)
			}
			<-ctx.Done()
			return false
		})
	case "longbody":
		other = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(badTargetFlood))
			w.WriteHeader(http.StatusNotFound)
			floodWriter(w, badTargetFlood)
		})
	default:
		return nil, fmt.Errorf("unknown mode %q", mode)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.RequestURI == "/healthz" {
			w.Write([]byte("ok\n"))
			return
		}
		other.ServeHTTP(w, r)
	}), nil
}

// floodWriter writes n bytes of "a" to w, or fewer if a write fails.
func floodWriter(w io.Writer, n int) {
	chunk := strings.Repeat("a", 64<<10)
	for ; n > 0; n -= len(chunk) {
		if _, err := io.WriteString(w, chunk); err != nil {
			return
		}
	}
}
