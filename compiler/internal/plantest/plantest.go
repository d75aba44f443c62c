// Package plantest gives tests one small plan, a variant of it made for
// renderers, and helps them change it.
package plantest

import (
	"net/netip"
	"slices"
	"time"

	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

// Labels of Plan.
const (
	LabelDefault = 0 // everything upstream "main"
	LabelEast    = 1 // blobs to site "east", checked; the rest upstream "main"
	LabelOther   = 2 // everything upstream "other"
)

// EdgeHAProxy is the index of the haproxy target in Plan's Edges.
const EdgeHAProxy = 1

// Plan returns a small plan with every kind of setting: two upstreams, a
// site at mirror whose blobs are checked, three labels over two adjacent
// IPv4 intervals and one IPv6 interval, the client in the second-to-last
// X-Forwarded-For entry, and every edge target with its defaults.
func Plan(mirror string) *plan.Plan {
	xff := plan.ClientIP{Header: "X-Forwarded-For", TrustedHops: 1}
	return &plan.Plan{
		Registry: plan.Registry{InfoURL: "https://example.com/info", PrivacyURL: "https://example.com/privacy"},
		ClientIP: xff,
		Upstreams: []plan.Upstream{
			{Name: "main", Endpoint: "https://main.example", Prefix: "proj/images"},
			{Name: "other", Endpoint: "http://other.example:5000", Prefix: "mirror"},
		},
		Sites: []plan.Site{{Name: "east", URL: mirror, BlobPath: "/containers/images/{digest}"}},
		Check: &plan.Check{
			PositiveTTL: plan.Duration(time.Hour),
			NegativeTTL: plan.Duration(time.Minute),
			Timeout:     plan.Duration(5 * time.Second),
			CacheSize:   100,
			DownAfter:   3,
			DownFor:     plan.Duration(30 * time.Second),
			DownForMax:  plan.Duration(5 * time.Minute),
		},
		Labels: []plan.Label{
			{Name: "default", Classes: []string{"unknown"}, Actions: Actions("default", "main", "")},
			{Name: "east", Classes: []string{"aws:east"}, Actions: Actions("east", "main", "east")},
			{Name: "other", Classes: []string{"aws:other"}, Actions: Actions("other", "other", "")},
		},
		Default: LabelDefault,
		V4: []plan.Interval{
			{First: netip.MustParseAddr("10.0.0.0"), Last: netip.MustParseAddr("10.0.0.255"), Label: LabelEast},
			{First: netip.MustParseAddr("10.0.1.0"), Last: netip.MustParseAddr("10.0.1.255"), Label: LabelOther},
		},
		V6: []plan.Interval{
			{First: netip.MustParseAddr("2001:db8::"), Last: netip.MustParseAddr("2001:db8::ffff"), Label: LabelEast},
		},
		Feeds: []plan.Feed{{Name: "aws", Format: "aws", Cloud: "aws", URL: "https://example.com/aws.json", SyncToken: "1", Created: "2026-01-01-00-00-00", Prefixes: 3}},
		Nginx: plan.Nginx{Listen: []string{"127.0.0.1:8080"}, WorkerProcesses: "1", StateDir: "/var/lib/regedge/nginx"},
		Edges: []plan.Edge{
			{Name: "fastly", Check: true},
			{Name: "haproxy", Check: true, ClientIP: xff, Listen: []string{"127.0.0.1:8081"}},
			{Name: "varnish", Check: true, ClientIP: xff},
			{Name: "worker", Check: true, ClientIP: plan.ClientIP{Header: "CF-Connecting-IP"}},
		},
	}
}

// Uneven returns Plan(mirror) with what a renderer must take apart or
// convert: the site's blob path goes on after {digest}, the first IPv4
// interval (10.0.0.1 to 10.0.0.6) is no single prefix, and the check's
// timeout is no whole second, its negative TTL no whole minute and its
// cache not tiny, and its health thresholds not the defaults.
func Uneven(mirror string) *plan.Plan {
	p := Plan(mirror)
	p.Sites[0].BlobPath = "/b/{digest}/data"
	p.V4[0].First, p.V4[0].Last = netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.6")
	p.Check = &plan.Check{
		PositiveTTL: plan.Duration(time.Hour),
		NegativeTTL: plan.Duration(90 * time.Second),
		Timeout:     plan.Duration(1500 * time.Millisecond),
		CacheSize:   20000,
		DownAfter:   5,
		DownFor:     plan.Duration(10 * time.Second),
		DownForMax:  plan.Duration(90 * time.Second),
	}
	return p
}

// AtTheEdges adds to p's tables an interval at each end of each address
// family: the first /24 of IPv4 and /120 of IPv6 with label east, the last
// with label other.
func AtTheEdges(p *plan.Plan) {
	iv := func(first, last string, label int) plan.Interval {
		return plan.Interval{First: netip.MustParseAddr(first), Last: netip.MustParseAddr(last), Label: label}
	}
	p.V4 = slices.Concat([]plan.Interval{iv("0.0.0.0", "0.0.0.255", LabelEast)}, p.V4,
		[]plan.Interval{iv("255.255.255.0", "255.255.255.255", LabelOther)})
	p.V6 = slices.Concat([]plan.Interval{iv("::", "::ff", LabelEast)}, p.V6,
		[]plan.Interval{iv("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", LabelOther)})
}

// Actions returns one action per request kind in request.Kinds order,
// each to upstream by a route named "<route>-<kind>", with blobs going to
// site when it is not "".
func Actions(route, upstream, site string) []plan.Action {
	var as []plan.Action
	for _, k := range request.Kinds {
		a := plan.Action{Kind: k, Route: route + "-" + string(k), Upstream: upstream}
		if k == request.KindBlob {
			a.Site = site
		}
		as = append(as, a)
	}
	return as
}
