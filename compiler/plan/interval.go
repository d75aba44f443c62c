package plan

import (
	"net/netip"
	"slices"
)

// Interval is a range of addresses, First to Last inclusive, with its label
// and, in a Trace, the feed entry that won it.
type Interval struct {
	First  netip.Addr `json:"first"`
	Last   netip.Addr `json:"last"`
	Label  int        `json:"label"`
	Source int        `json:"-"`
}

// Find returns the index of the interval of a sorted, non-overlapping table
// that holds addr, or -1.
func Find(table []Interval, addr netip.Addr) int {
	i, _ := slices.BinarySearchFunc(table, addr, func(iv Interval, a netip.Addr) int {
		return iv.Last.Compare(a)
	})
	if i < len(table) && !addr.Less(table[i].First) {
		return i
	}
	return -1
}
