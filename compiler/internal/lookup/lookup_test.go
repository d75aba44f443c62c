package lookup_test

import (
	"encoding/binary"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/regedge/regedge/compiler/internal/compile"
	"github.com/regedge/regedge/compiler/internal/config"
	"github.com/regedge/regedge/compiler/internal/lookup"
	"github.com/regedge/regedge/compiler/plan"
)

// shipped builds the plan of the shipped policy once for all tests and
// benchmarks; it takes a while and never changes.
var shipped = sync.OnceValues(func() (*plan.Plan, error) {
	plans, diags := compile.Plans(config.NewLoader(config.Disk{}), "../../../policy/registry.k8s.io.hcl", "")
	if diags.HasErrors() {
		return nil, diags
	}
	return plans[0], nil
})

func shippedPlan(tb testing.TB) *plan.Plan {
	tb.Helper()
	p, err := shipped()
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestShippedPlanMatchesLookup(t *testing.T) {
	p := shippedPlan(t)
	if len(p.V4) == 0 || len(p.V6) == 0 {
		t.Fatalf("shipped plan has %d IPv4 and %d IPv6 intervals; want both", len(p.V4), len(p.V6))
	}
	table := lookup.New(p)
	r := rand.New(rand.NewPCG(1, 2))

	probes := []netip.Addr{
		{},
		netip.IPv4Unspecified(),
		netip.AddrFrom4([4]byte{255, 255, 255, 255}),
		netip.IPv6Unspecified(),
		netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
	}
	for _, iv := range append(append([]plan.Interval(nil), p.V4...), p.V6...) {
		probes = append(probes, iv.First, iv.Last, iv.First.Prev(), iv.Last.Next(), midpoint(iv), randomIn(r, iv))
	}
	for range 200_000 {
		probes = append(probes, randomV4(r), randomV6(r))
	}
	for _, a := range probes {
		if a.Is4() {
			probes = append(probes, netip.AddrFrom16(a.As16()))
		}
	}

	for _, a := range probes {
		want := p.Lookup(a)
		if !a.IsValid() {
			want = p.Default
		}
		if got := table.Label(a); got != want {
			t.Errorf("Label(%v) = %d; want %d", a, got, want)
		}
	}
}

func TestHandMadePlans(t *testing.T) {
	iv := func(first, last string, label int) plan.Interval {
		return plan.Interval{First: netip.MustParseAddr(first), Last: netip.MustParseAddr(last), Label: label}
	}
	tests := []struct {
		name string
		plan *plan.Plan
		want map[string]int // "" is the zero Addr
	}{
		{
			name: "empty tables",
			plan: &plan.Plan{Default: 3},
			want: map[string]int{
				"": 3, "0.0.0.0": 3, "1.2.3.4": 3, "255.255.255.255": 3, "::ffff:1.2.3.4": 3,
				"::": 3, "2001:db8::1": 3, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff": 3,
			},
		},
		{
			name: "intervals at both ends",
			plan: &plan.Plan{
				Default: 0,
				V4: []plan.Interval{
					iv("0.0.0.0", "0.0.0.255", 1),
					iv("10.0.0.0", "10.0.0.255", 2),
					// Adjacent and labelled alike: merged into one run.
					iv("10.0.1.0", "10.0.1.255", 2),
					iv("10.0.2.0", "10.0.2.0", 5),
					iv("255.255.255.0", "255.255.255.255", 4),
				},
				V6: []plan.Interval{
					iv("::", "::ff", 1),
					iv("2001:db8::", "2001:db8::ffff:ffff", 2),
					iv("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 4),
				},
			},
			want: map[string]int{
				"":                0,
				"0.0.0.0":         1,
				"0.0.0.255":       1,
				"0.0.1.0":         0,
				"9.255.255.255":   0,
				"10.0.0.0":        2,
				"10.0.1.255":      2,
				"10.0.2.0":        5,
				"10.0.2.1":        0,
				"::ffff:10.0.2.0": 5,
				"255.255.254.255": 0,
				"255.255.255.0":   4,
				"255.255.255.255": 4,

				"::":                                     1,
				"::ff":                                   1,
				"::100":                                  0,
				"::ffff:0.0.0.0":                         1, // IPv4-mapped: 0.0.0.0
				"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff": 0,
				"2001:db8::":                             2,
				"2001:db8::ffff:ffff":                    2,
				"2001:db8::1:0:0":                        0,
				"ffff:ffff:ffff:ffff:ffff:ffff:ffff:feff": 0,
				"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00": 4,
				"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff": 4,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := lookup.New(tt.plan)
			for s, want := range tt.want {
				var a netip.Addr
				if s != "" {
					a = netip.MustParseAddr(s)
				}
				if got := table.Label(a); got != want {
					t.Errorf("Label(%v) = %d; want %d", a, got, want)
				}
				if a.IsValid() && tt.plan.Lookup(a) != want {
					t.Errorf("the expectation for %v disagrees with plan.Lookup (%d)", a, tt.plan.Lookup(a))
				}
			}
		})
	}
}

func TestNewPanicsOnWideLabel(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "70000") {
			t.Errorf("New with label 70000: recovered %v; want a panic naming the label", r)
		}
	}()
	lookup.New(&plan.Plan{V4: []plan.Interval{{
		First: netip.MustParseAddr("10.0.0.0"), Last: netip.MustParseAddr("10.0.0.255"), Label: 70000,
	}}})
}

