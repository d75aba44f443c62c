package config

import (
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/regedge/regedge/compiler/request"
)

// Policy is one deployment's policy, decoded and checked.
type Policy struct {
	Deployment string // "" for a policy without deployment blocks
	Registry   Registry
	ClientIP   ClientIP
	Feeds      []*Feed
	Upstreams  []*Upstream
	Sites      []*Site
	Mirror     Mirror
	Routes     []*Route
	Nginx      Nginx
	// Edges holds the settings of each edge target, sorted by name.
	Edges []Edge
}

// Registry holds the pages the registry serves itself.
type Registry struct {
	InfoURL    string
	PrivacyURL string
}

// ClientIP says where the client address comes from. An empty Header means
// the TCP peer.
type ClientIP struct {
	Header string
	// TrustedHops is how many entries, counted from the right of the
	// header's list, were appended by proxies we trust and are skipped.
	TrustedHops int
}

// Feed is one cloud IP range snapshot.
type Feed struct {
	Name            string
	Format          string
	Cloud           string
	File            string // resolved against the policy file's folder
	URL             string
	Priority        int
	ExcludeRegions  []string
	ExcludeServices []string
	// MaxShrink is the largest fraction of its prefixes one feed update may
	// drop.
	MaxShrink float64
	DefRange  hcl.Range
}

// DefaultMaxShrink is a feed's max_shrink when the policy gives none.
const DefaultMaxShrink = 0.05

// Upstream is a registry that holds every manifest and blob.
type Upstream struct {
	Name     string
	Endpoint string // scheme://host[:port]
	Prefix   string // repository path prefix, no leading or trailing slash
	DefRange hcl.Range
}

// Site is one mirror holding copies of blobs.
type Site struct {
	Name     string
	URL      string // base URL, no trailing slash
	BlobPath string // starts with "/", contains "{digest}" once
	Regions  []Pattern
	DefRange hcl.Range
}

// Pattern matches client classes: a cloud and a region, where a region
// ending in "*" matches every region with that prefix.
type Pattern struct {
	Cloud  string
	Region string
	Range  hcl.Range
}

// Mirror holds what all sites share.
type Mirror struct {
	DefaultSite string
	Check       *Check // nil when blobs are redirected without checking
	DefRange    hcl.Range
}

// Check configures the existence check made before a blob is redirected to
// a site.
type Check struct {
	PositiveTTL time.Duration
	NegativeTTL time.Duration
	Timeout     time.Duration
	CacheSize   int
	// The health rule: DownAfter checks in a row without an answer make a
	// site down for DownFor, doubled after each failed trial up to
	// DownForMax.
	DownAfter  int
	DownFor    time.Duration
	DownForMax time.Duration
}

// Route is one ordered routing rule.
type Route struct {
	Name     string
	Kinds    []request.Kind
	Clouds   []string // empty matches every client
	Regions  []Pattern
	To       Target
	Fallback string // upstream used when the site lacks the blob
	DefRange hcl.Range
}

// Target is where a route sends a request: an upstream, one named site, or
// the site that serves the client's region.
type Target struct {
	Upstream string
	Site     string
	Mirror   bool
}

// Edge holds one edge target's settings.
type Edge struct {
	Name string
	// Check is false when the target answers blobs without the mirror's
	// existence check.
	Check bool
	// ClientIP is "policy" for the client_ip block's rule, "peer" for the
	// TCP peer, or a header holding the client address alone.
	ClientIP string
	// Listen is where HAProxy listens.
	Listen []string
	// ProbeStatus is the status Fastly's health probe expects of a
	// mirror; 0 for the other targets.
	ProbeStatus int
}

// Nginx holds settings only the nginx target uses.
type Nginx struct {
	Listen          []string
	WorkerProcesses string
	Resolver        []string
	// StateDir holds what nginx writes: pid file, temp files, cache.
	StateDir string
}

// KindAny is the kind of route that matches every request kind.
const KindAny request.Kind = "any"

// KindMatches reports whether a route for kind route handles a request of
// kind req. A signature is a manifest whose tag is a cosign
// sha256-<hex>.sig or .att tag, so routes for manifests match it too.
func KindMatches(route, req request.Kind) bool {
	return route == req || route == KindAny || (route == request.KindManifest && req == request.KindSignature)
}

// Upstream returns the upstream with the given name, or nil.
func (p *Policy) Upstream(name string) *Upstream {
	for _, u := range p.Upstreams {
		if u.Name == name {
			return u
		}
	}
	return nil
}

// Site returns the site with the given name, or nil.
func (p *Policy) Site(name string) *Site {
	for _, s := range p.Sites {
		if s.Name == name {
			return s
		}
	}
	return nil
}
