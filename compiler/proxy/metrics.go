package proxy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/regedge/regedge/compiler/answer"
	"github.com/regedge/regedge/compiler/exists"
	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

// Metrics holds the proxy's Prometheus metrics in a registry of its own. A
// nil *Metrics records nothing.
type Metrics struct {
	registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	redirects *prometheus.CounterVec
	checks    *prometheus.CounterVec
	checkTime *prometheus.HistogramVec
	planInfo  *prometheus.GaugeVec
	feedInfo  *prometheus.GaugeVec
	reloads   *prometheus.CounterVec
}

// NewMetrics returns a Metrics with every metric registered, plus the Go
// runtime and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "regedge_requests_total",
			Help: "Requests answered, by rule of docs/request-handling.md, policy route and outcome.",
		}, []string{"rule", "route", "outcome"}),
		redirects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "regedge_redirects_total",
			Help: "Redirects, by target: a site's name, or upstream:NAME.",
		}, []string{"target"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "regedge_existence_checks_total",
			Help: "Blob existence checks, by site, result (present, absent, error) and whether the cache answered.",
		}, []string{"site", "result", "cached"}),
		checkTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "regedge_existence_check_seconds",
			Help:    "Time taken by existence checks that reached the mirror, by site.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}, []string{"site"}),
		planInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "regedge_plan_info",
			Help: "The plan in use: 1 for its deployment and the SHA-256 of its JSON.",
		}, []string{"deployment", "plan_sha256"}),
		feedInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "regedge_feed_info",
			Help: "The feeds of the plan in use: 1 per feed with its syncToken and creation time.",
		}, []string{"feed", "sync_token", "created"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "regedge_reloads_total",
			Help: "Policy reloads, by result (success or failure).",
		}, []string{"result"}),
	}
	m.registry.MustRegister(m.requests, m.redirects, m.checks, m.checkTime, m.planInfo, m.feedInfo, m.reloads,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Reloaded counts a reload.
func (m *Metrics) Reloaded(ok bool) {
	if m == nil {
		return
	}
	result := "success"
	if !ok {
		result = "failure"
	}
	m.reloads.WithLabelValues(result).Inc()
}

var ruleNames = map[request.Rule]string{
	request.RuleMethod: "method", request.RuleUnsafePath: "unsafe_path", request.RuleInfo: "info",
	request.RulePrivacy: "privacy", request.RuleVersion: "version", request.RuleSignature: "signature",
	request.RuleManifest: "manifest", request.RuleTags: "tags", request.RuleReferrers: "referrers",
	request.RuleBlob: "blob", request.RuleHealth: "health", request.RuleNotFound: "not_found",
}

func (m *Metrics) observeRequest(p *plan.Plan, req request.Request, label int, res answer.Response) {
	if m == nil {
		return
	}
	outcome := strconv.Itoa(res.Status)
	if res.Route != "" {
		a := p.Action(label, req.Kind)
		switch {
		case res.Site != "":
			outcome = "site"
			m.redirects.WithLabelValues(res.Site).Inc()
		case a.Site != "":
			// The route wanted a site, which lacked the blob.
			outcome = "fallback"
			m.redirects.WithLabelValues("upstream:" + a.Upstream).Inc()
		default:
			outcome = "upstream"
			m.redirects.WithLabelValues("upstream:" + a.Upstream).Inc()
		}
	}
	m.requests.WithLabelValues(ruleNames[req.Rule], res.Route, outcome).Inc()
}

func (m *Metrics) observeCheck(site string, r exists.Result, took time.Duration) {
	if m == nil {
		return
	}
	result := "absent"
	switch {
	case r.Err != nil:
		result = "error"
	case r.Present:
		result = "present"
	}
	m.checks.WithLabelValues(site, result, strconv.FormatBool(r.Cached)).Inc()
	if !r.Cached {
		m.checkTime.WithLabelValues(site).Observe(took.Seconds())
	}
}

func (m *Metrics) setPlan(p *plan.Plan) {
	if m == nil {
		return
	}
	data, _ := json.Marshal(p)
	sum := sha256.Sum256(data)
	m.planInfo.Reset()
	m.planInfo.WithLabelValues(p.Deployment, hex.EncodeToString(sum[:])).Set(1)
	m.feedInfo.Reset()
	for _, f := range p.Feeds {
		m.feedInfo.WithLabelValues(f.Name, f.SyncToken, f.Created).Set(1)
	}
}
