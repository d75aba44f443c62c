package render

import (
	"fmt"
	"net"
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

// varnishTemplates are templates/varnish, parsed once.
var varnishTemplates = parseTemplates("varnish", template.FuncMap{"inc": inc, "quote": quote, "quoteRegex": quoteRegex})

// varnishTLSDir holds the sockets of the sidecars that carry Varnish's
// existence checks to https mirrors: Varnish 7.1 has no backend TLS.
const varnishTLSDir = "/run/regedge/tls"

// varnishAddr matches the strings regedge takes for an address: a dotted
// quad without leading zeros, or an IPv6 address without a zone. std.ip
// alone would also take "127.1", "010.0.0.1", "1.2.3.4:80" and zones.
const varnishAddr = `^(?:(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])|[0-9A-Fa-f.]*:[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*)$`

// varnishIdent is the grammar of the header names VCL reads and of the
// site names in sidecar socket paths.
var varnishIdent = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// varnishClientTail is how much of the client header Varnish reads, from
// its end.
const varnishClientTail = 2048

// varnishDrop matches a header line whose name is none of names, for
// vmod_header's regsub to turn into one that is then unset.
func varnishDrop(names ...string) string {
	return "^(?!(?i:" + strings.Join(names, "|") + "):)(?s:.*)$"
}

type varnishData struct {
	Deployment string
	// ClientHeader is the header holding the client, or "" for the peer.
	ClientHeader string
	// ForwardedFor is true when ClientHeader is X-Forwarded-For, to which
	// varnishd appends the peer before vcl_recv runs.
	ForwardedFor bool
	TrustedHops  int
	ClientRegex  string
	// ClientTail is how many bytes from the end of the client header are
	// read: far more than the entries a trusted hop writes, and few
	// enough that no regex runs out of pcre2_match_limit on them.
	ClientTail int
	// DropRequest matches the request header lines the rules do not
	// read, which vcl_recv drops; DropBereq those of a check request but
	// Host and regedge's own between the hops (the mirror's name, and
	// with Health the site and its trial); DropBeresp those of a mirror's
	// answer but the second hop's reading of it.
	DropRequest, DropBereq, DropBeresp string
	AddrRegex                          string
	DefaultLabel                       string
	ACLs                               []varnishACL
	Maps                               []varnishMap
	Sites                              []varnishSite
	Backends                           []varnishBackend
	// TLSSidecars is true when some backend is an https mirror's sidecar.
	TLSSidecars bool
	Check       *varnishCheck
	// Health is true when some site is checked and can be down by the
	// health rule.
	Health        bool
	InfoURL       string
	PrivacyURL    string
	LongNameRegex string
	grammar
	provenance
}

// varnishACL is one label's addresses, as non-overlapping prefixes.
type varnishACL struct {
	Name, Label string
	Prefixes    []netip.Prefix
}

// varnishMap is a subroutine that sets Header from the client's label;
// Entries lists only labels whose value differs from Default.
type varnishMap struct {
	Sub, Header string
	labelValues
}

// varnishSite is a mirror site's blob URL split around the digest, and the
// backend and request that check it.
type varnishSite struct {
	Name                  string
	Before, After         string
	Backend               string
	Host                  string
	PathBefore, PathAfter string
}

// varnishBackend is one mirror host: a TCP address, or for https the
// socket of a TLS sidecar.
type varnishBackend struct {
	Name        string
	Host, Port  string
	Path        string
	Destination string
}

// varnishCheck is the existence check in Varnish's units.
type varnishCheck struct {
	PositiveSec, NegativeSec int64
	TimeoutMs                int64
	// TimeoutSec is the timeout in seconds, as a VCL REAL.
	TimeoutSec string
	StorageMB  int
	// The health rule's thresholds.
	DownAfter                 int
	DownForSec, DownForMaxSec int64
	// TrialSec is how long a site's trial has its turn: as long as its
	// check can take, and a second.
	TrialSec int64
}

// Varnish renders regedge.vcl for Varnish 7.1.
func Varnish(p *plan.Plan) ([]File, error) {
	d := varnishData{
		provenance:    generatedBy(p),
		grammar:       requestGrammar,
		Deployment:    p.Deployment,
		ClientHeader:  p.ClientIP.Header,
		TrustedHops:   p.ClientIP.TrustedHops,
		AddrRegex:     varnishAddr,
		DefaultLabel:  p.Labels[p.Default].Name,
		InfoURL:       p.Registry.InfoURL,
		PrivacyURL:    p.Registry.PrivacyURL,
		LongNameRegex: fmt.Sprintf("^.{%d}", request.MaxName+1),
		ClientTail:    varnishClientTail,
		DropRequest:   varnishDrop("Host"),
		DropBereq:     varnishDrop("Host", "X-Regedge-Mirror"),
		DropBeresp:    varnishDrop("X-Regedge-Check"),
	}
	if h := p.ClientIP.Header; h != "" {
		if !varnishIdent.MatchString(h) {
			return nil, fmt.Errorf("refusing client header %q: it is not a header name", h)
		}
		d.ForwardedFor = strings.EqualFold(h, "X-Forwarded-For")
		d.DropRequest = varnishDrop("Host", h)
		hops := p.ClientIP.TrustedHops
		if d.ForwardedFor {
			// The entry varnishd appends.
			hops++
		}
		d.ClientRegex = fmt.Sprintf(`^(?:.*,)?[[:blank:]]*([0-9A-Fa-f:.]+)[[:blank:]]*(?:,[^,]*){%d}$`, hops)
	}
	if c := p.Check; c != nil {
		d.Check = &varnishCheck{
			PositiveSec: c.PositiveTTL.Seconds(),
			NegativeSec: c.NegativeTTL.Seconds(),
			TimeoutMs:   c.Timeout.Milliseconds(),
			TimeoutSec:  strconv.FormatFloat(time.Duration(c.Timeout).Seconds(), 'f', 3, 64),
			// An answer kept in malloc storage takes about 2 KiB.
			StorageMB:     max(16, (c.CacheSize+511)/512),
			DownAfter:     c.DownAfter,
			DownForSec:    c.DownFor.Seconds(),
			DownForMaxSec: c.DownForMax.Seconds(),
			TrialSec:      c.Timeout.Seconds() + 1,
		}
	}
	acls, entries := varnishACLs(p)
	d.ACLs = acls
	for _, kind := range request.Kinds {
		d.Maps = append(d.Maps, varnishMap{
			Sub:         "regedge_" + string(kind) + "_upstream",
			Header:      "X-Regedge-Upstream",
			labelValues: upstreamBases(p, kind),
		})
	}
	d.Maps = append(d.Maps, varnishMap{
		Sub:         "regedge_blob_site",
		Header:      "X-Regedge-Site",
		labelValues: blobSiteByLabel(p),
	})
	if err := varnishSites(p, &d); err != nil {
		return nil, err
	}
	if len(d.Backends) > 0 && d.Check.DownAfter > 0 {
		d.Health = true
		// The site and its trial cross to the second hop, which keeps
		// the site's health.
		d.DropBereq = varnishDrop("Host", "X-Regedge-Mirror", "X-Regedge-Site", "X-Regedge-Trial")
	}
	vcl, err := execute(varnishTemplates, "regedge.vcl.tmpl", d)
	if err != nil {
		return nil, err
	}
	return []File{{Path: "varnish/regedge.vcl", Data: vcl, Entries: entries}}, nil
}

// varnishACLs gives each label but the default an ACL of the prefixes that
// cover its intervals. The intervals do not overlap, so no address is in
// two ACLs and the order they are tried in cannot change an answer.
func varnishACLs(p *plan.Plan) ([]varnishACL, int) {
	byLabel := make([][]netip.Prefix, len(p.Labels))
	entries := 0
	for _, table := range [][]plan.Interval{p.V4, p.V6} {
		for _, iv := range table {
			pfx := netipx.IPRangeFrom(iv.First, iv.Last).Prefixes()
			byLabel[iv.Label] = append(byLabel[iv.Label], pfx...)
			entries += len(pfx)
		}
	}
	var acls []varnishACL
	for i, l := range p.Labels {
		if len(byLabel[i]) == 0 {
			continue
		}
		// Varnish 7.1 writes a +table ACL's name into C unmangled, so the
		// name holds no "-".
		name := fmt.Sprintf("regedge_label_%d", i)
		acls = append(acls, varnishACL{Name: name, Label: l.Name, Prefixes: byLabel[i]})
	}
	return acls, entries
}

// varnishSites describes each site some label sends blobs to and, when the
// plan checks blobs, one backend per mirror host.
func varnishSites(p *plan.Plan, d *varnishData) error {
	backends := map[string]string{}
	for _, s := range blobSites(p) {
		u, err := url.Parse(s.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			return fmt.Errorf("site %s: URL %q is not an http or https URL", s.Name, s.URL)
		}
		before, after := s.BlobURLParts()
		// The check asks the backend for the path alone.
		pathBefore := strings.TrimPrefix(before, u.Scheme+"://"+u.Host)
		site := varnishSite{Name: s.Name, Before: before, After: after, Host: u.Host, PathBefore: pathBefore, PathAfter: after}
		if d.Check != nil {
			port := u.Port()
			if port == "" {
				port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
			}
			key := u.Scheme + "://" + net.JoinHostPort(u.Hostname(), port)
			name, ok := backends[key]
			if !ok {
				name = fmt.Sprintf("regedge_mirror_%d", len(d.Backends))
				backends[key] = name
				b := varnishBackend{Name: name, Host: u.Hostname(), Port: port, Destination: key}
				if u.Scheme == "https" {
					if !varnishIdent.MatchString(s.Name) {
						return fmt.Errorf("refusing site name %q in a socket path", s.Name)
					}
					b.Path = varnishTLSDir + "/" + s.Name + ".sock"
					d.TLSSidecars = true
				}
				d.Backends = append(d.Backends, b)
			}
			site.Backend = name
		}
		d.Sites = append(d.Sites, site)
	}
	return nil
}
