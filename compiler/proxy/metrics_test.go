package proxy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/regedge/regedge/compiler/internal/plantest"
	"github.com/regedge/regedge/compiler/plan"
)

// scrape returns the metrics m serves, as Prometheus's text format.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 200 {
		t.Fatalf("metrics handler answered %d", w.Code)
	}
	return w.Body.String()
}

// series returns the sample lines of one metric, sorted.
func series(text, name string) []string {
	var out []string
	for _, line := range readLines(text) {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			out = append(out, line)
		}
	}
	slices.Sort(out)
	return out
}

func checkSeries(t *testing.T, text, name string, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := series(text, name); !slices.Equal(got, want) {
		t.Errorf("%s:\ngot\n  %s\nwant\n  %s", name, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func planSHA(t *testing.T, p *plan.Plan) string {
	t.Helper()
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func TestMetrics(t *testing.T) {
	mir := newMirror(t)
	metrics := NewMetrics()
	p := plantest.Plan(mir.URL)
	p.Deployment = "test"
	p.Feeds = append(p.Feeds, plan.Feed{Name: "gcp", SyncToken: "7", Created: "2026-01-02T00:00:00"})
	h := New(p, WithMetrics(metrics))

	text := scrape(t, metrics)
	checkSeries(t, text, "regedge_requests_total")
	checkSeries(t, text, "regedge_reloads_total")
	checkSeries(t, text, "regedge_plan_info", `regedge_plan_info{deployment="test",plan_sha256="`+planSHA(t, p)+`",policy_sha256=""} 1`)
	checkSeries(t, text, "regedge_feed_info",
		`regedge_feed_info{created="2026-01-01-00-00-00",feed="aws",sync_token="1"} 1`,
		`regedge_feed_info{created="2026-01-02T00:00:00",feed="gcp",sync_token="7"} 1`)

	serve(h, "GET", "/v2/", "")
	serve(h, "HEAD", "/healthz", "")
	serve(h, "GET", "/v2/_catalog", "")
	serve(h, "POST", "/v2/", "")
	serve(h, "GET", "/v2/%2e%2e/x", "")
	serve(h, "GET", "/", "")
	serve(h, "GET", "/v2/pause/blobs/"+presentDigest, xff(clientEast))
	serve(h, "GET", "/v2/pause/blobs/"+presentDigest, xff(clientEast))
	serve(h, "GET", "/v2/pause/blobs/"+absentDigest, xff(clientEast))
	serve(h, "GET", "/v2/pause/manifests/latest", xff(clientOther))
	serve(h, "GET", "/v2/pause/blobs/"+presentDigest, xff(clientDefault))
	serve(h, "GET", "/v2/pause/manifests/"+sig, xff(clientEast))
	serve(h, "GET", "/v2/pause/tags/list", xff(clientEast))

	text = scrape(t, metrics)
	checkSeries(t, text, "regedge_requests_total",
		`regedge_requests_total{outcome="none",route="",rule="version",status="200"} 1`,
		`regedge_requests_total{outcome="none",route="",rule="health",status="200"} 1`,
		`regedge_requests_total{outcome="none",route="",rule="not_found",status="404"} 1`,
		`regedge_requests_total{outcome="none",route="",rule="method",status="405"} 1`,
		`regedge_requests_total{outcome="none",route="",rule="unsafe_path",status="404"} 1`,
		`regedge_requests_total{outcome="none",route="",rule="info",status="307"} 1`,
		`regedge_requests_total{outcome="site",route="east-blob",rule="blob",status="307"} 2`,
		`regedge_requests_total{outcome="fallback",route="east-blob",rule="blob",status="307"} 1`,
		`regedge_requests_total{outcome="upstream",route="other-manifest",rule="manifest",status="307"} 1`,
		`regedge_requests_total{outcome="upstream",route="default-blob",rule="blob",status="307"} 1`,
		`regedge_requests_total{outcome="upstream",route="east-signature",rule="signature",status="307"} 1`,
		`regedge_requests_total{outcome="upstream",route="east-tags",rule="tags",status="307"} 1`,
	)
	// Every request is timed, by rule.
	checkSeries(t, text, "regedge_request_duration_seconds_count",
		`regedge_request_duration_seconds_count{rule="blob"} 4`,
		`regedge_request_duration_seconds_count{rule="health"} 1`,
		`regedge_request_duration_seconds_count{rule="info"} 1`,
		`regedge_request_duration_seconds_count{rule="manifest"} 1`,
		`regedge_request_duration_seconds_count{rule="method"} 1`,
		`regedge_request_duration_seconds_count{rule="not_found"} 1`,
		`regedge_request_duration_seconds_count{rule="privacy"} 0`,
		`regedge_request_duration_seconds_count{rule="referrers"} 0`,
		`regedge_request_duration_seconds_count{rule="signature"} 1`,
		`regedge_request_duration_seconds_count{rule="tags"} 1`,
		`regedge_request_duration_seconds_count{rule="unsafe_path"} 1`,
		`regedge_request_duration_seconds_count{rule="version"} 1`,
	)
	checkSeries(t, text, "regedge_redirects_total",
		`regedge_redirects_total{target="east"} 2`,
		`regedge_redirects_total{target="upstream:main"} 4`,
		`regedge_redirects_total{target="upstream:other"} 1`,
	)
	checkSeries(t, text, "regedge_existence_checks_total",
		`regedge_existence_checks_total{cached="false",result="present",site="east"} 1`,
		`regedge_existence_checks_total{cached="true",result="present",site="east"} 1`,
		`regedge_existence_checks_total{cached="false",result="absent",site="east"} 1`,
	)
	// Only checks that reached the mirror are timed.
	checkSeries(t, text, "regedge_existence_check_seconds_count", `regedge_existence_check_seconds_count{site="east"} 2`)

	metrics.Reloaded(true)
	metrics.Reloaded(true)
	metrics.Reloaded(false)
	text = scrape(t, metrics)
	checkSeries(t, text, "regedge_reloads_total",
		`regedge_reloads_total{result="success"} 2`,
		`regedge_reloads_total{result="failure"} 1`,
	)

	// A Swap replaces the plan and feed info; counters carry on.
	before := time.Now().Unix()
	q := plantest.Plan(mir.URL)
	q.Deployment = "next"
	q.Feeds[0].SyncToken = "1800000000"
	q.Feeds[0].CreatedUnix = 1700000000
	h.Swap(q)
	text = scrape(t, metrics)
	checkSeries(t, text, "regedge_plan_info", `regedge_plan_info{deployment="next",plan_sha256="`+planSHA(t, q)+`",policy_sha256=""} 1`)
	checkSeries(t, text, "regedge_feed_info", `regedge_feed_info{created="2026-01-01-00-00-00",feed="aws",sync_token="1800000000"} 1`)
	checkSeries(t, text, "regedge_feed_created_timestamp_seconds", `regedge_feed_created_timestamp_seconds{feed="aws"} 1.7e+09`)
	if got := series(text, "regedge_last_reload_success_timestamp_seconds"); len(got) != 1 {
		t.Errorf("regedge_last_reload_success_timestamp_seconds: %q", got)
	} else if v, _ := strconv.ParseFloat(strings.Fields(got[0])[1], 64); v < float64(before) {
		t.Errorf("the last reload was at %v, before the Swap at %d", v, before)
	}
	if got := series(text, "regedge_redirects_total"); len(got) != 3 {
		t.Errorf("redirects after Swap: %q, want the 3 series kept", got)
	}
}

func TestMetricsErrorCheck(t *testing.T) {
	s := httptest.NewServer(nil)
	url := s.URL
	s.Close()
	metrics := NewMetrics()
	h := New(plantest.Plan(url), WithMetrics(metrics))
	serve(h, "GET", "/v2/pause/blobs/"+presentDigest, xff(clientEast))
	serve(h, "GET", "/v2/pause/blobs/"+presentDigest, xff(clientEast))
	text := scrape(t, metrics)
	// A refused connection is not cached, so each request checks again.
	checkSeries(t, text, "regedge_existence_checks_total",
		`regedge_existence_checks_total{cached="false",result="error",site="east"} 2`)
	checkSeries(t, text, "regedge_requests_total",
		`regedge_requests_total{outcome="fallback",route="east-blob",rule="blob",status="307"} 2`)
}

func TestBuildInfo(t *testing.T) {
	text := scrape(t, NewMetrics())
	got := series(text, "regedge_build_info")
	if len(got) != 1 || !strings.Contains(got[0], `goversion="go`) || !strings.Contains(got[0], `version="`) || !strings.HasSuffix(got[0], " 1") {
		t.Errorf("regedge_build_info = %q", got)
	}
}

func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.Reloaded(true) // must not panic
	h := New(plantest.Plan("http://mirror.invalid"))
	if w := serve(h, "GET", "/v2/", ""); w.Code != 200 {
		t.Errorf("status %d without metrics, want 200", w.Code)
	}
}
