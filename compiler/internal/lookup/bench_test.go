package lookup_test

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"

	"github.com/yl2chen/cidranger"

	"github.com/regedge/regedge/compiler/internal/lookup"
	"github.com/regedge/regedge/compiler/plan"
)

// benchN addresses per family; a power of two so the loop index wraps with a
// mask.
const benchN = 4096

// sink keeps benchmark results alive.
var sink int

// benchFamilies runs bench as sub-benchmarks ipv4 and ipv6 of the shipped
// plan, each over the same fixed addresses for every structure, so results
// compare across structures and runs.
func benchFamilies(b *testing.B, lookupFunc func(*plan.Plan) func(netip.Addr) int) {
	p := shippedPlan(b)
	label := lookupFunc(p)
	for _, fam := range []struct {
		name  string
		table []plan.Interval
	}{{"ipv4", p.V4}, {"ipv6", p.V6}} {
		addrs := benchAddrs(fam.table)
		b.Run(fam.name, func(b *testing.B) {
			b.ReportAllocs()
			sum := 0
			for i := 0; b.Loop(); i++ {
				sum += label(addrs[i&(benchN-1)])
			}
			sink = sum
		})
	}
}

// benchAddrs returns benchN fixed addresses: seven in eight at random inside
// random intervals of table, so lookups hit the tables, the rest random in
// the family.
func benchAddrs(table []plan.Interval) []netip.Addr {
	r := rand.New(rand.NewPCG(3, 4))
	addrs := make([]netip.Addr, benchN)
	for i := range addrs {
		switch {
		case i%8 != 0:
			addrs[i] = randomIn(r, table[r.IntN(len(table))])
		case table[0].First.Is4():
			addrs[i] = randomV4(r)
		default:
			addrs[i] = randomV6(r)
		}
	}
	return addrs
}

func BenchmarkTable(b *testing.B) {
	benchFamilies(b, func(p *plan.Plan) func(netip.Addr) int {
		return lookup.New(p).Label
	})
}

func BenchmarkPlanLookup(b *testing.B) {
	benchFamilies(b, func(p *plan.Plan) func(netip.Addr) int {
		return p.Lookup
	})
}

func BenchmarkCidranger(b *testing.B) {
	benchFamilies(b, func(p *plan.Plan) func(netip.Addr) int {
		cr, err := newCIDRRanger(p)
		if err != nil {
			b.Fatal(err)
		}
		return func(a netip.Addr) int {
			class, err := cr.lookup(a)
			if err != nil {
				b.Fatal(err)
			}
			return class
		}
	})
}

func BenchmarkFirstMatchTrie(b *testing.B) {
	benchFamilies(b, func(p *plan.Plan) func(netip.Addr) int {
		return newFirstMatchTrie(p).lookup
	})
}

// cidrRanger is a cidranger path-compressed trie of the plan's raw feed
// prefixes, answering with the class of the most specific one.
type cidrRanger struct{ r cidranger.Ranger }

// classEntry is a feed prefix and its class index.
type classEntry struct {
	network net.IPNet
	class   int
}

func (e classEntry) Network() net.IPNet { return e.network }

func newCIDRRanger(p *plan.Plan) (cidrRanger, error) {
	r := cidranger.NewPCTrieRanger()
	// A feed lists some prefixes several times (AWS: once per service);
	// cidranger would keep them all.
	seen := map[netip.Prefix]bool{}
	for _, e := range p.Trace.Entries {
		if seen[e.Prefix] {
			continue
		}
		seen[e.Prefix] = true
		n := net.IPNet{IP: e.Prefix.Addr().AsSlice(), Mask: net.CIDRMask(e.Prefix.Bits(), e.Prefix.Addr().BitLen())}
		if err := r.Insert(classEntry{network: n, class: e.Class}); err != nil {
			return cidrRanger{}, err
		}
	}
	return cidrRanger{r}, nil
}

// lookup returns the class of the most specific prefix holding a, or -1.
func (c cidrRanger) lookup(a netip.Addr) (int, error) {
	// cidranger takes a net.IP, so real use converts every address; the
	// conversion and its allocation are part of the measured cost.
	entries, err := c.r.ContainingNetworks(net.IP(a.Unmap().AsSlice()))
	if err != nil {
		return -1, err
	}
	class, bits := -1, -1
	for _, e := range entries {
		n := e.Network()
		if ones, _ := n.Mask.Size(); ones > bits {
			class, bits = e.(classEntry).class, ones
		}
	}
	return class, nil
}

// firstMatchTrie is the structure registry.k8s.io's pkg/net/cidrs uses: a
// binary trie with one node per prefix bit, whose lookup walks the address
// bit by bit from the root and returns the first value it meets, the least
// specific prefix's, not the most specific.
type firstMatchTrie struct{ v4, v6 trieNode }

type trieNode struct {
	child [2]*trieNode
	class int
	set   bool
}

func newFirstMatchTrie(p *plan.Plan) *firstMatchTrie {
	t := &firstMatchTrie{}
	for _, e := range p.Trace.Entries {
		n, key, off := t.root(e.Prefix.Addr())
		for i := off; i < off+e.Prefix.Bits(); i++ {
			bit := key[i/8] >> (7 - i%8) & 1
			if n.child[bit] == nil {
				n.child[bit] = &trieNode{}
			}
			n = n.child[bit]
		}
		if !n.set {
			n.class, n.set = e.Class, true
		}
	}
	return t
}

// root returns the family's root, the address as 16 bytes and the bit at
// which the family's address starts in them.
func (t *firstMatchTrie) root(a netip.Addr) (*trieNode, [16]byte, int) {
	if a.Is4() {
		return &t.v4, a.As16(), 96
	}
	return &t.v6, a.As16(), 0
}

// lookup returns the class of the least specific prefix holding a, or -1.
func (t *firstMatchTrie) lookup(a netip.Addr) int {
	n, key, i := t.root(a.Unmap())
	for ; ; i++ {
		if n.set {
			return n.class
		}
		if i == 128 {
			return -1
		}
		if n = n.child[key[i/8]>>(7-i%8)&1]; n == nil {
			return -1
		}
	}
}
