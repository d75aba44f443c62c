// Package plandiff compares two plans and writes what changed for clients
// as Markdown, ready for a pull-request comment: which addresses each label
// gains and loses, which client regions appear or go, which routes, upstreams
// and sites change.
//
// Labels are matched by what they route to (each kind's upstream and site),
// never by their names, so a label renamed by the plan builder is no change.
// The default label's addresses are not in a plan's tables; here its set is
// every address no other label holds, so its gains are exactly what the
// other labels lost to it, and the reverse.
package plandiff

import (
	"fmt"
	"slices"
	"strings"

	"go4.org/netipx"

	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

// diff is everything that changed between two plans, each list sorted.
type diff struct {
	deployment string
	feeds      []pair[plan.Feed]
	labels     []labelChange
	newRegions []region
	goneRegion []string
	routes     []routeChange
	endpoints  []endpointChange
}

// endpointChange is an upstream or site added, removed, or with one field
// changed.
type endpointChange struct {
	what, name string // "upstream" or "site", and its name
	// field is "added", "removed" or the field that changed; old and new
	// are its values. An added upstream's new is its endpoint and prefix
	// its repository prefix; an added site's new is its blob URL.
	field, old, new, prefix string
}

// empty reports whether routing is the same; feeds may still differ.
func (d *diff) empty() bool {
	return len(d.labels) == 0 && len(d.newRegions) == 0 && len(d.goneRegion) == 0 &&
		len(d.routes) == 0 && len(d.endpoints) == 0
}

// labelChange is a destination whose addresses changed.
type labelChange struct {
	key, name    string
	isDefault    bool // the default in the after plan
	wasDefault   bool // the default in the before plan
	gained, lost *netipx.IPSet
}

// region is a client class only the new plan has.
type region struct {
	class    string
	label    string
	unserved bool // it gets the default label: no other site serves it
}

// routeChange is a kind whose action changed for a class both plans have.
type routeChange struct {
	class    string
	kind     request.Kind
	old, new string
}

// Diff is what changed from one plan to another.
type Diff struct{ d *diff }

// Compare works out what changed from before to after. It fails only on a
// malformed plan, such as one read from a damaged plan.json.
func Compare(before, after *plan.Plan) (*Diff, error) {
	for _, p := range []struct {
		side string
		p    *plan.Plan
	}{{"old", before}, {"new", after}} {
		if err := check(p.p); err != nil {
			return nil, fmt.Errorf("%s plan: %w", p.side, err)
		}
	}
	return &Diff{compare(before, after)}, nil
}

// RoutingChanged reports whether any client is routed otherwise; a feed
// refresh that changes nothing else is no routing change.
func (d *Diff) RoutingChanged() bool { return !d.d.empty() }

// Markdown returns the diff as Markdown, ready for a pull-request comment.
func (d *Diff) Markdown() string {
	var b strings.Builder
	write(&b, d.d)
	return b.String()
}

// check returns an error unless the plan's indexes and intervals are
// consistent, which compare relies on.
func check(p *plan.Plan) error {
	if len(p.Labels) == 0 {
		return fmt.Errorf("no labels: not a plan")
	}
	if p.Default < 0 || p.Default >= len(p.Labels) {
		return fmt.Errorf("default label %d does not exist", p.Default)
	}
	for _, t := range []struct {
		table  []interval
		family string
	}{{intervals(p.V4), "IPv4"}, {intervals(p.V6), "IPv6"}} {
		for _, iv := range t.table {
			if iv.label < 0 || iv.label >= len(p.Labels) {
				return fmt.Errorf("interval %s-%s has label %d, which does not exist", iv.r.From(), iv.r.To(), iv.label)
			}
			if !iv.r.IsValid() || iv.r.From().Is4() != (t.family == "IPv4") {
				return fmt.Errorf("interval %s-%s is not a range of %s addresses", iv.r.From(), iv.r.To(), t.family)
			}
		}
	}
	return nil
}

// compare works out what changed from before to after.
func compare(before, after *plan.Plan) *diff {
	oldKeys, newKeys := keys(before), keys(after)
	names := displayNames(before, after, oldKeys, newKeys)
	d := &diff{deployment: after.Deployment}
	d.feeds = union(before.Feeds, after.Feeds, func(f plan.Feed) string { return f.Name })
	d.labels = compareAddresses(before, after, oldKeys, newKeys, names)
	d.newRegions, d.goneRegion = compareRegions(before, after, newKeys, names)
	d.routes = compareRoutes(before, after)
	d.endpoints = compareEndpoints(before, after)
	return d
}

// keys returns, for each label of p, what it routes to: each kind's
// upstream and site, without route or label names.
func keys(p *plan.Plan) []string {
	out := make([]string, len(p.Labels))
	for i, l := range p.Labels {
		var b strings.Builder
		for _, a := range l.Actions {
			fmt.Fprintf(&b, "%s>%s>%s;", a.Kind, a.Upstream, a.Site)
		}
		out[i] = b.String()
	}
	return out
}

// displayNames names each destination of either plan after where its blobs
// go, as the plan builder names labels: the site, or upstream-NAME. Where
// destinations share that name, each also says where it sends the kinds on
// which they differ, such as "cdn (manifest, signature: upstream eu)".
func displayNames(before, after *plan.Plan, oldKeys, newKeys []string) map[string]string {
	actions := map[string][]plan.Action{}
	for i, k := range newKeys {
		actions[k] = after.Labels[i].Actions
	}
	for i, k := range oldKeys {
		if _, ok := actions[k]; !ok {
			actions[k] = before.Labels[i].Actions
		}
	}
	byBase := map[string][]string{}
	for k, a := range actions {
		byBase[base(a)] = append(byBase[base(a)], k)
	}
	names := map[string]string{}
	for b, ks := range byBase {
		if len(ks) == 1 {
			names[ks[0]] = b
			continue
		}
		// Any two of ks differ on some kind, so on one of these.
		var differ []request.Kind
		for _, kind := range request.Kinds {
			for _, k := range ks[1:] {
				if describe(actions[k], kind) != describe(actions[ks[0]], kind) {
					differ = append(differ, kind)
					break
				}
			}
		}
		for _, k := range ks {
			names[k] = b + " (" + routing(actions[k], differ) + ")"
		}
	}
	return names
}

// base names a destination after where its blobs go.
func base(actions []plan.Action) string {
	for _, a := range actions {
		if a.Kind != request.KindBlob {
			continue
		}
		if a.Site != "" {
			return a.Site
		}
		return "upstream-" + a.Upstream
	}
	return "no blobs"
}

// routing describes where the given kinds go, such as "blob: site cdn,
// else upstream main; manifest, tags: upstream main".
func routing(actions []plan.Action, only []request.Kind) string {
	var dests []string
	kinds := map[string][]string{}
	for _, a := range actions {
		if !slices.Contains(only, a.Kind) {
			continue
		}
		dest := destination(a)
		if _, ok := kinds[dest]; !ok {
			dests = append(dests, dest)
		}
		kinds[dest] = append(kinds[dest], string(a.Kind))
	}
	parts := make([]string, len(dests))
	for i, dest := range dests {
		parts[i] = strings.Join(kinds[dest], ", ") + ": " + dest
	}
	return strings.Join(parts, "; ")
}

// destination says where an action sends a request.
func destination(a plan.Action) string {
	if a.Site != "" {
		return "site " + a.Site + ", else upstream " + a.Upstream
	}
	return "upstream " + a.Upstream
}

// interval is a table interval as an address range.
type interval struct {
	r     netipx.IPRange
	label int
}

func intervals(table []plan.Interval) []interval {
	out := make([]interval, len(table))
	for i, iv := range table {
		out[i] = interval{netipx.IPRangeFrom(iv.First, iv.Last), iv.Label}
	}
	return out
}

// addressSets returns the addresses of each destination of p. The default
// label's set is every address outside the other labels' intervals.
func addressSets(p *plan.Plan, keys []string) map[string]*netipx.IPSet {
	all := slices.Concat(intervals(p.V4), intervals(p.V6))
	var rest netipx.IPSetBuilder
	rest.Complement()
	for _, iv := range all {
		if iv.label != p.Default {
			rest.RemoveRange(iv.r)
		}
	}
	builders := map[string]*netipx.IPSetBuilder{}
	builder := func(k string) *netipx.IPSetBuilder {
		if builders[k] == nil {
			builders[k] = &netipx.IPSetBuilder{}
		}
		return builders[k]
	}
	restSet, _ := rest.IPSet() // check made every range valid
	builder(keys[p.Default]).AddSet(restSet)
	for _, iv := range all {
		if iv.label != p.Default {
			builder(keys[iv.label]).AddRange(iv.r)
		}
	}
	sets := map[string]*netipx.IPSet{}
	for k, b := range builders {
		sets[k], _ = b.IPSet()
	}
	return sets
}

// compareAddresses returns the destinations whose addresses changed, sorted
// by name.
func compareAddresses(before, after *plan.Plan, oldKeys, newKeys []string, names map[string]string) []labelChange {
	oldSets, newSets := addressSets(before, oldKeys), addressSets(after, newKeys)
	empty := &netipx.IPSet{}
	var out []labelChange
	for k, name := range names {
		o, n := oldSets[k], newSets[k]
		if o == nil {
			o = empty
		}
		if n == nil {
			n = empty
		}
		if o.Equal(n) {
			continue
		}
		out = append(out, labelChange{
			key:        k,
			name:       name,
			isDefault:  newKeys[after.Default] == k,
			wasDefault: oldKeys[before.Default] == k,
			gained:     minus(n, o),
			lost:       minus(o, n),
		})
	}
	slices.SortFunc(out, func(a, b labelChange) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	})
	return out
}

