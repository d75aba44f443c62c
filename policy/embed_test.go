package policy

import (
	"io/fs"
	"testing"
)

// TestDefaultPolicyAndFeedsAreEmbedded checks that the binary carries the
// shipped policy and the snapshots it reads, and not the older snapshots
// kept for tests.
func TestDefaultPolicyAndFeedsAreEmbedded(t *testing.T) {
	for _, name := range []string{Default, "feeds/aws-ip-ranges.json", "feeds/gcp-cloud.json"} {
		if _, err := fs.Stat(FS, name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := fs.Stat(FS, "snapshots"); err == nil {
		t.Error("the test snapshots are embedded in the binary")
	}
}
