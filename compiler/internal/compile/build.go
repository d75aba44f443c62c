package compile

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/regedge/regedge/compiler/internal/config"
	"github.com/regedge/regedge/compiler/internal/feeds"
	"github.com/regedge/regedge/compiler/internal/ranges"
	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

// unknown is the class of clients no feed lists.
var unknown = plan.Class{Cloud: "unknown"}

// build makes the plan for one policy. snaps holds one snapshot per feed of
// the policy, in the same order.
func build(p *config.Policy, snaps []*feeds.Snapshot) (*plan.Plan, hcl.Diagnostics) {
	b := &builder{policy: p, trace: &plan.Trace{}}
	if b.classify(snaps) {
		b.label()
	}
	if b.diags.HasErrors() {
		return nil, b.diags
	}
	out := b.assemble(snaps)
	out.Trace = b.trace
	return out, b.diags
}

type builder struct {
	policy *config.Policy
	trace  *plan.Trace
	diags  hcl.Diagnostics
	// siteIndex and routeIndex find the sites and routes whose region
	// patterns match a class; routeClouds holds each route's clouds.
	siteIndex, routeIndex patternIndex
	routeClouds           []map[string]bool
	// classLabel maps each class index to its label index.
	classLabel []int
	labels     []plan.Label
	defaultLbl int
}

func (b *builder) warn(r hcl.Range, summary, detail string, args ...any) {
	b.diags = append(b.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: fmt.Sprintf(detail, args...), Subject: r.Ptr()})
}

func (b *builder) errorf(r hcl.Range, summary, detail string, args ...any) {
	b.diags = append(b.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(detail, args...), Subject: r.Ptr()})
}

// classify collects the feed entries, assigns each a class, and flattens
// them into the class-level address tables. It reports whether the feeds
// list no more than config.MaxFeedRegions classes.
func (b *builder) classify(snaps []*feeds.Snapshot) bool {
	classIndex := map[plan.Class]int{}
	var classes []plan.Class
	type pending struct {
		entry feeds.Entry
		feed  int
		class plan.Class
	}
	var kept []pending
	for fi, f := range b.policy.Feeds {
		// Sets, as a policy may exclude thousands, and a feed list 16,000 entries.
		regions, services := setOf(f.ExcludeRegions), setOf(f.ExcludeServices)
		for _, e := range snaps[fi].Entries {
			if regions[e.Region] || services[e.Service] {
				continue
			}
			c := plan.Class{Cloud: f.Cloud, Region: e.Region}
			if _, ok := classIndex[c]; !ok {
				// Every class is planned, listed in the plan and the
				// report, and warned about when no site serves it.
				if len(classes) == config.MaxFeedRegions {
					b.errorf(e.Range, "Too many regions", "With this entry, the policy's feeds list more than %d regions, the most a policy may (a region of a cloud counts once); "+
						"a real feed lists about 50, so check the feed.", config.MaxFeedRegions)
					return false
				}
				classIndex[c] = -1
				classes = append(classes, c)
			}
			kept = append(kept, pending{entry: e, feed: fi, class: c})
		}
	}
	classes = append(classes, unknown)
	slices.SortFunc(classes, func(a, c plan.Class) int { return strings.Compare(a.String(), c.String()) })
	for i, c := range classes {
		classIndex[c] = i
	}
	b.trace.Classes = classes

	var v4, v6 []ranges.Claim
	for _, k := range kept {
		src := len(b.trace.Entries)
		b.trace.Entries = append(b.trace.Entries, plan.Entry{Prefix: k.entry.Prefix.Masked(), Feed: b.policy.Feeds[k.feed].Name, Class: classIndex[k.class]})
		claim := ranges.Claim{
			Prefix: k.entry.Prefix,
			Label:  classIndex[k.class],
			// Higher priority first, then policy order; within a feed the
			// class order decides, so identical prefixes have one winner.
			Rank:   (-b.policy.Feeds[k.feed].Priority*len(b.policy.Feeds)+k.feed)*len(classes) + classIndex[k.class],
			Source: src,
		}
		if claim.Prefix.Addr().Is4() {
			v4 = append(v4, claim)
		} else {
			v6 = append(v6, claim)
		}
	}
	var out4, out6 []ranges.Claim
	b.trace.V4, out4 = ranges.Flatten(v4)
	b.trace.V6, out6 = ranges.Flatten(v6)
	b.reportOutranked(append(out4, out6...), v4, v6)
	return true
}