func minus(a, b *netipx.IPSet) *netipx.IPSet {
	var s netipx.IPSetBuilder
	s.AddSet(a)
	s.RemoveSet(b)
	set, _ := s.IPSet()
	return set
}

// classLabels maps each class of p to its label's index.
func classLabels(p *plan.Plan) map[string]int {
	out := map[string]int{}
	for i, l := range p.Labels {
		for _, c := range l.Classes {
			out[c] = i
		}
	}
	return out
}

func compareRegions(before, after *plan.Plan, newKeys []string, names map[string]string) ([]region, []string) {
	oldClasses, newClasses := classLabels(before), classLabels(after)
	var added []region
	for c, l := range newClasses {
		if _, ok := oldClasses[c]; !ok {
			added = append(added, region{class: c, label: names[newKeys[l]], unserved: l == after.Default})
		}
	}
	var gone []string
	for c := range oldClasses {
		if _, ok := newClasses[c]; !ok {
			gone = append(gone, c)
		}
	}
	slices.SortFunc(added, func(a, b region) int { return strings.Compare(a.class, b.class) })
	slices.Sort(gone)
	return added, gone
}

// compareRoutes returns, for each class of both plans, each kind whose
// route, upstream or site changed.
func compareRoutes(before, after *plan.Plan) []routeChange {
	oldClasses, newClasses := classLabels(before), classLabels(after)
	var out []routeChange
	for c, ol := range oldClasses {
		nl, ok := newClasses[c]
		if !ok {
			continue
		}
		newActions := after.Labels[nl].Actions
		for _, kind := range kindsOf(before.Labels[ol].Actions, newActions) {
			o, n := describe(before.Labels[ol].Actions, kind), describe(newActions, kind)
			if o != n {
				out = append(out, routeChange{class: c, kind: kind, old: o, new: n})
			}
		}
	}
	slices.SortFunc(out, func(a, b routeChange) int {
		if c := strings.Compare(a.class, b.class); c != 0 {
			return c
		}
		return slices.Index(request.Kinds, a.kind) - slices.Index(request.Kinds, b.kind)
	})
	return out
}

