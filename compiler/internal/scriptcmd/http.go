package scriptcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/regedge/regedge/compiler/internal/verify"
	"github.com/rogpeppe/go-internal/testscript"
)

const httpgetUsage = "usage: httpget [-X METHOD] [-H 'Name: value']... [-show HEADER]... [-pad N]... [-data N] [-within DURATION] [-body] [-twice] [-h2c] URL"

// client sends each request on a new connection, ignores proxy settings
// and never follows redirects, so scripts see exactly what a server answered.
var client = &http.Client{
	Timeout:       10 * time.Second,
	Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// h2cClient is client speaking HTTP/2 without TLS from the connection's
// first byte, as an h2c client with prior knowledge does.
var h2cClient = &http.Client{
	Timeout:       client.Timeout,
	Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true, Protocols: h2cOnly()},
	CheckRedirect: client.CheckRedirect,
}

func h2cOnly() *http.Protocols {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &p
}

// cmdHTTPGet sends one request and prints the status, the Location and
// the headers named by -show, then with -body a blank line and the body.
// Each -pad adds a header line X-Pad-<i> of N bytes, and -data sends a
// body of N bytes, to try a server's limits. With -within, the answer
// must come in time. With -twice, it sends the request again on the
// same connection and prints both answers: the server must have kept
// the connection open after the first. With -h2c, it speaks HTTP/2
// without TLS, with prior knowledge.
// With !, it expects the request to fail at the transport level, as when
// nothing listens on the port.
func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	g, err := parseHTTPGet(args)
	if err != nil {
		ts.Fatalf("%s: %v", httpgetUsage, err)
	}
	start := time.Now()
	do := g.do
	if g.twice {
		do = g.doTwice
	}
	out, err := do()
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
	body    bool
	h2c     bool
	twice   bool
	pads    []int
	data    int
	url     string
}

func parseHTTPGet(args []string) (*httpGet, error) {
	g := &httpGet{headers: http.Header{}}
	fs := flag.NewFlagSet("httpget", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&g.method, "X", http.MethodGet, "")
	fs.Func("H", "", headerFlag(g.headers))
	fs.Func("show", "", func(s string) error {
		g.show = append(g.show, http.CanonicalHeaderKey(s))
		return nil
	})
	fs.DurationVar(&g.within, "within", 0, "")
	fs.BoolVar(&g.body, "body", false, "")
	fs.BoolVar(&g.h2c, "h2c", false, "")
	fs.BoolVar(&g.twice, "twice", false, "")
	fs.Func("pad", "", func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1<<20 {
			return fmt.Errorf("-pad %s is not a size from 1 to 1048576", s)
		}
		g.pads = append(g.pads, n)
		return nil
	})
	fs.IntVar(&g.data, "data", 0, "")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if g.data < 0 || g.data > 64<<20 {
		return nil, fmt.Errorf("-data %d is not a size from 0 to 64 MiB", g.data)
	}
	if fs.NArg() != 1 {
		return nil, errors.New("want exactly one URL")
	}
	g.url = fs.Arg(0)
	return g, nil
}

// do sends the request and returns what httpget prints.
func (g *httpGet) do() (string, error) {
	if g.h2c {
		return g.send(context.Background(), h2cClient)
	}
	return g.send(context.Background(), client)
}

// doTwice sends the request twice over one keep-alive connection and
// returns both answers, or an error if the server closed the connection
// after the first.
func (g *httpGet) doTwice() (string, error) {
	tr := &http.Transport{Proxy: nil, MaxConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	c := &http.Client{Timeout: client.Timeout, Transport: tr, CheckRedirect: client.CheckRedirect}
	first, err := g.send(context.Background(), c)
	if err != nil {
		return "", err
	}
	reused := false
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused },
	})
	second, err := g.send(ctx, c)
	switch {
	case err != nil:
		return "", err
	case !reused:
		return "", fmt.Errorf("%s %s: the server closed the connection after its first answer:\n%s", g.method, g.url, first)
	}
	return first + second, nil
}

// send sends the request with c and returns what httpget prints for it.
func (g *httpGet) send(ctx context.Context, c *http.Client) (string, error) {
	req, err := verify.NewRawRequest(ctx, g.method, g.url)
	if err != nil {
		return "", err
	}
	setHeaders(req, g.headers)
	for i, n := range g.pads {
		req.Header.Set(fmt.Sprintf("X-Pad-%d", i+1), strings.Repeat("a", n))
	}
	if g.data > 0 {
		body := strings.Repeat("a", g.data)
		req.ContentLength = int64(g.data)
		req.Body = io.NopCloser(strings.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", requestError(req.Method, g.url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "STATUS %d\n", resp.StatusCode)
	for _, name := range append([]string{"Location"}, g.show...) {
		for _, v := range resp.Header.Values(name) {
			fmt.Fprintf(&b, "%s: %s\n", name, v)
		}
	}
	if g.body {
		fmt.Fprintf(&b, "\n%s", body)
	}
	return b.String(), nil
}

// headerFlag returns the function for a -H flag, which adds a
// 'Name: value' header to h.
func headerFlag(h http.Header) func(string) error {
	return func(s string) error {
		name, value, ok := strings.Cut(s, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return fmt.Errorf("header %q is not 'Name: value'", s)
		}
		h.Add(strings.TrimSpace(name), strings.TrimSpace(value))
		return nil
	}
}

// setHeaders puts h on req; a Host header sets the request's host.
// The values are shared with h, which the caller must not change.
func setHeaders(req *http.Request, h http.Header) {
	for name, values := range h {
		if name == "Host" {
			req.Host = values[0]
			continue
		}
		req.Header[name] = values
	}
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
	// The error to report is the last one the server caused, not the
	// deadline cutting a request short.
	var last error
	for {
		req, err := verify.NewRawRequest(ctx, http.MethodGet, rawURL)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if last == nil || ctx.Err() == nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return requestError(req.Method, rawURL, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
