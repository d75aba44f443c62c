package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/regedge/regedge/compiler/internal/feeds"
	"github.com/regedge/regedge/compiler/request"
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

// maxBlobPath and maxRepoPrefix bound the parts a redirect adds to a URL.
const (
	maxBlobPath   = 256
	maxRepoPrefix = 255
)

// reservedSiteNames are words a site name cannot be: site names become keys
// of nginx map blocks, where these are directives.
var reservedSiteNames = []string{"default", "hostnames", "include", "volatile"}

// unknownCloud is the cloud of a client that no feed lists.
const unknownCloud = "unknown"

var (
	feedFormats = feeds.Formats()
	kindNames   = routeKindNames()
)

// Limits on values that the targets would refuse or misread.
const (
	// MaxURLBytes bounds every URL, so that a redirect (the URL, a request
	// path of up to 405 characters and its query) stays far below the 8 KB
	// that Varnish, Fastly and HAProxy allow a header.
	MaxURLBytes = 2048
	// MaxCacheSize is the largest existence cache: nginx, Varnish and the
	// proxy each size memory by it.
	MaxCacheSize = 1_000_000
	// MaxTimeout bounds the existence check, which the client waits for.
	MaxTimeout = time.Minute
	// MaxDownAfter and MaxDownFor bound the health rule's thresholds.
	// A Fastly health probe (Varnish's code) keeps at most 64 results,
	// the longest run of failures its VCL can wait for.
	MaxDownAfter = 64
	MaxDownFor   = time.Hour
	// MaxTTL bounds how long an existence answer is kept.
	MaxTTL = 365 * 24 * time.Hour
	// MaxPriority bounds a feed's priority, which the plan multiplies.
	MaxPriority = 1_000_000
)

func (d *decoder) checkURL(s string, r hcl.Range, pattern *regexp.Regexp, what string) {
	switch {
	case len(s) > MaxURLBytes:
		d.errorf(r, "URL too long", "The URL is %s bytes; a URL here is at most %s, so that a redirect built from it stays within what every target sends.", thousands(len(s)), thousands(MaxURLBytes))
	case !pattern.MatchString(s):
		d.errorf(r, "Invalid URL", "The value %q is not %s; a URL here holds only letters, digits and -._~!&()*+,=:@/.", s, what)
	default:
		host, port := splitHostPort(s)
		if problem := checkHost(host); problem != "" {
			d.errorf(r, "Invalid URL host", "The host %q %s.", host, problem)
		}
		if port != "" && !validPort(port) {
			d.errorf(r, "Invalid URL port", "The port %q in %q is not a number from 1 to 65535.", port, s)
		}
	}
}

// splitHostPort returns the host and port of a URL that matched one of the
// URL patterns.
func splitHostPort(url string) (host, port string) {
	_, rest, _ := strings.Cut(url, "://")
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest = rest[:i]
	}
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		host, rest = rest[:end+1], rest[end+1:]
		return host, strings.TrimPrefix(rest, ":")
	}
	host, port, _ = strings.Cut(rest, ":")
	return host, port
}

// checkHost says what is wrong with a URL's host, or "". Browsers, the
// Worker's URL parser and Fastly read a host whose last label is a number
// as an IPv4 address (so "1.2.3" is 1.2.0.3), and refuse an invalid one.
func checkHost(host string) string {
	if inner, ok := strings.CutPrefix(host, "["); ok {
		a, err := netip.ParseAddr(strings.TrimSuffix(inner, "]"))
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "is not an IPv6 address"
		}
		return ""
	}
	last := host[strings.LastIndexByte(host, '.')+1:]
	numeric := strings.Trim(last, "0123456789") == "" ||
		strings.HasPrefix(strings.ToLower(last), "0x") && strings.Trim(last[2:], "0123456789abcdefABCDEF") == ""
	if !numeric {
		return ""
	}
	if a, err := netip.ParseAddr(host); err != nil || !a.Is4() {
		return "ends in a number, so it is read as an IPv4 address, but it is not one: write four numbers from 0 to 255, such as 192.0.2.1, or a host name"
	}
	return ""
}

// validPort reports whether s is a port number from 1 to 65535, written
// without leading zeros.
func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535 && strconv.Itoa(n) == s
}

