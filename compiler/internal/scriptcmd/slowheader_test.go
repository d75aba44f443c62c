package scriptcmd

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestSlowHeaderCountsConnectionsTheServerCuts(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ReadHeaderTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()
	s := &slowHeader{conns: 3, every: 50 * time.Millisecond, within: 2 * time.Second, url: srv.URL + "/v2/"}
	out, err := s.run()
	if want := "STATUS 200\n3 slow connections closed\n"; err != nil || out != want {
		t.Errorf("run = %q, %v; want %q", out, err, want)
	}
}

func TestSlowHeaderFailsWhenTheServerWaits(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	s := &slowHeader{conns: 2, every: 50 * time.Millisecond, within: 300 * time.Millisecond, url: srv.URL + "/"}
	if out, err := s.run(); err == nil || !strings.Contains(err.Error(), "2 of 2 slow connections were still open") {
		t.Errorf("run = %q, %v; want both connections still open", out, err)
	}
}

func TestParseSlowHeaderErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"-c", "0", "http://a/"}, {"-every", "0s", "http://a/"}, {"http://a/", "http://b/"}} {
		if _, err := parseSlowHeader(args); err == nil {
			t.Errorf("parseSlowHeader(%q) succeeded", args)
		}
	}
}
