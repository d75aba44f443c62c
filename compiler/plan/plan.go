// Package plan turns a policy and its feed snapshots into the one form every
// target renders: sorted tables of address intervals, each labelled with what
// its clients' requests are routed to.
package plan

import (
	"net/netip"
	"time"

	"github.com/regedge/regedge/compiler/request"
)

// Plan is everything a target needs to answer requests. Every list in it is
// sorted, so the same policy and feeds always give the same plan.
type Plan struct {
	Deployment string     `json:"deployment,omitempty"`
	Registry   Registry   `json:"registry"`
	ClientIP   ClientIP   `json:"client_ip"`
	Upstreams  []Upstream `json:"upstreams"`
	Sites      []Site     `json:"sites"`
	Check      *Check     `json:"check,omitempty"`
	Labels     []Label    `json:"labels"`
	// Default is the label of addresses that no feed lists.
	Default int `json:"default_label"`
	// V4 and V6 hold every address some feed lists, except where the
	// label would be Default. Source is unused.
	V4    []Interval `json:"ipv4"`
	V6    []Interval `json:"ipv6"`
	Feeds []Feed     `json:"feeds"`
	Nginx Nginx      `json:"nginx"`
	Edges []Edge     `json:"edges"`

	// Trace explains a decision; targets never read it.
	Trace *Trace `json:"-"`
	// PolicySHA256 identifies the policy text (with its override) the plan
	// was built from, for the proxy's metrics. It stays out of plan.json,
	// which depends only on what the policy means.
	PolicySHA256 string `json:"-"`
}

// Registry holds the pages the registry serves itself.
type Registry struct {
	InfoURL    string `json:"info_url"`
	PrivacyURL string `json:"privacy_url"`
}

// ClientIP says where the client address comes from: the TCP peer when
// Header is empty, else the entry TrustedHops places from the right of the
// header's comma-separated list (repeated lines form one list).
type ClientIP struct {
	Header      string `json:"header,omitempty"`
	TrustedHops int    `json:"trusted_hops"`
}

// Upstream is a registry that holds every manifest and blob.
type Upstream struct {
	Name     string `json:"name"`
	Endpoint string `json:"endpoint"`
	Prefix   string `json:"prefix"`
}

// Site is a mirror holding copies of blobs.
type Site struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	// BlobPath holds "{digest}" where the blob's digest goes.
	BlobPath string `json:"blob_path"`
}

// Check configures the blob existence check at a site.
type Check struct {
	PositiveTTL Duration `json:"positive_ttl"`
	NegativeTTL Duration `json:"negative_ttl"`
	Timeout     Duration `json:"timeout"`
	CacheSize   int      `json:"cache_size"`
	// DownAfter checks in a row without an answer make a site down for
	// DownFor, doubled after each failed trial up to DownForMax. With 0,
	// a site is never down.
	DownAfter  int      `json:"down_after"`
	DownFor    Duration `json:"down_for"`
	DownForMax Duration `json:"down_for_max"`
}

// Duration is a time.Duration written as a Go duration string.
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler, so plan.json reads
// back.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	*d = Duration(v)
	return err
}

// Seconds returns the duration in whole seconds, rounded up.
func (d Duration) Seconds() int64 {
	return int64((time.Duration(d) + time.Second - 1) / time.Second)
}

// Milliseconds returns the duration in whole milliseconds, rounded up.
func (d Duration) Milliseconds() int64 {
	return int64((time.Duration(d) + time.Millisecond - 1) / time.Millisecond)
}

// Label is one routing outcome: the action for each request kind. Clients
// whose requests are all routed alike share a label.
type Label struct {
	Name string `json:"name"`
	// Classes are the "cloud:region" client classes with this label.
	Classes []string `json:"classes"`
	// Actions has one entry per request.Kinds, in that order.
	Actions []Action `json:"actions"`
}

// Action is what a request of one kind gets: a redirect to Site if the blob
// is there (or unchecked), else to Upstream.
type Action struct {
	Kind     request.Kind `json:"kind"`
	Route    string       `json:"route"`
	Upstream string       `json:"upstream"`
	Site     string       `json:"site,omitempty"`
}

// Feed records the snapshot a plan was built from.
type Feed struct {
	Name      string `json:"name"`
	Format    string `json:"format"`
	Cloud     string `json:"cloud"`
	URL       string `json:"url"`
	SyncToken string `json:"sync_token"`
	Created   string `json:"created"`
	// CreatedUnix is Created in Unix seconds, 0 when the format publishes
	// no creation time: what a stale feed can be alerted on.
	CreatedUnix int64 `json:"created_unix,omitempty"`
	Prefixes    int   `json:"prefixes"`
}

// Nginx holds settings only the nginx target uses.
type Nginx struct {
	Listen          []string `json:"listen"`
	WorkerProcesses string   `json:"worker_processes"`
	Resolver        []string `json:"resolver,omitempty"`
	// StateDir is where nginx keeps its pid file, temp files and cache.
	StateDir string `json:"state_dir"`
}

// Edge holds one edge target's settings.
type Edge struct {
	Name string `json:"name"`
	// Check is false when the target answers blobs without checking.
	Check bool `json:"check"`
	// ClientIP is how the target finds the client.
	ClientIP ClientIP `json:"client_ip"`
	Listen   []string `json:"listen,omitempty"`
	// ProbeStatus is the status Fastly's health probe expects of every
	// mirror; 0 for the other targets.
	ProbeStatus int `json:"probe_status,omitempty"`
}

// For returns the plan as a target sees it: with its own client address
// rule, and without the existence check if the target does not check.
// Targets without settings of their own (nginx, the proxy) see p itself.
func (p *Plan) For(target string) *Plan {
	for _, e := range p.Edges {
		if e.Name != target {
			continue
		}
		q := *p
		q.ClientIP = e.ClientIP
		if !e.Check {
			q.Check = nil
		}
		return &q
	}
	return p
}

// Trace keeps, for each address, the feed entry that decided its class.
type Trace struct {
	V4, V6  []Interval // Label is a class index, Source an entry index
	Classes []Class
	Entries []Entry
}

// Class is a client class: a cloud and a region.
type Class struct {
	Cloud, Region string
}

// String returns "cloud:region", or the cloud alone for unknown clients.
func (c Class) String() string {
	if c.Region == "" {
		return c.Cloud
	}
	return c.Cloud + ":" + c.Region
}

// Entry is a feed prefix as the plan used it.
type Entry struct {
	Prefix netip.Prefix
	Feed   string
	Class  int
}

// Lookup returns the label of a client address. An IPv4-mapped IPv6 address
// is looked up as its IPv4 address.
func (p *Plan) Lookup(addr netip.Addr) int {
	addr = addr.Unmap()
	table := p.V6
	if addr.Is4() {
		table = p.V4
	}
	i := Find(table, addr)
	if i < 0 {
		return p.Default
	}
	return table[i].Label
}

// Action returns the action for a request kind under a label.
func (p *Plan) Action(label int, kind request.Kind) Action {
	for _, a := range p.Labels[label].Actions {
		if a.Kind == kind {
			return a
		}
	}
	panic("plan: no action for kind " + string(kind))
}

// Upstream returns the upstream with the given name.
func (p *Plan) Upstream(name string) Upstream {
	for _, u := range p.Upstreams {
		if u.Name == name {
			return u
		}
	}
	panic("plan: no upstream " + name)
}

// Site returns the site with the given name.
func (p *Plan) Site(name string) Site {
	for _, s := range p.Sites {
		if s.Name == name {
			return s
		}
	}
	panic("plan: no site " + name)
}
