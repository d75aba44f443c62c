package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"

	"github.com/regedge/regedge/compiler/feeds"
)

// Every policy string that reaches a generated config matches one of these
// grammars. They admit no quotes, spaces, semicolons, braces, dollar signs or
// backslashes, so no value can end a directive or add one.
var (
	namePattern       = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	headerPattern     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,63}$`)
	hostPort          = `(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?`
	urlPath           = `(?:/[A-Za-z0-9._~!&()*+,=:@-]*)*`
	endpointPattern   = regexp.MustCompile(`^https?://` + hostPort + `$`)
	siteURLPattern    = regexp.MustCompile(`^https?://` + hostPort + urlPath + `$`)
	pageURLPattern    = regexp.MustCompile(`^https?://` + hostPort + urlPath + `$`)
	repoComponent     = `[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*`
	repoPrefixPattern = regexp.MustCompile(`^` + repoComponent + `(?:/` + repoComponent + `)*$`)
	blobPathPattern   = regexp.MustCompile(`^(?:/[A-Za-z0-9._~-]*)*/[A-Za-z0-9._~-]*\{digest\}[A-Za-z0-9._~-]*(?:/[A-Za-z0-9._~-]*)*$`)
	listenPattern     = regexp.MustCompile(`^(?:(?:[0-9]{1,3}\.){3}[0-9]{1,3}:|\[[0-9A-Fa-f:]+\]:)?[0-9]{1,5}$`)
	workersPattern    = regexp.MustCompile(`^(?:auto|[1-9][0-9]{0,2})$`)
	resolverPattern   = regexp.MustCompile(`^(?:(?:[0-9]{1,3}\.){3}[0-9]{1,3}|\[[0-9A-Fa-f:]+\])(?::[0-9]{1,5})?$`)
	regionPattern     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}\*?$|^\*$`)
)

// reservedSiteNames are words a site name cannot be: site names become keys
// of nginx map blocks, where these are directives.
var reservedSiteNames = []string{"default", "hostnames", "include", "volatile"}

// unknownCloud is the cloud of a client that no feed lists.
const unknownCloud = "unknown"

var (
	feedFormats = feeds.Formats
	kindNames   = []string{"any", "blob", "manifest", "referrers", "signature", "tags"}
)

func (d *decoder) checkURL(s string, r hcl.Range, pattern *regexp.Regexp, what string) {
	if !pattern.MatchString(s) {
		d.errorf(r, "Invalid URL", "The value %q is not %s; a URL here holds only letters, digits and -._~!&()*+,=:@/.", s, what)
	}
}

func (d *decoder) checkBlobPath(s string, r hcl.Range) {
	if !blobPathPattern.MatchString(s) || strings.Count(s, "{digest}") != 1 {
		d.errorf(r, "Invalid blob path", "A blob path starts with \"/\" and holds {digest} once, such as \"/containers/images/{digest}\".")
	}
}

func (d *decoder) duration(s string, r hcl.Range) time.Duration {
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		d.errorf(r, "Invalid duration", "The value %q is not a positive duration such as \"30s\", \"5m\" or \"1h\".", s)
		return 0
	}
	return v
}

// patterns parses "cloud:region" strings; a region may end in "*".
func (d *decoder) patterns(values []string, r hcl.Range) []Pattern {
	var out []Pattern
	for _, v := range values {
		cloud, region, ok := strings.Cut(v, ":")
		if !ok || !namePattern.MatchString(cloud) || !regionPattern.MatchString(region) {
			d.errorf(r, "Invalid region", "The value %q is not \"cloud:region\", such as \"aws:us-east-1\" or \"aws:us-gov-*\".", v)
			continue
		}
		out = append(out, Pattern{Cloud: cloud, Region: region, Range: r})
	}
	return out
}

// Match reports whether the pattern matches a cloud and region.
func (p Pattern) Match(cloud, region string) bool {
	if p.Cloud != cloud {
		return false
	}
	if prefix, ok := strings.CutSuffix(p.Region, "*"); ok {
		return strings.HasPrefix(region, prefix)
	}
	return p.Region == region
}

// String returns the pattern as written.
func (p Pattern) String() string { return p.Cloud + ":" + p.Region }

func duplicate(what, name string, at, prev hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Duplicate " + what,
		Detail:   fmt.Sprintf("A %s named %q was already declared at %s:%d:%d; give each a unique name.", what, name, prev.Filename, prev.Start.Line, prev.Start.Column),
		Subject:  at.Ptr(),
	}
}

func badName(what string, r hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid " + what + " name",
		Detail:   "A name starts with a lower-case letter and holds only lower-case letters, digits, hyphens and underscores.",
		Subject:  r.Ptr(),
	}
}

// DidYouMean returns " Did you mean "x"?" for the closest candidate, or "".
func DidYouMean(got string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := levenshtein.Distance(got, c, nil); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func trimSlash(s string) string { return strings.TrimRight(s, "/") }
