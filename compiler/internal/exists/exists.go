// Package exists answers whether a blob is at a mirror site: a HEAD request,
// with answers cached for the policy's TTLs in a bounded cache and
// concurrent checks of one URL collapsed into one request.
package exists

import (
	"context"
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

// New returns a Checker with the plan's TTLs, timeout and cache size.
// client is used for the HEAD requests; it must not follow redirects, as a
// redirect is not the blob. A nil client gets one that does not.
func New(config plan.Check, client *http.Client, observe Observer) *Checker {
	if client == nil {
		client = &http.Client{
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

// Exists reports whether the blob at url, a URL of site, is there. Any
// failure (refused, timeout, an error status) counts as absent. A cancelled
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
	return Result{Present: resp.StatusCode >= 200 && resp.StatusCode < 300, Status: resp.StatusCode}
}
