package scriptcmd

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/regedge/regedge/compiler/internal/verify"
)

func TestXFFProxySetsHeadersAndPassesRedirects(t *testing.T) {
	var got *http.Request
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.Header().Set("Location", "http://127.0.0.1:9/mirror/blob")
		w.WriteHeader(http.StatusTemporaryRedirect)
	}))
	defer backend.Close()
	_, h, err := parseXFFProxy([]string{"-H", "CF-Connecting-IP: 2001:db8::1", "P", backend.URL, "2001:db8::1"})
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(h)
	defer proxy.Close()

	req, err := verify.NewRawRequest(t.Context(), http.MethodHead, proxy.URL+"/v2/pause/blobs/sha256:ab?x=%2F")
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != "http://127.0.0.1:9/mirror/blob" {
		t.Errorf("answer %d %q, want the backend's 307 unchanged", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got == nil {
		t.Fatal("the backend got no request")
	}
	if got.Method != http.MethodHead || got.RequestURI != "/v2/pause/blobs/sha256:ab?x=%2F" {
		t.Errorf("backend got %s %s", got.Method, got.RequestURI)
	}
	if xff := got.Header.Values("X-Forwarded-For"); len(xff) != 1 || xff[0] != "2001:db8::1, 127.0.0.1" {
		t.Errorf("X-Forwarded-For %q, want only %q", xff, "2001:db8::1, 127.0.0.1")
	}
	if cf := got.Header.Get("CF-Connecting-IP"); cf != "2001:db8::1" {
		t.Errorf("CF-Connecting-IP %q", cf)
	}
	if u, _ := url.Parse(backend.URL); got.Host != u.Host {
		t.Errorf("Host %q, want the backend's %q", got.Host, u.Host)
	}
}

func TestParseXFFProxyErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"P", "http://127.0.0.1:1"},
		{"P", "https://127.0.0.1:1", "192.0.2.1"},
		{"P", "127.0.0.1:1", "192.0.2.1"},
		{"-H", "no colon", "P", "http://127.0.0.1:1", "192.0.2.1"},
	} {
		if _, _, err := parseXFFProxy(args); err == nil {
			t.Errorf("parseXFFProxy(%q) succeeded", args)
		}
	}
}
