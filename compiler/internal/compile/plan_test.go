package compile_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/regedge/regedge/compiler/internal/compile"
	"github.com/regedge/regedge/compiler/internal/config"
	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

// shippedPolicy is the policy regedge embeds, relative to this package.
const shippedPolicy = "../../../policy/registry.k8s.io.hcl"

// build loads a policy and its feeds from disk and builds one plan per
// deployment. Loading errors stop the test; the plan's own diagnostics are
// returned.
func build(t *testing.T, path string) ([]*plan.Plan, hcl.Diagnostics) {
	t.Helper()
	plans, diags := compile.Plans(config.NewLoader(config.Disk{}), path, "")
	if plans == nil && diags.HasErrors() && !isPlanError(diags) {
		t.Fatalf("loading %s: %s", path, diags)
	}
	return plans, diags
}

// isPlanError reports whether the errors are the planner's, which tests
// check, rather than the loader's.
func isPlanError(diags hcl.Diagnostics) bool {
	for _, d := range diags {
		if d.Severity == hcl.DiagError && d.Summary != "No route matches" {
			return false
		}
	}
	return true
}

// buildOne builds a policy without deployments and fails on errors.
func buildOne(t *testing.T, path string) (*plan.Plan, hcl.Diagnostics) {
	t.Helper()
	plans, diags := build(t, path)
	if diags.HasErrors() || len(plans) != 1 {
		t.Fatalf("building %s: %d plans, diagnostics: %s", path, len(plans), diagsString(diags))
	}
	return plans[0], diags
}

var shipped struct {
	once sync.Once
	plan *plan.Plan
}

// shippedPlan returns the plan of the shipped policy, built once.
func shippedPlan(t *testing.T) *plan.Plan {
	t.Helper()
	shipped.once.Do(func() { shipped.plan, _ = buildOne(t, shippedPolicy) })
	if shipped.plan == nil {
		t.Fatal("the shipped policy did not build")
	}
	return shipped.plan
}

// diagsString renders diagnostics as "severity file:line: summary: detail" lines.
func diagsString(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		where := "-"
		if d.Subject != nil {
			where = fmt.Sprintf("%s:%d", filepath.Base(d.Subject.Filename), d.Subject.Start.Line)
		}
		fmt.Fprintf(&b, "%s %s: %s: %s\n", sev, where, d.Summary, d.Detail)
	}
	return b.String()
}

func labelName(p *plan.Plan, addr string) string {
	return p.Labels[p.Lookup(netip.MustParseAddr(addr))].Name
}

// checkTable checks a plan table: sorted, non-overlapping, of one family,
// with no touching neighbours sharing a label and no interval labelled with
// the default.
func checkTable(t *testing.T, p *plan.Plan, name string, table []plan.Interval, v4 bool) {
	t.Helper()
	if len(table) == 0 {
		t.Errorf("%s table is empty", name)
	}
	for i, iv := range table {
		if iv.First.Is4() != v4 || iv.Last.Is4() != v4 {
			t.Errorf("%s[%d] %s-%s has the wrong family", name, i, iv.First, iv.Last)
		}
		if iv.Last.Less(iv.First) {
			t.Errorf("%s[%d] %s-%s ends before it starts", name, i, iv.First, iv.Last)
		}
		if iv.Label == p.Default {
			t.Errorf("%s[%d] %s-%s has the default label %q", name, i, iv.First, iv.Last, p.Labels[iv.Label].Name)
		}
		if iv.Label < 0 || iv.Label >= len(p.Labels) {
			t.Errorf("%s[%d] has label %d of %d", name, i, iv.Label, len(p.Labels))
		}
		if i == 0 {
			continue
		}
		prev := table[i-1]
		if !prev.Last.Less(iv.First) {
			t.Errorf("%s[%d] %s-%s overlaps or precedes %s-%s", name, i, iv.First, iv.Last, prev.First, prev.Last)
		}
		if prev.Label == iv.Label && prev.Last.Next() == iv.First {
			t.Errorf("%s[%d] %s-%s touches the interval before it and shares its label %q", name, i, iv.First, iv.Last, p.Labels[iv.Label].Name)
		}
	}
}

