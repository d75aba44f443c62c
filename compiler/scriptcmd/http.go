package scriptcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

const httpgetUsage = "usage: httpget [-X METHOD] [-H 'Name: value']... [-show HEADER]... [-within DURATION] URL"

// client sends each request on a new connection, ignores proxy settings
// and never follows redirects, so scripts see exactly what a server answered.
var client = &http.Client{
	Timeout:       10 * time.Second,
	Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// cmdHTTPGet sends one request and prints the status, the Location and
// the headers named by -show. With -within, the answer must come in time.
// With !, it expects the request to fail at the transport level, as when
// nothing listens on the port.
func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	g, err := parseHTTPGet(args)
	if err != nil {
		ts.Fatalf("%s: %v", httpgetUsage, err)
	}
	start := time.Now()
	out, err := g.do()
	if took := time.Since(start); g.within > 0 && took > g.within {
		ts.Fatalf("httpget: the answer took %v, more than %v", took.Round(time.Millisecond), g.within)
	}
	switch {
	case neg && err == nil:
		ts.Fatalf("httpget: unexpected response: %s", strings.TrimSpace(out))
	case neg:
		ts.Logf("httpget: %v", err)
	case err != nil:
		ts.Fatalf("httpget: %v", err)
	}
	fmt.Fprint(ts.Stdout(), out)
}

// httpGet is one parsed httpget command line.
type httpGet struct {
	method  string
	headers http.Header
	show    []string
	within  time.Duration
	url     string
}

func parseHTTPGet(args []string) (*httpGet, error) {
	g := &httpGet{headers: http.Header{}}
	fs := flag.NewFlagSet("httpget", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&g.method, "X", http.MethodGet, "")
	fs.Func("H", "", func(s string) error {
		name, value, ok := strings.Cut(s, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return fmt.Errorf("header %q is not 'Name: value'", s)
		}
		g.headers.Add(strings.TrimSpace(name), strings.TrimSpace(value))
		return nil
	})
	fs.Func("show", "", func(s string) error {
		g.show = append(g.show, http.CanonicalHeaderKey(s))
		return nil
	})
	fs.DurationVar(&g.within, "within", 0, "")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 1 {
		return nil, errors.New("want exactly one URL")
	}
	g.url = fs.Arg(0)
	return g, nil
}

// do sends the request and returns what httpget prints.
func (g *httpGet) do() (string, error) {
	req, err := newRequest(context.Background(), g.method, g.url)
	if err != nil {
		return "", err
	}
	for name, values := range g.headers {
		if name == "Host" {
			req.Host = values[0]
			continue
		}
		req.Header[name] = values
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", requestError(req.Method, g.url, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "STATUS %d\n", resp.StatusCode)
	for _, name := range append([]string{"Location"}, g.show...) {
		for _, v := range resp.Header.Values(name) {
			fmt.Fprintf(&b, "%s: %s\n", name, v)
		}
	}
	return b.String(), nil
}

// newRequest builds a request whose target is the path and query of
// rawURL exactly as written: Go neither cleans nor re-encodes it, so
// hostile paths such as /v2/../x or /v2/foo%2fbar reach the server intact.
func newRequest(ctx context.Context, method, rawURL string) (*http.Request, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok || (scheme != "http" && scheme != "https") {
		return nil, fmt.Errorf("%q is not an http:// or https:// URL", rawURL)
	}
	host, target := rest, "/"
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		host, target = rest[:i], rest[i:]
		if target[0] == '?' {
			target = "/" + target
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, scheme+"://"+host, nil)
	if err != nil {
		return nil, err
	}
	path, query, hasQuery := strings.Cut(target, "?")
	req.URL.RawQuery, req.URL.ForceQuery = query, hasQuery && query == ""
	if !strings.HasPrefix(path, "//") {
		req.URL.Opaque = path
		return req, nil
	}
	// URL.RequestURI turns an Opaque starting with // into an absolute
	// URL, so send such a path through Path and RawPath instead.
	req.URL.Path, err = url.PathUnescape(path)
	req.URL.RawPath = path
	if err != nil || req.URL.EscapedPath() != path {
		return nil, fmt.Errorf("cannot send path %q verbatim", path)
	}
	return req, nil
}

// requestError names the URL as written, since a *url.Error would
// print the request's URL without its host.
func requestError(method, rawURL string, err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	return fmt.Errorf("%s %s: %w", method, rawURL, err)
}

// cmdWaitHTTP waits until a request to URL gets any response.
func cmdWaitHTTP(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waithttp URL")
	}
	if err := waitHTTP(args[0], 10*time.Second); err != nil {
		ts.Fatalf("waithttp: %v", err)
	}
}

// waitHTTP polls rawURL every 50ms until it answers or timeout passes,
// and then returns the last error.
func waitHTTP(rawURL string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		req, err := newRequest(ctx, http.MethodGet, rawURL)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return requestError(req.Method, rawURL, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
