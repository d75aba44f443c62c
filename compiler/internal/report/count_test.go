package report

import (
	"math/big"
	"net/netip"
	"testing"
)

func TestAddresses(t *testing.T) {
	for _, tc := range []struct{ first, last, want string }{
		{"10.0.0.0", "10.0.0.0", "1"},
		{"10.0.0.0", "10.0.1.255", "512"},
		{"0.0.0.0", "255.255.255.255", "4294967296"},
		{"::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "340282366920938463463374607431768211456"},
	} {
		if got := Addresses(netip.MustParseAddr(tc.first), netip.MustParseAddr(tc.last)).String(); got != tc.want {
			t.Errorf("Addresses(%s, %s) = %s, want %s", tc.first, tc.last, got, tc.want)
		}
	}
}

func TestCommas(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := Commas(big.NewInt(n)); got != want {
			t.Errorf("Commas(%d) = %q, want %q", n, got, want)
		}
	}
}