func TestShippedTables(t *testing.T) {
	p := shippedPlan(t)
	checkTable(t, p, "V4", p.V4, true)
	checkTable(t, p, "V6", p.V6, false)
	if got := p.Labels[p.Default].Name; got != "cloudfront" {
		t.Errorf("default label %q, want cloudfront", got)
	}
	names := make([]string, len(p.Labels))
	for i, l := range p.Labels {
		names[i] = l.Name
	}
	if !slices.IsSorted(names) {
		t.Errorf("labels not sorted by name: %q", names)
	}
	if len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Errorf("label names repeat: %q", names)
	}
}

func TestShippedLookup(t *testing.T) {
	p := shippedPlan(t)
	tests := []struct {
		addr, label string
	}{
		// 15.193.6.0/24 us-east-1 inside 15.193.0.0/19 GLOBAL.
		{"15.193.6.1", "s3-us-east-1"},
		{"::ffff:15.193.6.1", "s3-us-east-1"},
		// The GLOBAL prefix around it goes to cloudfront, its other
		// regional prefixes to their buckets.
		{"15.193.20.1", "cloudfront"},
		{"15.193.5.1", "s3-eu-west-2"},
		{"15.193.7.255", "s3-us-west-2"},
		{"15.193.0.0", "s3-ap-south-1"},
		// 2600:1f18:1be8:8f00::/56 inside 2600:1f18::/33, both us-east-1.
		{"2600:1f18:1be8:8f00::1", "s3-us-east-1"},
		{"2600:1f18::1", "s3-us-east-1"},
		// GCP goes upstream.
		{"34.35.0.1", "upstream-artifact-registry"},
		{"34.1.208.1", "upstream-artifact-registry"},
		{"::ffff:34.35.0.1", "upstream-artifact-registry"},
		{"2600:1900:8000::1", "upstream-artifact-registry"},
		// In no feed.
		{"192.0.2.1", "cloudfront"},
		{"2001:db8::1", "cloudfront"},
		{"0.0.0.0", "cloudfront"},
		{"255.255.255.255", "cloudfront"},
		// Borrowed buckets.
		{"15.190.244.1", "s3-ap-east-1"},  // ap-east-2
		{"54.222.88.1", "s3-ap-east-1"},   // cn-north-1
		{"43.193.0.1", "s3-ap-east-1"},    // cn-northwest-1
		{"15.185.0.1", "s3-me-central-1"}, // me-south-1
		// eu-west-2 has a bucket with its own URL.
		{"52.95.150.1", "s3-eu-west-2"},
		{"2a05:d06a:c000::1", "s3-eu-west-2"},
	}
	for _, tt := range tests {
		if got := labelName(p, tt.addr); got != tt.label {
			t.Errorf("Lookup(%s) is label %q, want %q", tt.addr, got, tt.label)
		}
	}

	gcp := p.Lookup(netip.MustParseAddr("34.35.0.1"))
	blob := p.Action(gcp, request.KindBlob)
	if want := (plan.Action{Kind: request.KindBlob, Route: "gcp-blobs", Upstream: "artifact-registry"}); blob != want {
		t.Errorf("GCP blob action %+v, want %+v", blob, want)
	}
	aws := p.Lookup(netip.MustParseAddr("15.193.6.1"))
	if got, want := p.Action(aws, request.KindBlob), (plan.Action{Kind: request.KindBlob, Route: "blobs", Upstream: "artifact-registry", Site: "s3-us-east-1"}); got != want {
		t.Errorf("us-east-1 blob action %+v, want %+v", got, want)
	}
	if got, want := p.Action(aws, request.KindManifest), (plan.Action{Kind: request.KindManifest, Route: "registry", Upstream: "artifact-registry"}); got != want {
		t.Errorf("us-east-1 manifest action %+v, want %+v", got, want)
	}
	if got, want := p.Site("s3-eu-west-2").URL, "https://767373bbdcb8270361b96548387bf2a9ad0d48758c35-eu-west-2.s3.dualstack.eu-west-2.amazonaws.com"; got != want {
		t.Errorf("eu-west-2 site URL %q, want %q", got, want)
	}
}

