package plan_test

import (
	"net"
	"net/netip"
	"slices"
	"testing"

	"github.com/yl2chen/cidranger"

	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/ranges"
)

// entry is a feed prefix in cidranger, remembering its trace entry.
type entry struct {
	network net.IPNet
	index   int
}

func (e entry) Network() net.IPNet { return e.network }

// oracle indexes the shipped plan's feed prefixes in cidranger, an
// implementation of longest-prefix match that shares no code with the plan.
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

// wantLabel is the label cidranger's most specific match gives addr.
func wantLabel(t *testing.T, p *plan.Plan, r cidranger.Ranger, addr netip.Addr) int {
	t.Helper()
	nets, err := r.ContainingNetworks(net.IP(addr.AsSlice()))
	if err != nil {
		t.Fatal(err)
	}
	if len(nets) == 0 {
		return p.Default
	}
	best := nets[0].(entry)
	for _, n := range nets[1:] {
		e := n.(entry)
		if ones(e) > ones(best) {
			best = e
		}
	}
	class := p.Trace.Classes[p.Trace.Entries[best.index].Class].String()
	for i, l := range p.Labels {
		if slices.Contains(l.Classes, class) {
			return i
		}
	}
	t.Fatalf("no label holds class %s", class)
	return -1
}

func ones(e entry) int {
	n, _ := e.network.Mask.Size()
	return n
}

// TestShippedAgreesWithCidranger probes every interval's first and last
// address, one inside, and the addresses just outside it.
func TestShippedAgreesWithCidranger(t *testing.T) {
	p := shippedPlan(t)
	r := oracle(t, p)
	probes := 0
	for _, table := range [][]ranges.Interval{p.V4, p.V6} {
		for _, iv := range table {
			for _, a := range []netip.Addr{iv.First, iv.Last, mid(iv.First, iv.Last), iv.First.Prev(), iv.Last.Next()} {
				if !a.IsValid() {
					continue
				}
				probes++
				if got, want := p.Lookup(a), wantLabel(t, p, r, a); got != want {
					t.Errorf("%s: plan says %s, cidranger says %s", a, p.Labels[got].Name, p.Labels[want].Name)
				}
			}
		}
	}
	if probes < 20000 {
		t.Errorf("only %d probes", probes)
	}
}

// mid returns an address between first and last.
func mid(first, last netip.Addr) netip.Addr {
	a, b := first.As16(), last.As16()
	var m [16]byte
	carry := 0
	for i := 15; i >= 0; i-- {
		sum := int(a[i]) + int(b[i]) + carry
		m[i], carry = byte(sum), sum>>8
	}
	// Halve the 129-bit sum.
	for i := 0; i < 16; i++ {
		next := int(m[i]) & 1
		m[i] = byte(int(m[i])>>1 | carry<<7)
		carry = next
	}
	addr := netip.AddrFrom16(m)
	if first.Is4() {
		return addr.Unmap()
	}
	return addr
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
