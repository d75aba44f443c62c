package proxy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/regedge/regedge/compiler/internal/answer"
	"github.com/regedge/regedge/compiler/internal/exists"
	"github.com/regedge/regedge/compiler/internal/version"
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
	siteUp    *prometheus.GaugeVec
	planInfo  *prometheus.GaugeVec
	feedInfo  *prometheus.GaugeVec
	feedTime  *prometheus.GaugeVec
	reloads   *prometheus.CounterVec
	reloaded  prometheus.Gauge
	// durations holds regedge_request_duration_seconds's series by rule.
	durations [request.RuleNotFound + 1]prometheus.Observer
	// checker is the existence checker in use, whose cache size is
	// exported.
	checker atomic.Pointer[exists.Checker]
	// The series requests and redirects have used, by requestKey and by
	// target.
	requestSeries, redirectSeries sync.Map
}

// NewMetrics returns a Metrics with every metric registered, plus the Go
// runtime and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "regedge_requests_total",
			Help: "Requests answered, by rule of docs/request-handling.md, policy route, outcome (site, upstream, fallback, or none when no route decided) and HTTP status.",
		}, []string{"rule", "route", "outcome", "status"}),
		redirects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "regedge_redirects_total",
			Help: "Redirects, by target: a site's name, or upstream:NAME.",
		}, []string{"target"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "regedge_existence_checks_total",
			Help: "Blob existence checks, by site, result (present, absent, error, or down when the site was down and not asked) and whether the cache answered.",
		}, []string{"site", "result", "cached"}),
		checkTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "regedge_existence_check_seconds",
			Help:    "Time taken by existence checks that reached the mirror, by site.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}, []string{"site"}),
		siteUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "regedge_site_up",
			Help: "1 while a site is up, 0 while it is down by the health rule of docs/request-handling.md.",
		}, []string{"site"}),
		planInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "regedge_plan_info",
			Help: "The plan in use: 1 for its deployment, the SHA-256 of its JSON and that of the policy text it came from.",
		}, []string{"deployment", "plan_sha256", "policy_sha256"}),
		feedInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "regedge_feed_info",
			Help: "The feeds of the plan in use: 1 per feed with its syncToken and creation time.",
		}, []string{"feed", "sync_token", "created"}),
		feedTime: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "regedge_feed_created_timestamp_seconds",
			Help: "When each feed of the plan in use says it was created, in Unix seconds; absent for a feed that publishes no time.",
		}, []string{"feed"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "regedge_reloads_total",
			Help: "Policy reloads, by result (success or failure).",
		}, []string{"result"}),
		reloaded: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "regedge_last_reload_success_timestamp_seconds",
			Help: "When the plan in use was loaded, at start or by a reload, in Unix seconds.",
		}),
	}
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "regedge_request_duration_seconds",
		Help:    "Time to decide an answer, existence check included, by rule of docs/request-handling.md.",
		Buckets: prometheus.ExponentialBuckets(0.00001, 4, 12),
	}, []string{"rule"})
	for rule, name := range ruleNames {
		m.durations[rule] = duration.WithLabelValues(name)
	}
	v := version.Get()
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "regedge_build_info",
		Help: "1, with the version of regedge, the source revision it was built from and the Go version.",
	}, []string{"version", "revision", "goversion"})
	buildInfo.WithLabelValues(v.Version, v.Revision, v.Go).Set(1)
	cacheEntries := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "regedge_existence_cache_entries",
		Help: "Answers the existence cache holds; at most the policy's cache_size.",
	}, func() float64 {
		if c := m.checker.Load(); c != nil {
			return float64(c.Len())
		}
		return 0
	})
	m.registry.MustRegister(m.requests, m.redirects, m.checks, m.checkTime, m.siteUp, m.planInfo, m.feedInfo, m.feedTime, m.reloads, m.reloaded,
		duration, buildInfo, cacheEntries,
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

// ruleNames are the values of the rule label, one per rule of
// docs/request-handling.md; the README lists them with their numbers.
var ruleNames = map[request.Rule]string{
	request.RuleMethod: "method", request.RuleUnsafePath: "unsafe_path", request.RuleInfo: "info",
	request.RulePrivacy: "privacy", request.RuleVersion: "version", request.RuleSignature: "signature",
	request.RuleManifest: "manifest", request.RuleTags: "tags", request.RuleReferrers: "referrers",
	request.RuleBlob: "blob", request.RuleHealth: "health", request.RuleNotFound: "not_found",
}

// requestKey names one series of regedge_requests_total.
type requestKey struct {
	rule    request.Rule
	route   string
	outcome string
	status  int
}

func (m *Metrics) observeRequest(p *plan.Plan, req request.Request, label int, res answer.Response, took time.Duration) {
	if m == nil {
		return
	}
	m.durations[req.Rule].Observe(took.Seconds())
	key := requestKey{rule: req.Rule, route: res.Route, status: res.Status}
	if res.Route == "" {
		key.outcome = "none"
	} else {
		a := p.Action(label, req.Kind)
		target := "upstream:" + a.Upstream
		switch {
		case res.Site != "":
			key.outcome, target = "site", res.Site
		case a.Site != "":
			// The route wanted a site, which lacked the blob.
			key.outcome = "fallback"
		default:
			key.outcome = "upstream"
		}
		cached(&m.redirectSeries, target, func() prometheus.Counter { return m.redirects.WithLabelValues(target) }).Inc()
	}
	cached(&m.requestSeries, key, func() prometheus.Counter {
		return m.requests.WithLabelValues(ruleNames[key.rule], key.route, key.outcome, statusText(key.status))
	}).Inc()
}

// cached returns the counter stored under key, making it the first time:
// looking a series up by its label values costs more than the request.
func cached[K comparable](series *sync.Map, key K, make func() prometheus.Counter) prometheus.Counter {
	if c, ok := series.Load(key); ok {
		return c.(prometheus.Counter)
	}
	c, _ := series.LoadOrStore(key, make())
	return c.(prometheus.Counter)
}

// statusText is the status label of an answer.
func statusText(status int) string {
	switch status {
	case 200:
		return "200"
	case 307:
		return "307"
	case 404:
		return "404"
	case 405:
		return "405"
	}
	return strconv.Itoa(status)
}

func (m *Metrics) observeCheck(site string, r exists.Result, took time.Duration) {
	if m == nil {
		return
	}
	result := "absent"
	switch {
	case r.Down:
		result = "down"
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

func (m *Metrics) setPlan(p *plan.Plan, checker *exists.Checker) {
	if m == nil {
		return
	}
	m.checker.Store(checker)
	data, _ := json.Marshal(p)
	sum := sha256.Sum256(data)
	m.planInfo.Reset()
	m.planInfo.WithLabelValues(p.Deployment, hex.EncodeToString(sum[:]), p.PolicySHA256).Set(1)
	m.feedInfo.Reset()
	m.feedTime.Reset()
	for _, f := range p.Feeds {
		m.feedInfo.WithLabelValues(f.Name, f.SyncToken, f.Created).Set(1)
		if f.CreatedUnix != 0 {
			m.feedTime.WithLabelValues(f.Name).Set(float64(f.CreatedUnix))
		}
	}
	m.siteUp.Reset()
	if checker != nil {
		for _, site := range p.Sites {
			m.setSiteUp(site.Name, checker.Up(site.Name))
		}
	}
	m.reloaded.SetToCurrentTime()
}

// setSiteUp sets regedge_site_up for site.
func (m *Metrics) setSiteUp(site string, up bool) {
	if m == nil {
		return
	}
	v := 0.0
	if up {
		v = 1
	}
	m.siteUp.WithLabelValues(site).Set(v)
}