func TestShippedExcludedRegions(t *testing.T) {
	p := shippedPlan(t)
	excluded := map[string]string{
		"me-west-1":  "51.168.0.1",
		"sa-west-1":  "15.248.168.1",
		"us-south-1": "15.248.167.20",
	}
	for region, addr := range excluded {
		// No other feed prefix holds these addresses, so they are
		// unknown clients.
		if got := p.Lookup(netip.MustParseAddr(addr)); got != p.Default {
			t.Errorf("%s (%s) is label %q, want the default %q", addr, region, p.Labels[got].Name, p.Labels[p.Default].Name)
		}
		for _, s := range p.Sites {
			if strings.HasSuffix(s.Name, region) {
				t.Errorf("site %q serves excluded region %s", s.Name, region)
			}
		}
		for _, c := range p.Trace.Classes {
			if c.Region == region {
				t.Errorf("trace has class %s of excluded region %s", c, region)
			}
		}
		for i, iv := range p.Trace.V4 {
			if c := p.Trace.Classes[iv.Label]; c.Region == region {
				t.Errorf("trace V4[%d] %s-%s has excluded class %s", i, iv.First, iv.Last, c)
			}
		}
		for _, l := range p.Labels {
			if slices.Contains(l.Classes, "aws:"+region) {
				t.Errorf("label %q lists excluded class aws:%s", l.Name, region)
			}
		}
	}
	for _, e := range p.Trace.Entries {
		if c := p.Trace.Classes[e.Class]; excluded[c.Region] != "" {
			t.Errorf("trace entry %s from feed %s has excluded class %s", e.Prefix, e.Feed, c)
		}
	}
}

func TestShippedTrace(t *testing.T) {
	p := shippedPlan(t)
	// The most specific prefix decides, and the trace says which.
	a := netip.MustParseAddr("15.193.6.1")
	i := plan.Find(p.Trace.V4, a)
	if i < 0 {
		t.Fatalf("%s not in the trace", a)
	}
	e := p.Trace.Entries[p.Trace.V4[i].Source]
	if got, want := fmt.Sprintf("%s %s %s", e.Prefix, e.Feed, p.Trace.Classes[e.Class]), "15.193.6.0/24 aws aws:us-east-1"; got != want {
		t.Errorf("trace for %s: %s, want %s", a, got, want)
	}
	if got := p.Trace.Classes[p.Trace.V4[i].Label].String(); got != "aws:us-east-1" {
		t.Errorf("trace class for %s: %s, want aws:us-east-1", a, got)
	}
	if !slices.IsSortedFunc(p.Trace.Classes, func(a, b plan.Class) int { return strings.Compare(a.String(), b.String()) }) {
		t.Error("trace classes not sorted")
	}
	if !slices.Contains(p.Trace.Classes, plan.Class{Cloud: "unknown"}) {
		t.Error("trace classes lack unknown")
	}
	if got, want := p.Feeds[0].Name+" "+p.Feeds[1].Name, "aws gcp"; got != want {
		t.Errorf("feeds %s, want %s", got, want)
	}
	n := 0
	for _, f := range p.Feeds {
		n += f.Prefixes
	}
	if n != len(p.Trace.Entries) {
		t.Errorf("feeds count %d prefixes, trace has %d entries", n, len(p.Trace.Entries))
	}
}

