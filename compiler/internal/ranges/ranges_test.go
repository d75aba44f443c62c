package ranges

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/regedge/regedge/compiler/plan"
)

// iv builds an interval from address strings.
func iv(first, last string, label int) plan.Interval {
	return plan.Interval{First: netip.MustParseAddr(first), Last: netip.MustParseAddr(last), Label: label}
}

// claim builds a claim from a prefix string.
func claim(prefix string, label, rank, source int) Claim {
	return Claim{Prefix: netip.MustParsePrefix(prefix), Label: label, Rank: rank, Source: source}
}

// tableString renders a table as "first-last:label/source" entries, one per line.
func tableString(table []plan.Interval) string {
	var b strings.Builder
	for _, t := range table {
		fmt.Fprintf(&b, "%s-%s:%d/%d\n", t.First, t.Last, t.Label, t.Source)
	}
	return b.String()
}

func claimsString(claims []Claim) string {
	var b strings.Builder
	for _, c := range claims {
		fmt.Fprintf(&b, "%s:%d/r%d/s%d\n", c.Prefix, c.Label, c.Rank, c.Source)
	}
	return b.String()
}

func TestFlatten(t *testing.T) {
	const (
		A = iota + 1
		B
		C
		D
	)
	tests := []struct {
		name      string
		claims    []Claim
		want      []plan.Interval // Source is compared too
		outranked []Claim
	}{
		{
			name:   "empty",
			claims: nil,
		},
		{
			name: "nested prefixes, most specific wins",
			claims: []Claim{
				claim("10.1.2.0/24", C, 0, 2),
				claim("10.0.0.0/8", A, 0, 0),
				claim("10.1.0.0/16", B, 0, 1),
			},
			want: []plan.Interval{
				{First: netip.MustParseAddr("10.0.0.0"), Last: netip.MustParseAddr("10.0.255.255"), Label: A, Source: 0},
				{First: netip.MustParseAddr("10.1.0.0"), Last: netip.MustParseAddr("10.1.1.255"), Label: B, Source: 1},
				{First: netip.MustParseAddr("10.1.2.0"), Last: netip.MustParseAddr("10.1.2.255"), Label: C, Source: 2},
				{First: netip.MustParseAddr("10.1.3.0"), Last: netip.MustParseAddr("10.1.255.255"), Label: B, Source: 1},
				{First: netip.MustParseAddr("10.2.0.0"), Last: netip.MustParseAddr("10.255.255.255"), Label: A, Source: 0},
			},
		},
		{
			name: "child at the start and end of its parent",
			claims: []Claim{
				claim("10.0.0.0/8", A, 0, 0),
				claim("10.0.0.0/16", B, 0, 1),
				claim("10.255.0.0/16", C, 0, 2),
			},
			want: []plan.Interval{
				{First: netip.MustParseAddr("10.0.0.0"), Last: netip.MustParseAddr("10.0.255.255"), Label: B, Source: 1},
				{First: netip.MustParseAddr("10.1.0.0"), Last: netip.MustParseAddr("10.254.255.255"), Label: A, Source: 0},
				{First: netip.MustParseAddr("10.255.0.0"), Last: netip.MustParseAddr("10.255.255.255"), Label: C, Source: 2},
			},
		},
		{
			name: "adjacent children fill their parent",
			claims: []Claim{
				claim("10.0.0.0/23", A, 0, 0),
				claim("10.0.0.0/24", B, 0, 1),
				claim("10.0.1.0/24", C, 0, 2),
			},
			want: []plan.Interval{
				{First: netip.MustParseAddr("10.0.0.0"), Last: netip.MustParseAddr("10.0.0.255"), Label: B, Source: 1},
				{First: netip.MustParseAddr("10.0.1.0"), Last: netip.MustParseAddr("10.0.1.255"), Label: C, Source: 2},
			},
		},
		{
			name: "identical prefixes, lower rank wins",
			claims: []Claim{
				claim("192.0.2.0/24", B, 7, 1),
				claim("192.0.2.0/24", A, 3, 0),
				claim("192.0.2.0/24", C, 9, 2),
			},
			want: []plan.Interval{
				{First: netip.MustParseAddr("192.0.2.0"), Last: netip.MustParseAddr("192.0.2.255"), Label: A, Source: 0},
			},
			outranked: []Claim{claim("192.0.2.0/24", B, 7, 1), claim("192.0.2.0/24", C, 9, 2)},
		},
		{
			name: "identical prefixes written with host bits are still identical",
			claims: []Claim{
				claim("192.0.2.77/24", B, 1, 1),
				claim("192.0.2.0/24", A, 0, 0),
			},
			want: []plan.Interval{
				{First: netip.MustParseAddr("192.0.2.0"), Last: netip.MustParseAddr("192.0.2.255"), Label: A, Source: 0},
			},
			outranked: []Claim{claim("192.0.2.0/24", B, 1, 1)},
		},
		{
			name: "disjoint prefixes, given out of order",
			claims: []Claim{
				claim("198.51.100.0/24", B, 0, 1),
				claim("192.0.2.0/25", A, 0, 0),
				claim("203.0.113.7/32", C, 0, 2),
			},
			want: []plan.Interval{
				{First: netip.MustParseAddr("192.0.2.0"), Last: netip.MustParseAddr("192.0.2.127"), Label: A, Source: 0},
				{First: netip.MustParseAddr("198.51.100.0"), Last: netip.MustParseAddr("198.51.100.255"), Label: B, Source: 1},
				{First: netip.MustParseAddr("203.0.113.7"), Last: netip.MustParseAddr("203.0.113.7"), Label: C, Source: 2},
			},
		},
		{
			name: "nested prefix closed before a later disjoint one",
			claims: []Claim{
				claim("10.0.0.0/8", A, 0, 0),
				claim("10.0.0.0/24", B, 0, 1),
				claim("11.0.0.0/8", C, 0, 2),
			},
			want: []plan.Interval{
				{First: netip.MustParseAddr("10.0.0.0"), Last: netip.MustParseAddr("10.0.0.255"), Label: B, Source: 1},
				{First: netip.MustParseAddr("10.0.1.0"), Last: netip.MustParseAddr("10.255.255.255"), Label: A, Source: 0},
				{First: netip.MustParseAddr("11.0.0.0"), Last: netip.MustParseAddr("11.255.255.255"), Label: C, Source: 2},
			},
		},
		{
			name: "last IPv4 address alone",
			claims: []Claim{
				claim("255.255.255.255/32", A, 0, 0),
			},
			want: []plan.Interval{
				{First: netip.MustParseAddr("255.255.255.255"), Last: netip.MustParseAddr("255.255.255.255"), Label: A, Source: 0},
			},
		},
		{
			name: "whole IPv4 space with a child at the top",
			claims: []Claim{
				claim("0.0.0.0/0", A, 0, 0),
				claim("255.255.255.255/32", B, 0, 1),
			},
			want: []plan.Interval{
				{First: netip.MustParseAddr("0.0.0.0"), Last: netip.MustParseAddr("255.255.255.254"), Label: A, Source: 0},
				{First: netip.MustParseAddr("255.255.255.255"), Last: netip.MustParseAddr("255.255.255.255"), Label: B, Source: 1},
			},
		},
		{
			name: "three levels ending at the top of IPv4",
			claims: []Claim{
				claim("0.0.0.0/0", A, 0, 0),
				claim("255.0.0.0/8", B, 0, 1),
				claim("255.255.255.0/24", C, 0, 2),
				claim("1.0.0.0/8", D, 0, 3),
			},
			want: []plan.Interval{
				{First: netip.MustParseAddr("0.0.0.0"), Last: netip.MustParseAddr("0.255.255.255"), Label: A, Source: 0},
				{First: netip.MustParseAddr("1.0.0.0"), Last: netip.MustParseAddr("1.255.255.255"), Label: D, Source: 3},
				{First: netip.MustParseAddr("2.0.0.0"), Last: netip.MustParseAddr("254.255.255.255"), Label: A, Source: 0},
				{First: netip.MustParseAddr("255.0.0.0"), Last: netip.MustParseAddr("255.255.254.255"), Label: B, Source: 1},
				{First: netip.MustParseAddr("255.255.255.0"), Last: netip.MustParseAddr("255.255.255.255"), Label: C, Source: 2},
			},
		},
		{
			name: "whole IPv4 space alone",
			claims: []Claim{
				claim("0.0.0.0/0", A, 0, 0),
			},
			want: []plan.Interval{
				{First: netip.MustParseAddr("0.0.0.0"), Last: netip.MustParseAddr("255.255.255.255"), Label: A, Source: 0},
			},
		},
		{
			name: "whole IPv6 space with a child at the top",
			claims: []Claim{
				claim("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", B, 0, 1),
				claim("::/0", A, 0, 0),
			},
			want: []plan.Interval{
				{First: netip.MustParseAddr("::"), Last: netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"), Label: A, Source: 0},
				{First: netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), Last: netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), Label: B, Source: 1},
			},
		},
		{
			name: "whole IPv6 space with a child in the middle",
			claims: []Claim{
				claim("::/0", A, 0, 0),
				claim("2001:db8::/32", B, 0, 1),
			},
			want: []plan.Interval{
				{First: netip.MustParseAddr("::"), Last: netip.MustParseAddr("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"), Label: A, Source: 0},
				{First: netip.MustParseAddr("2001:db8::"), Last: netip.MustParseAddr("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"), Label: B, Source: 1},
				{First: netip.MustParseAddr("2001:db9::"), Last: netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), Label: A, Source: 0},
			},
		},
		{
			name: "IPv6 nested",
			claims: []Claim{
				claim("2600:1f18::/33", A, 0, 0),
				claim("2600:1f18:1be8:8f00::/56", B, 0, 1),
			},
			want: []plan.Interval{
				{First: netip.MustParseAddr("2600:1f18::"), Last: netip.MustParseAddr("2600:1f18:1be8:8eff:ffff:ffff:ffff:ffff"), Label: A, Source: 0},
				{First: netip.MustParseAddr("2600:1f18:1be8:8f00::"), Last: netip.MustParseAddr("2600:1f18:1be8:8fff:ffff:ffff:ffff:ffff"), Label: B, Source: 1},
				{First: netip.MustParseAddr("2600:1f18:1be8:9000::"), Last: netip.MustParseAddr("2600:1f18:7fff:ffff:ffff:ffff:ffff:ffff"), Label: A, Source: 0},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.claims)
			got, outranked := Flatten(tt.claims)
			if g, w := tableString(got), tableString(tt.want); g != w {
				t.Errorf("table:\n%s\nwant:\n%s", g, w)
			}
			if g, w := claimsString(outranked), claimsString(tt.outranked); g != w {
				t.Errorf("outranked:\n%s\nwant:\n%s", g, w)
			}
			if !slices.Equal(in, tt.claims) {
				t.Errorf("Flatten changed its argument:\n%s\nwas:\n%s", claimsString(tt.claims), claimsString(in))
			}
		})
	}
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name string
		in   []plan.Interval
		want []plan.Interval
	}{
		{name: "empty"},
		{
			name: "touching same label joins",
			in:   []plan.Interval{iv("10.0.0.0", "10.0.0.255", 1), iv("10.0.1.0", "10.0.1.255", 1)},
			want: []plan.Interval{iv("10.0.0.0", "10.0.1.255", 1)},
		},
		{
			name: "touching different labels stay apart",
			in:   []plan.Interval{iv("10.0.0.0", "10.0.0.255", 1), iv("10.0.1.0", "10.0.1.255", 2)},
			want: []plan.Interval{iv("10.0.0.0", "10.0.0.255", 1), iv("10.0.1.0", "10.0.1.255", 2)},
		},
		{
			name: "gap between same label stays apart",
			in:   []plan.Interval{iv("10.0.0.0", "10.0.0.255", 1), iv("10.0.2.0", "10.0.2.255", 1)},
			want: []plan.Interval{iv("10.0.0.0", "10.0.0.255", 1), iv("10.0.2.0", "10.0.2.255", 1)},
		},
		{
			name: "gap of one address stays apart",
			in:   []plan.Interval{iv("10.0.0.0", "10.0.0.254", 1), iv("10.0.1.0", "10.0.1.0", 1)},
			want: []plan.Interval{iv("10.0.0.0", "10.0.0.254", 1), iv("10.0.1.0", "10.0.1.0", 1)},
		},
		{
			name: "run of three joins, then a different label",
			in: []plan.Interval{
				iv("10.0.0.0", "10.0.0.0", 1), iv("10.0.0.1", "10.0.0.1", 1), iv("10.0.0.2", "10.0.0.9", 1),
				iv("10.0.0.10", "10.0.0.10", 2), iv("10.0.0.11", "10.0.0.11", 1),
			},
			want: []plan.Interval{iv("10.0.0.0", "10.0.0.9", 1), iv("10.0.0.10", "10.0.0.10", 2), iv("10.0.0.11", "10.0.0.11", 1)},
		},
		{
			name: "up to the top of the space",
			in:   []plan.Interval{iv("255.255.255.254", "255.255.255.254", 3), iv("255.255.255.255", "255.255.255.255", 3)},
			want: []plan.Interval{iv("255.255.255.254", "255.255.255.255", 3)},
		},
		{
			name: "IPv6",
			in:   []plan.Interval{iv("2001:db8::", "2001:db8::ffff", 1), iv("2001:db8::1:0", "2001:db8::1:ffff", 1)},
			want: []plan.Interval{iv("2001:db8::", "2001:db8::1:ffff", 1)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if g, w := tableString(Merge(tt.in)), tableString(tt.want); g != w {
				t.Errorf("Merge:\n%s\nwant:\n%s", g, w)
			}
		})
	}
}

