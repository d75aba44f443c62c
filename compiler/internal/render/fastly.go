package render

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"

	"go4.org/netipx"

	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

// fastlyTemplates are templates/fastly, parsed once.
var fastlyTemplates = parseTemplates("fastly", template.FuncMap{"fastlyString": fastlyString})

// Fastly's limits on a VCL service that the generated VCL must respect.
const (
	// FastlyMaxVCLBytes is the largest VCL file Fastly accepts: 1 MB,
	// counted as 1,000,000 bytes so that either reading of "MB" holds.
	FastlyMaxVCLBytes = 1_000_000
	// FastlyMaxACLs is the most ACLs a Fastly service may declare.
	FastlyMaxACLs = 1000
	// FastlyMaxWindow is the most probe results a backend's health is
	// read from, and so the largest down_after the VCL can keep: Fastly
	// documents no limit, and Varnish, whose probes Fastly's come from,
	// keeps 64.
	FastlyMaxWindow = 64
)

// fastlyShareKey is every backend's share_key, which Fastly requires of a
// backend declared in VCL: backends of one account declared alike with
// the same key share one health probe per POP, so two regedge services
// with the same mirrors probe them once.
const fastlyShareKey = "regedge"

// FastlyProbeStatus is the status the health probe expects of a mirror
// unless the policy's fastly block says otherwise: 404, what an S3 or GCS
// bucket that lets anyone list it answers for a blob it does not hold
// (one that does not answers 403).
const FastlyProbeStatus = 404

type fastlyData struct {
	Deployment string
	ShareKey   string
	// ClientHeader is the request header holding the client address, or ""
	// for the TCP peer (client.ip).
	ClientHeader string
	// ClientEntry says which entry of ClientHeader is the client.
	ClientEntry string
	ClientRegex string
	// Unknown is an address the plan gives the default label; it stands for
	// a client whose address cannot be read.
	Unknown      string
	DefaultLabel string
	ACLs         []fastlyACL
	Prefixes     int
	Tables       []fastlyTable
	Backends     []fastlyBackend
	Check        *fastlyCheck
	InfoURL      string
	PrivacyURL   string
	grammar
	provenance
}

// fastlyACL holds the addresses of one label.
type fastlyACL struct {
	Name     string
	Label    string
	Prefixes []netip.Prefix
}

// fastlyTable maps labels to strings.
type fastlyTable struct {
	Name    string
	Entries []fastlyEntry
}

type fastlyEntry struct{ Key, Value string }

// fastlyBackend is one mirror host the existence check asks, and the
// request its health probe sends: a HEAD for ProbeDigest at the
// first site there, with that site's Host.
type fastlyBackend struct {
	Name, Host, Port string
	TLS              bool
	ProbePath        string
	ProbeHost        string
}

// fastlyOrigin is the scheme://host[:port] of a mirror site and the name
// of the backend that serves it.
type fastlyOrigin struct {
	Origin, Name string
	Backend      int
}

type fastlyCheck struct {
	PositiveSec, NegativeSec, TimeoutMs int64
	Origins                             []fastlyOrigin
	// Health is nil when the plan never takes a site down.
	Health *fastlyHealth
}

// fastlyHealth is the health probe of every backend: a site whose last
// Window probes, one every IntervalMs, all got no answer is down, and
// one answer brings it back up.
type fastlyHealth struct {
	IntervalMs int64
	Window     int
	Status     int
}

// fastlyProbeInterval is how often a backend's health probe asks: Window
// (down_after) probes per down_for, so that a site is down within about
// down_for of its outage, as the rule's checks would find it under
// steady traffic, and a site that answers again is up within
// down_for / down_after.
func fastlyProbeInterval(c *plan.Check) time.Duration {
	return time.Duration(c.DownFor.Milliseconds()/int64(c.DownAfter)) * time.Millisecond
}

// fastlyProbeExpects returns the status the plan's Fastly health probe
// expects of every mirror: the fastly block's probe_status, or
// FastlyProbeStatus.
func fastlyProbeExpects(p *plan.Plan) int {
	for _, e := range p.Edges {
		if e.Name == "fastly" && e.ProbeStatus != 0 {
			return e.ProbeStatus
		}
	}
	return FastlyProbeStatus
}

