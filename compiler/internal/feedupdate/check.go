package feedupdate

import (
	"cmp"
	"fmt"
	"strconv"

	"github.com/hashicorp/hcl/v2"

	"github.com/regedge/regedge/compiler/internal/feeds"
)

// version returns what identifies a snapshot's version and its name: the
// syncToken, or the creation time for a format without one (Oracle).
func version(s *feeds.Snapshot) (kind, v string) {
	if s.SyncToken != "" {
		return "syncToken", s.SyncToken
	}
	return "created", s.Created
}

// compareVersions reports whether the download is newer than the snapshot,
// and fails if its syncToken or creation time is older. Both snapshots are
// of the same feed, so their syncTokens count in the same unit (AWS
// publishes seconds, GCP milliseconds).
func compareVersions(old, dl *feeds.Snapshot) (newer bool, err error) {
	byToken := compareTokens(old.SyncToken, dl.SyncToken)
	if byToken < 0 {
		return false, fmt.Errorf("the download's syncToken %s is older than the snapshot's %s", dl.SyncToken, old.SyncToken)
	}
	// Creation times are published in ISO order (year first), so they
	// compare as strings.
	byCreated := 0
	if old.Created != "" && dl.Created != "" {
		byCreated = cmp.Compare(dl.Created, old.Created)
	}
	if byCreated < 0 {
		return false, fmt.Errorf("the download's creation time %s is older than the snapshot's %s", dl.Created, old.Created)
	}
	return byToken > 0 || byCreated > 0, nil
}

// compareTokens compares syncTokens as numbers when both are integers, as
// strings otherwise; a missing token compares equal to anything.
func compareTokens(old, dl string) int {
	if old == "" || dl == "" {
		return 0
	}
	o, errOld := strconv.ParseUint(old, 10, 64)
	d, errDl := strconv.ParseUint(dl, 10, 64)
	if errOld == nil && errDl == nil {
		return cmp.Compare(d, o)
	}
	return cmp.Compare(dl, old)
}

// checkShrink fails if the download has more than the fraction maxShrink
// fewer prefixes than the snapshot.
func checkShrink(old, dl int, maxShrink float64) error {
	if dl >= old || float64(old-dl) <= maxShrink*float64(old) {
		return nil
	}
	return fmt.Errorf("the download lists %s, %.1f%% fewer than the snapshot's %d (at most %.4g%% may go)",
		prefixes(dl), 100*float64(old-dl)/float64(old), old, 100*maxShrink)
}

// summarize describes parse problems in one line: the first, and how many
// more there are.
func summarize(diags hcl.Diagnostics) string {
	errs := diags.Errs()
	d := errs[0].(*hcl.Diagnostic)
	s := d.Summary
	if d.Subject != nil {
		s += fmt.Sprintf(" at line %d, column %d", d.Subject.Start.Line, d.Subject.Start.Column)
	}
	switch n := feeds.Problems(diags) - 1; n {
	case 0:
	case 1:
		s += " (and 1 more problem)"
	default:
		s += fmt.Sprintf(" (and %d more problems)", n)
	}
	return s
}
