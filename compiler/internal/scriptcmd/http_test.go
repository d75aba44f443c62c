package scriptcmd

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHTTPGetSendsTargetVerbatim(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.RequestURI
	}))
	defer srv.Close()
	for _, target := range []string{
		"/v2/../x",
		"/v2//x",
		"/v2/%2e%2e/x",
		"/v2/foo%2fbar",
		"/v2/./x/",
		"//v2/x",
		"/v2/x?a=%2F&b",
		"/v2/x?",
		"/a;b=c",
	} {
		g := &httpGet{method: http.MethodGet, headers: http.Header{}, url: srv.URL + target}
		if _, err := g.do(); err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		if uri := <-got; uri != target {
			t.Errorf("sent %q, server saw %q", target, uri)
		}
	}
}

func TestHTTPGetDefaultsToSlash(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.RequestURI
	}))
	defer srv.Close()
	for url, want := range map[string]string{srv.URL: "/", srv.URL + "?q": "/?q"} {
		g := &httpGet{method: http.MethodGet, headers: http.Header{}, url: url}
		if _, err := g.do(); err != nil {
			t.Fatal(err)
		}
		if uri := <-got; uri != want {
			t.Errorf("%s: server saw %q, want %q", url, uri, want)
		}
	}
}

func TestHTTPGetOutputAndNoRedirect(t *testing.T) {
	var hits []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits = append(hits, r.Method+" "+r.Host+" "+r.Header.Get("X-Client"))
		w.Header().Set("Location", "/elsewhere")
		w.Header().Add("X-Cache", "a")
		w.Header().Add("X-Cache", "b")
		w.WriteHeader(http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	g, err := parseHTTPGet([]string{"-X", "HEAD", "-H", "X-Client: one", "-H", "Host: reg.test",
		"-show", "x-cache", "-show", "Cache-Control", srv.URL + "/v2/"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := g.do()
	if err != nil {
		t.Fatal(err)
	}
	want := "STATUS 307\nLocation: /elsewhere\nX-Cache: a\nX-Cache: b\n"
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
	if len(hits) != 1 || hits[0] != "HEAD reg.test one" {
		t.Errorf("server saw %q, want one HEAD to reg.test with X-Client: one", hits)
	}
}

func TestParseHTTPGetErrors(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"http://a/", "http://b/"},
		{"-H", "no-colon", "http://a/"},
		{"-Y", "http://a/"},
	} {
		if _, err := parseHTTPGet(args); err == nil {
			t.Errorf("parseHTTPGet(%q) succeeded", args)
		}
	}
	for _, url := range []string{"ftp://a/", "127.0.0.1/", "http://a//x%zz"} {
		g := &httpGet{method: http.MethodGet, headers: http.Header{}, url: url}
		if _, err := g.do(); err == nil {
			t.Errorf("%s: request succeeded", url)
		}
	}
}

func TestHTTPGetConnectionRefused(t *testing.T) {
	url := "http://" + closedPort(t) + "/"
	g := &httpGet{method: http.MethodGet, headers: http.Header{}, url: url}
	if _, err := g.do(); err == nil {
		t.Fatal("request to a closed port succeeded")
	}
	if err := waitHTTP(url, 200*time.Millisecond); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("waitHTTP on a closed port: %v, want connection refused", err)
	}
}

func TestWaitHTTP(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	if err := waitHTTP(srv.URL+"/", time.Second); err != nil {
		t.Fatal(err)
	}
}

// closedPort returns a loopback address on which nothing listens.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestHTTPGetH2C(t *testing.T) {
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetUnencryptedHTTP2(true)
	got := make(chan string, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Proto + " " + r.RequestURI
		w.Header().Set("Location", "/elsewhere")
		w.WriteHeader(http.StatusTemporaryRedirect)
	}))
	srv.Config.Protocols = &protos
	srv.Start()
	defer srv.Close()
	g, err := parseHTTPGet([]string{"-h2c", srv.URL + "/v2/../x"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := g.do()
	if err != nil {
		t.Fatal(err)
	}
	if want := "STATUS 307\nLocation: /elsewhere\n"; out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
	if seen := <-got; seen != "HTTP/2.0 /v2/../x" {
		t.Errorf("server saw %q, want HTTP/2.0 /v2/../x", seen)
	}
	// A server of HTTP/1.1 alone does not understand the preface.
	http1 := httptest.NewServer(http.NotFoundHandler())
	defer http1.Close()
	g.url = http1.URL + "/"
	if out, err := g.do(); err == nil {
		t.Errorf("an HTTP/1.1 server answered h2c: %s", out)
	}
}

func TestHTTPGetTwiceNeedsTheConnectionKept(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/close" {
			w.Header().Set("Connection", "close")
		}
		w.Header().Set("Location", "/there")
		w.WriteHeader(http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	g, err := parseHTTPGet([]string{"-twice", srv.URL + "/keep"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := g.doTwice()
	if want := "STATUS 307\nLocation: /there\nSTATUS 307\nLocation: /there\n"; err != nil || out != want {
		t.Errorf("kept connection: %q, %v; want %q", out, err, want)
	}
	g.url = srv.URL + "/close"
	if out, err := g.doTwice(); err == nil || !strings.Contains(err.Error(), "closed the connection") {
		t.Errorf("closed connection: %q, %v; want an error", out, err)
	}
}

func TestHTTPGetPadsAndData(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- fmt.Sprintf("%d %d %d", len(r.Header.Get("X-Pad-1")), len(r.Header.Get("X-Pad-2")), len(body))
	}))
	defer srv.Close()
	g, err := parseHTTPGet([]string{"-pad", "9000", "-pad", "3", "-data", "70000", srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.do(); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "9000 3 70000" {
		t.Errorf("server saw pads and body of %s bytes, want 9000 3 70000", s)
	}
	for _, args := range [][]string{{"-pad", "0", srv.URL}, {"-pad", "x", srv.URL}, {"-data", "-1", srv.URL}} {
		if _, err := parseHTTPGet(args); err == nil {
			t.Errorf("parseHTTPGet(%q) succeeded", args)
		}
	}
}