func setOf(list []string) map[string]bool {
	set := make(map[string]bool, len(list))
	for _, s := range list {
		set[s] = true
	}
	return set
}

// reportOutranked warns about prefixes that another feed lists too and wins.
func (b *builder) reportOutranked(lost, v4, v6 []ranges.Claim) {
	winner := map[netip.Prefix]ranges.Claim{}
	for _, c := range append(slices.Clone(v4), v6...) {
		if w, ok := winner[c.Prefix.Masked()]; !ok || c.Rank < w.Rank {
			winner[c.Prefix.Masked()] = c
		}
	}
	type pair struct{ loser, winner string }
	counts := map[pair]int{}
	examples := map[pair]netip.Prefix{}
	// A feed may list one prefix several times (AWS: once per service);
	// count each prefix once.
	counted := map[pair]map[netip.Prefix]bool{}
	var order []pair
	for _, c := range lost {
		loser := b.trace.Entries[c.Source].Feed
		won := b.trace.Entries[winner[c.Prefix].Source].Feed
		k := pair{loser, won}
		if loser == won || counted[k][c.Prefix] {
			continue
		}
		if counts[k] == 0 {
			order = append(order, k)
			examples[k] = c.Prefix
			counted[k] = map[netip.Prefix]bool{}
		}
		counted[k][c.Prefix] = true
		counts[k]++
	}
	for _, k := range order {
		f := b.feed(k.loser)
		what := fmt.Sprintf("%d prefixes of feed %q, such as %s, are", counts[k], k.loser, examples[k])
		if counts[k] == 1 {
			what = fmt.Sprintf("The prefix %s of feed %q is", examples[k], k.loser)
		}
		b.warn(f.DefRange, "Prefixes shadowed by another feed",
			"%s also listed by feed %q, which wins by priority; raise this feed's priority if it should win.", what, k.winner)
	}
}

func (b *builder) feed(name string) *config.Feed {
	for _, f := range b.policy.Feeds {
		if f.Name == name {
			return f
		}
	}
	panic("plan: no feed " + name)
}

// label works out each class's action for every request kind and groups
// classes that are routed alike under one label.
func (b *builder) label() {
	var sitePatterns, routePatterns [][]config.Pattern
	for _, s := range b.policy.Sites {
		sitePatterns = append(sitePatterns, s.Regions)
	}
	for _, r := range b.policy.Routes {
		routePatterns = append(routePatterns, r.Regions)
		clouds := map[string]bool{}
		for _, c := range r.Clouds {
			clouds[c] = true
		}
		b.routeClouds = append(b.routeClouds, clouds)
	}
	b.siteIndex, b.routeIndex = newPatternIndex(sitePatterns), newPatternIndex(routePatterns)
	fired := make([]bool, len(b.policy.Routes))
	unserved := map[string][]string{}
	keyLabel := map[string]int{}
	for _, c := range b.trace.Classes {
		var actions []plan.Action
		matched := map[int]bool{}
		for _, ri := range b.routeIndex.owners(c) {
			matched[ri] = true
		}
		for _, kind := range request.Kinds {
			a, ri, implicit, ok := b.route(c, kind, matched)
			if !ok {
				b.errorf(b.policy.Routes[len(b.policy.Routes)-1].DefRange, "No route matches",
					"No route matches %s requests from %s clients; end the routes with one whose kinds are [\"any\"] and that names no clouds or regions.", kind, c)
				return
			}
			fired[ri] = true
			if implicit && c != unknown {
				cloud := c.Cloud
				if !slices.Contains(unserved[cloud], c.Region) {
					unserved[cloud] = append(unserved[cloud], c.Region)
				}
			}
			actions = append(actions, a)
		}
		key := fmt.Sprint(actions)
		li, ok := keyLabel[key]
		if !ok {
			li = len(b.labels)
			keyLabel[key] = li
			b.labels = append(b.labels, plan.Label{Actions: actions})
		}
		b.labels[li].Classes = append(b.labels[li].Classes, c.String())
		b.classLabel = append(b.classLabel, li)
		if c == unknown {
			b.defaultLbl = li
		}
	}
	for i, r := range b.policy.Routes {
		if !fired[i] {
			b.warn(r.DefRange, "Route never matches", "Earlier routes handle every request route %q could match; remove it or move it up.", r.Name)
		}
	}
	for _, f := range b.policy.Feeds {
		if regions := unserved[f.Cloud]; len(regions) > 0 {
			sort.Strings(regions)
			b.warn(f.DefRange, "Regions no site serves",
				"Blobs for clients in %s regions %s go to the default site %q because no site lists them; add them to a site's regions.",
				f.Cloud, strings.Join(regions, ", "), b.policy.Mirror.DefaultSite)
			delete(unserved, f.Cloud)
		}
	}
	b.nameLabels()
}

