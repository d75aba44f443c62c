package render

import (
	"net/netip"

	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

// labelValues is a value for every label: Default, and Entries for the
// labels whose value differs from it. Targets write it as a map or a chain
// of conditions from the client's label.
type labelValues struct {
	Default string
	Entries []labelValue
}

type labelValue struct{ Label, Value string }

// byLabel gives each label of p the value value returns for it.
func byLabel(p *plan.Plan, value func(label int) string) labelValues {
	m := labelValues{Default: value(p.Default)}
	for i, l := range p.Labels {
		if v := value(i); v != m.Default {
			m.Entries = append(m.Entries, labelValue{Label: l.Name, Value: v})
		}
	}
	return m
}

// upstreamBases gives each label the Base of the upstream its requests of
// one kind go to.
func upstreamBases(p *plan.Plan, kind request.Kind) labelValues {
	return byLabel(p, func(l int) string { return p.Upstream(p.Action(l, kind).Upstream).Base() })
}

// prefixTable lists address prefixes with the name of the label each has,
// for targets that look the client up in a file of prefixes.
type prefixTable struct {
	Entries []prefixEntry
}

type prefixEntry struct {
	Prefix netip.Prefix
	Label  string
}

// blobSites lists, in the plan's order, each site some label sends blobs
// to.
func blobSites(p *plan.Plan) []plan.Site {
	used := map[string]bool{}
	for l := range p.Labels {
		used[p.Action(l, request.KindBlob).Site] = true
	}
	var sites []plan.Site
	for _, s := range p.Sites {
		if used[s.Name] {
			sites = append(sites, s)
		}
	}
	return sites
}

// blobSiteByLabel gives each label the name of the site its blobs go to,
// or "".
func blobSiteByLabel(p *plan.Plan) labelValues {
	return byLabel(p, func(l int) string { return p.Action(l, request.KindBlob).Site })
}
