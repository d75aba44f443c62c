package config

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hashicorp/hcl/v2"
	"github.com/regedge/regedge/compiler/request"
)

// memReader serves policy files from memory.
type memReader fstest.MapFS

func (m memReader) ReadFile(name string, limit int) ([]byte, error) {
	f, err := fstest.MapFS(m).Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadLimited(f, limit)
}

// base is a complete policy that tests extend.
const base = `
registry {
  info_url    = "https://example.com/info"
  privacy_url = "https://example.com/privacy"
}
feed "aws" {
  format = "aws"
  file   = "aws.json"
  url    = "https://example.com/aws.json"
}
upstream "main" {
  endpoint = "https://registry.example.com"
  prefix   = "images"
}
mirror {
  default_site = site.cdn
  check {
    positive_ttl = "1h"
    negative_ttl = "90s"
    timeout      = "1500ms"
  }
}
route "blobs" {
  kinds    = ["blob"]
  to       = mirror
  fallback = upstream.main
}
route "all" {
  kinds = ["any"]
  to    = upstream.main
}
`

func load(t *testing.T, files map[string]string, override string) ([]*Policy, hcl.Diagnostics) {
	t.Helper()
	fs := memReader{}
	for name, src := range files {
		fs[name] = &fstest.MapFile{Data: []byte(src)}
	}
	return NewLoader(fs).Load("policy.hcl", override)
}

func mustLoad(t *testing.T, files map[string]string, override string) []*Policy {
	t.Helper()
	policies, diags := load(t, files, override)
	if diags.HasErrors() {
		t.Fatalf("unexpected errors: %v", diags)
	}
	return policies
}

func summaries(diags hcl.Diagnostics) string {
	var s []string
	for _, d := range diags {
		s = append(s, fmt.Sprintf("%s@%d:%d", d.Summary, d.Subject.Start.Line, d.Subject.Start.Column))
	}
	return strings.Join(s, "; ")
}

