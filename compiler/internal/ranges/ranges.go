// Package ranges turns labelled, possibly overlapping CIDR prefixes into a
// flat, sorted table of non-overlapping address intervals in which the most
// specific prefix wins.
package ranges

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/regedge/regedge/compiler/plan"
	"go4.org/netipx"
)

// Claim is a prefix claimed for a label. When several claims name the same
// prefix, the one with the lowest Rank wins. Source identifies the claim to
// the caller.
type Claim struct {
	Prefix netip.Prefix
	Label  int
	Rank   int
	Source int
}

// Flatten returns the intervals the claims cover, sorted and non-overlapping,
// each owned by the most specific claim that contains it. All claims must be
// of one address family. It also returns the claims that own no address
// because an identical prefix outranked them.
func Flatten(claims []Claim) (table []plan.Interval, outranked []Claim) {
	sorted := slices.Clone(claims)
	for i := range sorted {
		sorted[i].Prefix = sorted[i].Prefix.Masked()
	}
	// Least specific first among prefixes that start at the same address,
	// so that every prefix comes after the prefixes that contain it.
	slices.SortStableFunc(sorted, func(a, b Claim) int {
		if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits()); c != 0 {
			return c
		}
		return cmp.Compare(a.Rank, b.Rank)
	})
	var f flattener
	for i, c := range sorted {
		if i > 0 && c.Prefix == sorted[i-1].Prefix {
			outranked = append(outranked, c)
			continue
		}
		f.add(c)
	}
	f.closeBefore(netip.Addr{})
	return f.out, outranked
}

// open is a prefix whose addresses are not all emitted yet; next is the
// first address not yet emitted, invalid once the prefix is exhausted.
type open struct {
	claim Claim
	last  netip.Addr
	next  netip.Addr
}

type flattener struct {
	stack []open
	out   []plan.Interval
}

// add opens c. Claims arrive in order, so every open prefix either contains
// c or ends before it.
func (f *flattener) add(c Claim) {
	first := c.Prefix.Addr()
	f.closeBefore(first)
	last := netipx.PrefixLastIP(c.Prefix)
	if n := len(f.stack); n > 0 {
		parent := &f.stack[n-1]
		if parent.next.IsValid() && parent.next.Less(first) {
			f.emit(parent.next, first.Prev(), parent.claim)
		}
		parent.next = last.Next()
	}
	f.stack = append(f.stack, open{claim: c, last: last, next: first})
}

// closeBefore closes every open prefix that ends before addr; an invalid
// addr closes them all.
func (f *flattener) closeBefore(addr netip.Addr) {
	for n := len(f.stack); n > 0; n = len(f.stack) {
		top := f.stack[n-1]
		if addr.IsValid() && !top.last.Less(addr) {
			return
		}
		if top.next.IsValid() && !top.last.Less(top.next) {
			f.emit(top.next, top.last, top.claim)
		}
		f.stack = f.stack[:n-1]
		if n > 1 {
			f.stack[n-2].next = top.last.Next()
		}
	}
}

func (f *flattener) emit(first, last netip.Addr, c Claim) {
	f.out = append(f.out, plan.Interval{First: first, Last: last, Label: c.Label, Source: c.Source})
}

// Merge joins neighbouring intervals with the same label, so that no two
// touching intervals share a label. Merged intervals keep the first Source.
func Merge(table []plan.Interval) []plan.Interval {
	var out []plan.Interval
	for _, iv := range table {
		if n := len(out); n > 0 && out[n-1].Label == iv.Label && out[n-1].Last.Next() == iv.First {
			out[n-1].Last = iv.Last
			continue
		}
		out = append(out, iv)
	}
	return out
}