func TestMergeKeepsFirstSource(t *testing.T) {
	in := []plan.Interval{
		{First: netip.MustParseAddr("10.0.0.0"), Last: netip.MustParseAddr("10.0.0.9"), Label: 1, Source: 4},
		{First: netip.MustParseAddr("10.0.0.10"), Last: netip.MustParseAddr("10.0.0.19"), Label: 1, Source: 9},
	}
	got := Merge(in)
	want := []plan.Interval{{First: netip.MustParseAddr("10.0.0.0"), Last: netip.MustParseAddr("10.0.0.19"), Label: 1, Source: 4}}
	if g, w := tableString(got), tableString(want); g != w {
		t.Errorf("Merge:\n%s\nwant:\n%s", g, w)
	}
}

func oracle(claims []Claim, addr netip.Addr) (label, source int, ok bool) {
	var best Claim
	for _, c := range claims {
		p := c.Prefix.Masked()
		if !p.Contains(addr) {
			continue
		}
		if !ok || p.Bits() > best.Prefix.Masked().Bits() || (p.Bits() == best.Prefix.Masked().Bits() && c.Rank < best.Rank) {
			best, ok = c, true
		}
	}
	return best.Label, best.Source, ok
}

// randomAddr returns a uniformly random address of the family.
func randomAddr(r *rand.Rand, v6 bool) netip.Addr {
	if v6 {
		var b [16]byte
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return netip.AddrFrom16(b)
	}
	var b [4]byte
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return netip.AddrFrom4(b)
}

