package verify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestTargetsGoOutVerbatim(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.RequestURI }))
	defer srv.Close()
	for _, target := range []string{
		"/v2/../x", "/v2/%2e%2e/x", "/v2/foo%2Fbar/manifests/x", "/v2//x", "/v2/./x",
		"//v2/x", "/v2/x?n=1&last=%2F", "/?", "/v2/x/manifests/lat%20est",
	} {
		req, err := NewRawRequest(context.Background(), "GET", srv.URL+target)
		if err != nil {
			t.Errorf("%s: %v", target, err)
			continue
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("%s: %v", target, err)
			continue
		}
		resp.Body.Close()
		if got != target {
			t.Errorf("sent %q, the server saw %q", target, got)
		}
	}
}

func TestRejectsOtherSchemes(t *testing.T) {
	for _, u := range []string{"ftp://x/", "127.0.0.1:80/x", "//x/y"} {
		if _, err := NewRawRequest(context.Background(), "GET", u); err == nil {
			t.Errorf("NewRawRequest(%q) succeeded", u)
		}
	}
}
