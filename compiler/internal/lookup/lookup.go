// Package lookup classifies client addresses against a plan's tables on the
// proxy's hot path: no allocation, a few tens of nanoseconds.
package lookup

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"

	"github.com/regedge/regedge/compiler/plan"
)

// Table answers which label a client address has. It is read-only after
// New, so any number of goroutines may share it.
type Table struct {
	// v4 and v6 hold the first address of every run of addresses with one
	// label, gaps included; the first boundary is always the lowest address,
	// so every address has a last boundary at or below it.
	v4      []uint32
	v4Label []uint16
	// v6Hi and v6Lo are the high and low halves of each 128-bit boundary.
	v6Hi, v6Lo []uint64
	v6Label    []uint16
	def        int
}

// New builds a Table from a plan. It panics if a label index does not fit in
// 16 bits, which keeps the label slices small enough to stay in cache.
func New(p *plan.Plan) *Table {
	t := &Table{def: p.Default}
	def := label16(p.Default)
	for _, b := range boundaries(p.V4, def) {
		t.v4 = append(t.v4, binary.BigEndian.Uint32(b.first[12:]))
		t.v4Label = append(t.v4Label, b.label)
	}
	for _, b := range boundaries(p.V6, def) {
		t.v6Hi = append(t.v6Hi, binary.BigEndian.Uint64(b.first[:8]))
		t.v6Lo = append(t.v6Lo, binary.BigEndian.Uint64(b.first[8:]))
		t.v6Label = append(t.v6Label, b.label)
	}
	return t
}

// Label returns the label index of addr, exactly as p.Lookup(addr) would.
// IPv4-mapped IPv6 addresses are classified as IPv4. An invalid (zero) addr
// gets the default label. The zone of an IPv6 address is ignored (p.Lookup
// instead sorts a zoned address after the unzoned one, so at an interval's
// last address the two differ).
func (t *Table) Label(addr netip.Addr) int {
	addr = addr.Unmap()
	switch {
	case addr.Is4():
		a := addr.As4()
		return int(t.v4Label[search4(t.v4, binary.BigEndian.Uint32(a[:]))])
	case addr.Is6():
		a := addr.As16()
		hi, lo := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])
		return int(t.v6Label[search6(t.v6Hi, t.v6Lo, hi, lo)])
	}
	return t.def
}

// search4 returns the index of the last boundary at or below k. It halves a
// window, so every lookup takes the same number of steps. A branch-free
// variant (moving the window by a mask) measured 1.4 to 3 times slower:
// it makes each load wait for the previous comparison, where a predicted
// branch lets the CPU start the next load early.
func search4(first []uint32, k uint32) int {
	base, n := 0, len(first)
	for n > 1 {
		half := n / 2
		if first[base+half] <= k {
			base += half
		}
		n -= half
	}
	return base
}

// search6 is search4 for 128-bit keys split into high and low halves.
func search6(hi, lo []uint64, khi, klo uint64) int {
	base, n := 0, len(hi)
	lo = lo[:len(hi)]
	for n > 1 {
		half := n / 2
		m := base + half
		if h := hi[m]; h < khi || h == khi && lo[m] <= klo {
			base = m
		}
		n -= half
	}
	return base
}

// boundary is the first address of a run of addresses with one label.
type boundary struct {
	first [16]byte
	label uint16
}

// boundaries covers one family's whole address space: each interval of
// table, each gap between them with def, and nothing else. Neighbours with
// the same label merge, so the search has fewer steps.
func boundaries(table []plan.Interval, def uint16) []boundary {
	if len(table) == 0 {
		return []boundary{{label: def}}
	}
	out := make([]boundary, 0, 2*len(table)+1)
	add := func(first netip.Addr, label uint16) {
		if len(out) > 0 && out[len(out)-1].label == label {
			return
		}
		out = append(out, boundary{first: first.As16(), label: label})
	}
	// next is the lowest address not yet covered; it becomes invalid when
	// an interval ends at the family's highest address.
	next := netip.IPv4Unspecified()
	if table[0].First.Is6() {
		next = netip.IPv6Unspecified()
	}
	for _, iv := range table {
		if next.Less(iv.First) {
			add(next, def)
		}
		add(iv.First, label16(iv.Label))
		next = iv.Last.Next()
	}
	if next.IsValid() {
		add(next, def)
	}
	return out
}

func label16(label int) uint16 {
	if label < 0 || label > math.MaxUint16 {
		panic(fmt.Sprintf("lookup: label index %d does not fit in 16 bits", label))
	}
	return uint16(label)
}