// route returns the action of the first route matching a class and kind,
// the route's index, and whether the site was the default only because no
// site lists the class's region. matched holds the routes whose region
// patterns match the class.
func (b *builder) route(c plan.Class, kind request.Kind, matched map[int]bool) (a plan.Action, index int, implicit, ok bool) {
	for i, r := range b.policy.Routes {
		if !b.routeMatches(i, c, kind, matched) {
			continue
		}
		a = plan.Action{Kind: kind, Route: r.Name}
		switch {
		case r.To.Upstream != "":
			a.Upstream = r.To.Upstream
		case r.To.Site != "":
			a.Site, a.Upstream = r.To.Site, r.Fallback
		default:
			var listed bool
			a.Site, listed = b.siteFor(c)
			a.Upstream, implicit = r.Fallback, !listed
		}
		return a, i, implicit, true
	}
	return plan.Action{}, 0, false, false
}

func (b *builder) routeMatches(i int, c plan.Class, kind request.Kind, matched map[int]bool) bool {
	r := b.policy.Routes[i]
	kindOK := false
	for _, k := range r.Kinds {
		kindOK = kindOK || config.KindMatches(k, kind)
	}
	if !kindOK {
		return false
	}
	if len(r.Clouds) == 0 && len(r.Regions) == 0 {
		return true
	}
	return b.routeClouds[i][c.Cloud] || matched[i]
}

// siteFor returns the first site that lists the class's region and true,
// else the default site and false.
func (b *builder) siteFor(c plan.Class) (string, bool) {
	if owners := b.siteIndex.owners(c); len(owners) > 0 {
		return b.policy.Sites[owners[0]].Name, true
	}
	return b.policy.Mirror.DefaultSite, false
}

// patternIndex finds which owners (sites or routes, by index) list a region
// pattern that matches a class, with one lookup per prefix of the region
// rather than one match per pattern: a policy may list 10,000 patterns.
type patternIndex struct {
	// exact maps a cloud and region to its owners; prefix maps a cloud
	// and the part of a pattern before its "*".
	exact, prefix map[plan.Class][]int
}

func newPatternIndex(owners [][]config.Pattern) patternIndex {
	x := patternIndex{exact: map[plan.Class][]int{}, prefix: map[plan.Class][]int{}}
	for i, patterns := range owners {
		for _, p := range patterns {
			m, region := x.exact, p.Region
			if pre, ok := strings.CutSuffix(p.Region, "*"); ok {
				m, region = x.prefix, pre
			}
			k := plan.Class{Cloud: p.Cloud, Region: region}
			if l := m[k]; len(l) == 0 || l[len(l)-1] != i {
				m[k] = append(l, i)
			}
		}
	}
	return x
}

