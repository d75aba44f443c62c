package render

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"text/template"

	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

// workerTemplates are templates/worker, parsed once.
var workerTemplates = parseTemplates("worker", template.FuncMap{"jsRegex": jsRegex, "quote": quote})

// Settings of the Worker that no policy sets.
const (
	// workerCompatibilityDate pins the Workers runtime behaviour the
	// generated module was written and tested against.
	workerCompatibilityDate = "2025-09-01"
	// workerListen is where workerd serves the Worker unless told
	// otherwise with --socket-addr http=ADDRESS.
	workerListen = "*:8080"
	// workerMemoryAnswers bounds the existence answers each isolate keeps
	// in memory, in front of the Cache API, so that a busy isolate stays
	// far below the Workers memory limit of 128 MB.
	workerMemoryAnswers = 10000
)

// errWorkerPeer is returned for a plan that takes the client from the TCP
// peer, which a Worker never sees.
var errWorkerPeer = errors.New(`the worker block's client_ip takes the client from the TCP peer, which a Worker never sees; ` +
	`set it to a header such as "CF-Connecting-IP" (the default), or to "policy" with a client_ip block that names a header`)

type workerData struct {
	Deployment        string
	Name              string
	CompatibilityDate string
	Listen            string
	Allow             string // what the Worker's fetch() may reach under workerd
	InfoURL           string
	PrivacyURL        string
	APIVersionHeader  string
	CheckGraceMs      int
	APIVersion        string
	ClientHeader      string
	TrustedHops       int
	Default           int
	LabelWidth        int
	V4, V6            workerTable
	Labels            []workerLabel
	Check             *workerCheck
	grammar
	provenance
}

// workerTable is one address family's boundaries and their labels, each
// base64-encoded big-endian: 4 bytes per IPv4 boundary, 16 per IPv6 one,
// LabelWidth bytes per label.
type workerTable struct {
	Bounds, Labels string
	Count          int
}

type workerLabel struct {
	Name string
	// Upstreams has, per request kind, the upstream's endpoint, "/v2/" and
	// repository prefix.
	Upstreams []workerUpstream
	// Site is false when blobs go upstream; else SiteName names the site
	// and SitePrefix and SiteSuffix surround the digest in its blob URL.
	Site                             bool
	SiteName, SitePrefix, SiteSuffix string
}

type workerUpstream struct {
	Kind, Base string
}

type workerCheck struct {
	PositiveSec, NegativeSec, TimeoutMs int64
	MemoryAnswers                       int
	// The health rule's thresholds.
	DownAfter               int
	DownForMs, DownForMaxMs int64
}

// Worker renders a Cloudflare Worker: the ES module worker.js, its
// wrangler.toml, and workerd.capnp, which runs it under workerd as is.
func Worker(p *plan.Plan) ([]File, error) {
	if p.ClientIP.Header == "" {
		return nil, errWorkerPeer
	}
	d := workerData{
		provenance:        generatedBy(p),
		grammar:           requestGrammar,
		Deployment:        p.Deployment,
		Name:              "regedge",
		CompatibilityDate: workerCompatibilityDate,
		Listen:            workerListen,
		Allow:             workerAllow(p.Sites),
		InfoURL:           p.Registry.InfoURL,
		PrivacyURL:        p.Registry.PrivacyURL,
		APIVersionHeader:  request.APIVersionHeader,
		CheckGraceMs:      checkGraceMs,
		APIVersion:        request.APIVersion,
		ClientHeader:      p.ClientIP.Header,
		TrustedHops:       p.ClientIP.TrustedHops,
		Default:           p.Default,
		LabelWidth:        1,
	}
	if p.Deployment != "" {
		d.Name += "-" + p.Deployment
	}
	switch n := len(p.Labels); {
	case n > 1<<16:
		return nil, fmt.Errorf("%d labels: a Worker's table holds at most %d", n, 1<<16)
	case n > 1<<8:
		d.LabelWidth = 2
	}
	d.V4 = workerBounds(boundaries(p.V4, netip.IPv4Unspecified(), p.Default), d.LabelWidth)
	d.V6 = workerBounds(boundaries(p.V6, netip.IPv6Unspecified(), p.Default), d.LabelWidth)
	for i, l := range p.Labels {
		wl := workerLabel{Name: l.Name}
		for _, kind := range request.Kinds {
			u := p.Upstream(p.Action(i, kind).Upstream)
			wl.Upstreams = append(wl.Upstreams, workerUpstream{Kind: string(kind), Base: u.Base()})
		}
		if a := p.Action(i, request.KindBlob); a.Site != "" {
			s := p.Site(a.Site)
			wl.Site, wl.SiteName = true, s.Name
			wl.SitePrefix, wl.SiteSuffix = s.BlobURLParts()
		}
		d.Labels = append(d.Labels, wl)
	}
	if c := p.Check; c != nil {
		d.Check = &workerCheck{
			PositiveSec:   c.PositiveTTL.Seconds(),
			NegativeSec:   c.NegativeTTL.Seconds(),
			TimeoutMs:     c.Timeout.Milliseconds(),
			MemoryAnswers: min(max(c.CacheSize, 1), workerMemoryAnswers),
			DownAfter:     c.DownAfter,
			DownForMs:     c.DownFor.Milliseconds(),
			DownForMaxMs:  c.DownForMax.Milliseconds(),
		}
	}

	var files []File
	for _, f := range []struct{ name, tmpl string }{
		{"worker/worker.js", "worker.js.tmpl"},
		{"worker/wrangler.toml", "wrangler.toml.tmpl"},
		{"worker/workerd.capnp", "workerd.capnp.tmpl"},
	} {
		data, err := execute(workerTemplates, f.tmpl, d)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Path: f.name, Data: data})
	}
	files[0].Entries = d.V4.Count + d.V6.Count
	return files, nil
}

