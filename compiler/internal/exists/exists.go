// Package exists answers whether a blob is at a mirror site: a HEAD request,
// with answers cached for the policy's TTLs in a bounded cache and
// concurrent checks of one URL collapsed into one request.
package exists

import (
	"context"
	"fmt"
	"net/http"
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
}

// Observer is told about every check, for metrics. It may be nil.
type Observer func(site string, r Result, took time.Duration)

// Checker checks blobs at sites. It is safe for concurrent use.
type Checker struct {
	config  plan.Check
	client  *http.Client
	cache   *lru.Cache[string, answer]
	flight  singleflight.Group
	observe Observer
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

// New returns a Checker with the plan's TTLs, timeout and cache size.
// client is used for the HEAD requests; it must not follow redirects, as a
// redirect is not the blob. A nil client gets one that does not, reads at
// most maxHeaderBytes of header and keeps connections to every mirror
// alive, so an uncached check is one round trip.
func New(config plan.Check, client *http.Client, observe Observer) *Checker {
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
	if observe == nil {
		observe = func(string, Result, time.Duration) {}
	}
	return &Checker{config: config, client: client, cache: cache, observe: observe, now: time.Now}
}

// Config returns the settings the Checker was made with.
func (c *Checker) Config() plan.Check { return c.config }

// Len returns how many answers the cache holds.
func (c *Checker) Len() int { return c.cache.Len() }

// Exists reports whether the blob at url, a URL of site, is there, as
// docs/request-handling.md's rule 10 says: a 2xx is present, a 3xx or 4xx
// absent, and anything else no answer (Err set), which is not cached. A cancelled
// ctx does not cancel a check other requests share; the check's own
// timeout bounds it.
func (c *Checker) Exists(ctx context.Context, site, url string) Result {
	if a, ok := c.cache.Get(url); ok && c.now().Before(a.expires) {
		r := Result{Present: a.present, Cached: true, Status: a.status}
		c.observe(site, r, 0)
		return r
	}
	ch := c.flight.DoChan(url, func() (any, error) {
		start := c.now()
		r := c.head(url)
		c.observe(site, r, c.now().Sub(start))
		// Only a mirror's own answer is cached, as nginx caches only what
		// the mirror sent: a mirror that is down is asked again.
		if r.Err == nil {
			ttl := c.config.NegativeTTL
			if r.Present {
				ttl = c.config.PositiveTTL
			}
			c.cache.Add(url, answer{present: r.Present, status: r.Status, expires: c.now().Add(time.Duration(ttl))})
		}
		return r, nil
	})
	select {
	case res := <-ch:
		return res.Val.(Result)
	case <-ctx.Done():
		return Result{Err: ctx.Err()}
	}
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
