package verify

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/regedge/regedge/compiler/internal/plantest"
	"github.com/regedge/regedge/compiler/proxy"
)

func TestIsDigest(t *testing.T) {
	hex64 := strings.Repeat("0123456789abcdef", 4)
	for s, want := range map[string]bool{
		"sha256:" + hex64:                           true,
		"sha512:" + hex64 + hex64:                   true,
		"sha256:" + strings.ToUpper(hex64):          false,
		"sha256:" + hex64[:63]:                      false,
		"sha256:" + hex64 + "0":                     false,
		"sha512:" + hex64:                           false,
		"sha384:" + hex64:                           false,
		"sha256:" + strings.Repeat("z", 64):         false,
		"sha256:" + hex64 + "\n":                    false,
		" sha256:" + hex64:                          false,
		"sha256:" + hex64 + "|sha512:" + hex64:      false,
		"sha256-" + hex64:                           false,
		"notadigest":                                false,
		"":                                          false,
		"sha256:":                                   false,
		"SHA256:" + hex64:                           false,
		"sha256:" + hex64[:32] + "/" + hex64[:31]:   false,
		"sha256:" + hex64[:32] + "%2f" + hex64[:29]: false,
	} {
		if got := IsDigest(s); got != want {
			t.Errorf("IsDigest(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestParseEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":   "http://127.0.0.1:8080",
		"http://127.0.0.1:8080/":  "http://127.0.0.1:8080",
		"https://[::1]:8443/":     "https://[::1]:8443",
		"HTTP://localhost":        "http://localhost",
		"http://[fe80::1%25lo]:8": "http://[fe80::1%25lo]:8",
	} {
		got, err := ParseEndpoint(in)
		if err != nil || got != want {
			t.Errorf("ParseEndpoint(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"127.0.0.1:8080":          "has no scheme",
		"localhost:8080":          "has no scheme",
		"":                        "has no scheme",
		"ftp://127.0.0.1":         "is not http:// or https://",
		"http://":                 "has no host",
		"http://:8080":            "has no host",
		"http://user:pw@h":        "holds a user name",
		"http://h/v2/":            "has a path",
		"http://h//":              "has a path",
		"http://h?a=b":            "has a query",
		"http://h/?":              "has a query",
		"http://h#x":              "has a fragment",
		"http://h/#":              "has a fragment",
		"http://h:0":              "has port 0",
		"http://h:65536":          "has port 65536",
		"http://[::1":             "is not a URL",
		"http://h:x":              "is not a URL",
		"http://a b":              "is not a URL",
		"http://h\r\nX-Evil: yes": "is not a URL",
	} {
		if _, err := ParseEndpoint(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseEndpoint(%q): %v, want an error saying %q", in, err, want)
		}
	}
}

func TestCheckHealth(t *testing.T) {
	p := plantest.Plan("http://mirror.invalid")
	if err := CheckHealth(context.Background(), p, startTarget(t, proxy.New(p))+"/"); err != nil {
		t.Errorf("the proxy: %v", err)
	}

	notRegedge := startTarget(t, http.NotFoundHandler())
	err := CheckHealth(context.Background(), p, notRegedge)
	if want := `GET /healthz answered 404 "404 page not found\n", where a regedge target answers 200 "ok\n" (rule 11)`; err == nil || err.Error() != want {
		t.Errorf("a server that is no regedge target: %v, want %s", err, want)
	}
	okNoNewline := startTarget(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	if err := CheckHealth(context.Background(), p, okNoNewline); err == nil {
		t.Error(`a body of "ok" passed for "ok\n"`)
	}

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	err = CheckHealth(context.Background(), p, closed.URL)
	if err == nil || !strings.HasPrefix(err.Error(), "GET /healthz: dial tcp ") || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("a closed port: %v", err)
	}

	// A server that accepts and never answers: the check gives up when
	// its context ends, before its own timeout.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := CheckHealth(ctx, p, "http://"+silent.Addr().String()); err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Errorf("a server that never answers: %v", err)
	}
}