// fastlyHeaderName is the grammar of a header regedge may read in VCL as
// req.http.NAME.
var fastlyHeaderName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*$`)

// Fastly renders the Fastly VCL service: one ACL per label, tables of
// redirect targets per label, and the rules of docs/request-handling.md in
// vcl_recv, answered through vcl_error.
func Fastly(p *plan.Plan) ([]File, error) {
	acls := fastlyACLs(p)
	if len(acls) > FastlyMaxACLs {
		return nil, fmt.Errorf("the plan needs %d ACLs, one per label with addresses; Fastly allows at most %d ACLs per service", len(acls), FastlyMaxACLs)
	}
	d := fastlyData{
		provenance:   generatedBy(p),
		grammar:      requestGrammar,
		Deployment:   p.Deployment,
		ShareKey:     fastlyShareKey,
		ClientHeader: p.ClientIP.Header,
		DefaultLabel: p.Labels[p.Default].Name,
		ACLs:         acls,
		InfoURL:      p.Registry.InfoURL,
		PrivacyURL:   p.Registry.PrivacyURL,
	}
	for _, a := range acls {
		d.Prefixes += len(a.Prefixes)
	}
	if h := p.ClientIP.Header; h != "" {
		if !fastlyHeaderName.MatchString(h) {
			return nil, fmt.Errorf("cannot read the client address from header %q", h)
		}
		// Only spaces and tabs are trimmed: PCRE's \s would also take
		// \n, \r, \f and \v.
		d.ClientRegex = fmt.Sprintf(`(?:^|,)[ \t]*([^, \t]+)[ \t]*(?:,[^,]*){%d}$`, p.ClientIP.TrustedHops)
		d.ClientEntry = fastlyClientEntry(p.ClientIP.TrustedHops)
	}
	unknown, err := fastlyUnknownAddr(p)
	if err != nil {
		return nil, err
	}
	d.Unknown = unknown.String()
	for _, kind := range request.Kinds {
		t := fastlyTable{Name: "regedge_" + string(kind) + "_upstream"}
		for i, l := range p.Labels {
			u := p.Upstream(p.Action(i, kind).Upstream)
			t.Entries = append(t.Entries, fastlyEntry{Key: l.Name, Value: u.Base()})
		}
		d.Tables = append(d.Tables, t)
	}
	sites := fastlyTable{Name: "regedge_blob_site"}
	for i, l := range p.Labels {
		if a := p.Action(i, request.KindBlob); a.Site != "" {
			s := p.Site(a.Site)
			// The VCL puts the digest in place of the placeholder.
			before, after := s.BlobURLParts()
			sites.Entries = append(sites.Entries, fastlyEntry{Key: l.Name, Value: before + plan.DigestPlaceholder + after})
		}
	}
	d.Tables = append(d.Tables, sites)
	if c := p.Check; c != nil && len(sites.Entries) > 0 {
		backends, origins, err := fastlyBackends(p)
		if err != nil {
			return nil, err
		}
		d.Backends = backends
		d.Check = &fastlyCheck{
			PositiveSec: c.PositiveTTL.Seconds(),
			NegativeSec: c.NegativeTTL.Seconds(),
			TimeoutMs:   c.Timeout.Milliseconds(),
			Origins:     origins,
		}
		if c.DownAfter > FastlyMaxWindow {
			return nil, fmt.Errorf("a Fastly health probe keeps at most %d results, so the VCL cannot wait for more failures in a row than that; the check's down_after is %d", FastlyMaxWindow, c.DownAfter)
		}
		if c.DownAfter > 0 {
			d.Check.Health = &fastlyHealth{IntervalMs: fastlyProbeInterval(c).Milliseconds(), Window: c.DownAfter, Status: fastlyProbeExpects(p)}
		}
	}
	vcl, err := execute(fastlyTemplates, "regedge.vcl.tmpl", d)
	if err != nil {
		return nil, err
	}
	if len(vcl) > FastlyMaxVCLBytes {
		return nil, fmt.Errorf("the VCL is %d bytes; Fastly accepts at most %d (1 MB)", len(vcl), FastlyMaxVCLBytes)
	}
	return []File{{Path: "fastly/regedge.vcl", Data: vcl, Entries: d.Prefixes}}, nil
}

// fastlyClientEntry names the entry of a comma-separated header that is
// the client when trusted proxies appended the last hops entries.
func fastlyClientEntry(hops int) string {
	switch hops {
	case 0:
		return "the last entry"
	case 1:
		return "the second-to-last entry"
	case 2:
		return "the third-to-last entry"
	}
	return fmt.Sprintf("the entry with %d after it", hops)
}

// fastlyACLs gives each label with addresses an ACL of the CIDR prefixes
// of its intervals. The intervals do not overlap, so neither do the ACLs,
// and the order in which they are tried cannot matter.
func fastlyACLs(p *plan.Plan) []fastlyACL {
	prefixes := make([][]netip.Prefix, len(p.Labels))
	for _, table := range [][]plan.Interval{p.V4, p.V6} {
		for _, iv := range table {
			prefixes[iv.Label] = append(prefixes[iv.Label], netipx.IPRangeFrom(iv.First, iv.Last).Prefixes()...)
		}
	}
	names := make([]string, len(p.Labels))
	for i, l := range p.Labels {
		names[i] = l.Name
	}
	idents := fastlyNames("label_", names)
	var acls []fastlyACL
	for i, l := range p.Labels {
		if len(prefixes[i]) > 0 {
			acls = append(acls, fastlyACL{Name: idents[i], Label: l.Name, Prefixes: prefixes[i]})
		}
	}
	return acls
}

// fastlyBackends declares one backend per mirror host (scheme, host and
// port) that some label's blobs go to, named after the first site there
// and probed at it, and lists the origin (scheme://host[:port]) of every
// such site with its backend.
func fastlyBackends(p *plan.Plan) ([]fastlyBackend, []fastlyOrigin, error) {
	type hostKey struct {
		host, port string
		tls        bool
	}
	var backends []fastlyBackend
	var firstSites []string
	var origins []fastlyOrigin
	byHost := map[hostKey]int{}
	byOrigin := map[string]bool{}
	for _, s := range blobSites(p) {
		u, err := url.Parse(s.URL)
		if err != nil {
			return nil, nil, fmt.Errorf("site %s: %w", s.Name, err)
		}
		origin := u.Scheme + "://" + u.Host
		k := hostKey{host: u.Hostname(), port: u.Port(), tls: u.Scheme == "https"}
		if k.port == "" {
			k.port = map[bool]string{true: "443", false: "80"}[k.tls]
		}
		n, ok := byHost[k]
		if !ok {
			n = len(backends)
			byHost[k] = n
			backends = append(backends, fastlyBackend{
				Host: k.host, Port: k.port, TLS: k.tls,
				ProbeHost: u.Host, ProbePath: strings.TrimPrefix(s.BlobURL(ProbeDigest), origin),
			})
			firstSites = append(firstSites, s.Name)
		}
		if !byOrigin[origin] {
			byOrigin[origin] = true
			origins = append(origins, fastlyOrigin{Origin: origin, Backend: n})
		}
	}
	for i, name := range fastlyNames("site_", firstSites) {
		backends[i].Name = name
	}
	for i := range origins {
		origins[i].Name = backends[origins[i].Backend].Name
	}
	return backends, origins, nil
}

// fastlyNames turns names into distinct VCL identifiers that start with
// prefix: every character outside [a-z0-9_] becomes "_", and a name that
// then collides with an earlier one gets its position appended.
func fastlyNames(prefix string, names []string) []string {
	taken := map[string]bool{}
	out := make([]string, len(names))
	for i, n := range names {
		id := prefix + strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
				return r
			}
			return '_'
		}, strings.ToLower(n))
		for taken[id] {
			id += "_" + strconv.Itoa(i)
		}
		taken[id] = true
		out[i] = id
	}
	return out
}

// fastlyUnknownAddr returns the first address, IPv4 before IPv6, that the plan
// gives the default label. A client whose address cannot be read is
// looked up as this address, so it gets the default label too.
func fastlyUnknownAddr(p *plan.Plan) (netip.Addr, error) {
	for _, t := range []struct {
		table []plan.Interval
		first netip.Addr
	}{{p.V4, netip.IPv4Unspecified()}, {p.V6, netip.IPv6Unspecified()}} {
		addr := t.first
		for _, iv := range t.table {
			if addr.Less(iv.First) || iv.Label == p.Default {
				return addr, nil
			}
			if addr = iv.Last.Next(); !addr.IsValid() {
				break
			}
		}
		if addr.IsValid() {
			return addr, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("every address has a label other than the default, %s, so none can stand for an unknown client", p.Labels[p.Default].Name)
}

// fastlyString returns s as a Fastly VCL string literal. Inside double quotes
// Fastly expands %XX escapes and nothing else, so "%" is written %25; a
// double quote, a control character or a non-ASCII character is refused
// rather than escaped, as validation never lets one through.
func fastlyString(s string) (string, error) {
	for _, r := range s {
		if r < 0x20 || r > 0x7e || r == '"' {
			return "", fmt.Errorf("refusing to quote %q for VCL: it holds %q", s, r)
		}
	}
	return `"` + strings.ReplaceAll(s, "%", "%25") + `"`, nil
}