func TestForEachAndLocals(t *testing.T) {
	policies := mustLoad(t, map[string]string{"policy.hcl": base + `
locals {
  regions = ["us-east-1", "eu-west-1"]
  urls    = { for r in local.regions : r => "https://bucket-${r}.example.com" }
}
site "s3" {
  for_each = local.urls
  url      = each.value
  regions  = ["aws:${each.key}"]
}
site "edge" {
  for_each = ["a"]
  url      = "https://edge-${each.key}.example.com/"
}
site "cdn" {
  url = "https://cdn.example.com"
}
`}, "")
	p := policies[0]
	var got []string
	for _, s := range p.Sites {
		got = append(got, fmt.Sprintf("%s %s %s %v", s.Name, s.URL, s.BlobPath, s.Regions))
	}
	want := []string{
		"s3-eu-west-1 https://bucket-eu-west-1.example.com /containers/images/{digest} [aws:eu-west-1]",
		"s3-us-east-1 https://bucket-us-east-1.example.com /containers/images/{digest} [aws:us-east-1]",
		"edge-a https://edge-a.example.com /containers/images/{digest} []",
		"cdn https://cdn.example.com /containers/images/{digest} []",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("sites:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if p.Mirror.DefaultSite != "cdn" {
		t.Errorf("default site = %q", p.Mirror.DefaultSite)
	}
}

func TestCheckDurations(t *testing.T) {
	p := mustLoad(t, map[string]string{"policy.hcl": base + `site "cdn" { url = "https://cdn.example.com" }`}, "")[0]
	c := p.Mirror.Check
	if got := fmt.Sprint(c.PositiveTTL, c.NegativeTTL, c.Timeout, c.CacheSize, c.DownAfter, c.DownFor, c.DownForMax); got != "1h0m0s 1m30s 1.5s 100000 3 30s 5m0s" {
		t.Errorf("check = %s", got)
	}
	if p.Mirror.DefaultSite != "cdn" || p.Nginx.WorkerProcesses != "auto" || strings.Join(p.Nginx.Listen, ",") != "80,[::]:80" {
		t.Errorf("defaults: %+v %+v", p.Mirror, p.Nginx)
	}
	if r := p.Routes[0]; !r.To.Mirror || r.Fallback != "main" || r.Kinds[0] != request.KindBlob {
		t.Errorf("route = %+v", r)
	}
}

func TestHealthSettings(t *testing.T) {
	policy := func(settings string) string {
		return strings.Replace(base, `timeout      = "1500ms"`, `timeout      = "1500ms"`+"\n"+settings, 1) + `site "cdn" { url = "https://cdn.example.com" }`
	}
	for settings, want := range map[string]string{
		`down_after = 1`:   "1 30s 5m0s",
		`down_for = "10m"`: "3 10m0s 10m0s",
		`down_for = "2s"` + "\n" + `down_for_max = "2s"`: "3 2s 2s",
	} {
		p := mustLoad(t, map[string]string{"policy.hcl": policy(settings)}, "")[0]
		c := p.Mirror.Check
		if got := fmt.Sprint(c.DownAfter, c.DownFor, c.DownForMax); got != want {
			t.Errorf("%s: %s, want %s", settings, got, want)
		}
	}
	for settings, want := range map[string]string{
		`down_after = 0`:      "Invalid down_after@21:14",
		`down_after = 65`:     "Invalid down_after@21:14",
		`down_for = "1500ms"`: "Invalid down period@21:12",
		`down_for = "2h"`:     "Invalid down period@21:12",
		`down_for = "x"`:      "Invalid duration@21:12",
		`down_for = "1m"` + "\n" + `down_for_max = "30s"`: "Invalid down_for_max@22:16",
	} {
		_, diags := load(t, map[string]string{"policy.hcl": policy(settings)}, "")
		if got := summaries(diags); got != want {
			t.Errorf("%s: %s, want %s", settings, got, want)
		}
	}
}

func TestCircularLocals(t *testing.T) {
	_, diags := load(t, map[string]string{"policy.hcl": base + `
site "cdn" { url = "https://cdn.example.com" }
locals {
  a = local.b
  b = local.a
}
`}, "")
	if got := summaries(diags); got != "Circular local value@35:7; Circular local value@36:7" {
		t.Errorf("diagnostics: %s", got)
	}
}

func TestBadForEach(t *testing.T) {
	_, diags := load(t, map[string]string{"policy.hcl": base + `
site "cdn" { url = "https://cdn.example.com" }
site "y" {
  for_each = 3
  url      = "https://y.example.com"
}
site "x" {
  for_each = ["Bad Key"]
  url      = "https://x.example.com"
}
`}, "")
	if got := summaries(diags); got != "Invalid for_each@35:14; Invalid site name@39:14" {
		t.Errorf("diagnostics: %s", got)
	}
}

func TestOverride(t *testing.T) {
	files := map[string]string{
		"policy.hcl": base + `site "cdn" { url = "https://cdn.example.com" }`,
		"override.hcl": `
upstream "main" { endpoint = "http://127.0.0.1:9" }
mirror {
  check { timeout = "2s" }
}
`,
	}
	p := mustLoad(t, files, "override.hcl")[0]
	if u := p.Upstreams[0]; u.Endpoint != "http://127.0.0.1:9" || u.Prefix != "images" {
		t.Errorf("upstream = %+v; want the endpoint replaced and the prefix kept", u)
	}
	if c := p.Mirror.Check; c.Timeout.String() != "2s" || c.PositiveTTL.String() != "1h0m0s" {
		t.Errorf("check = %+v; want only timeout replaced", c)
	}
}

func TestOverrideAddsUnlabelledBlock(t *testing.T) {
	files := map[string]string{
		"policy.hcl":   base + `site "cdn" { url = "https://cdn.example.com" }`,
		"override.hcl": `nginx { listen = ["127.0.0.1:8080"] }`,
	}
	p := mustLoad(t, files, "override.hcl")[0]
	if got := strings.Join(p.Nginx.Listen, ","); got != "127.0.0.1:8080" {
		t.Errorf("listen = %s", got)
	}
}

func TestFeedPathsResolveAgainstTheirFile(t *testing.T) {
	files := map[string]string{
		"dir/policy.hcl":     strings.Replace(base, `file   = "aws.json"`, `file = "feeds/aws.json"`, 1) + `site "cdn" { url = "https://cdn.example.com" }`,
		"other/override.hcl": `feed "aws" { file = "mine.json" }`,
	}
	fs := memReader{}
	for name, src := range files {
		fs[name] = &fstest.MapFile{Data: []byte(src)}
	}
	policies, diags := NewLoader(fs).Load("dir/policy.hcl", "")
	if diags.HasErrors() || policies[0].Feeds[0].File != "dir/feeds/aws.json" {
		t.Fatalf("file = %q, %v", policies[0].Feeds[0].File, diags)
	}
	policies, diags = NewLoader(fs).Load("dir/policy.hcl", "other/override.hcl")
	if diags.HasErrors() || policies[0].Feeds[0].File != "other/mine.json" {
		t.Fatalf("overridden file = %q, %v", policies[0].Feeds[0].File, diags)
	}
}

func TestMissingBlocks(t *testing.T) {
	_, diags := load(t, map[string]string{"policy.hcl": `feed "aws" {
  format = "aws"
  file   = "aws.json"
  url    = "https://example.com/aws.json"
}`}, "")
	var got []string
	for _, d := range diags {
		got = append(got, d.Summary)
	}
	if strings.Join(got, "; ") != "Missing registry block; Missing mirror block" {
		t.Errorf("diagnostics: %v", got)
	}
}

func TestPatternMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, cloud, region string
		want                   bool
	}{
		{"aws:us-east-1", "aws", "us-east-1", true},
		{"aws:us-east-1", "aws", "us-east-2", false},
		{"aws:us-east-1", "gcp", "us-east-1", false},
		{"aws:us-gov-*", "aws", "us-gov-west-1", true},
		{"aws:us-gov-*", "aws", "us-east-1", false},
		{"aws:*", "aws", "GLOBAL", true},
	} {
		cloud, region, _ := strings.Cut(tc.pattern, ":")
		if got := (Pattern{Cloud: cloud, Region: region}).Match(tc.cloud, tc.region); got != tc.want {
			t.Errorf("%s matches %s:%s = %v", tc.pattern, tc.cloud, tc.region, got)
		}
	}
}

