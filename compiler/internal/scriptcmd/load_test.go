package scriptcmd

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// redirector answers /r/NAME with 307 to /NAME and anything else with 200.
var redirector = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if name, ok := strings.CutPrefix(r.URL.Path, "/r/"); ok {
		w.Header().Set("Location", "/"+name)
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	fmt.Fprint(w, "ok")
})

func runLoad(t *testing.T, args ...string) *load {
	t.Helper()
	_, spec, err := parseLoad(append([]string{"L"}, args...))
	if err != nil {
		t.Fatal(err)
	}
	return startLoad(spec)
}

func TestLoadWaitExactTotalRoundRobin(t *testing.T) {
	srv := httptest.NewServer(redirector)
	defer srv.Close()
	l := runLoad(t, "-n", "30", "-c", "3", srv.URL+"/r/b", srv.URL+"/ok", srv.URL+"/r/a")
	<-l.done
	want := "requests 30\nerrors 0\nfailures 0\n" +
		"status 200 10\nstatus 307 20\n" +
		"location 307 /a 10\nlocation 307 /b 10\n"
	if got := l.stats.format(); got != want {
		t.Errorf("report:\n%s\nwant:\n%s", got, want)
	}
}

func TestLoadWantCountsFailures(t *testing.T) {
	srv := httptest.NewServer(redirector)
	defer srv.Close()
	l := runLoad(t, "-n", "10", "-want", "307", srv.URL+"/r/x", srv.URL+"/ok")
	<-l.done
	if got := l.stats.format(); !strings.HasPrefix(got, "requests 10\nerrors 0\nfailures 5\n") {
		t.Errorf("report:\n%s\nwant 5 failures out of 10", got)
	}
}

func TestLoadStopLetsInFlightRequestsFinish(t *testing.T) {
	arrived, release := make(chan bool), make(chan bool)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- true
		<-release
	}))
	defer srv.Close()
	l := runLoad(t, "-c", "3", srv.URL+"/")
	for range 3 {
		<-arrived
	}
	l.cancel()
	close(release)
	<-l.done
	if got, want := l.stats.format(), "requests 3\nerrors 0\nfailures 0\nstatus 200 3\n"; got != want {
		t.Errorf("report:\n%s\nwant:\n%s", got, want)
	}
}

func TestLoadAbortCutsHangingRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	l := runLoad(t, "-c", "2", srv.URL+"/")
	start := time.Now()
	l.abort()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("abort took %v, want it not to wait for the client timeout", took)
	}
}

func TestLoadReusesConnectionsAndSendsHeaders(t *testing.T) {
	var conns atomic.Int32
	var bad atomic.Value
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "reg.test" || r.Header.Get("X-Client") != "load" || r.RequestURI != "/v2/../x" {
			bad.Store(fmt.Sprintf("%s %s X-Client=%q", r.Host, r.RequestURI, r.Header.Get("X-Client")))
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	l := runLoad(t, "-n", "100", "-c", "2", "-H", "Host: reg.test", "-H", "X-Client: load", srv.URL+"/v2/../x")
	<-l.done
	if l.stats.status[200] != 100 {
		t.Fatalf("report:\n%s\nwant 100 200s", l.stats.format())
	}
	if v := bad.Load(); v != nil {
		t.Errorf("server saw %s, want Host reg.test, /v2/../x and X-Client: load", v)
	}
	// Each worker keeps its connection; a few more may be dialled while
	// a finished connection is on its way back to the idle pool.
	if n := conns.Load(); n > 10 {
		t.Errorf("100 requests by 2 workers opened %d connections", n)
	}
}

func TestLoadTransportErrors(t *testing.T) {
	var urls []string
	for range 4 {
		urls = append(urls, "http://"+closedPort(t)+"/")
	}
	l := runLoad(t, append([]string{"-n", "8", "-c", "2"}, urls...)...)
	<-l.done
	if got, want := l.stats.format(), "requests 8\nerrors 8\nfailures 8\n"; got != want {
		t.Errorf("report:\n%s\nwant:\n%s", got, want)
	}
	if len(l.stats.firstErrors) != maxErrors {
		t.Errorf("kept errors %q, want %d distinct ones", l.stats.firstErrors, maxErrors)
	}
	for _, e := range l.stats.firstErrors {
		if !strings.HasPrefix(e, "GET http://127.0.0.1:") || !strings.Contains(e, "refused") {
			t.Errorf("error %q does not name the request and the refusal", e)
		}
	}
}

func TestLoadStatsFormatAndLocationCap(t *testing.T) {
	var s loadStats
	s.add(404, "", nil, 0)
	s.add(307, "/b", nil, 0)
	s.add(0, "", fmt.Errorf("boom"), 0)
	s.add(301, "/z", nil, 0)
	s.add(307, "/a", nil, 0)
	s.add(307, "/b", nil, 0)
	want := "requests 6\nerrors 1\nfailures 1\n" +
		"status 301 1\nstatus 307 3\nstatus 404 1\n" +
		"location 301 /z 1\nlocation 307 /a 1\nlocation 307 /b 2\n"
	if got := s.format(); got != want {
		t.Errorf("report:\n%s\nwant:\n%s", got, want)
	}
	for i := range 60 {
		s.add(302, fmt.Sprintf("/%d", i), nil, 302)
	}
	s.add(307, "/a", nil, 302)
	if len(s.locations) != maxLocations || s.untracked != 60+3-maxLocations {
		t.Errorf("tracked %d Locations and left %d, want %d and %d", len(s.locations), s.untracked, maxLocations, 60+3-maxLocations)
	}
	if s.locations[statusLocation{307, "/a"}] != 2 || s.unexpected != 1 {
		t.Errorf("a Location already tracked must still be counted: %v, unexpected %d", s.locations, s.unexpected)
	}
}

func TestParseLoad(t *testing.T) {
	name, spec, err := parseLoad([]string{"L", "http://a/x", "http://b/"})
	if err != nil {
		t.Fatal(err)
	}
	if name != "L" || spec.concurrency != 4 || spec.total != 0 || spec.want != 0 || len(spec.urls) != 2 {
		t.Errorf("parseLoad = %q, %+v; want L with defaults and 2 URLs", name, spec)
	}
	for _, args := range [][]string{
		nil,
		{"-n", "3", "http://a/"},
		{"L"},
		{"L", "-c", "0", "http://a/"},
		{"L", "-n", "0", "http://a/"},
		{"L", "-want", "99", "http://a/"},
		{"L", "-H", "no-colon", "http://a/"},
		{"L", "-x", "http://a/"},
		{"L", "ftp://a/"},
		{"L", "http://a/", "127.0.0.1/"},
	} {
		if _, _, err := parseLoad(args); err == nil {
			t.Errorf("parseLoad(%q) succeeded", args)
		}
	}
}
