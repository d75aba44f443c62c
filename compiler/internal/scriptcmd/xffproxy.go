package scriptcmd

import (
	"errors"
	"flag"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"

	"github.com/rogpeppe/go-internal/testscript"
)

const xffproxyUsage = "usage: xffproxy [-H 'Name: value']... NAME TARGET_URL CLIENT_IP"

// cmdXFFProxy runs a reverse proxy that forwards every request to
// TARGET_URL with "X-Forwarded-For: CLIENT_IP, 127.0.0.1", as a load
// balancer that trusts one hop would, and with each -H header. It passes
// answers through unchanged: a redirect's Location is not rewritten and
// not followed, so the client follows it past the proxy. It sets NAME to
// its base URL and NAME_HOST to its host and port, and logs each request
// to $WORK/NAME.log as mirror does.
func cmdXFFProxy(ts *testscript.TestScript, neg bool, args []string) {
	name, h, err := parseXFFProxy(args)
	if neg || err != nil {
		ts.Fatalf("%s: %v", xffproxyUsage, err)
	}
	checkName(ts, name)
	addr := serve(ts, name, h)
	ts.Setenv(name, "http://"+addr)
	ts.Setenv(name+"_HOST", addr)
}

// parseXFFProxy returns the proxy's NAME and handler.
func parseXFFProxy(args []string) (string, http.Handler, error) {
	headers := http.Header{}
	fs := flag.NewFlagSet("xffproxy", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Func("H", "", headerFlag(headers))
	if err := fs.Parse(args); err != nil {
		return "", nil, err
	}
	if fs.NArg() != 3 {
		return "", nil, errors.New("want NAME, TARGET_URL and CLIENT_IP")
	}
	target, err := url.Parse(fs.Arg(1))
	if err != nil || target.Scheme != "http" || target.Host == "" {
		return "", nil, errors.New("TARGET_URL must be an http:// URL")
	}
	headers.Set("X-Forwarded-For", fs.Arg(2)+", 127.0.0.1")
	return fs.Arg(0), xffProxy(target, headers), nil
}

// xffProxy forwards requests to target with headers set on them.
func xffProxy(target *url.URL, headers http.Header) http.Handler {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			for name, values := range headers {
				pr.Out.Header[name] = values
			}
		},
		Transport: loopbackTransport(),
		ErrorLog:  log.New(io.Discard, "", 0),
	}
}
