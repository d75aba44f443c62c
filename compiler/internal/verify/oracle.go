package verify

import (
	"net"
	"net/netip"
	"slices"

	"github.com/yl2chen/cidranger"

	"github.com/regedge/regedge/compiler/plan"
)

// OracleMismatch is a probe address whose label in the compiled table
// differs from what a longest-prefix match over the raw feeds gives.
type OracleMismatch struct {
	Addr   netip.Addr `json:"addr"`
	Plan   string     `json:"plan"`
	Oracle string     `json:"oracle"`
	Prefix string     `json:"prefix"`
}

// feedPrefix is a raw feed prefix in cidranger, with every trace entry
// that lists it: feeds may list one prefix for different classes.
type feedPrefix struct {
	network net.IPNet
	entries []int
}

func (f feedPrefix) Network() net.IPNet { return f.network }

// CheckTable compares the plan's tables, at every probe address, with
// cidranger's longest-prefix match over the feed prefixes the plan was
// built from. cidranger shares no code with the plan, so agreement means
// the flattening and merging lost nothing.
func CheckTable(p *plan.Plan) []OracleMismatch {
	byPrefix := map[netip.Prefix][]int{}
	var order []netip.Prefix
	for i, e := range p.Trace.Entries {
		if byPrefix[e.Prefix] == nil {
			order = append(order, e.Prefix)
		}
		byPrefix[e.Prefix] = append(byPrefix[e.Prefix], i)
	}
	ranger := cidranger.NewPCTrieRanger()
	for _, prefix := range order {
		_, n, _ := net.ParseCIDR(prefix.String())
		ranger.Insert(feedPrefix{network: *n, entries: byPrefix[prefix]})
	}
	var out []OracleMismatch
	for _, addr := range addresses(p, 0) {
		got := p.Lookup(addr)
		want, prefix := oracleLabels(p, ranger, addr.Unmap())
		if !slices.Contains(want, got) {
			out = append(out, OracleMismatch{Addr: addr, Plan: p.Labels[got].Name, Oracle: p.Labels[want[0]].Name, Prefix: prefix})
		}
	}
	return out
}

// oracleLabels returns the labels the most specific feed prefixes holding
// addr give (several when feeds list one prefix for different classes),
// and that prefix; the default label when none holds it.
func oracleLabels(p *plan.Plan, ranger cidranger.Ranger, addr netip.Addr) ([]int, string) {
	nets, err := ranger.ContainingNetworks(net.IP(addr.AsSlice()))
	if err != nil || len(nets) == 0 {
		return []int{p.Default}, "none"
	}
	// The most specific network holding addr; cidranger returns them from
	// the least specific.
	best := nets[len(nets)-1].(feedPrefix)
	var labels []int
	for _, i := range best.entries {
		labels = append(labels, classLabel(p, p.Trace.Entries[i].Class))
	}
	return labels, p.Trace.Entries[best.entries[0]].Prefix.String()
}

func classLabel(p *plan.Plan, class int) int {
	name := p.Trace.Classes[class].String()
	for i, l := range p.Labels {
		if slices.Contains(l.Classes, name) {
			return i
		}
	}
	return p.Default
}
