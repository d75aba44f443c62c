package report

import (
	"math/big"
	"net/netip"
)

// Addresses returns how many addresses first to last holds, inclusive.
func Addresses(first, last netip.Addr) *big.Int {
	n := new(big.Int).Sub(new(big.Int).SetBytes(last.AsSlice()), new(big.Int).SetBytes(first.AsSlice()))
	return n.Add(n, big.NewInt(1))
}

// Commas writes n with thousands separators: 1,234,567.
func Commas(n *big.Int) string {
	s := n.String()
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Plural writes a count of things: "1 label", "2 labels", with thousands
// separators.
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return Commas(big.NewInt(int64(n))) + " " + many
}