func TestShippedDeterministic(t *testing.T) {
	p1, _ := buildOne(t, shippedPolicy)
	p2, _ := buildOne(t, shippedPolicy)
	j1, err := json.Marshal(p1)
	if err != nil {
		t.Fatal(err)
	}
	j2, err := json.Marshal(p2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(j1, j2) {
		t.Error("two builds of the shipped policy marshal differently")
	}
}

func TestShippedActionsOrder(t *testing.T) {
	p := shippedPlan(t)
	for _, l := range p.Labels {
		var kinds []request.Kind
		for _, a := range l.Actions {
			kinds = append(kinds, a.Kind)
		}
		if !slices.Equal(kinds, request.Kinds) {
			t.Errorf("label %q has actions for %v, want %v", l.Name, kinds, request.Kinds)
		}
		if len(l.Classes) == 0 {
			t.Errorf("label %q has no classes", l.Name)
		}
	}
}

// Tiny policies.

const awsFeed = `{
  "syncToken": "1",
  "createDate": "2026-01-01-00-00-00",
  "prefixes": [%s],
  "ipv6_prefixes": []
}
`

const gcpFeed = `{
  "syncToken": "2",
  "creationTime": "2026-01-01T00:00:00",
  "prefixes": [%s]
}
`

func awsEntry(prefix, region string) string {
	return fmt.Sprintf(`{"ip_prefix": %q, "region": %q, "service": "AMAZON", "network_border_group": %q}`, prefix, region, region)
}

func gcpEntry(prefix, scope string) string {
	key := "ipv4Prefix"
	if strings.Contains(prefix, ":") {
		key = "ipv6Prefix"
	}
	return fmt.Sprintf(`{%q: %q, "service": "Google Cloud", "scope": %q}`, key, prefix, scope)
}

// writePolicy writes policy.hcl and the feed files into a new folder and
// returns the policy's path.
func writePolicy(t *testing.T, policy string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "policy.hcl")
	if err := os.WriteFile(path, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// head is the start of every tiny policy, feeds and routes aside.
const head = `registry {
  info_url    = "https://example.com/info"
  privacy_url = "https://example.com/privacy"
}

upstream "main" {
  endpoint = "https://up.example"
  prefix   = "images"
}

upstream "other" {
  endpoint = "https://other.example"
  prefix   = "images"
}

site "east" {
  url     = "https://east.example"
  regions = ["aws:us-east-1"]
}

site "cdn" {
  url = "https://cdn.example"
}

mirror {
  default_site = site.cdn
}
`

// feedsBlock declares the two feeds, the second with a priority to fill in.
const feedsBlock = `
feed "aws" {
  format = "aws"
  file   = "aws.json"
  url    = "https://example.com/aws.json"
}

feed "gcp" {
  format   = "gcp"
  file     = "gcp.json"
  url      = "https://example.com/gcp.json"
  priority = %d
}
`

// line returns the number of the first line holding text in a policy.
func line(policy, text string) int {
	i := strings.Index(policy, text)
	if i < 0 {
		panic("no " + text)
	}
	return strings.Count(policy[:i], "\n") + 1
}

func TestFeedPriority(t *testing.T) {
	const routes = `
route "gcp-blobs" {
  kinds  = ["blob"]
  clouds = ["gcp"]
  to     = upstream.main
}

route "blobs" {
  kinds    = ["blob"]
  to       = mirror
  fallback = upstream.main
}

route "rest" {
  kinds = ["any"]
  to    = upstream.main
}
`
	files := map[string]string{
		"aws.json": fmt.Sprintf(awsFeed, strings.Join([]string{
			awsEntry("192.0.2.0/24", "us-east-1"),
			awsEntry("198.51.100.0/24", "us-east-1"),
			awsEntry("203.0.113.0/24", "us-east-1"),
		}, ",")),
		"gcp.json": fmt.Sprintf(gcpFeed, strings.Join([]string{
			gcpEntry("192.0.2.0/24", "us-central1"),
			gcpEntry("203.0.113.0/24", "us-central1"),
			gcpEntry("198.51.100.0/25", "us-central1"),
		}, ",")),
	}
	tests := []struct {
		name     string
		priority int
		labels   map[string]string
		winner   string
		diags    string
	}{
		{
			name:     "higher priority wins",
			priority: 1,
			labels: map[string]string{
				"192.0.2.1":      "upstream-main",
				"203.0.113.1":    "upstream-main",
				"198.51.100.1":   "upstream-main", // more specific gcp prefix
				"198.51.100.200": "east",
			},
			winner: "gcp",
			diags:  "warning policy.hcl:%d: Prefixes shadowed by another feed: 2 prefixes of feed \"aws\", such as 192.0.2.0/24, are also listed by feed \"gcp\", which wins by priority; raise this feed's priority if it should win.\n",
		},
		{
			name:     "equal priority, first declared wins",
			priority: 0,
			labels: map[string]string{
				"192.0.2.1":      "east",
				"203.0.113.1":    "east",
				"198.51.100.1":   "upstream-main", // most specific still wins
				"198.51.100.200": "east",
			},
			winner: "aws",
			diags:  "warning policy.hcl:%d: Prefixes shadowed by another feed: 2 prefixes of feed \"gcp\", such as 192.0.2.0/24, are also listed by feed \"aws\", which wins by priority; raise this feed's priority if it should win.\n",
		},
		{
			name:     "lower priority loses",
			priority: -1,
			labels: map[string]string{
				"192.0.2.1":   "east",
				"203.0.113.1": "east",
			},
			winner: "aws",
			diags:  "warning policy.hcl:%d: Prefixes shadowed by another feed: 2 prefixes of feed \"gcp\", such as 192.0.2.0/24, are also listed by feed \"aws\", which wins by priority; raise this feed's priority if it should win.\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			policy := head + fmt.Sprintf(feedsBlock, tt.priority) + routes
			p, diags := buildOne(t, writePolicy(t, policy, files))
			loser := "gcp"
			if tt.winner == "gcp" {
				loser = "aws"
			}
			want := fmt.Sprintf(tt.diags, line(policy, `feed "`+loser+`"`))
			if got := diagsString(diags); got != want {
				t.Errorf("diagnostics:\n%s\nwant:\n%s", got, want)
			}
			for addr, label := range tt.labels {
				if got := labelName(p, addr); got != label {
					t.Errorf("Lookup(%s) is label %q, want %q", addr, got, label)
				}
			}
			i := plan.Find(p.Trace.V4, netip.MustParseAddr("192.0.2.1"))
			if i < 0 {
				t.Fatal("192.0.2.1 not in the trace")
			}
			if got := p.Trace.Entries[p.Trace.V4[i].Source].Feed; got != tt.winner {
				t.Errorf("trace says feed %q decided 192.0.2.1, want %q", got, tt.winner)
			}
		})
	}
}

// TestSameFeedDuplicatesNotReported checks that a feed listing one prefix
// twice (AWS lists prefixes once per service) draws no warning.
func TestSameFeedDuplicatesNotReported(t *testing.T) {
	policy := head + fmt.Sprintf(feedsBlock, 0) + `
route "all" {
  kinds    = ["blob"]
  to       = mirror
  fallback = upstream.main
}

route "rest" {
  kinds = ["any"]
  to    = upstream.main
}
`
	files := map[string]string{
		"aws.json": fmt.Sprintf(awsFeed, awsEntry("192.0.2.0/24", "us-east-1")+","+awsEntry("192.0.2.0/24", "us-east-1")),
		"gcp.json": fmt.Sprintf(gcpFeed, gcpEntry("198.51.100.0/24", "us-central1")),
	}
	p, diags := buildOne(t, writePolicy(t, policy, files))
	want := fmt.Sprintf("warning policy.hcl:%d: Regions no site serves: Blobs for clients in gcp regions us-central1 go to the default site \"cdn\" because no site lists them; add them to a site's regions.\n", line(policy, `feed "gcp"`))
	if got := diagsString(diags); got != want {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", got, want)
	}
	if got := labelName(p, "192.0.2.1"); got != "east" {
		t.Errorf("label %q, want east", got)
	}
	if got := labelName(p, "198.51.100.1"); got != "cdn" {
		t.Errorf("label %q, want cdn", got)
	}
}

func TestWarnings(t *testing.T) {
	files := map[string]string{
		"aws.json": fmt.Sprintf(awsFeed, strings.Join([]string{
			awsEntry("192.0.2.0/24", "us-east-1"),
			awsEntry("198.51.100.0/24", "eu-west-9"),
			awsEntry("203.0.113.0/24", "ap-x-1"),
			awsEntry("203.0.113.128/25", "eu-west-9"),
		}, ",")),
		"gcp.json": fmt.Sprintf(gcpFeed, gcpEntry("100.64.0.0/24", "us-central1")),
	}
	policy := head + fmt.Sprintf(feedsBlock, 0) + `
route "gcp" {
  kinds  = ["any"]
  clouds = ["gcp"]
  to     = upstream.other
}

route "blobs" {
  kinds    = ["blob"]
  to       = mirror
  fallback = upstream.main
}

route "rest" {
  kinds = ["any"]
  to    = upstream.main
}

route "late-blobs" {
  kinds = ["blob"]
  to    = upstream.other
}

route "late-gcp" {
  kinds  = ["manifest"]
  clouds = ["gcp"]
  to     = upstream.main
}
`
	p, diags := buildOne(t, writePolicy(t, policy, files))
	want := fmt.Sprintf(`warning policy.hcl:%d: Route never matches: Earlier routes handle every request route "late-blobs" could match; remove it or move it up.
warning policy.hcl:%d: Route never matches: Earlier routes handle every request route "late-gcp" could match; remove it or move it up.
warning policy.hcl:%d: Regions no site serves: Blobs for clients in aws regions ap-x-1, eu-west-9 go to the default site "cdn" because no site lists them; add them to a site's regions.
`, line(policy, `route "late-blobs"`), line(policy, `route "late-gcp"`), line(policy, `feed "aws"`))
	if got := diagsString(diags); got != want {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", got, want)
	}
	for addr, label := range map[string]string{
		"192.0.2.1":     "east",
		"198.51.100.1":  "cdn",
		"203.0.113.1":   "cdn",
		"203.0.113.129": "cdn",
		"100.64.0.1":    "upstream-other",
		"10.0.0.1":      "cdn",
	} {
		if got := labelName(p, addr); got != label {
			t.Errorf("Lookup(%s) is label %q, want %q", addr, got, label)
		}
	}
	// Unserved regions and unknown clients share the default label, so
	// the table holds only the east and gcp prefixes.
	var table []string
	for _, iv := range p.V4 {
		table = append(table, fmt.Sprintf("%s-%s %s", iv.First, iv.Last, p.Labels[iv.Label].Name))
	}
	if got, want := strings.Join(table, "\n"), "100.64.0.0-100.64.0.255 upstream-other\n192.0.2.0-192.0.2.255 east"; got != want {
		t.Errorf("V4 table:\n%s\nwant:\n%s", got, want)
	}
	def := p.Labels[p.Default]
	if got, want := strings.Join(def.Classes, " "), "aws:ap-x-1 aws:eu-west-9 unknown"; got != want {
		t.Errorf("default label classes %q, want %q", got, want)
	}
}

func TestNoRouteMatches(t *testing.T) {
	files := map[string]string{
		"aws.json": fmt.Sprintf(awsFeed, awsEntry("192.0.2.0/24", "us-east-1")),
		"gcp.json": fmt.Sprintf(gcpFeed, gcpEntry("198.51.100.0/24", "us-central1")),
	}
	policy := head + fmt.Sprintf(feedsBlock, 0) + `
route "blobs" {
  kinds    = ["blob"]
  to       = mirror
  fallback = upstream.main
}

route "manifests" {
  kinds  = ["manifest"]
  clouds = ["gcp"]
  to     = upstream.main
}
`
	plans, diags := build(t, writePolicy(t, policy, files))
	if len(plans) != 0 {
		t.Errorf("got %d plans, want none", len(plans))
	}
	want := fmt.Sprintf(`error policy.hcl:%d: No route matches: No route matches manifest requests from aws:us-east-1 clients; end the routes with one whose kinds are ["any"] and that names no clouds or regions.
`, line(policy, `route "manifests"`))
	if got := diagsString(diags); got != want {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", got, want)
	}
}

func TestLabelNames(t *testing.T) {
	files := map[string]string{
		"aws.json": fmt.Sprintf(awsFeed, strings.Join([]string{
			awsEntry("192.0.2.0/24", "us-east-1"),
			awsEntry("192.0.3.0/24", "us-east-2"),
			awsEntry("198.51.100.0/24", "eu-west-1"),
		}, ",")),
		"gcp.json": fmt.Sprintf(gcpFeed, gcpEntry("203.0.113.0/24", "us-central1")+","+gcpEntry("2001:db8::/32", "europe-west1")),
	}
	policy := `registry {
  info_url    = "https://example.com/info"
  privacy_url = "https://example.com/privacy"
}

upstream "main" {
  endpoint = "https://up.example"
  prefix   = "images"
}

upstream "other" {
  endpoint = "https://other.example"
  prefix   = "images"
}

site "east" {
  url     = "https://east.example"
  regions = ["aws:us-east-*"]
}

site "europe" {
  url     = "https://eu.example"
  regions = ["aws:eu-west-1"]
}

site "cdn" {
  url = "https://cdn.example"
}

mirror {
  default_site = site.cdn
}
` + fmt.Sprintf(feedsBlock, 0) + `
route "gcp-blobs" {
  kinds  = ["blob"]
  clouds = ["gcp"]
  to     = upstream.other
}

route "blobs" {
  kinds    = ["blob"]
  to       = mirror
  fallback = upstream.main
}

route "east-2" {
  kinds   = ["manifest"]
  regions = ["aws:us-east-2"]
  to      = upstream.other
}

route "rest" {
  kinds = ["any"]
  to    = upstream.main
}
`
	p, diags := buildOne(t, writePolicy(t, policy, files))
	if len(diags) != 0 {
		t.Errorf("diagnostics:\n%s\nwant none", diagsString(diags))
	}
	var got []string
	for _, l := range p.Labels {
		blob := l.Actions[0]
		got = append(got, fmt.Sprintf("%s: %s site=%q upstream=%q", l.Name, strings.Join(l.Classes, " "), blob.Site, blob.Upstream))
	}
	want := []string{
		`cdn: unknown site="cdn" upstream="main"`,
		`east: aws:us-east-1 site="east" upstream="main"`,
		`east-2: aws:us-east-2 site="east" upstream="main"`,
		`europe: aws:eu-west-1 site="europe" upstream="main"`,
		`upstream-other: gcp:europe-west1 gcp:us-central1 site="" upstream="other"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("labels:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := p.Labels[p.Default].Name; got != "cdn" {
		t.Errorf("default label %q, want cdn", got)
	}
	for addr, label := range map[string]string{
		"192.0.2.1":       "east",
		"192.0.3.1":       "east-2",
		"198.51.100.1":    "europe",
		"203.0.113.1":     "upstream-other",
		"2001:db8::1":     "upstream-other",
		"2001:db9::1":     "cdn",
		"192.0.4.1":       "cdn",
		"::ffff:c000:201": "east",
	} {
		if got := labelName(p, addr); got != label {
			t.Errorf("Lookup(%s) is label %q, want %q", addr, got, label)
		}
	}
	east2 := p.Lookup(netip.MustParseAddr("192.0.3.1"))
	if got, want := p.Action(east2, request.KindManifest), (plan.Action{Kind: request.KindManifest, Route: "east-2", Upstream: "other"}); got != want {
		t.Errorf("us-east-2 manifest action %+v, want %+v", got, want)
	}
	// A signature is a manifest to routes.
	if got, want := p.Action(east2, request.KindSignature), (plan.Action{Kind: request.KindSignature, Route: "east-2", Upstream: "other"}); got != want {
		t.Errorf("us-east-2 signature action %+v, want %+v", got, want)
	}
	if got, want := p.Action(east2, request.KindTags), (plan.Action{Kind: request.KindTags, Route: "rest", Upstream: "main"}); got != want {
		t.Errorf("us-east-2 tags action %+v, want %+v", got, want)
	}
}

// TestLabelNamesUnique checks that a label numbered to tell it from
// another with the same blob site cannot take the name of a real site.
func TestLabelNamesUnique(t *testing.T) {
	files := map[string]string{
		"aws.json": fmt.Sprintf(awsFeed, strings.Join([]string{
			awsEntry("192.0.2.0/24", "us-east-1"),
			awsEntry("192.0.3.0/24", "us-east-2"),
			awsEntry("198.51.100.0/24", "eu-west-1"),
		}, ",")),
		"gcp.json": fmt.Sprintf(gcpFeed, gcpEntry("203.0.113.0/24", "us-central1")),
	}
	policy := `registry {
  info_url    = "https://example.com/info"
  privacy_url = "https://example.com/privacy"
}

upstream "main" {
  endpoint = "https://up.example"
  prefix   = "images"
}

site "east" {
  url     = "https://east.example"
  regions = ["aws:us-east-*"]
}

site "east-2" {
  url     = "https://east2.example"
  regions = ["aws:eu-west-1", "gcp:us-central1"]
}

mirror {
  default_site = site.east-2
}
` + fmt.Sprintf(feedsBlock, 0) + `
route "blobs" {
  kinds    = ["blob"]
  to       = mirror
  fallback = upstream.main
}

route "manifests-east-2" {
  kinds   = ["manifest"]
  regions = ["aws:us-east-2"]
  to      = upstream.main
}

route "rest" {
  kinds = ["any"]
  to    = upstream.main
}
`
	p, _ := buildOne(t, writePolicy(t, policy, files))
	seen := map[string]int{}
	for _, l := range p.Labels {
		seen[l.Name]++
		if seen[l.Name] > 1 {
			t.Errorf("label name %q repeats", l.Name)
		}
		// A label named after a site sends blobs to that site.
		blob := l.Actions[0]
		if slices.ContainsFunc(p.Sites, func(s plan.Site) bool { return s.Name == l.Name }) && blob.Site != l.Name {
			t.Errorf("label %q (classes %s) sends blobs to site %q", l.Name, strings.Join(l.Classes, " "), blob.Site)
		}
	}
	if got := len(p.Labels); got != 3 {
		t.Errorf("%d labels, want 3", got)
	}
}

// TestShadowCountsPrefixes checks that a prefix a feed lists once per
// service (as AWS does) counts once in the shadowing warning.
func TestShadowCountsPrefixes(t *testing.T) {
	policy := head + fmt.Sprintf(feedsBlock, 1) + `
route "rest" {
  kinds = ["any"]
  to    = upstream.main
}
`
	dup := `{"ip_prefix": "192.0.2.0/24", "region": "us-east-1", "service": "EC2", "network_border_group": "us-east-1"}`
	files := map[string]string{
		"aws.json": fmt.Sprintf(awsFeed, awsEntry("192.0.2.0/24", "us-east-1")+","+dup),
		"gcp.json": fmt.Sprintf(gcpFeed, gcpEntry("192.0.2.0/24", "us-central1")),
	}
	_, diags := buildOne(t, writePolicy(t, policy, files))
	want := fmt.Sprintf("warning policy.hcl:%d: Prefixes shadowed by another feed: The prefix 192.0.2.0/24 of feed \"aws\" is also listed by feed \"gcp\", which wins by priority; raise this feed's priority if it should win.\n",
		line(policy, `feed "aws"`))
	if got := diagsString(diags); got != want {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", got, want)
	}
}

// TestTooManyRegions refuses feeds that list more regions than a policy
// may plan for, at the entry that passes the limit, and plans nothing.
func TestTooManyRegions(t *testing.T) {
	policy := head + fmt.Sprintf(feedsBlock, 0) + `
route "rest" {
  kinds = ["any"]
  to    = upstream.main
}
`
	entries := make([]string, config.MaxFeedRegions+1)
	for i := range entries {
		entries[i] = awsEntry(fmt.Sprintf("10.%d.%d.0/24", i/256, i%256), fmt.Sprintf("r%d", i))
	}
	files := map[string]string{
		"aws.json": fmt.Sprintf(awsFeed, strings.Join(entries, ",\n")),
		"gcp.json": fmt.Sprintf(gcpFeed, gcpEntry("198.51.100.0/24", "us-central1")),
	}
	plans, diags := compile.Plans(config.NewLoader(config.Disk{}), writePolicy(t, policy, files), "")
	want := fmt.Sprintf("error aws.json:%d: Too many regions: With this entry, the policy's feeds list more than %d regions, the most a policy may "+
		"(a region of a cloud counts once); a real feed lists about 50, so check the feed.\n", 4+config.MaxFeedRegions, config.MaxFeedRegions)
	if got := diagsString(diags); plans != nil || got != want {
		t.Errorf("%d plans, diagnostics:\n%s\nwant:\n%s", len(plans), got, want)
	}
}
