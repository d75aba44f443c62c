package plan

import (
	"net/netip"
	"testing"
)

func iv(first, last string, label int) Interval {
	return Interval{First: netip.MustParseAddr(first), Last: netip.MustParseAddr(last), Label: label}
}

func TestFind(t *testing.T) {
	table := []Interval{
		iv("10.0.0.0", "10.0.0.255", 1),
		iv("10.0.1.0", "10.0.1.0", 2),
		iv("10.0.5.0", "10.0.5.255", 3),
		iv("255.255.255.0", "255.255.255.255", 4),
	}
	tests := []struct {
		addr string
		want int
	}{
		{"0.0.0.0", -1},
		{"9.255.255.255", -1}, // just before the first
		{"10.0.0.0", 0},       // first address of the first
		{"10.0.0.17", 0},
		{"10.0.0.255", 0}, // last address of the first
		{"10.0.1.0", 1},   // one-address interval
		{"10.0.1.1", -1},  // gap
		{"10.0.4.255", -1},
		{"10.0.5.0", 2},
		{"10.0.5.255", 2},
		{"10.0.6.0", -1},
		{"255.255.254.255", -1},
		{"255.255.255.0", 3},
		{"255.255.255.255", 3},
	}
	for _, tt := range tests {
		if got := Find(table, netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Find(%s) = %d, want %d", tt.addr, got, tt.want)
		}
	}
	if got := Find(nil, netip.MustParseAddr("10.0.0.0")); got != -1 {
		t.Errorf("Find(nil table) = %d, want -1", got)
	}

	v6 := []Interval{iv("2001:db8::", "2001:db8::ff", 7), iv("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 8)}
	for _, tt := range []struct {
		addr string
		want int
	}{
		{"::", -1},
		{"2001:db8::", 0},
		{"2001:db8::ff", 0},
		{"2001:db8::100", -1},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", -1},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1},
	} {
		if got := Find(v6, netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Find(%s) = %d, want %d", tt.addr, got, tt.want)
		}
	}
}

// oracle returns the label and source of the most specific claim holding
// addr, the lowest rank among identical prefixes winning, and false if no
// claim holds it.
