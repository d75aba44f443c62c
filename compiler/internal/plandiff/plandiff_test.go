package plandiff

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/regedge/regedge/compiler/internal/plantest"
	"github.com/regedge/regedge/compiler/plan"
)

func iv(first, last string, label int) plan.Interval {
	return plan.Interval{First: netip.MustParseAddr(first), Last: netip.MustParseAddr(last), Label: label}
}

// small is plantest.Plan: clients in aws:east get the site east, those in
// aws:other the upstream other, all others the upstream main.
func small() *plan.Plan { return plantest.Plan("https://east.example.com") }

func markdown(t *testing.T, before, after *plan.Plan) string {
	t.Helper()
	got, err := Markdown(before, after)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func same(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestNoChange(t *testing.T) {
	same(t, markdown(t, small(), small()), "No routing changes.\n")

	refreshed := small()
	refreshed.Feeds[0].SyncToken, refreshed.Feeds[0].Created = "2", "2026-02-01-00-00-00"
	same(t, markdown(t, small(), refreshed),
		"No routing changes. Feeds: `aws` `1` → `2` (created `2026-01-01-00-00-00` → `2026-02-01-00-00-00`).\n")
}

// The plan builder names and orders labels; a label renamed or renumbered
// but routed alike is no change.
func TestRenamedLabelIsNoChange(t *testing.T) {
	renamed := small()
	l := renamed.Labels
	renamed.Labels = []plan.Label{l[plantest.LabelOther], l[plantest.LabelEast], l[plantest.LabelDefault]}
	renamed.Labels[0].Name, renamed.Labels[2].Name = "a-other", "z-default"
	renamed.Default = 2
	renamed.V4[1].Label = 0
	same(t, markdown(t, small(), renamed), "No routing changes.\n")
}

func TestGainedAndLostAddresses(t *testing.T) {
	after := small()
	after.Feeds[0].SyncToken, after.Feeds[0].Created = "2", "2026-02-01-00-00-00"
	after.V4[0] = iv("10.0.0.128", "10.0.0.255", plantest.LabelEast)
	after.V4 = append(after.V4, iv("10.0.2.0", "10.0.2.255", plantest.LabelEast))
	after.V6 = append(after.V6,
		iv("2001:db8:1::", "2001:db8:1:1:ffff:ffff:ffff:ffff", plantest.LabelEast),
		iv("2001:db8:2::", "2001:db8:2::ff", plantest.LabelEast))
	same(t, markdown(t, small(), after), "## Routing changes\n\n"+
		"Feeds: `aws` `1` → `2` (created `2026-01-01-00-00-00` → `2026-02-01-00-00-00`). 2 labels with address changes.\n\n"+
		"### Addresses\n\n"+
		"The default label holds every address no other label holds: it gains what they lose and loses what they gain.\n\n"+
		"| Label | IPv4 gained | IPv4 lost | IPv6 /64s gained | IPv6 /64s lost |\n"+
		"|---|--:|--:|--:|--:|\n"+
		"| `east` | 256 | 128 | 2 | 0 |\n"+
		"| `upstream-main` (default) | 128 | 256 | 0 | 2 |\n\n"+
		"#### `east`\n\n"+
		"- Gained: `10.0.2.0/24`, `2001:db8:1::/63`, `2001:db8:2::/120`\n"+
		"- Lost: `10.0.0.0/25`\n\n"+
		"#### `upstream-main` (default)\n\n"+
		"- Gained: `10.0.0.0/25`\n"+
		"- Lost: `10.0.2.0/24`, `2001:db8:1::/63`, `2001:db8:2::/120`\n")
}

// Less than a whole /64 still shows as a change.
func TestPartialSlash64(t *testing.T) {
	after := small()
	after.V6 = append(after.V6, iv("2001:db8:2::", "2001:db8:2::ff", plantest.LabelEast))
	got := markdown(t, small(), after)
	if !strings.Contains(got, "| `east` | 0 | 0 | <1 | 0 |\n") {
		t.Errorf("want <1 /64 gained:\n%s", got)
	}
}

func TestPrefixCap(t *testing.T) {
	after := small()
	// 25 single addresses, none adjacent: 25 prefixes.
	for i := range 25 {
		a := fmt.Sprintf("192.0.2.%d", 2*i)
		after.V4 = append(after.V4, iv(a, a, plantest.LabelEast))
	}
	got := markdown(t, small(), after)
	var want []string
	for i := range maxPrefixes {
		want = append(want, fmt.Sprintf("`192.0.2.%d/32`", 2*i))
	}
	line := "- Gained: " + strings.Join(want, ", ") + ", and 5 more\n"
	if !strings.Contains(got, "#### `east`\n\n"+line) {
		t.Errorf("want %q in:\n%s", line, got)
	}
	if !strings.Contains(got, "| `east` | 25 | 0 | 0 | 0 |\n") {
		t.Errorf("want 25 addresses gained:\n%s", got)
	}
}

func TestNewAndGoneRegions(t *testing.T) {
	before := small()
	before.Labels[plantest.LabelEast].Classes = []string{"aws:east", "aws:old"}
	after := small()
	after.Labels[plantest.LabelDefault].Classes = []string{"aws:south", "unknown"}
	after.Labels[plantest.LabelEast].Classes = []string{"aws:east", "aws:east-3"}
	same(t, markdown(t, before, after), "## Routing changes\n\n"+
		"Feeds: `aws` unchanged (`1`, created `2026-01-01-00-00-00`). 3 regions new or gone.\n\n"+
		"### Client regions\n\n"+
		"- New: `aws:east-3`, on `east`\n"+
		"- New: `aws:south`, on the **default label** `upstream-main`: no other site serves it\n"+
		"- Gone: `aws:old`\n")
}

func TestChangedRoutes(t *testing.T) {
	after := small()
	after.Upstreams = append(after.Upstreams, plan.Upstream{Name: "backup", Endpoint: "https://backup.example.com", Prefix: "x"})
	// Blobs and manifests of aws:east go to the new upstream now.
	east := &after.Labels[plantest.LabelEast]
	east.Actions = plantest.Actions("east", "main", "")
	east.Actions[0].Route, east.Actions[0].Upstream = "direct", "backup"
	east.Actions[1].Upstream = "backup"
	same(t, markdown(t, small(), after), "## Routing changes\n\n"+
		"Feeds: `aws` unchanged (`1`, created `2026-01-01-00-00-00`). 2 labels with address changes, 2 route changes, 1 upstream or site change.\n\n"+
		"### Addresses\n\n"+
		"| Label | IPv4 gained | IPv4 lost | IPv6 /64s gained | IPv6 /64s lost |\n"+
		"|---|--:|--:|--:|--:|\n"+
		"| `east` | 0 | 256 | 0 | <1 |\n"+
		"| `upstream-backup` | 256 | 0 | <1 | 0 |\n\n"+
		"#### `east`\n\n"+
		"- Lost: `10.0.0.0/24`, `2001:db8::/112`\n\n"+
		"#### `upstream-backup`\n\n"+
		"- Gained: `10.0.0.0/24`, `2001:db8::/112`\n\n"+
		"### Routes\n\n"+
		"- `aws:east` blob: `site east, else upstream main (route east-blob)` → `upstream backup (route direct)`\n"+
		"- `aws:east` manifest: `upstream main (route east-manifest)` → `upstream backup (route east-manifest)`\n\n"+
		"### Upstreams and sites\n\n"+
		"- upstream `backup` added: `https://backup.example.com`, prefix `x`\n")
}

func TestChangedEndpoints(t *testing.T) {
	after := small()
	after.Upstreams[0].Endpoint = "https://main2.example"
	after.Sites[0].URL = "https://east2.example.com"
	after.Sites[0].BlobPath = "/blobs/{digest}"
	after.Sites = append(after.Sites, plan.Site{Name: "west", URL: "https://west.example.com", BlobPath: "/b/{digest}"})
	before := small()
	before.Upstreams = append(before.Upstreams, plan.Upstream{Name: "retired", Endpoint: "https://before.example.com", Prefix: "x"})
	same(t, markdown(t, before, after), "## Routing changes\n\n"+
		"Feeds: `aws` unchanged (`1`, created `2026-01-01-00-00-00`). 5 upstream or site changes.\n\n"+
		"### Upstreams and sites\n\n"+
		"- upstream `main` endpoint: `https://main.example` → `https://main2.example`\n"+
		"- upstream `retired` removed\n"+
		"- site `east` URL: `https://east.example.com` → `https://east2.example.com`\n"+
		"- site `east` blob path: `/containers/images/{digest}` → `/blobs/{digest}`\n"+
		"- site `west` added: `https://west.example.com/b/{digest}`\n")
}

// When the default itself routes elsewhere, its old destination loses the
// addresses no feed lists and the new one gains them.
func TestDefaultChanges(t *testing.T) {
	after := small()
	after.Labels[plantest.LabelDefault].Actions = plantest.Actions("default", "main", "west")
	after.Sites = append(after.Sites, plan.Site{Name: "west", URL: "https://west.example.com", BlobPath: "/b/{digest}"})
	got := markdown(t, small(), after)
	for _, want := range []string{
		"| `upstream-main` (formerly the default) | 0 | 4,294,966,784 | 0 | 18,446,744,073,709,551,615 |\n",
		"| `west` (default) | 4,294,966,784 | 0 | 18,446,744,073,709,551,615 | 0 |\n",
		"- `unknown` blob: `upstream main (route default-blob)` → `site west, else upstream main (route default-blob)`\n",
		"- Gained: `0.0.0.0/5`, `8.0.0.0/7`, `10.0.2.0/23`,",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("want %q in:\n%s", want, got)
		}
	}
}

// Two destinations whose blobs go to the same site are told apart by the
// rest of their routing.
func TestSameSiteDifferentRouting(t *testing.T) {
	after := small()
	east2 := plan.Label{Name: "east-2", Classes: []string{"aws:east-2"}, Actions: plantest.Actions("east", "main", "east")}
	east2.Actions[1].Upstream = "other"
	after.Labels = append(after.Labels, east2)
	after.V4 = append(after.V4, iv("10.0.2.0", "10.0.2.255", 3))
	got := markdown(t, small(), after)
	for _, want := range []string{
		"| `east (manifest: upstream other)` | 256 | 0 | 0 | 0 |\n",
		"- New: `aws:east-2`, on `east (manifest: upstream other)`\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("want %q in:\n%s", want, got)
		}
	}
	// The other destination of site east is told apart the same way.
	after.V4 = append(after.V4, iv("10.0.3.0", "10.0.3.255", plantest.LabelEast))
	got = markdown(t, small(), after)
	if want := "| `east (manifest: upstream main)` | 256 | 0 | 0 | 0 |\n"; !strings.Contains(got, want) {
		t.Errorf("want %q in:\n%s", want, got)
	}
}

