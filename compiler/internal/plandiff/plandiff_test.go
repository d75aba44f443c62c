package plandiff

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

// actions routes blobs to site (or to the upstream when site is "") and
// every other kind to the upstream.
func actions(site, upstream string) []plan.Action {
	var out []plan.Action
	for _, k := range request.Kinds {
		a := plan.Action{Kind: k, Route: "registry", Upstream: upstream}
		if k == request.KindBlob {
			a.Route = "blobs"
			a.Site = site
		}
		out = append(out, a)
	}
	return out
}

func label(name, site string, classes ...string) plan.Label {
	return plan.Label{Name: name, Classes: classes, Actions: actions(site, "main")}
}

func iv(first, last string, label int) plan.Interval {
	return plan.Interval{First: netip.MustParseAddr(first), Last: netip.MustParseAddr(last), Label: label}
}

// small is a small plan: clients in aws:us-east-1 get the site east, all
// others the default site cdn.
func small() *plan.Plan {
	return &plan.Plan{
		Upstreams: []plan.Upstream{{Name: "main", Endpoint: "https://registry.example.com", Prefix: "images"}},
		Sites: []plan.Site{
			{Name: "cdn", URL: "https://cdn.example.com", BlobPath: "/b/{digest}"},
			{Name: "east", URL: "https://east.example.com", BlobPath: "/b/{digest}"},
		},
		Labels: []plan.Label{
			label("cdn", "cdn", "aws:GLOBAL", "unknown"),
			label("east", "east", "aws:us-east-1"),
		},
		Default: 0,
		V4:      []plan.Interval{iv("10.0.0.0", "10.0.0.255", 1)},
		V6:      []plan.Interval{iv("2001:db8::", "2001:db8::ffff:ffff:ffff:ffff", 1)},
		Feeds:   []plan.Feed{{Name: "aws", SyncToken: "100", Created: "2026-01-01"}},
	}
}

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
	refreshed.Feeds[0].SyncToken, refreshed.Feeds[0].Created = "200", "2026-02-01"
	same(t, markdown(t, small(), refreshed),
		"No routing changes. Feeds: `aws` `100` → `200` (created `2026-01-01` → `2026-02-01`).\n")
}

// The plan builder names and orders labels; a label renamed or renumbered
// but routed alike is no change.
func TestRenamedLabelIsNoChange(t *testing.T) {
	renamed := small()
	renamed.Labels = []plan.Label{
		label("a-east", "east", "aws:us-east-1"),
		label("z-cdn", "cdn", "aws:GLOBAL", "unknown"),
	}
	renamed.Default = 1
	renamed.V4[0].Label, renamed.V6[0].Label = 0, 0
	same(t, markdown(t, small(), renamed), "No routing changes.\n")
}

func TestGainedAndLostAddresses(t *testing.T) {
	after := small()
	after.Feeds[0].SyncToken, after.Feeds[0].Created = "200", "2026-02-01"
	after.V4 = []plan.Interval{iv("10.0.0.128", "10.0.1.255", 1)}
	after.V6 = []plan.Interval{
		iv("2001:db8::", "2001:db8::ffff:ffff:ffff:ffff", 1),
		iv("2001:db8:1::", "2001:db8:1:1:ffff:ffff:ffff:ffff", 1),
		iv("2001:db8:2::", "2001:db8:2::ff", 1),
	}
	same(t, markdown(t, small(), after), "## Routing changes\n\n"+
		"Feeds: `aws` `100` → `200` (created `2026-01-01` → `2026-02-01`). 2 labels with address changes.\n\n"+
		"### Addresses\n\n"+
		"The default label holds every address no other label holds: it gains what they lose and loses what they gain.\n\n"+
		"| Label | IPv4 gained | IPv4 lost | IPv6 /64s gained | IPv6 /64s lost |\n"+
		"|---|--:|--:|--:|--:|\n"+
		"| `cdn` (default) | 128 | 256 | 0 | 2 |\n"+
		"| `east` | 256 | 128 | 2 | 0 |\n\n"+
		"#### `cdn` (default)\n\n"+
		"- Gained: `10.0.0.0/25`\n"+
		"- Lost: `10.0.1.0/24`, `2001:db8:1::/63`, `2001:db8:2::/120`\n\n"+
		"#### `east`\n\n"+
		"- Gained: `10.0.1.0/24`, `2001:db8:1::/63`, `2001:db8:2::/120`\n"+
		"- Lost: `10.0.0.0/25`\n")
}

// Less than a whole /64 still shows as a change.
func TestPartialSlash64(t *testing.T) {
	after := small()
	after.V6 = append(after.V6, iv("2001:db8:2::", "2001:db8:2::ff", 1))
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
		after.V4 = append(after.V4, iv(a, a, 1))
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
	before.Labels[1].Classes = []string{"aws:us-east-1", "aws:us-old-1"}
	after := small()
	after.Labels[0].Classes = []string{"aws:GLOBAL", "aws:us-south-1", "unknown"}
	after.Labels[1].Classes = []string{"aws:us-east-1", "aws:us-east-3"}
	same(t, markdown(t, before, after), "## Routing changes\n\n"+
		"Feeds: `aws` unchanged (`100`, created `2026-01-01`). 3 regions new or gone.\n\n"+
		"### Client regions\n\n"+
		"- New: `aws:us-east-3`, on `east`\n"+
		"- New: `aws:us-south-1`, on the **default label** `cdn`: no other site serves it\n"+
		"- Gone: `aws:us-old-1`\n")
}

