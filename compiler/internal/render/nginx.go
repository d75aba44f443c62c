package render

import (
	"fmt"
	"regexp"
	"strings"
	"text/template"

	"go4.org/netipx"

	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

// nginxTemplates are templates/nginx, parsed once.
var nginxTemplates = parseTemplates("nginx", template.FuncMap{"inc": inc, "quote": quote, "quoteRegex": quoteRegex})

// trustedCertificate is Debian's CA bundle, used to verify https mirrors.
const trustedCertificate = "/etc/ssl/certs/ca-certificates.crt"

type nginxData struct {
	Deployment         string
	WorkerProcesses    string
	StateDir           string
	Listen             []string
	Resolver           []string
	TimeoutMs          int64
	ClientHeader       string
	ClientHeaderVar    string
	ClientRegex        string
	TrustedHops        int
	DefaultLabel       string
	Maps               []nginxMap
	Check              *nginxCheck
	VerifyTLS          bool
	TrustedCertificate string
	InfoURL            string
	PrivacyURL         string
	LongNameRegex      string
	// BlobLocationRegex is the blob location's pattern.
	BlobLocationRegex string
	// SafePathRegex matches a request target that rules 2 and 12 let
	// through (request.SafeTarget, and a path of at most MaxPath).
	SafePathRegex string
	// Geo is the client address table.
	Geo prefixTable
	grammar
	provenance
}

// nginxMap is a map block from the client's label to Var.
type nginxMap struct {
	Var string
	labelValues
}

type nginxCheck struct {
	ZoneMB, MaxSizeMB                     int
	PositiveSec, NegativeSec, InactiveSec int64
	// AnswersMB sizes the shared dictionary that holds the answers in
	// memory: CacheSize of them at answerBytes each.
	AnswersMB int
	// NearAnswers is how many answers each worker keeps a copy of.
	NearAnswers int
	// DownAfter, DownForSec and DownForMaxSec are the site health rule's
	// thresholds.
	DownAfter                 int
	DownForSec, DownForMaxSec int64
	// Socket is the Unix socket of the check hop.
	Socket string
	// URLRegexes match the blob URLs of the sites the check may ask.
	URLRegexes []string
	// URLNamesSite is whether a blob URL tells which of those sites it
	// is at: no site's URLs start with another's.
	URLNamesSite bool
}

// nearAnswers is the most answers a worker copies from the shared
// dictionary: the blobs asked for most, at about 200 bytes each.
const nearAnswers = 4096

// nginxCheckSocket is the check hop's socket, in the state folder.
const nginxCheckSocket = "regedge-check.sock"

// maxSocketPath is the longest path a Unix socket can have on Linux
// (sun_path, less its terminating NUL).
const maxSocketPath = 107

// NginxMaxStateDir is the longest state_dir that leaves room in a Unix
// socket's path for the check hop's socket.
const NginxMaxStateDir = maxSocketPath - len("/"+nginxCheckSocket)

// Nginx renders nginx.conf and its geo table.
func Nginx(p *plan.Plan) ([]File, error) {
	d := nginxData{
		provenance:         generatedBy(p),
		grammar:            requestGrammar,
		Deployment:         p.Deployment,
		WorkerProcesses:    p.Nginx.WorkerProcesses,
		StateDir:           p.Nginx.StateDir,
		Listen:             p.Nginx.Listen,
		Resolver:           p.Nginx.Resolver,
		TimeoutMs:          5000,
		ClientHeader:       p.ClientIP.Header,
		TrustedHops:        p.ClientIP.TrustedHops,
		DefaultLabel:       p.Labels[p.Default].Name,
		TrustedCertificate: trustedCertificate,
		InfoURL:            p.Registry.InfoURL,
		PrivacyURL:         p.Registry.PrivacyURL,
		LongNameRegex:      fmt.Sprintf("^.{%d}", request.MaxName+1),
		BlobLocationRegex:  request.BlobPatternPCRE,
		SafePathRegex:      fmt.Sprintf("^(?![^?#]{%d})%s", request.MaxPath+1, strings.TrimPrefix(request.SafeTarget, "^")),
	}
	if h := p.ClientIP.Header; h != "" {
		d.ClientHeaderVar = "$http_" + strings.ReplaceAll(strings.ToLower(h), "-", "_")
		// Blanks are written \x20 and \x09: nginx reads \t itself.
		d.ClientRegex = fmt.Sprintf(`~(?:^|,)[\x20\x09]*(?<regedge_xff>%s)[\x20\x09]*(?:,[^,]*){%d}$`, request.Address, p.ClientIP.TrustedHops)
	}
	if c := p.Check; c != nil {
		sites := blobSites(p)
		d.TimeoutMs = c.Timeout.Milliseconds()
		// A keys zone megabyte holds about 8,000 keys.
		zone := c.CacheSize/8000 + 1
		d.Check = &nginxCheck{
			ZoneMB:        zone,
			MaxSizeMB:     zone * 4,
			PositiveSec:   c.PositiveTTL.Seconds(),
			NegativeSec:   c.NegativeTTL.Seconds(),
			InactiveSec:   max(c.PositiveTTL.Seconds(), c.NegativeTTL.Seconds()),
			AnswersMB:     c.CacheSize*answerBytes(p)/(1<<20) + 1,
			NearAnswers:   min(c.CacheSize, nearAnswers),
			DownAfter:     c.DownAfter,
			DownForSec:    c.DownFor.Seconds(),
			DownForMaxSec: c.DownForMax.Seconds(),
			Socket:        p.Nginx.StateDir + "/" + nginxCheckSocket,
			URLRegexes:    checkURLRegexes(sites),
			URLNamesSite:  urlNamesSite(sites),
		}
		if len(d.Check.Socket) > maxSocketPath {
			return nil, fmt.Errorf("the existence check's socket, %s, is %d characters long; a Unix socket's path can be at most %d, so state_dir can be at most %d", d.Check.Socket, len(d.Check.Socket), maxSocketPath, NginxMaxStateDir)
		}
	}
	for _, s := range p.Sites {
		d.VerifyTLS = d.VerifyTLS || strings.HasPrefix(s.URL, "https:")
	}
	for _, kind := range request.Kinds {
		d.Maps = append(d.Maps, nginxMap{Var: "$regedge_" + string(kind) + "_upstream", labelValues: upstreamBases(p, kind)})
	}
	mirror := func(l int, part int) string {
		a := p.Action(l, request.KindBlob)
		if a.Site == "" {
			return ""
		}
		s := p.Site(a.Site)
		before, after := s.BlobURLParts()
		return []string{before, after}[part]
	}
	d.Maps = append(d.Maps,
		nginxMap{Var: "$regedge_blob_mirror", labelValues: byLabel(p, func(l int) string { return mirror(l, 0) })},
		nginxMap{Var: "$regedge_blob_mirror_suffix", labelValues: byLabel(p, func(l int) string { return mirror(l, 1) })})

	if d.Check != nil {
		// The site a label's blobs go to: its health is kept by name.
		d.Maps = append(d.Maps, nginxMap{Var: "$regedge_blob_site", labelValues: blobSiteByLabel(p)})
	}

	d.Geo = geoTable(p)
	conf, err := execute(nginxTemplates, "nginx.conf.tmpl", d)
	if err != nil {
		return nil, err
	}
	// The table is inline: an include of regedge.conf from another nginx's
	// configuration would look for a file of its own beside that one.
	http, err := execute(nginxTemplates, "regedge.conf.tmpl", d)
	if err != nil {
		return nil, err
	}
	return []File{{Path: "nginx/nginx.conf", Data: conf}, {Path: "nginx/regedge.conf", Data: http, Entries: len(d.Geo.Entries)}}, nil
}

// answerBytes is the shared memory one existence answer of p takes at
// most: ngx_http_lua_module's node (69 bytes), its key (the longest blob
// URL, with a sha512 digest) and its one-byte value, rounded up to a power
// of two by nginx's slab allocator.
func answerBytes(p *plan.Plan) int {
	const node, value, digest = 69, 1, len("sha512:") + 128
	longest := 0
	for _, s := range p.Sites {
		before, after := s.BlobURLParts()
		longest = max(longest, len(before)+len(after))
	}
	size := 1
	for size < node+longest+digest+value {
		size *= 2
	}
	return size
}

// checkURLRegexes matches each blob URL of a site some label sends blobs
// to, with any digest.
func checkURLRegexes(sites []plan.Site) []string {
	var out []string
	for _, s := range sites {
		before, after := s.BlobURLParts()
		out = append(out, "^"+regexp.QuoteMeta(before)+"(?:"+request.Digest+")"+regexp.QuoteMeta(after)+"$")
	}
	return out
}

// urlNamesSite reports whether no one of sites has blob URLs that start
// with another's (or are another's): each blob URL is then at one site
// only.
func urlNamesSite(sites []plan.Site) bool {
	var prefixes []string
	for _, s := range sites {
		before, _ := s.BlobURLParts()
		for _, other := range prefixes {
			if strings.HasPrefix(before, other) || strings.HasPrefix(other, before) {
				return false
			}
		}
		prefixes = append(prefixes, before)
	}
	return true
}

// geoTable lists the plan's intervals as CIDR prefixes: nginx's geo module
// takes ranges only for IPv4, and prefixes work for both families.
func geoTable(p *plan.Plan) prefixTable {
	var d prefixTable
	for _, table := range [][]plan.Interval{p.V4, p.V6} {
		for _, iv := range table {
			for _, pfx := range netipx.IPRangeFrom(iv.First, iv.Last).Prefixes() {
				d.Entries = append(d.Entries, prefixEntry{Prefix: pfx, Label: p.Labels[iv.Label].Name})
			}
		}
	}
	return d
}