// bound is where a run of addresses with one label starts; it runs up to
// the next bound.
type bound struct {
	Start netip.Addr
	Label int
}

// boundaries turns a sorted interval table into the bounds a binary search
// for the last bound at or below an address needs: each interval's start,
// and after each interval not followed at once by another, the start of a
// gap, which gets the default label. Addresses below the first bound get
// the default label too. zero is the family's lowest address.
func boundaries(table []plan.Interval, zero netip.Addr, def int) []bound {
	var out []bound
	next := zero
	for _, iv := range table {
		if iv.First != next && len(out) > 0 {
			out = append(out, bound{Start: next, Label: def})
		}
		out = append(out, bound{Start: iv.First, Label: iv.Label})
		next = iv.Last.Next()
		if !next.IsValid() {
			// The interval ends at the family's last address.
			return out
		}
	}
	if len(out) > 0 {
		out = append(out, bound{Start: next, Label: def})
	}
	return out
}

// workerBounds encodes bounds for the Worker to decode at startup.
func workerBounds(bounds []bound, labelWidth int) workerTable {
	var addrs, labels []byte
	for _, b := range bounds {
		addrs = append(addrs, b.Start.AsSlice()...)
		if labelWidth == 2 {
			labels = append(labels, byte(b.Label>>8))
		}
		labels = append(labels, byte(b.Label))
	}
	return workerTable{
		Bounds: base64.StdEncoding.EncodeToString(addrs),
		Labels: base64.StdEncoding.EncodeToString(labels),
		Count:  len(bounds),
	}
}

// workerAllow returns the addresses workerd lets the Worker fetch: only
// loopback ones when every site is on a loopback address, as in tests, and
// else only public ones, the default that guards against SSRF.
func workerAllow(sites []plan.Site) string {
	for _, s := range sites {
		u, err := url.Parse(s.URL)
		if err != nil {
			return "public"
		}
		host := u.Hostname()
		if addr, err := netip.ParseAddr(host); host != "localhost" && (err != nil || !addr.IsLoopback()) {
			return "public"
		}
	}
	if len(sites) == 0 {
		return "public"
	}
	return "local"
}

// jsRegex writes a regular expression regedge generated as a JavaScript
// regex literal, escaping the slashes that would end it. It refuses
// anything but printable ASCII, so that nothing can end the literal or
// the line.
func jsRegex(s string) (string, error) {
	var b strings.Builder
	b.WriteByte('/')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e {
			return "", fmt.Errorf("refusing to write regex %q: it holds %q", s, c)
		}
		switch c {
		case '\\':
			if i+1 == len(s) || s[i+1] < 0x21 || s[i+1] > 0x7e {
				return "", fmt.Errorf("refusing to write regex %q: a backslash escapes nothing printable", s)
			}
			b.WriteByte(c)
			i++
			b.WriteByte(s[i])
		case '/':
			b.WriteString(`\/`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('/')
	return b.String(), nil
}
