// Package proxy is regedge's runtime fallback: a handler, for fasthttp
// (what `regedge serve` runs) and for net/http, that answers every request
// as docs/request-handling.md says, from the same plan the
// generated configs are rendered from. It is also the executable reference
// for what a policy means.
package proxy

import (
	"context"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/regedge/regedge/compiler/internal/answer"
	"github.com/regedge/regedge/compiler/internal/exists"
	"github.com/regedge/regedge/compiler/internal/lookup"
	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

// Handler answers registry requests. Swap replaces its plan atomically: a
// request is answered wholly by the plan it started with.
type Handler struct {
	state   atomic.Pointer[state]
	log     *slog.Logger
	metrics *Metrics
}

// state is everything one plan needs to answer requests.
type state struct {
	plan    *plan.Plan
	table   *lookup.Table
	checker *exists.Checker // nil when the plan checks nothing
}

// Option configures a Handler.
type Option func(*Handler)

// WithLogger logs one line per decision, at debug level, to l.
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// WithMetrics records requests, redirects and checks in m.
func WithMetrics(m *Metrics) Option { return func(h *Handler) { h.metrics = m } }

// New returns a Handler serving p.
func New(p *plan.Plan, opts ...Option) *Handler {
	h := &Handler{log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(h)
	}
	h.Swap(p)
	return h
}

// Swap makes p the plan for every request that starts from now on. The
// existence cache carries over when the check settings are unchanged.
func (h *Handler) Swap(p *plan.Plan) {
	s := &state{plan: p, table: lookup.New(p)}
	if p.Check != nil {
		if old := h.state.Load(); old != nil && old.checker != nil && old.checker.Config() == *p.Check {
			s.checker = old.checker
		} else {
			s.checker = exists.New(*p.Check, exists.Options{Observe: h.metrics.observeCheck, Changed: h.siteChanged})
		}
	}
	h.state.Store(s)
	h.metrics.setPlan(p, s.checker)
}

// siteChanged logs a site going down or coming back, once each time, and
// sets its regedge_site_up.
func (h *Handler) siteChanged(c exists.Change) {
	h.metrics.setSiteUp(c.Site, c.Up)
	if c.Up {
		h.log.Info("site up: its blobs are redirected to it again", "site", c.Site)
		return
	}
	h.log.Warn("site down: its clients get the route's fallback without a check", "site", c.Site,
		"failures", c.Failures, "for", c.For.String())
}

// Plan returns the plan in use.
func (h *Handler) Plan() *plan.Plan { return h.state.Load().plan }

// decide answers in by the plan in use, records it in the metrics and logs
// it at debug level. ctx bounds the existence check.
func (h *Handler) decide(ctx context.Context, in incoming) answer.Response {
	start := time.Now()
	s := h.state.Load()
	target := in.target()
	req := request.Parse(in.method(), target)
	client := clientAddr(s.plan.ClientIP, in)
	label := s.table.Label(client)
	res := answer.For(s.plan, req, label, func(site, url string) bool {
		return s.checker.Exists(ctx, site, url).Present
	})
	h.metrics.observeRequest(s.plan, req, label, res, time.Since(start))
	// Building the line's arguments costs more than the decision itself.
	if h.log.Enabled(ctx, slog.LevelDebug) {
		h.log.Debug("decision", "method", in.method(), "target", target, "client", client,
			"label", s.plan.Labels[label].Name, "rule", int(req.Rule), "route", res.Route,
			"site", res.Site, "status", res.Status, "location", res.Location)
	}
	return res
}

// incoming is a request as the rules read it, whichever server took it.
type incoming interface {
	method() string
	// target is the path and query as the client sent them.
	target() string
	// header is every line of the named header, joined with commas, as
	// nginx reads X-Forwarded-For.
	header(name string) string
	// peer is the TCP peer's address.
	peer() netip.Addr
}

// clientAddr finds the client's address by the policy's rule: the TCP
// peer, or the header entry answer.HeaderClient picks.
func clientAddr(rule plan.ClientIP, in incoming) netip.Addr {
	if rule.Header == "" {
		return in.peer()
	}
	return answer.HeaderClient(in.header(rule.Header), rule.TrustedHops)
}
