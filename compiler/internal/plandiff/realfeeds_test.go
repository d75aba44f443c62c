package plandiff

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regedge/regedge/compiler/internal/compile"
	"github.com/regedge/regedge/compiler/internal/config"
	"github.com/regedge/regedge/compiler/plan"
)

// snapshots holds real feed snapshots, one folder per month.
const snapshots = "../../../policy/snapshots"

// realPlan builds the shipped policy's plan with its feeds replaced by the
// snapshots of one month.
func realPlan(t *testing.T, month string) *plan.Plan {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join(snapshots, month))
	if err != nil {
		t.Fatal(err)
	}
	override := filepath.Join(t.TempDir(), "override.hcl")
	src := `feed "aws" { file = "` + filepath.Join(dir, "aws-ip-ranges.json") + `" }
feed "gcp" { file = "` + filepath.Join(dir, "gcp-cloud.json") + `" }
`
	if err := os.WriteFile(override, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	plans, diags := compile.Plans(config.NewLoader(config.Disk{}), "../../../policy/registry.k8s.io.hcl", override)
	if plans == nil {
		t.Fatalf("building the %s plan: %v", month, diags)
	}
	return plans[0]
}

// TestRealSnapshots diffs the plans of two real feed refreshes, three months
// apart. The counts were checked once against an independent computation
// from the two plan.json files, and are pinned here.
func TestRealSnapshots(t *testing.T) {
	before, after := realPlan(t, "2026-04"), realPlan(t, "2026-07")
	got := markdown(t, before, after)
	for _, want := range []string{
		"## Routing changes\n\nFeeds: `aws` `1777433824` → `1785313625` (created `2026-04-29-03-37-04` → `2026-07-29-08-27-05`), " +
			"`gcp` `1777428430858` → `1785333953849` (created `2026-04-28T19:07:10.85862` → `2026-07-29T07:05:53.849365`). " +
			"34 labels with address changes.\n",
		"| `cloudfront` (default) | 124,494 | 2,576,872 | 1,007,623,936 | 1,480,801,158 |\n",
		"| `s3-af-south-1` | 1,024 | 256 | 16,777,472 | 0 |\n",
		"| `s3-us-east-1` | 23,592 | 20,224 | 336,988,464 | 603,981,568 |\n",
		"| `upstream-artifact-registry` | 2,492,160 | 0 | 0 | 0 |\n",
		"#### `s3-af-south-1`\n\n" +
			"- Gained: `63.249.147.0/24`, `63.249.148.0/23`, `64.66.151.0/24`, `2406:dae8:1000::/40`, `2606:7b40:1b08:200::/56`\n" +
			"- Lost: `35.96.40.0/24`\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("want %q in:\n%s", want, got)
		}
	}
	// A feed refresh moves addresses; it changes no route, region or site.
	for _, section := range []string{"### Client regions", "### Routes", "### Upstreams and sites"} {
		if strings.Contains(got, section) {
			t.Errorf("unexpected %q in:\n%s", section, got)
		}
	}
	if again := markdown(t, realPlan(t, "2026-04"), realPlan(t, "2026-07")); again != got {
		t.Errorf("a second run differs:\n%s\nfirst run:\n%s", again, got)
	}
	if same := markdown(t, after, realPlan(t, "2026-07")); same != "No routing changes.\n" {
		t.Errorf("the same snapshots: %s", same)
	}
}
