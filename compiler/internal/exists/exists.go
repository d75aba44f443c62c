// Package exists answers whether a blob is at a mirror site: a HEAD request,
// with answers cached for the policy's TTLs in a bounded cache, concurrent
// checks of one URL collapsed into one request, and a site that stops
// answering left alone for a while (health.go).
package exists

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/regedge/regedge/compiler/plan"
)

// Result is the outcome of one check.
type Result struct {
	Present bool
	// Cached is true when the answer came from the cache.
	Cached bool
	// Err is why the mirror gave no answer, or nil when it answered.
	Err error
	// Status is the mirror's HTTP status, 0 when it gave no answer.
	Status int
	// Down is true when the site was down and not asked (Err is ErrDown).
	Down bool
}

// ErrDown is the Err of a check not made because its site is down.
var ErrDown = errors.New("the site is down")

// Options are a Checker's optional parts.
type Options struct {
	// Client makes the HEAD requests; see New.
	Client *http.Client
	// Observe is told about every check, for metrics.
	Observe func(site string, r Result, took time.Duration)
	// Changed is told when a site goes down or comes back up.
	Changed func(Change)
}

// Checker checks blobs at sites. It is safe for concurrent use.
type Checker struct {
	config  plan.Check
	client  *http.Client
	cache   *lru.Cache[string, answer]
	flight  singleflight.Group
	sites   sync.Map // site name → *health
	observe func(site string, r Result, took time.Duration)
	changed func(Change)
	now     func() time.Time
}

type answer struct {
	present bool
	status  int
	expires time.Time
}

// The largest answer header docs/request-handling.md lets a target read:
// anything bigger is no answer on every target.
const (
	maxHeaderBytes  = 64 << 10
	maxHeaderFields = 100
)

// New returns a Checker with the plan's TTLs, timeout, cache size and
// health thresholds. opts.Client is used for the HEAD requests; it must not
// follow redirects, as a redirect is not the blob. A nil client gets one
// that does not, reads at most maxHeaderBytes of header and keeps
// connections to every mirror alive, so an uncached check is one round
// trip.
func New(config plan.Check, opts Options) *Checker {
	client := opts.Client
	if client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxResponseHeaderBytes = maxHeaderBytes
		t.MaxIdleConnsPerHost = 64
		client = &http.Client{
			Transport:     t,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	cache, err := lru.New[string, answer](max(config.CacheSize, 1))
	if err != nil {
		panic(err) // only for a non-positive size, excluded above
	}
	c := &Checker{config: config, client: client, cache: cache, observe: opts.Observe, changed: opts.Changed, now: time.Now}
	if c.observe == nil {
		c.observe = func(string, Result, time.Duration) {}
	}
	if c.changed == nil {
		c.changed = func(Change) {}
	}
	return c
}

// Config returns the settings the Checker was made with.
func (c *Checker) Config() plan.Check { return c.config }

// Len returns how many answers the cache holds.
func (c *Checker) Len() int { return c.cache.Len() }

// Exists reports whether the blob at url, a URL of site, is there, as
// docs/request-handling.md's rule 10 says: a 2xx is present, a 3xx or 4xx
// absent, and anything else no answer (Err set), which is not cached.
// While site is down it is not asked (Err is ErrDown) but for one trial
// check at the end of each down period, made in the background. A
// cancelled ctx does not cancel a check other requests share; the check's
// own timeout bounds it.
func (c *Checker) Exists(ctx context.Context, site, url string) Result {
	h := c.health(site)
	if h.isDown() {
		ok, trial := h.allow(c.now())
		if trial {
			// The trial runs on its own: no client waits for a site
			// that is down.
			go c.ask(site, url, h, true)
		}
		if !ok || trial {
			r := Result{Err: ErrDown, Down: true}
			c.observe(site, r, 0)
			return r
		}
		// Allowed without a trial: the site came back up since isDown.
	}
	if a, ok := c.cache.Get(url); ok && c.now().Before(a.expires) {
		r := Result{Present: a.present, Cached: true, Status: a.status}
		c.observe(site, r, 0)
		return r
	}
	ch := c.flight.DoChan(url, func() (any, error) {
		return c.ask(site, url, h, false), nil
	})
	select {
	case res := <-ch:
		return res.Val.(Result)
	case <-ctx.Done():
		return Result{Err: ctx.Err()}
	}
}

// Up says whether site is up: not down by the health rule.
func (c *Checker) Up(site string) bool { return !c.health(site).isDown() }

// health returns site's state, made on first use.
func (c *Checker) health(site string) *health {
	if h, ok := c.sites.Load(site); ok {
		return h.(*health)
	}
	h, _ := c.sites.LoadOrStore(site, &health{})
	return h.(*health)
}

// ask makes one check, records its outcome in the site's health and, when
// the mirror answered, in the cache. Only a mirror's own answer is cached:
// a mirror that gave none is asked again.
func (c *Checker) ask(site, url string, h *health, trial bool) Result {
	start := c.now()
	r := c.head(url)
	c.observe(site, r, c.now().Sub(start))
	if r.Err == nil {
		ttl := c.config.NegativeTTL
		if r.Present {
			ttl = c.config.PositiveTTL
		}
		c.cache.Add(url, answer{present: r.Present, status: r.Status, expires: c.now().Add(time.Duration(ttl))})
	}
	if change, ok := h.record(c.now(), r.Err == nil, trial, c.config); ok {
		change.Site = site
		c.changed(change)
	}
	return r
}

func (c *Checker) head(url string) Result {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(c.config.Timeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
	if err != nil {
		return Result{Err: err}
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return Result{Err: err}
	}
	resp.Body.Close()
	code := resp.StatusCode
	switch {
	case code < 200 || code > 599:
		// Interim answers never get here: the transport skips them.
		return Result{Err: fmt.Errorf("status %d is no answer", code)}
	case code >= 500:
		return Result{Err: fmt.Errorf("status %d", code), Status: code}
	case fields(resp.Header) > maxHeaderFields:
		return Result{Err: fmt.Errorf("more than %d header fields", maxHeaderFields)}
	}
	return Result{Present: code < 300, Status: code}
}

// fields counts a header's field lines.
func fields(h http.Header) int {
	n := 0
	for _, v := range h {
		n += len(v)
	}
	return n
}