// kindsOf returns the kinds either list of actions has, in request.Kinds
// order.
func kindsOf(a, b []plan.Action) []request.Kind {
	var out []request.Kind
	for _, k := range request.Kinds {
		has := func(a plan.Action) bool { return a.Kind == k }
		if slices.ContainsFunc(a, has) || slices.ContainsFunc(b, has) {
			out = append(out, k)
		}
	}
	return out
}

// describe says what a kind's action is: where it goes and by which route.
func describe(actions []plan.Action, kind request.Kind) string {
	for _, a := range actions {
		if a.Kind == kind {
			return destination(a) + " (route " + a.Route + ")"
		}
	}
	return "no route"
}

// compareEndpoints lists the upstreams and sites added, removed or changed,
// upstreams first, each sorted by name.
func compareEndpoints(before, after *plan.Plan) []endpointChange {
	var out []endpointChange
	changed := func(what, name, field, o, n string) {
		if o != n {
			out = append(out, endpointChange{what: what, name: name, field: field, old: o, new: n})
		}
	}
	for _, u := range union(before.Upstreams, after.Upstreams, func(u plan.Upstream) string { return u.Name }) {
		switch {
		case u.old == nil:
			out = append(out, endpointChange{what: "upstream", name: u.new.Name, field: "added", new: u.new.Endpoint, prefix: u.new.Prefix})
		case u.new == nil:
			out = append(out, endpointChange{what: "upstream", name: u.old.Name, field: "removed"})
		default:
			changed("upstream", u.old.Name, "endpoint", u.old.Endpoint, u.new.Endpoint)
			changed("upstream", u.old.Name, "prefix", u.old.Prefix, u.new.Prefix)
		}
	}
	for _, s := range union(before.Sites, after.Sites, func(s plan.Site) string { return s.Name }) {
		switch {
		case s.old == nil:
			out = append(out, endpointChange{what: "site", name: s.new.Name, field: "added", new: s.new.URL + s.new.BlobPath})
		case s.new == nil:
			out = append(out, endpointChange{what: "site", name: s.old.Name, field: "removed"})
		default:
			changed("site", s.old.Name, "URL", s.old.URL, s.new.URL)
			changed("site", s.old.Name, "blob path", s.old.BlobPath, s.new.BlobPath)
		}
	}
	return out
}

// pair is one named item of either plan; old or new is nil where that plan
// lacks it.
type pair[T any] struct{ old, new *T }

// union pairs the items of two lists by name, sorted by name.
func union[T any](before, after []T, name func(T) string) []pair[T] {
	byName := map[string]*pair[T]{}
	var names []string
	get := func(n string) *pair[T] {
		if byName[n] == nil {
			byName[n] = &pair[T]{}
			names = append(names, n)
		}
		return byName[n]
	}
	for i := range before {
		get(name(before[i])).old = &before[i]
	}
	for i := range after {
		get(name(after[i])).new = &after[i]
	}
	slices.Sort(names)
	out := make([]pair[T], len(names))
	for i, n := range names {
		out[i] = *byName[n]
	}
	return out
}

// Markdown returns the changes from before to after as Markdown.
func Markdown(before, after *plan.Plan) (string, error) {
	d, err := Compare(before, after)
	if err != nil {
		return "", err
	}
	return d.Markdown(), nil
}
