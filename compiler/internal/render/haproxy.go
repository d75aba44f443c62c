package render

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"

	"go4.org/netipx"

	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

// haproxyTemplates are templates/haproxy, parsed once.
var haproxyTemplates = parseTemplates("haproxy", template.FuncMap{"quoteHAProxy": quoteHAProxy, "quote": quote})

// haproxyV4Octet and haproxyV4 accept a dotted quad exactly as Go's
// netip.ParseAddr does. HAProxy's own string-to-address cast would also
// take "01.2.3.4", "1.2.3.4:80" and "1.2.3.4x".
const (
	haproxyV4Octet = `(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])`
	haproxyV4      = haproxyV4Octet + `(?:[.]` + haproxyV4Octet + `){3}`
	// haproxyV6 leaves the grouping rules to inet_pton, which HAProxy
	// calls, and admits an embedded IPv4 address only in the strict form.
	haproxyV6 = `[0-9A-Fa-f:]*:(?:` + haproxyV4 + `|[0-9A-Fa-f]*)`
)

// haproxyHeader is the grammar of a header name HAProxy may read, and
// haproxyLabel that of a label, which the map file holds unquoted, and of
// a deployment name, which a comment holds.
var (
	haproxyHeader = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*$`)
	haproxyLabel  = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
)

// haproxyGuards are the IPv6 prefixes whose addresses HAProxy's map_ip
// looks up as IPv4 addresses (::a.b.c.d and 6to4's 2002:aabb:ccdd::) when
// no IPv6 entry holds them. regedge classifies them as IPv6, so the map
// covers them with the default label wherever the plan does not.
var haproxyGuards = []netip.Prefix{netip.MustParsePrefix("::/96"), netip.MustParsePrefix("2002::/16")}

// haproxyMapped is where IPv4-mapped addresses live. The map lists none of
// them, so HAProxy looks each up as its IPv4 address, as the plan does.
var haproxyMapped = netip.MustParsePrefix("::ffff:0:0/96")

type haproxyData struct {
	Deployment string
	Binds      []haproxyBind
	// ClientHeader holds the client address, or is "" for the TCP peer.
	ClientHeader string
	TrustedHops  int
	// ClientLines are the occurrences of ClientHeader's lines that can
	// hold the client, counted from the last: -(TrustedHops+1) to -1.
	// Every line holds at least one entry, even if empty, so the last
	// TrustedHops+1 lines hold the client if the whole list does.
	ClientLines []int
	// ClientExpr is the sample expression that picks the client from
	// those lines joined with commas, txn.regedge_xff.
	ClientExpr   string
	DefaultLabel string
	// Upstreams has one map per request kind, of the upstream URL up to
	// the repository name.
	Upstreams []haproxyUpstream
	// Mirrors lists each label whose blobs go to a site, with the site's
	// blob URL split around the digest.
	Mirrors []haproxyMirror
	Check   bool
	// Health holds the site health thresholds the mirror servers' checks
	// apply; nil when sites are never held down.
	Health *haproxyHealth
	// Origins are where the checked sites are, each served by a backend
	// of its own, which regedge.lua reaches through MirrorSocket.
	Origins []haproxyOrigin
	// Resolve is set when an origin's host is a name.
	Resolve            bool
	MirrorSocket       string
	TimeoutMs          int64
	TrustedCertificate string
	InfoURL            string
	PrivacyURL         string
	grammar
	provenance
}

// haproxyBind is one listen address; IPv6 ones take only IPv6, as nginx's
// do, so that "80" and "[::]:80" can both be listed.
type haproxyBind struct {
	Addr   string
	V6Only bool
}

type haproxyUpstream struct {
	Kind request.Kind
	labelValues
}

type haproxyMirror struct {
	Label, Before, After string
}

// haproxyHealth maps the health rule onto HAProxy's server checks:
// DownAfter is both the passive error-limit and the active checks' fall,
// DownFor the interval of the probes of a server that is down, and Up that
// of one that is up. Periods are written in seconds, as HAProxy reads them.
type haproxyHealth struct {
	DownAfter   int
	DownFor, Up string
}

// haproxyOrigin is the scheme and authority of one or more checked
// sites: a backend named regedge_mirror_<ID>, with one server.
type haproxyOrigin struct {
	ID int
	// Origin is scheme://authority, as the sites' URLs begin.
	Origin string
	// Probe is the path the health probes ask for: the first of the
	// origin's sites' blob URLs with ProbeDigest.
	Probe string
	// Authority is the Host header; Server the server line's address.
	Authority, Server string
	TLS               bool
	// Name is the host when it is a name: resolved at run time, and sent
	// as the TLS server name the certificate must hold.
	Name string
}

type haproxyLua struct {
	TimeoutMs, PositiveMs, NegativeMs int64
	CacheSize, GraceMs                int
	MirrorSocket                      string
	Origins                           []haproxyOrigin
	provenance
}

// haproxyMap is labels.map: the client address table.
type haproxyMap struct {
	prefixTable
	provenance
}

// HAProxy renders haproxy.cfg, its map of client labels and, when the
// plan checks blobs, the Lua action that checks them.
func HAProxy(p *plan.Plan) ([]File, error) {
	d := haproxyData{
		provenance:         generatedBy(p),
		grammar:            haproxyGrammar(),
		Deployment:         p.Deployment,
		ClientHeader:       p.ClientIP.Header,
		TrustedHops:        p.ClientIP.TrustedHops,
		DefaultLabel:       p.Labels[p.Default].Name,
		Check:              p.Check != nil,
		TrustedCertificate: trustedCertificate,
		InfoURL:            p.Registry.InfoURL,
		PrivacyURL:         p.Registry.PrivacyURL,
		// The quoting helper refuses "%", which starts a log-format
		// variable; PCRE reads \x25 as the same character.
	}
	for _, l := range p.Labels {
		if !haproxyLabel.MatchString(l.Name) {
			return nil, fmt.Errorf("refusing label %q: the map file cannot hold it", l.Name)
		}
	}
	if p.Deployment != "" && !haproxyLabel.MatchString(p.Deployment) {
		return nil, fmt.Errorf("refusing deployment %q: a comment line cannot hold it", p.Deployment)
	}
	binds, err := haproxyBinds(haproxyListen(p))
	if err != nil {
		return nil, err
	}
	d.Binds = binds
	if h := p.ClientIP.Header; h != "" {
		if !haproxyHeader.MatchString(h) {
			return nil, fmt.Errorf("refusing client header %q: it is not a header name", h)
		}
		for occ := -(p.ClientIP.TrustedHops + 1); occ < 0; occ++ {
			d.ClientLines = append(d.ClientLines, occ)
		}
		// An entry that is missing or not a plain address gives "", which
		// no address cast accepts: the client is unknown.
		d.ClientExpr = fmt.Sprintf(`var(txn.regedge_xff),regsub("%s","\1")`, haproxyClientRegex(p.ClientIP.TrustedHops))
	}
	for _, kind := range request.Kinds {
		d.Upstreams = append(d.Upstreams, haproxyUpstream{Kind: kind, labelValues: upstreamBases(p, kind)})
	}
	for i, l := range p.Labels {
		a := p.Action(i, request.KindBlob)
		if a.Site == "" {
			continue
		}
		s := p.Site(a.Site)
		before, after := s.BlobURLParts()
		d.Mirrors = append(d.Mirrors, haproxyMirror{Label: l.Name, Before: before, After: after})
		if d.Check {
			o, err := haproxySiteOrigin(s.URL)
			if err != nil {
				return nil, err
			}
			o.Probe = strings.TrimPrefix(s.BlobURL(ProbeDigest), o.Origin)
			if !slices.ContainsFunc(d.Origins, func(x haproxyOrigin) bool { return x.Origin == o.Origin }) {
				d.Origins = append(d.Origins, o)
			}
			d.Resolve = d.Resolve || o.Name != ""
		}
	}
	slices.SortFunc(d.Origins, func(a, b haproxyOrigin) int { return strings.Compare(a.Origin, b.Origin) })
	for i := range d.Origins {
		d.Origins[i].ID = i + 1
	}
	if p.Check != nil {
		d.TimeoutMs = p.Check.Timeout.Milliseconds()
		d.MirrorSocket = haproxyMirrorSocket(p.Deployment, binds)
		if d.Health, err = haproxyHealthOf(*p.Check); err != nil {
			return nil, err
		}
	}

	cfg, err := execute(haproxyTemplates, "haproxy.cfg.tmpl", d)
	if err != nil {
		return nil, err
	}
	table := haproxyTable(p)
	labels, err := execute(haproxyTemplates, "labels.map.tmpl", haproxyMap{table, d.provenance})
	if err != nil {
		return nil, err
	}
	files := []File{
		{Path: "haproxy/haproxy.cfg", Data: cfg},
		{Path: "haproxy/labels.map", Data: labels, Entries: len(table.Entries)},
	}
	if c := p.Check; c != nil {
		lua, err := execute(haproxyTemplates, "regedge.lua.tmpl", haproxyLua{
			TimeoutMs:    c.Timeout.Milliseconds(),
			PositiveMs:   c.PositiveTTL.Milliseconds(),
			NegativeMs:   c.NegativeTTL.Milliseconds(),
			CacheSize:    max(c.CacheSize, 1),
			GraceMs:      checkGraceMs,
			MirrorSocket: d.MirrorSocket,
			Origins:      d.Origins,
			provenance:   d.provenance,
		})
		if err != nil {
			return nil, err
		}
		files = append(files, File{Path: "haproxy/regedge.lua", Data: lua})
	}
	return files, nil
}

// haproxyHealthOf returns the server check settings for the plan's health
// rule, or nil when it never holds a site down. HAProxy has no doubling
// period: a server that is down is probed every DownFor, and one that is
// up every DownForMax, so that a site that fails while idle, or before a
// reload, is found out within that long.
func haproxyHealthOf(c plan.Check) (*haproxyHealth, error) {
	if c.DownAfter == 0 {
		return nil, nil
	}
	downFor, downForMax := time.Duration(c.DownFor), time.Duration(c.DownForMax)
	if downFor < time.Second || downFor%time.Second != 0 || downForMax < downFor || downForMax%time.Second != 0 {
		return nil, fmt.Errorf("refusing down periods %v and %v: they are whole seconds, the second no shorter than the first", downFor, downForMax)
	}
	return &haproxyHealth{
		DownAfter: c.DownAfter,
		DownFor:   fmt.Sprintf("%ds", int64(downFor.Seconds())),
		Up:        fmt.Sprintf("%ds", int64(downForMax.Seconds())),
	}, nil
}

// haproxyListen returns the target's listen addresses. A plan built from
// a policy always has the haproxy edge with at least one (the policy's
// check refuses an empty list); a hand-made plan without it gets a
// frontend with no bind line.
func haproxyListen(p *plan.Plan) []string {
	for _, e := range p.Edges {
		if e.Name == "haproxy" {
			return e.Listen
		}
	}
	return nil
}

// haproxyBinds turns listen addresses ("80", "127.0.0.1:80", "[::]:80")
// into HAProxy bind addresses; a port alone means every IPv4 address, as
// in nginx.
func haproxyBinds(listen []string) ([]haproxyBind, error) {
	var binds []haproxyBind
	for _, l := range listen {
		addr := l
		if !strings.Contains(addr, ":") {
			addr = "0.0.0.0:" + addr
		}
		ap, err := netip.ParseAddrPort(addr)
		if err != nil || ap.Port() == 0 || ap.Addr().Zone() != "" {
			return nil, fmt.Errorf("refusing listen address %q: it is not a port, address:port or [ipv6]:port", l)
		}
		binds = append(binds, haproxyBind{Addr: ap.String(), V6Only: ap.Addr().Is6()})
	}
	return binds, nil
}

// haproxySiteOrigin splits a site's URL, which the policy's check made
// http or https with a host, an optional port and a path, into the
// backend that checks blobs there.
func haproxySiteOrigin(siteURL string) (haproxyOrigin, error) {
	u, err := url.Parse(siteURL)
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return haproxyOrigin{}, fmt.Errorf("refusing site URL %q: it is not an http or https URL with a host", siteURL)
	}
	o := haproxyOrigin{Origin: u.Scheme + "://" + u.Host, Authority: u.Host, TLS: u.Scheme == "https"}
	port := u.Port()
	if port == "" {
		port = map[bool]string{false: "80", true: "443"}[o.TLS]
	}
	host := u.Hostname()
	if addr, err := netip.ParseAddr(host); err == nil {
		o.Server = addr.String()
		if addr.Is6() {
			o.Server = "[" + o.Server + "]"
		}
	} else {
		o.Server, o.Name = host, host
	}
	o.Server += ":" + port
	return o, nil
}

// haproxyMirrorSocket names the abstract socket on which the frontend
// that relays regedge.lua's checks listens. Two HAProxy processes cannot
// share one, so it is named after the deployment and the first listen
// address, which another process on the host would not listen on too.
func haproxyMirrorSocket(deployment string, binds []haproxyBind) string {
	name := "abns@regedge"
	if deployment != "" {
		name += "-" + deployment
	}
	name += "-mirrors"
	if len(binds) > 0 {
		name += "-" + binds[0].Addr
	}
	return name
}

// haproxyClientRegex matches every string and captures the entry hops
// places from the right of a comma-separated list if it is a plain
// address, else nothing. It holds no backslash and no space, which
// HAProxy's argument parser would treat specially.
func haproxyClientRegex(hops int) string {
	return fmt.Sprintf(`^(?:(?:.*,)?[[:blank:]]*(%s|%s)[[:blank:]]*(?:,[^,]*){%d}|.*)$`, haproxyV4, haproxyV6, hops)
}

// haproxyTable lists the plan's intervals as prefixes for map_ip, with
// the IPv6 table adjusted for the two ways map_ip reads IPv6 addresses as
// IPv4 (see haproxyGuards and haproxyMapped).
func haproxyTable(p *plan.Plan) prefixTable {
	var d prefixTable
	for _, iv := range p.V4 {
		for _, pfx := range netipx.IPRangeFrom(iv.First, iv.Last).Prefixes() {
			d.Entries = append(d.Entries, prefixEntry{Prefix: pfx, Label: p.Labels[iv.Label].Name})
		}
	}
	var v6 []prefixEntry
	var guards netipx.IPSetBuilder
	for _, pfx := range haproxyGuards {
		guards.AddPrefix(pfx)
	}
	for _, iv := range p.V6 {
		var b netipx.IPSetBuilder
		b.AddRange(netipx.IPRangeFrom(iv.First, iv.Last))
		b.RemovePrefix(haproxyMapped)
		guards.RemoveRange(netipx.IPRangeFrom(iv.First, iv.Last))
		v6 = append(v6, haproxySetEntries(&b, p.Labels[iv.Label].Name)...)
	}
	v6 = append(v6, haproxySetEntries(&guards, p.Labels[p.Default].Name)...)
	slices.SortFunc(v6, func(a, b prefixEntry) int { return a.Prefix.Addr().Compare(b.Prefix.Addr()) })
	d.Entries = append(d.Entries, v6...)
	return d
}

// haproxySetEntries lists a set's prefixes under one label. The builders here
// only add and remove valid ranges, so IPSet cannot fail.
func haproxySetEntries(b *netipx.IPSetBuilder, label string) []prefixEntry {
	set, _ := b.IPSet()
	var out []prefixEntry
	for _, pfx := range set.Prefixes() {
		out = append(out, prefixEntry{Prefix: pfx, Label: label})
	}
	return out
}

// quoteHAProxy returns s as a single-quoted HAProxy word, inside which
// HAProxy expands no variable and no escape. It refuses a quote, a space or
// a control character, which would end the word, and "%", which starts a
// variable in the log-format strings of redirects and set-var-fmt.
func quoteHAProxy(s string) (string, error) {
	for _, r := range s {
		if r < 0x21 || r > 0x7e || r == '\'' || r == '%' {
			return "", fmt.Errorf("refusing to quote %q for haproxy: it holds %q", s, r)
		}
	}
	return "'" + s + "'", nil
}

// haproxyGrammar is the request grammar with "%" written as \x25, which
// PCRE reads as the same character: HAProxy would expand a bare "%".
func haproxyGrammar() grammar {
	g := requestGrammar
	g.UnsafeRegex = strings.ReplaceAll(g.UnsafeRegex, "%", `\x25`)
	g.UnsafePathRegex = strings.ReplaceAll(g.UnsafePathRegex, "%", `\x25`)
	g.BadQueryRegex = strings.ReplaceAll(g.BadQueryRegex, "%", `\x25`)
	return g
}