// checkListen checks a target's listen addresses: ports, port:address or
// [IPv6]:port, each a real address and port, none twice.
func (d *decoder) checkListen(name string, listen []string, r hcl.Range) {
	if len(listen) == 0 {
		what := "nginx without a listen address listens on port 80 of every address"
		if name == "haproxy" {
			what = "HAProxy without a listen address listens nowhere"
		}
		d.errorf(r, "No listen address", "%s; give at least one, such as \"80\".", what)
		return
	}
	seen := map[netip.AddrPort]string{}
	for _, l := range listen {
		ap, problem := parseListen(l)
		if problem != "" {
			d.errorf(r, "Invalid listen address", "The address %q %s.", l, problem)
			continue
		}
		if prev, ok := seen[ap]; ok {
			d.errorf(r, "Duplicate listen address", "The address %q is where %q already listens; %s refuses to listen twice on one address.", l, prev, name)
			continue
		}
		seen[ap] = l
	}
}

// parseListen reads "PORT", "IPv4:PORT" or "[IPv6]:PORT"; a port alone
// means every IPv4 address, as in nginx.
func parseListen(l string) (netip.AddrPort, string) {
	if !listenPattern.MatchString(l) {
		return netip.AddrPort{}, "is not a port, address:port or [ipv6]:port"
	}
	addr, port := "0.0.0.0", l
	if i := strings.LastIndexByte(l, ':'); i >= 0 {
		addr, port = strings.Trim(l[:i], "[]"), l[i+1:]
	}
	a, err := netip.ParseAddr(addr)
	switch {
	case err != nil:
		return netip.AddrPort{}, "does not hold a valid IP address"
	case a.Is4In6():
		return netip.AddrPort{}, "holds an IPv4-mapped IPv6 address; write the IPv4 address"
	case !validPort(port) && port == l:
		return netip.AddrPort{}, "is not a port from 1 to 65535"
	case !validPort(port):
		return netip.AddrPort{}, "does not end in a port from 1 to 65535"
	}
	n, _ := strconv.Atoi(port)
	return netip.AddrPortFrom(a, uint16(n)), ""
}

// checkResolver checks one nginx resolver: an IP address with an optional
// port.
func (d *decoder) checkResolver(s string, r hcl.Range) {
	if !resolverPattern.MatchString(s) {
		d.errorf(r, "Invalid resolver", "The resolver %q is not an IP address with an optional port.", s)
		return
	}
	addr, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		addr, port = s[1:end], strings.TrimPrefix(s[end+1:], ":")
	} else if a, p, ok := strings.Cut(s, ":"); ok {
		addr, port = a, p
	}
	a, err := netip.ParseAddr(addr)
	switch {
	case err != nil || a.Is4In6():
		d.errorf(r, "Invalid resolver", "The resolver %q does not hold a valid IP address.", s)
	case port != "" && !validPort(port):
		d.errorf(r, "Invalid resolver", "The resolver %q does not end in a port from 1 to 65535.", s)
	}
}

func (d *decoder) checkBlobPath(s string, r hcl.Range) {
	if len(s) > maxBlobPath {
		d.errorf(r, "Blob path too long", "The blob path is %d bytes; it is at most %d.", len(s), maxBlobPath)
		return
	}
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

// regionList decodes a list of region patterns, counting it, before it is
// converted, against the policy's MaxRegionPatterns. The first list past
// the limit is reported; it and every later one are left out.
func (d *decoder) regionList(v cty.Value, r hcl.Range) []Pattern {
	if v.IsKnown() && !v.IsNull() && v.CanIterateElements() { // its length, without walking it
		d.patternCount += v.LengthInt()
	}
	if d.patternCount <= MaxRegionPatterns {
		return d.patterns(d.stringList(v, r), r)
	}
	if !d.tooManyPatterns {
		d.tooManyPatterns = true
		d.errorf(r, "Too many region patterns", "With this list, the sites and routes list more than %s region patterns, the most a policy may; "+
			"match many regions with one pattern ending in \"*\", such as \"aws:us-*\".", thousands(MaxRegionPatterns))
	}
	return nil
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

// thousands writes n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func trimSlash(s string) string { return strings.TrimRight(s, "/") }

// routeKindNames are the kinds a route may name: "any" and every request
// kind, sorted.
func routeKindNames() []string {
	names := []string{string(KindAny)}
	for _, k := range request.Kinds {
		names = append(names, string(k))
	}
	slices.Sort(names)
	return names
}
