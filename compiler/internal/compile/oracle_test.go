package compile_test

import (
	"net"
	"net/netip"
	"slices"
	"testing"

	"github.com/yl2chen/cidranger"

	"github.com/regedge/regedge/compiler/plan"
)

// entry is a feed prefix in cidranger, remembering its trace entry.
type entry struct {
	network net.IPNet
	index   int
}

func (e entry) Network() net.IPNet { return e.network }

// oracle indexes the shipped plan's feed prefixes in cidranger, which
// shares no code with the plan. (verify.CheckTable compares the whole table
// with it; this file counts what registry.k8s.io's first match gets wrong.)
func oracle(t *testing.T, p *plan.Plan) cidranger.Ranger {
	t.Helper()
	r := cidranger.NewPCTrieRanger()
	for i, e := range p.Trace.Entries {
		if err := r.Insert(entry{network: *prefixNet(e.Prefix), index: i}); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func prefixNet(p netip.Prefix) *net.IPNet {
	_, n, _ := net.ParseCIDR(p.String())
	return n
}

// TestRegionalPrefixesInsideGlobal counts the regional AWS prefixes that a
// GLOBAL prefix contains. registry.k8s.io's trie returns the least specific
// match and so sends all of them to the default site; the plan sends each
// to its own region's site.
func TestRegionalPrefixesInsideGlobal(t *testing.T) {
	p := shippedPlan(t)
	r := oracle(t, p)
	counted := map[netip.Prefix]bool{}
	for _, e := range p.Trace.Entries {
		class := p.Trace.Classes[e.Class]
		if e.Feed != "aws" || class.Region == "GLOBAL" || counted[e.Prefix] {
			continue
		}
		nets, err := r.ContainingNetworks(net.IP(e.Prefix.Addr().AsSlice()))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nets {
			outer := p.Trace.Entries[n.(entry).index]
			if p.Trace.Classes[outer.Class].Region == "GLOBAL" && outer.Prefix.Bits() < e.Prefix.Bits() {
				counted[e.Prefix] = true
				if got := p.Labels[p.Lookup(e.Prefix.Addr())]; !slices.Contains(got.Classes, class.String()) {
					t.Errorf("%s (%s) is routed as %s", e.Prefix, class, got.Name)
				}
				break
			}
		}
	}
	if len(counted) != 247 {
		t.Errorf("%d regional prefixes inside GLOBAL ones, want 247", len(counted))
	}
}
