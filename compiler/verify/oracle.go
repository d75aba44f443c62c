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

// feedPrefix is a raw feed prefix in cidranger.
type feedPrefix struct {
	network net.IPNet
	entry   int
}

func (f feedPrefix) Network() net.IPNet { return f.network }

// CheckTable compares the plan's tables, at every probe address, with
// cidranger's longest-prefix match over the feed prefixes the plan was
// built from. cidranger shares no code with the plan, so agreement means
// the flattening and merging lost nothing.
func CheckTable(p *plan.Plan) []OracleMismatch {
	ranger := cidranger.NewPCTrieRanger()
	for i, e := range p.Trace.Entries {
		_, n, _ := net.ParseCIDR(e.Prefix.String())
		ranger.Insert(feedPrefix{network: *n, entry: i})
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
	best := -1
	var labels []int
	for _, n := range nets {
		e := p.Trace.Entries[n.(feedPrefix).entry]
		switch bits := e.Prefix.Bits(); {
		case bits > best:
			best, labels = bits, nil
			fallthrough
		case bits == best:
			labels = append(labels, classLabel(p, e.Class))
		}
	}
	prefix := p.Trace.Entries[nets[len(nets)-1].(feedPrefix).entry].Prefix.String()
	return labels, prefix
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
