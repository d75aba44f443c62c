package verify

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/regedge/regedge/compiler/internal/plantest"
	"github.com/regedge/regedge/compiler/plan"
)

func TestCheckTableShippedPlan(t *testing.T) {
	p := shippedPlan(t)
	if p.Trace == nil || len(p.Trace.Entries) == 0 || len(p.V4) == 0 || len(p.V6) == 0 {
		t.Fatalf("shipped plan has %d V4 and %d V6 intervals and no trace entries", len(p.V4), len(p.V6))
	}
	ms := CheckTable(p)
	for i, m := range ms {
		if i == 10 {
			t.Errorf("... %d mismatches in all", len(ms))
			break
		}
		t.Errorf("table mismatch: %+v", m)
	}
}

// TestCheckTableCorrupted relabels one interval of the shipped plan and
// expects CheckTable to name exactly the probe addresses inside it.
func TestCheckTableCorrupted(t *testing.T) {
	p := shippedPlan(t)
	before := slices.Clone(p.V4)
	for _, i := range []int{0, len(p.V4) / 2, len(p.V4) - 1} {
		iv := p.V4[i]
		// Any other label will do; take the next one round.
		wrong := (iv.Label + 1) % len(p.Labels)
		corrupt := *p
		corrupt.V4 = slices.Clone(p.V4)
		corrupt.V4[i].Label = wrong

		var want []netip.Addr
		for _, a := range addresses(&corrupt, 0) {
			if u := a.Unmap(); u.Compare(iv.First) >= 0 && u.Compare(iv.Last) <= 0 {
				want = append(want, a)
			}
		}
		if len(want) < 3 {
			t.Fatalf("interval %d (%v-%v): only %d probe addresses inside", i, iv.First, iv.Last, len(want))
		}
		ms := CheckTable(&corrupt)
		var got []netip.Addr
		for _, m := range ms {
			got = append(got, m.Addr)
			if m.Plan != p.Labels[wrong].Name || m.Oracle != p.Labels[iv.Label].Name {
				t.Errorf("interval %d: mismatch %+v, want plan %q and oracle %q", i, m, p.Labels[wrong].Name, p.Labels[iv.Label].Name)
			}
			if pr, err := netip.ParsePrefix(m.Prefix); err != nil || !pr.Contains(m.Addr.Unmap()) {
				t.Errorf("interval %d: mismatch %+v names a prefix that does not hold the address", i, m)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("interval %d (%v-%v): mismatches at\n%v\nwant\n%v", i, iv.First, iv.Last, got, want)
		}
	}
	// The shared plan is untouched.
	if !slices.Equal(p.V4, before) {
		t.Errorf("corrupting a copy changed the shipped plan")
	}
}

// TestCheckTableTiny builds a plan by hand with a trace: one /24 for east
// and, inside it, a /25 for other.
func TestCheckTableTiny(t *testing.T) {
	p := plantest.Plan("")
	p.Labels[plantest.LabelEast].Classes = []string{"aws:us-east-1"}
	p.Labels[plantest.LabelOther].Classes = []string{"aws:us-west-2"}
	p.Trace = &plan.Trace{
		Classes: []plan.Class{{Cloud: "aws", Region: "us-east-1"}, {Cloud: "aws", Region: "us-west-2"}},
		Entries: []plan.Entry{
			{Prefix: netip.MustParsePrefix("10.0.0.0/24"), Feed: "aws", Class: 0},
			{Prefix: netip.MustParsePrefix("10.0.0.128/25"), Feed: "aws", Class: 1},
		},
	}
	// The table that agrees with the trace.
	p.V4 = []plan.Interval{
		{First: netip.MustParseAddr("10.0.0.0"), Last: netip.MustParseAddr("10.0.0.127"), Label: plantest.LabelEast},
		{First: netip.MustParseAddr("10.0.0.128"), Last: netip.MustParseAddr("10.0.0.255"), Label: plantest.LabelOther},
	}
	p.V6 = nil
	if ms := CheckTable(p); len(ms) != 0 {
		t.Errorf("CheckTable = %+v, want none", ms)
	}

	// A table that lost the more specific /25: of its probe addresses
	// (first, middle, last and neighbours of 10.0.0.0-10.0.0.255) only the
	// last is inside the /25.
	p.V4 = p.V4[:1]
	p.V4[0].Last = netip.MustParseAddr("10.0.0.255")
	ms := CheckTable(p)
	want := []OracleMismatch{
		{Addr: netip.MustParseAddr("10.0.0.255"), Plan: "east", Oracle: "other", Prefix: "10.0.0.128/25"},
	}
	if !slices.Equal(ms, want) {
		t.Errorf("CheckTable =\n%+v\nwant\n%+v", ms, want)
	}
}

// TestCheckTableSamePrefixInTwoFeeds: when two feeds list one prefix for
// different classes, the plan gives it to the first declared (priorities
// equal), and CheckTable must accept that. cidranger keeps one entry per
// network, so every entry for the prefix must reach the oracle.
func TestCheckTableSamePrefixInTwoFeeds(t *testing.T) {
	p := plantest.Plan("")
	p.Labels[plantest.LabelEast].Classes = []string{"aws:us-east-1"}
	p.Labels[plantest.LabelOther].Classes = []string{"gcp:us-central1"}
	p.Trace = &plan.Trace{
		Classes: []plan.Class{{Cloud: "aws", Region: "us-east-1"}, {Cloud: "gcp", Region: "us-central1"}},
		Entries: []plan.Entry{
			{Prefix: netip.MustParsePrefix("10.0.0.0/24"), Feed: "aws", Class: 0},
			{Prefix: netip.MustParsePrefix("10.0.0.0/24"), Feed: "gcp", Class: 1},
		},
	}
	p.V4 = []plan.Interval{{First: netip.MustParseAddr("10.0.0.0"), Last: netip.MustParseAddr("10.0.0.255"), Label: plantest.LabelEast}}
	p.V6 = nil
	if ms := CheckTable(p); len(ms) != 0 {
		t.Errorf("CheckTable = %+v, want none (aws, declared first, wins 10.0.0.0/24)", ms)
	}
}