// owners returns, in increasing order, the owners with a pattern matching c.
func (x patternIndex) owners(c plan.Class) []int {
	out := slices.Clone(x.exact[c])
	for n := 0; n <= len(c.Region); n++ {
		out = append(out, x.prefix[plan.Class{Cloud: c.Cloud, Region: c.Region[:n]}]...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// nameLabels names each label after where its blobs go, sorts the labels by
// name and renumbers the classes to match.
func (b *builder) nameLabels() {
	bases := make([]string, len(b.labels))
	taken := map[string]bool{}
	for i, l := range b.labels {
		blob := l.Actions[0] // request.Kinds starts with blobs
		bases[i] = "upstream-" + blob.Upstream
		if blob.Site != "" {
			bases[i] = blob.Site
		}
	}
	// The first label with a base name gets it; later ones get the first
	// free "-N", which must not collide with another base (site "east-2").
	for i, base := range bases {
		if !taken[base] {
			taken[base] = true
			b.labels[i].Name = base
			bases[i] = ""
		}
	}
	for i, base := range bases {
		if base == "" {
			continue
		}
		name := base
		for n := 2; taken[name]; n++ {
			name = fmt.Sprintf("%s-%d", base, n)
		}
		taken[name] = true
		b.labels[i].Name = name
	}
	order := make([]int, len(b.labels))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return b.labels[order[i]].Name < b.labels[order[j]].Name })
	renumber := make([]int, len(order))
	sorted := make([]plan.Label, len(order))
	for newIndex, old := range order {
		renumber[old] = newIndex
		sorted[newIndex] = b.labels[old]
	}
	b.labels = sorted
	for i, l := range b.classLabel {
		b.classLabel[i] = renumber[l]
	}
	b.defaultLbl = renumber[b.defaultLbl]
}

// assemble relabels the class tables with route labels, merges them and
// copies the policy's settings into the plan.
func (b *builder) assemble(snaps []*feeds.Snapshot) *plan.Plan {
	p := b.policy
	out := &plan.Plan{
		Deployment: p.Deployment,
		Registry:   plan.Registry{InfoURL: p.Registry.InfoURL, PrivacyURL: p.Registry.PrivacyURL},
		ClientIP:   plan.ClientIP{Header: p.ClientIP.Header, TrustedHops: p.ClientIP.TrustedHops},
		Labels:     b.labels,
		Default:    b.defaultLbl,
		V4:         b.routeTable(b.trace.V4),
		V6:         b.routeTable(b.trace.V6),
		Nginx:      plan.Nginx{Listen: p.Nginx.Listen, WorkerProcesses: p.Nginx.WorkerProcesses, Resolver: p.Nginx.Resolver, StateDir: p.Nginx.StateDir},
	}
	for _, e := range p.Edges {
		client := out.ClientIP
		switch e.ClientIP {
		case "peer":
			client = plan.ClientIP{}
		case "policy":
		default:
			client = plan.ClientIP{Header: e.ClientIP}
		}
		out.Edges = append(out.Edges, plan.Edge{Name: e.Name, Check: e.Check, ClientIP: client, Listen: e.Listen, ProbeStatus: e.ProbeStatus})
	}
	for _, u := range p.Upstreams {
		out.Upstreams = append(out.Upstreams, plan.Upstream{Name: u.Name, Endpoint: u.Endpoint, Prefix: u.Prefix})
	}
	slices.SortFunc(out.Upstreams, func(a, c plan.Upstream) int { return strings.Compare(a.Name, c.Name) })
	for _, s := range p.Sites {
		out.Sites = append(out.Sites, plan.Site{Name: s.Name, URL: s.URL, BlobPath: s.BlobPath})
	}
	slices.SortFunc(out.Sites, func(a, c plan.Site) int { return strings.Compare(a.Name, c.Name) })
	if c := p.Mirror.Check; c != nil {
		out.Check = &plan.Check{
			PositiveTTL: plan.Duration(c.PositiveTTL), NegativeTTL: plan.Duration(c.NegativeTTL), Timeout: plan.Duration(c.Timeout), CacheSize: c.CacheSize,
			DownAfter: c.DownAfter, DownFor: plan.Duration(c.DownFor), DownForMax: plan.Duration(c.DownForMax),
		}
	}
	for i, f := range p.Feeds {
		n := 0
		for _, e := range b.trace.Entries {
			if e.Feed == f.Name {
				n++
			}
		}
		feed := plan.Feed{Name: f.Name, Format: f.Format, Cloud: f.Cloud, URL: f.URL,
			SyncToken: snaps[i].SyncToken, Created: snaps[i].Created, Prefixes: n}
		if t, ok := feeds.CreatedTime(f.Format, snaps[i].Created); ok {
			feed.CreatedUnix = t.Unix()
		}
		out.Feeds = append(out.Feeds, feed)
	}
	return out
}

// routeTable maps a class table to route labels, drops intervals whose label
// is the default (absence means the default) and merges neighbours.
func (b *builder) routeTable(classTable []plan.Interval) []plan.Interval {
	var out []plan.Interval
	for _, iv := range classTable {
		l := b.classLabel[iv.Label]
		if l == b.defaultLbl {
			continue
		}
		out = append(out, plan.Interval{First: iv.First, Last: iv.Last, Label: l})
	}
	return ranges.Merge(out)
}