// randomClaims returns claims that cluster in a small part of the space, so
// that they nest and collide often, with a few at the edges of the space.
func randomClaims(r *rand.Rand, v6 bool, n int) []Claim {
	bitsLen := 32
	if v6 {
		bitsLen = 128
	}
	var claims []Claim
	for i := range n {
		a := randomAddr(r, v6)
		// Force the first bytes into a narrow range so prefixes overlap.
		s := a.AsSlice()
		switch r.IntN(8) {
		case 0:
			for j := range s {
				s[j] = 0xff
			}
		case 1:
			for j := range s {
				s[j] = 0
			}
		default:
			s[0] = 10
			if len(s) > 4 {
				for j := 1; j < len(s)-3; j++ {
					s[j] = 0
				}
			} else {
				s[1] = 0
			}
		}
		a, _ = netip.AddrFromSlice(s)
		// Prefix lengths concentrated where the clustered bits vary.
		bits := bitsLen - 24 + r.IntN(25)
		if r.IntN(10) == 0 {
			bits = r.IntN(bitsLen + 1)
		}
		p := netip.PrefixFrom(a, bits)
		if r.IntN(3) == 0 { // some claims repeat an earlier prefix
			if len(claims) > 0 {
				p = claims[r.IntN(len(claims))].Prefix
			}
		}
		claims = append(claims, Claim{Prefix: p, Label: r.IntN(5), Rank: r.IntN(4), Source: i})
	}
	return claims
}

func TestFlattenMatchesOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 400 {
		v6 := round%2 == 1
		claims := randomClaims(r, v6, 1+r.IntN(30))
		// Distinct ranks among identical prefixes, so the oracle's winner
		// is unambiguous.
		seen := map[netip.Prefix]map[int]bool{}
		for i := range claims {
			p := claims[i].Prefix.Masked()
			if seen[p] == nil {
				seen[p] = map[int]bool{}
			}
			for seen[p][claims[i].Rank] {
				claims[i].Rank++
			}
			seen[p][claims[i].Rank] = true
		}
		table, outranked := Flatten(claims)
		name := fmt.Sprintf("round %d", round)

		for i, t1 := range table {
			if t1.Last.Less(t1.First) {
				t.Fatalf("%s: interval %d ends before it starts: %s", name, i, tableString(table[i:i+1]))
			}
			if i > 0 && !table[i-1].Last.Less(t1.First) {
				t.Fatalf("%s: intervals %d and %d overlap or are out of order:\n%s", name, i-1, i, tableString(table))
			}
			if t1.First.Is4() == v6 || t1.Last.Is4() == v6 {
				t.Fatalf("%s: interval %d has the wrong family", name, i)
			}
		}

		// Every claim either owns an address or is outranked by an identical prefix.
		wantOutranked := 0
		for _, ranks := range seen {
			wantOutranked += len(ranks) - 1
		}
		if len(outranked) != wantOutranked {
			t.Fatalf("%s: %d outranked claims, want %d:\n%s", name, len(outranked), wantOutranked, claimsString(outranked))
		}
		for _, o := range outranked {
			if !slices.ContainsFunc(claims, func(c Claim) bool { return c.Prefix.Masked() == o.Prefix && c.Rank < o.Rank }) {
				t.Fatalf("%s: claim %s rank %d outranked by nothing", name, o.Prefix, o.Rank)
			}
		}

		// Probe random addresses, the claims' edges and the addresses
		// either side of each edge.
		var probes []netip.Addr
		for range 200 {
			probes = append(probes, randomAddr(r, v6))
		}
		for _, c := range claims {
			p := c.Prefix.Masked()
			first, last := p.Addr(), lastAddr(p)
			probes = append(probes, first, last)
			if n := last.Next(); n.IsValid() {
				probes = append(probes, n)
			}
			if pr := first.Prev(); pr.IsValid() {
				probes = append(probes, pr)
			}
		}
		for _, a := range probes {
			wantLabel, wantSource, wantOK := oracle(claims, a)
			i := plan.Find(table, a)
			if !wantOK {
				if i >= 0 {
					t.Fatalf("%s: %s is in no claim but Find gives %s\nclaims:\n%s", name, a, tableString(table[i:i+1]), claimsString(claims))
				}
				continue
			}
			if i < 0 {
				t.Fatalf("%s: %s is in a claim with label %d but Find gives none\nclaims:\n%stable:\n%s", name, a, wantLabel, claimsString(claims), tableString(table))
			}
			if table[i].Label != wantLabel || table[i].Source != wantSource {
				t.Fatalf("%s: %s has label %d source %d, want label %d source %d\nclaims:\n%stable:\n%s",
					name, a, table[i].Label, table[i].Source, wantLabel, wantSource, claimsString(claims), tableString(table))
			}
		}

		// Merge keeps the answers and leaves no touching intervals with one label.
		merged := Merge(table)
		for i := 1; i < len(merged); i++ {
			if merged[i-1].Label == merged[i].Label && merged[i-1].Last.Next() == merged[i].First {
				t.Fatalf("%s: merged intervals %d and %d touch and share label %d", name, i-1, i, merged[i].Label)
			}
		}
		for _, a := range probes {
			i, j := plan.Find(table, a), plan.Find(merged, a)
			if (i < 0) != (j < 0) || (i >= 0 && table[i].Label != merged[j].Label) {
				t.Fatalf("%s: Merge changed the answer for %s", name, a)
			}
		}
	}
}

// lastAddr returns the last address of a masked prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	s := p.Addr().AsSlice()
	for bit := p.Bits(); bit < len(s)*8; bit++ {
		s[bit/8] |= 0x80 >> (bit % 8)
	}
	a, _ := netip.AddrFromSlice(s)
	return a
}