func TestLabelDoesNotAllocate(t *testing.T) {
	table := lookup.New(shippedPlan(t))
	for _, s := range []string{"15.193.6.1", "::ffff:15.193.6.1", "2600:1f18::1"} {
		a := netip.MustParseAddr(s)
		if n := testing.AllocsPerRun(1000, func() { table.Label(a) }); n != 0 {
			t.Errorf("Label(%v) allocates %v times; want 0", a, n)
		}
	}
}

// TestFirstMatchTrieDiffers documents why the first-match trie is only a
// benchmark baseline: for an address in both a GLOBAL /19 and a us-east-1
// /24 it returns the GLOBAL class, so the client would be sent to the wrong
// site, where the plan (and cidranger's most specific match) say us-east-1.
func TestFirstMatchTrieDiffers(t *testing.T) {
	p := shippedPlan(t)
	a := netip.MustParseAddr("15.193.6.1")
	className := func(class int) string { return p.Trace.Classes[class].String() }

	if i := plan.Find(p.Trace.V4, a); i < 0 || className(p.Trace.V4[i].Label) != "aws:us-east-1" {
		t.Fatalf("plan: %v is not in class aws:us-east-1 (interval %d)", a, i)
	}
	if got := className(newFirstMatchTrie(p).lookup(a)); got != "aws:GLOBAL" {
		t.Errorf("first-match trie: %v is in class %s; want aws:GLOBAL", a, got)
	}
	if labelOf(p, "aws:GLOBAL") == p.Lookup(a) {
		t.Errorf("aws:GLOBAL and aws:us-east-1 share a label; the example no longer shows a routing difference")
	}
	cr, err := newCIDRRanger(p)
	if err != nil {
		t.Fatal(err)
	}
	if class, err := cr.lookup(a); err != nil || className(class) != "aws:us-east-1" {
		t.Errorf("cidranger: %v is in class %d (error %v); want aws:us-east-1", a, class, err)
	}
}

// labelOf returns the label of a "cloud:region" class, or -1.
func labelOf(p *plan.Plan, class string) int {
	for i, l := range p.Labels {
		if slices.Contains(l.Classes, class) {
			return i
		}
	}
	return -1
}

func randomV4(r *rand.Rand) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], r.Uint32())
	return netip.AddrFrom4(b)
}

func randomV6(r *rand.Rand) netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], r.Uint64())
	binary.BigEndian.PutUint64(b[8:], r.Uint64())
	return netip.AddrFrom16(b)
}

// midpoint returns the address halfway through iv.
func midpoint(iv plan.Interval) netip.Addr {
	sum := new(big.Int).Add(toInt(iv.First), toInt(iv.Last))
	return fromInt(sum.Rsh(sum, 1), iv.First.Is4())
}

// randomIn returns a random address of iv.
func randomIn(r *rand.Rand, iv plan.Interval) netip.Addr {
	first := toInt(iv.First)
	span := new(big.Int).Sub(toInt(iv.Last), first)
	span.Add(span, big.NewInt(1))
	off := new(big.Int).Lsh(new(big.Int).SetUint64(r.Uint64()), 64)
	off.Or(off, new(big.Int).SetUint64(r.Uint64()))
	return fromInt(off.Mod(off, span).Add(off, first), iv.First.Is4())
}

func toInt(a netip.Addr) *big.Int { return new(big.Int).SetBytes(a.AsSlice()) }

func fromInt(n *big.Int, is4 bool) netip.Addr {
	if is4 {
		var b [4]byte
		n.FillBytes(b[:])
		return netip.AddrFrom4(b)
	}
	var b [16]byte
	n.FillBytes(b[:])
	return netip.AddrFrom16(b)
}