func TestMalformedPlan(t *testing.T) {
	bad := small()
	bad.V4 = append(bad.V4, iv("10.0.2.0", "10.0.2.255", 7))
	if _, err := Markdown(small(), bad); err == nil || err.Error() != "new plan: interval 10.0.2.0-10.0.2.255 has label 7, which does not exist" {
		t.Errorf("err = %v", err)
	}
	bad = small()
	bad.V6 = append(bad.V6, iv("10.0.2.0", "10.0.2.255", plantest.LabelEast))
	if _, err := Markdown(bad, small()); err == nil || err.Error() != "old plan: interval 10.0.2.0-10.0.2.255 is not a range of IPv6 addresses" {
		t.Errorf("err = %v", err)
	}
	if _, err := Markdown(&plan.Plan{}, small()); err == nil || err.Error() != "old plan: no labels: not a plan" {
		t.Errorf("err = %v", err)
	}
}

func TestCode(t *testing.T) {
	for in, want := range map[string]string{
		"":              "(none)",
		"aws:us-east-1": "`aws:us-east-1`",
		"a`b|c\\d":      "`a\\x60b\\x7cc\\x5cd`",
		"x\ny\u200b":    "`x\\u000ay\\u200b`",
	} {
		if got := code(in); got != want {
			t.Errorf("code(%q) = %s; want %s", in, got, want)
		}
	}
}
