package scriptcmd

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestBadTarget: every mode passes the health check, and misbehaves on
// any other request as it says.
func TestBadTarget(t *testing.T) {
	get := func(t *testing.T, base, path string, timeout time.Duration) (*http.Response, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		t.Cleanup(cancel)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		return http.DefaultTransport.RoundTrip(req)
	}
	for _, mode := range []string{"hang", "close", "hugeheader", "longbody"} {
		t.Run(mode, func(t *testing.T) {
			h, err := badTargetHandler(mode)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(accessLog(h, io.Discard))
			t.Cleanup(srv.Close)
			resp, err := get(t, srv.URL, "/healthz", 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "ok\n" {
				t.Fatalf("/healthz: %d %q", resp.StatusCode, body)
			}
			resp, err = get(t, srv.URL, "/v2/", 500*time.Millisecond)
			switch mode {
			case "hang":
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("got %v, want no answer before the deadline", err)
				}
			case "close":
				if err == nil || errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("got %v, want the connection closed unanswered", err)
				}
			case "hugeheader":
				if err == nil || !strings.Contains(err.Error(), "headers exceeded") {
					t.Errorf("got %v, want headers past the transport's limit", err)
				}
			case "longbody":
				if err != nil {
					t.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
				resp.Body.Close()
				if resp.StatusCode != 404 || resp.ContentLength != badTargetFlood || n != 1<<20 {
					t.Errorf("got %d, length %d, read %d", resp.StatusCode, resp.ContentLength, n)
				}
			}
		})
	}
	if _, err := badTargetHandler("nosuch"); err == nil {
		t.Error("an unknown mode is accepted")
	}
}