func TestGrammars(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pattern interface{ MatchString(string) bool }
		good    []string
		bad     []string
	}{
		{"endpoint", endpointPattern,
			[]string{"https://us-central1-docker.pkg.dev", "http://127.0.0.1:5000", "http://[::1]:80"},
			[]string{"https://x.example.com/", "https://x.example.com/path", "ftp://x", "https://x;y", "https://$host", "https://x.example.com\n", "https://user@x"}},
		{"site", siteURLPattern,
			[]string{"https://x.example.com", "http://127.0.0.1:9/us-east-1", "https://x/a(b)*c+d,e=f:g@h!i&j~k"},
			[]string{"https://x/a b", "https://x/a;b", "https://x/a?b", "https://x/a#b", "https://x/$uri", "https://x/a\"b", "https://x/a'b", "https://x/a{b}", `https://x/a\b`}},
		{"repository prefix", repoPrefixPattern,
			[]string{"images", "k8s-artifacts-prod/images", "a.b/c__d"},
			[]string{"", "/images", "images/", "../x", "a//b", "Images", "a/./b"}},
		{"blob path", blobPathPattern,
			[]string{"/containers/images/{digest}", "/{digest}", "/blobs/{digest}/data"},
			[]string{"containers/{digest}", "/x/{digest};", "/x/{digest} y", "/x/$digest", "/x"}},
		{"header", headerPattern,
			[]string{"X-Forwarded-For", "CF-Connecting-IP"},
			[]string{"X-Forwarded-For;", "X Forwarded", "", "X_Forwarded"}},
		{"listen", listenPattern,
			[]string{"80", "127.0.0.1:8080", "[::]:80", "[::1]:443"},
			[]string{"80;", "localhost:80", "80 default_server", "unix:/x"}},
		{"name", namePattern,
			[]string{"s3-us-east-1", "cdn", "a_b"},
			[]string{"S3", "3s", "a;b", "a b", ""}},
	} {
		for _, s := range tc.good {
			if !tc.pattern.MatchString(s) {
				t.Errorf("%s grammar rejects %q", tc.name, s)
			}
		}
		for _, s := range tc.bad {
			if tc.pattern.MatchString(s) {
				t.Errorf("%s grammar accepts %q", tc.name, s)
			}
		}
	}
}

func TestDidYouMean(t *testing.T) {
	if got := DidYouMean("mian", []string{"main", "mirror"}); got != ` Did you mean "main"?` {
		t.Errorf("got %q", got)
	}
	if got := DidYouMean("zzzzzz", []string{"main"}); got != "" {
		t.Errorf("got %q for a distant name", got)
	}
}

func TestReservedSiteName(t *testing.T) {
	_, diags := load(t, map[string]string{"policy.hcl": base + `
site "cdn" { url = "https://cdn.example.com" }
site "default" { url = "https://x.example.com" }
`}, "")
	if got := summaries(diags); got != "Reserved site name@34:6" {
		t.Errorf("diagnostics: %s", got)
	}
}