func TestChangedRoutes(t *testing.T) {
	after := small()
	after.Upstreams = append(after.Upstreams, plan.Upstream{Name: "other", Endpoint: "https://other.example.com", Prefix: "x"})
	// Blobs of aws:us-east-1 go upstream now, and its manifests elsewhere.
	after.Labels[1] = plan.Label{Name: "upstream-main", Classes: []string{"aws:us-east-1"}, Actions: actions("", "main")}
	after.Labels[1].Actions[0].Route = "direct"
	after.Labels[1].Actions[1].Upstream = "other"
	same(t, markdown(t, small(), after), "## Routing changes\n\n"+
		"Feeds: `aws` unchanged (`100`, created `2026-01-01`). 2 labels with address changes, 2 route changes, 1 upstream or site change.\n\n"+
		"### Addresses\n\n"+
		"| Label | IPv4 gained | IPv4 lost | IPv6 /64s gained | IPv6 /64s lost |\n"+
		"|---|--:|--:|--:|--:|\n"+
		"| `east` | 0 | 256 | 0 | 1 |\n"+
		"| `upstream-main` | 256 | 0 | 1 | 0 |\n\n"+
		"#### `east`\n\n"+
		"- Lost: `10.0.0.0/24`, `2001:db8::/64`\n\n"+
		"#### `upstream-main`\n\n"+
		"- Gained: `10.0.0.0/24`, `2001:db8::/64`\n\n"+
		"### Routes\n\n"+
		"- `aws:us-east-1` blob: `site east, else upstream main (route blobs)` → `upstream main (route direct)`\n"+
		"- `aws:us-east-1` manifest: `upstream main (route registry)` → `upstream other (route registry)`\n\n"+
		"### Upstreams and sites\n\n"+
		"- upstream `other` added: `https://other.example.com`, prefix `x`\n")
}

func TestChangedEndpoints(t *testing.T) {
	after := small()
	after.Upstreams[0].Endpoint = "https://registry2.example.com"
	after.Sites[0].URL = "https://cdn2.example.com"
	after.Sites[1].BlobPath = "/blobs/{digest}"
	after.Sites = append(after.Sites, plan.Site{Name: "west", URL: "https://west.example.com", BlobPath: "/b/{digest}"})
	before := small()
	before.Upstreams = append(before.Upstreams, plan.Upstream{Name: "retired", Endpoint: "https://before.example.com", Prefix: "x"})
	same(t, markdown(t, before, after), "## Routing changes\n\n"+
		"Feeds: `aws` unchanged (`100`, created `2026-01-01`). 5 upstream or site changes.\n\n"+
		"### Upstreams and sites\n\n"+
		"- upstream `main` endpoint: `https://registry.example.com` → `https://registry2.example.com`\n"+
		"- upstream `retired` removed\n"+
		"- site `cdn` URL: `https://cdn.example.com` → `https://cdn2.example.com`\n"+
		"- site `east` blob path: `/b/{digest}` → `/blobs/{digest}`\n"+
		"- site `west` added: `https://west.example.com/b/{digest}`\n")
}

// When the default itself routes elsewhere, its old destination loses the
// addresses no feed lists and the new one gains them.
func TestDefaultChanges(t *testing.T) {
	after := small()
	after.Labels[0] = label("west", "west", "aws:GLOBAL", "unknown")
	after.Sites = append(after.Sites, plan.Site{Name: "west", URL: "https://west.example.com", BlobPath: "/b/{digest}"})
	got := markdown(t, small(), after)
	for _, want := range []string{
		"| `cdn` (formerly the default) | 0 | 4,294,967,040 | 0 | 18,446,744,073,709,551,615 |\n",
		"| `west` (default) | 4,294,967,040 | 0 | 18,446,744,073,709,551,615 | 0 |\n",
		"- `aws:GLOBAL` blob: `site cdn, else upstream main (route blobs)` → `site west, else upstream main (route blobs)`\n",
		"- Gained: `0.0.0.0/5`, `8.0.0.0/7`, `10.0.1.0/24`,",
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
	other := label("east-2", "east", "aws:us-east-2")
	other.Actions[1].Upstream = "other"
	after.Labels = append(after.Labels, other)
	after.V4 = append(after.V4, iv("10.0.1.0", "10.0.1.255", 2))
	got := markdown(t, small(), after)
	for _, want := range []string{
		"| `east (manifest: upstream other)` | 256 | 0 | 0 | 0 |\n",
		"- New: `aws:us-east-2`, on `east (manifest: upstream other)`\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("want %q in:\n%s", want, got)
		}
	}
	// The other destination of site east is told apart the same way.
	after.V4 = append(after.V4, iv("10.0.2.0", "10.0.2.255", 1))
	got = markdown(t, small(), after)
	if want := "| `east (manifest: upstream main)` | 256 | 0 | 0 | 0 |\n"; !strings.Contains(got, want) {
		t.Errorf("want %q in:\n%s", want, got)
	}
}

func TestMalformedPlan(t *testing.T) {
	bad := small()
	bad.V4 = append(bad.V4, iv("10.0.1.0", "10.0.1.255", 7))
	if _, err := Markdown(small(), bad); err == nil || err.Error() != "new plan: interval 10.0.1.0-10.0.1.255 has label 7, which does not exist" {
		t.Errorf("err = %v", err)
	}
	bad = small()
	bad.V6 = append(bad.V6, iv("10.0.1.0", "10.0.1.255", 1))
	if _, err := Markdown(bad, small()); err == nil || err.Error() != "old plan: interval 10.0.1.0-10.0.1.255 is not a range of IPv6 addresses" {
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
