package feedupdate

import (
	"testing"

	"github.com/regedge/regedge/compiler/internal/feeds"
)

func TestCompareTokens(t *testing.T) {
	tests := []struct {
		old, dl string
		want    int
	}{
		{"1777433824", "1785313625", 1},
		{"1785313625", "1777433824", -1},
		{"1785313625", "1785313625", 0},
		{"99", "100", 1},   // as numbers, not as strings
		{"0100", "100", 0}, // leading zeros do not count
		{"abc", "abd", 1},  // not numbers: as strings
		{"", "100", 0},     // a format without tokens
		{"100", "", 0},
	}
	for _, tt := range tests {
		if got := compareTokens(tt.old, tt.dl); got != tt.want {
			t.Errorf("compareTokens(%q, %q) = %d, want %d", tt.old, tt.dl, got, tt.want)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		name      string
		old, dl   feeds.Snapshot
		wantNewer bool
		wantErr   string
	}{
		{"same", feeds.Snapshot{SyncToken: "1", Created: "a"}, feeds.Snapshot{SyncToken: "1", Created: "a"}, false, ""},
		{"newer token", feeds.Snapshot{SyncToken: "1", Created: "a"}, feeds.Snapshot{SyncToken: "2", Created: "a"}, true, ""},
		{"newer creation", feeds.Snapshot{SyncToken: "1", Created: "a"}, feeds.Snapshot{SyncToken: "1", Created: "b"}, true, ""},
		{"older token", feeds.Snapshot{SyncToken: "2"}, feeds.Snapshot{SyncToken: "1"}, false, "the download's syncToken 1 is older than the snapshot's 2"},
		{"newer token, older creation", feeds.Snapshot{SyncToken: "1", Created: "b"}, feeds.Snapshot{SyncToken: "2", Created: "a"}, false, "the download's creation time a is older than the snapshot's b"},
		{"creation only", feeds.Snapshot{Created: "2026-07-28T22:08:53.541087"}, feeds.Snapshot{Created: "2026-07-29T00:00:00.000000"}, true, ""},
		{"no creation time (azure)", feeds.Snapshot{SyncToken: "411"}, feeds.Snapshot{SyncToken: "412"}, true, ""},
	}
	for _, tt := range tests {
		newer, err := compareVersions(&tt.old, &tt.dl)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if newer != tt.wantNewer || gotErr != tt.wantErr {
			t.Errorf("%s: got %v, %q; want %v, %q", tt.name, newer, gotErr, tt.wantNewer, tt.wantErr)
		}
	}
}

func TestCheckShrink(t *testing.T) {
	tests := []struct {
		old, dl   int
		maxShrink float64
		wantErr   string
	}{
		{100, 95, 0.05, ""},
		{100, 94, 0.05, "the download lists 94 prefixes, 6.0% fewer than the snapshot's 100 (at most 5% may go)"},
		{100, 200, 0, ""},
		{100, 100, 0, ""},
		{100, 99, 0, "the download lists 99 prefixes, 1.0% fewer than the snapshot's 100 (at most 0% may go)"},
		{3, 1, 0.5, "the download lists 1 prefix, 66.7% fewer than the snapshot's 3 (at most 50% may go)"},
		{16424, 15556, 0.05, "the download lists 15556 prefixes, 5.3% fewer than the snapshot's 16424 (at most 5% may go)"},
		{16424, 15556, 0.25, ""},
		{100, 1, 1, ""},
	}
	for _, tt := range tests {
		err := checkShrink(tt.old, tt.dl, tt.maxShrink)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if gotErr != tt.wantErr {
			t.Errorf("checkShrink(%d, %d, %g) = %q, want %q", tt.old, tt.dl, tt.maxShrink, gotErr, tt.wantErr)
		}
	}
}
