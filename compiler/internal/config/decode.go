package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/regedge/regedge/compiler/internal/target"
	"github.com/regedge/regedge/compiler/request"
	"github.com/zclconf/go-cty/cty"
)

// rootSchema lists the blocks a policy holds: its own, and one for each
// target that has settings (every target but the proxy).
var rootSchema = func() *hcl.BodySchema {
	s := &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "registry"},
		{Type: "client_ip"},
		{Type: "locals"},
		{Type: "feed", LabelNames: []string{"name"}},
		{Type: "upstream", LabelNames: []string{"name"}},
		{Type: "site", LabelNames: []string{"name"}},
		{Type: "mirror"},
		{Type: "route", LabelNames: []string{"name"}},
		// Accepted only to say where it belongs.
		{Type: "check"},
	}}
	for _, t := range target.All {
		if t.Name == "nginx" || t.Edge != nil {
			s.Blocks = append(s.Blocks, hcl.BlockHeaderSchema{Type: t.Name})
		}
	}
	return s
}()

type registryBlock struct {
	InfoURL         string    `hcl:"info_url"`
	PrivacyURL      string    `hcl:"privacy_url"`
	InfoURLRange    hcl.Range `hcl:"info_url,attr_value_range"`
	PrivacyURLRange hcl.Range `hcl:"privacy_url,attr_value_range"`
}

type clientIPBlock struct {
	Header      string    `hcl:"header,optional"`
	TrustedHops int       `hcl:"trusted_hops,optional"`
	HeaderRange hcl.Range `hcl:"header,attr_value_range"`
	HopsRange   hcl.Range `hcl:"trusted_hops,attr_value_range"`
}

type feedBlock struct {
	Format          string    `hcl:"format"`
	File            string    `hcl:"file"`
	URL             string    `hcl:"url"`
	Cloud           string    `hcl:"cloud,optional"`
	Priority        int       `hcl:"priority,optional"`
	ExcludeRegions  cty.Value `hcl:"exclude_regions,optional"`
	ExcludeServices cty.Value `hcl:"exclude_services,optional"`
	MaxShrink       *float64  `hcl:"max_shrink,optional"`
	FormatRange     hcl.Range `hcl:"format,attr_value_range"`
	FileRange       hcl.Range `hcl:"file,attr_value_range"`
	URLRange        hcl.Range `hcl:"url,attr_value_range"`
	CloudRange      hcl.Range `hcl:"cloud,attr_value_range"`
	MaxShrinkRange  hcl.Range `hcl:"max_shrink,attr_value_range"`
	// Ranges for the checks made after decoding.
	PriorityRange        hcl.Range `hcl:"priority,attr_value_range"`
	ExcludeRegionsRange  hcl.Range `hcl:"exclude_regions,attr_value_range"`
	ExcludeServicesRange hcl.Range `hcl:"exclude_services,attr_value_range"`
}

type upstreamBlock struct {
	Endpoint      string    `hcl:"endpoint"`
	Prefix        string    `hcl:"prefix"`
	EndpointRange hcl.Range `hcl:"endpoint,attr_value_range"`
	PrefixRange   hcl.Range `hcl:"prefix,attr_value_range"`
}

type siteBlock struct {
	URL           string    `hcl:"url"`
	BlobPath      string    `hcl:"blob_path,optional"`
	Regions       cty.Value `hcl:"regions,optional"`
	URLRange      hcl.Range `hcl:"url,attr_value_range"`
	BlobPathRange hcl.Range `hcl:"blob_path,attr_value_range"`
	RegionsRange  hcl.Range `hcl:"regions,attr_value_range"`
	Remain        hcl.Body  `hcl:",remain"`
}

type mirrorBlock struct {
	DefaultSite   hcl.Expression `hcl:"default_site"`
	BlobPath      string         `hcl:"blob_path,optional"`
	BlobPathRange hcl.Range      `hcl:"blob_path,attr_value_range"`
	Check         *checkBlock    `hcl:"check,block"`
}

type checkBlock struct {
	PositiveTTL      string    `hcl:"positive_ttl"`
	NegativeTTL      string    `hcl:"negative_ttl"`
	Timeout          string    `hcl:"timeout"`
	CacheSize        int       `hcl:"cache_size,optional"`
	DownAfter        *int      `hcl:"down_after,optional"`
	DownFor          string    `hcl:"down_for,optional"`
	DownForMax       string    `hcl:"down_for_max,optional"`
	PositiveTTLRange hcl.Range `hcl:"positive_ttl,attr_value_range"`
	NegativeTTLRange hcl.Range `hcl:"negative_ttl,attr_value_range"`
	TimeoutRange     hcl.Range `hcl:"timeout,attr_value_range"`
	CacheSizeRange   hcl.Range `hcl:"cache_size,attr_value_range"`
	DownAfterRange   hcl.Range `hcl:"down_after,attr_value_range"`
	DownForRange     hcl.Range `hcl:"down_for,attr_value_range"`
	DownForMaxRange  hcl.Range `hcl:"down_for_max,attr_value_range"`
}

type routeBlock struct {
	Kinds        cty.Value      `hcl:"kinds"`
	Clouds       cty.Value      `hcl:"clouds,optional"`
	Regions      cty.Value      `hcl:"regions,optional"`
	To           hcl.Expression `hcl:"to"`
	Fallback     hcl.Expression `hcl:"fallback,optional"`
	KindsRange   hcl.Range      `hcl:"kinds,attr_value_range"`
	CloudsRange  hcl.Range      `hcl:"clouds,attr_value_range"`
	RegionsRange hcl.Range      `hcl:"regions,attr_value_range"`
}

type edgeBlock struct {
	Check            *bool     `hcl:"check,optional"`
	ClientIP         string    `hcl:"client_ip,optional"`
	Listen           cty.Value `hcl:"listen,optional"`
	ProbeStatus      *int      `hcl:"probe_status,optional"`
	ClientIPRange    hcl.Range `hcl:"client_ip,attr_value_range"`
	ListenRange      hcl.Range `hcl:"listen,attr_value_range"`
	ProbeStatusRange hcl.Range `hcl:"probe_status,attr_value_range"`
}

type nginxBlock struct {
	Listen          cty.Value `hcl:"listen,optional"`
	WorkerProcesses string    `hcl:"worker_processes,optional"`
	Resolver        cty.Value `hcl:"resolver,optional"`
	ListenRange     hcl.Range `hcl:"listen,attr_value_range"`
	WorkersRange    hcl.Range `hcl:"worker_processes,attr_value_range"`
	ResolverRange   hcl.Range `hcl:"resolver,attr_value_range"`
	StateDir        string    `hcl:"state_dir,optional"`
	StateDirRange   hcl.Range `hcl:"state_dir,attr_value_range"`
}

// defaultBlobPath is where registry.k8s.io's mirrors keep blobs.
const defaultBlobPath = "/containers/images/{digest}"

// decoder turns one merged policy body into a Policy, collecting every
// problem it finds.
type decoder struct {
	reader Reader
	ctx    *hcl.EvalContext
	diags  hcl.Diagnostics
	policy *Policy
	// budget is the work evaluation may still do (see checkCost), shared
	// by every deployment of one policy; localSizes bound the locals.
	budget     *float64
	localSizes map[string]bound
	// repeats counts the problems of each summary in each value; last
	// holds the last of them reported.
	repeats map[repeatKey]int
	last    map[repeatKey]*hcl.Diagnostic
	// patternCount counts the region patterns of the sites and routes
	// so far, and tooManyPatterns says that it passed MaxRegionPatterns.
	patternCount    int
	tooManyPatterns bool
	// Raw references, resolved once every block is known.
	defaultSite  hcl.Expression
	routeTargets []routeRefs
}

type routeRefs struct {
	route        *Route
	to, fallback hcl.Expression
	cloudsRange  hcl.Range
	clouds       []string
}

func decode(body hcl.Body, r Reader, budget *float64) (*Policy, hcl.Diagnostics) {
	d := &decoder{reader: r, policy: &Policy{}, budget: budget, repeats: map[repeatKey]int{}, last: map[repeatKey]*hcl.Diagnostic{}}
	content, diags := body.Content(rootSchema)
	d.diags = diags
	byType := map[string][]*hcl.Block{}
	for _, b := range content.Blocks {
		byType[b.Type] = append(byType[b.Type], b)
	}
	ctx, sizes, diags := evalLocals(byType["locals"], budget)
	d.ctx, d.localSizes = ctx, sizes
	d.diags = append(d.diags, diags...)

	for _, b := range byType["check"] {
		d.errorf(b.DefRange, "Misplaced check block", "The check block belongs inside the mirror block; move it there.")
	}
	if b := d.single(byType, "registry", true, body); b != nil {
		d.registry(b)
	}
	if b := d.single(byType, "client_ip", false, body); b != nil {
		d.clientIP(b)
	}
	d.namedBlocks(byType["feed"], "feed", d.feed)
	d.namedBlocks(byType["upstream"], "upstream", d.upstream)
	d.sites(byType["site"])
	if b := d.single(byType, "mirror", true, body); b != nil {
		d.mirror(b)
	}
	d.namedBlocks(byType["route"], "route", d.route)
	d.nginx(d.single(byType, "nginx", false, body))
	for _, t := range target.Edges() {
		d.edge(t, d.single(byType, t.Name, false, body))
	}
	d.requireSome(body, "feed", len(d.policy.Feeds))
	d.requireSome(body, "upstream", len(d.policy.Upstreams))
	d.requireSome(body, "route", len(d.policy.Routes))
	d.resolve()
	d.countHidden()
	return d.policy, d.diags
}

// maxRepeats is how many problems with one summary one value reports in
// full: a list of 10,000 bad elements gets three diagnostics, the last
// saying how many more there are.
const maxRepeats = 3

type repeatKey struct {
	summary string
	at      hcl.Range
}

func (d *decoder) errorf(r hcl.Range, summary, detail string, args ...any) {
	k := repeatKey{summary, r}
	if d.repeats[k]++; d.repeats[k] > maxRepeats {
		return
	}
	diag := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(detail, args...),
		Subject:  r.Ptr(),
	}
	if d.repeats[k] == maxRepeats {
		d.last[k] = diag
	}
	d.diags = append(d.diags, diag)
}

// countHidden adds to the last problem shown of each kind in each value
// how many more were not.
func (d *decoder) countHidden() {
	for k, diag := range d.last {
		if more := d.repeats[k] - maxRepeats; more > 0 {
			diag.Detail += fmt.Sprintf(" This value has %s more problems like this.", thousands(more))
		}
	}
}

// single returns the one block of a type that may appear once.
func (d *decoder) single(byType map[string][]*hcl.Block, typ string, required bool, body hcl.Body) *hcl.Block {
	blocks := byType[typ]
	for _, b := range blocks[min(1, len(blocks)):] {
		d.diags = append(d.diags, duplicate(typ+" block", typ, b.DefRange, blocks[0].DefRange))
	}
	if len(blocks) == 0 {
		if required {
			d.errorf(body.MissingItemRange(), "Missing "+typ+" block", "A policy needs a %s block; add one.", typ)
		}
		return nil
	}
	return blocks[0]
}

func (d *decoder) requireSome(body hcl.Body, typ string, n int) {
	// Once the budget is spent, blocks go undecoded without a word (an
	// earlier deployment said why).
	if n == 0 && !d.diags.HasErrors() && *d.budget >= 0 {
		d.errorf(body.MissingItemRange(), "No "+typ+" blocks", "A policy needs at least one %s block; add one.", typ)
	}
}

// namedBlocks decodes each labelled block once, reporting duplicate names.
func (d *decoder) namedBlocks(blocks []*hcl.Block, typ string, decodeOne func(name string, b *hcl.Block)) {
	seen := map[string]hcl.Range{}
	for _, b := range blocks {
		name := b.Labels[0]
		if !namePattern.MatchString(name) {
			d.diags = append(d.diags, badName(typ, b.LabelRanges[0]))
			continue
		}
		if prev, ok := seen[name]; ok {
			d.diags = append(d.diags, duplicate(typ, name, b.DefRange, prev))
			continue
		}
		seen[name] = b.DefRange
		decodeOne(name, b)
	}
}

// decodeBody bounds the cost of every expression in body and, if none is
// too costly, decodes it into v.
func (d *decoder) decodeBody(body hcl.Body, ctx *hcl.EvalContext, v any) bool {
	if !d.affordable(body, ctx) {
		return false
	}
	diags := gohcl.DecodeBody(body, ctx, v)
	for _, diag := range diags {
		// Only an error makes a value unknown: an expression that failed,
		// or a local that failed or was too costly. It is reported where
		// it happened; gohcl would add that the result is unsuitable.
		if diag.Summary == "Unsuitable value type" && strings.Contains(diag.Detail, "must be known") {
			continue
		}
		d.diags = append(d.diags, diag)
	}
	return !diags.HasErrors()
}

func (d *decoder) registry(b *hcl.Block) {
	var rb registryBlock
	if !d.decodeBody(b.Body, d.ctx, &rb) {
		return
	}
	d.checkURL(rb.InfoURL, rb.InfoURLRange, pageURLPattern, "an http or https URL")
	d.checkURL(rb.PrivacyURL, rb.PrivacyURLRange, pageURLPattern, "an http or https URL")
	d.policy.Registry = Registry{InfoURL: rb.InfoURL, PrivacyURL: rb.PrivacyURL}
}

func (d *decoder) clientIP(b *hcl.Block) {
	var cb clientIPBlock
	if !d.decodeBody(b.Body, d.ctx, &cb) {
		return
	}
	switch {
	case cb.Header != "" && !headerPattern.MatchString(cb.Header):
		d.errorf(cb.HeaderRange, "Invalid header name", "A header name is letters, digits and hyphens, such as \"X-Forwarded-For\".")
	case cb.Header != "" && !strings.EqualFold(cb.Header, "X-Forwarded-For"):
		// nginx 1.22 joins repeated lines of X-Forwarded-For alone: with
		// any other header it would read the first line, which a client
		// can send before the line a trusted proxy adds.
		d.errorf(cb.HeaderRange, "Unsupported client header", "nginx 1.22 reads every line of a repeated header only for X-Forwarded-For; use it, or leave header out to take the TCP peer.")
	}
	if cb.TrustedHops < 0 || cb.TrustedHops > 16 {
		d.errorf(cb.HopsRange, "Invalid trusted_hops", "trusted_hops counts proxies in front of the registry; give a number from 0 to 16.")
	}
	if cb.Header == "" && cb.TrustedHops != 0 {
		d.errorf(cb.HopsRange, "trusted_hops without header", "Hops are counted in a header; set header, such as \"X-Forwarded-For\", or remove trusted_hops.")
	}
	d.policy.ClientIP = ClientIP{Header: cb.Header, TrustedHops: cb.TrustedHops}
}

func (d *decoder) feed(name string, b *hcl.Block) {
	var fb feedBlock
	if !d.decodeBody(b.Body, d.ctx, &fb) {
		return
	}
	if !slices.Contains(feedFormats, fb.Format) {
		d.errorf(fb.FormatRange, "Unknown feed format", "The format %q is not one of %s.%s", fb.Format, quoteList(feedFormats), DidYouMean(fb.Format, feedFormats))
	}
	d.checkURL(fb.URL, fb.URLRange, pageURLPattern, "an http or https URL")
	cloud := fb.Cloud
	if cloud == "" {
		cloud = name
	}
	if !namePattern.MatchString(cloud) || cloud == unknownCloud {
		d.errorf(fb.CloudRange, "Invalid cloud name", "A cloud name is lower-case letters, digits and hyphens, and not %q.", unknownCloud)
	}
	if fb.Priority < -MaxPriority || fb.Priority > MaxPriority {
		d.errorf(fb.PriorityRange, "Invalid priority", "priority orders feeds that list the same prefix; give a number from %s to %s.", thousands(-MaxPriority), thousands(MaxPriority))
	}
	maxShrink := DefaultMaxShrink
	if fb.MaxShrink != nil {
		maxShrink = *fb.MaxShrink
		if maxShrink < 0 || maxShrink > 1 {
			d.errorf(fb.MaxShrinkRange, "Invalid max_shrink", "max_shrink is the fraction of its prefixes one update may drop, from 0 to 1, such as 0.05.")
		}
	}
	d.policy.Feeds = append(d.policy.Feeds, &Feed{
		MaxShrink:       maxShrink,
		Name:            name,
		Format:          fb.Format,
		Cloud:           cloud,
		File:            Resolve(fb.FileRange, fb.File),
		URL:             fb.URL,
		Priority:        fb.Priority,
		ExcludeRegions:  d.stringList(fb.ExcludeRegions, fb.ExcludeRegionsRange),
		ExcludeServices: d.stringList(fb.ExcludeServices, fb.ExcludeServicesRange),
		DefRange:        b.DefRange,
	})
}

func (d *decoder) upstream(name string, b *hcl.Block) {
	var ub upstreamBlock
	if !d.decodeBody(b.Body, d.ctx, &ub) {
		// Keep the name, so references to the upstream raise no second error.
		d.policy.Upstreams = append(d.policy.Upstreams, &Upstream{Name: name, DefRange: b.DefRange})
		return
	}
	d.checkURL(ub.Endpoint, ub.EndpointRange, endpointPattern, "a scheme and host with no path, such as \"https://us-central1-docker.pkg.dev\"")
	if len(ub.Prefix) > maxRepoPrefix {
		d.errorf(ub.PrefixRange, "Repository prefix too long", "The prefix is %d bytes; it is at most %d.", len(ub.Prefix), maxRepoPrefix)
	} else if !repoPrefixPattern.MatchString(ub.Prefix) {
		d.errorf(ub.PrefixRange, "Invalid repository prefix", "A prefix is repository path components of lower-case letters and digits joined by \"/\", such as \"k8s-artifacts-prod/images\".")
	}
	d.policy.Upstreams = append(d.policy.Upstreams, &Upstream{Name: name, Endpoint: ub.Endpoint, Prefix: ub.Prefix, DefRange: b.DefRange})
}

// sites decodes site blocks, expanding for_each into one site per element
// named "<label>-<key>".
func (d *decoder) sites(blocks []*hcl.Block) {
	seen := map[string]hcl.Range{}
	count := 0
	for _, b := range blocks {
		label := b.Labels[0]
		if !namePattern.MatchString(label) {
			d.diags = append(d.diags, badName("site", b.LabelRanges[0]))
			continue
		}
		content, rest, diags := b.Body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "for_each"}}})
		d.diags = append(d.diags, diags...)
		forEach, ok := content.Attributes["for_each"]
		if !ok {
			count++
			d.site(label, b, rest, d.ctx, seen)
			continue
		}
		keys, values, diags := forEachKeys(forEach.Expr, d.ctx, d.localSizes, d.budget)
		d.diags = append(d.diags, diags...)
		if count += len(keys); count > MaxBlocks {
			d.errorf(forEach.Expr.Range(), "Too many sites", "This for_each makes the policy's sites number %d; a policy declares at most %d sites.", count, MaxBlocks)
			return
		}
		for i, k := range keys {
			name := label + "-" + k.AsString()
			if !namePattern.MatchString(name) {
				d.errorf(forEach.Expr.Range(), "Invalid site name", "The key %q makes the site name %q, but a name is lower-case letters, digits, hyphens and underscores.", k.AsString(), name)
				continue
			}
			d.site(name, b, rest, withEach(d.ctx, k, values[i]), seen)
		}
	}
}

func (d *decoder) site(name string, b *hcl.Block, body hcl.Body, ctx *hcl.EvalContext, seen map[string]hcl.Range) {
	if prev, ok := seen[name]; ok {
		d.diags = append(d.diags, duplicate("site", name, b.DefRange, prev))
		return
	}
	seen[name] = b.DefRange
	if slices.Contains(reservedSiteNames, name) {
		d.errorf(b.LabelRanges[0], "Reserved site name", "%q is a keyword in the configs regedge generates; name the site something else.", name)
		return
	}
	var sb siteBlock
	if !d.decodeBody(body, ctx, &sb) {
		// Keep the name, so references to the site raise no second error.
		d.policy.Sites = append(d.policy.Sites, &Site{Name: name, DefRange: b.DefRange})
		return
	}
	// site's remain body only carries the for_each already handled.
	d.checkURL(sb.URL, sb.URLRange, siteURLPattern, "an http or https URL with an optional path, such as \"https://mirror.example.com/registry\"")
	if sb.BlobPath != "" {
		d.checkBlobPath(sb.BlobPath, sb.BlobPathRange)
	}
	d.policy.Sites = append(d.policy.Sites, &Site{
		Name:     name,
		URL:      trimSlash(sb.URL),
		BlobPath: sb.BlobPath,
		Regions:  d.regionList(sb.Regions, sb.RegionsRange),
		DefRange: b.DefRange,
	})
}

func (d *decoder) mirror(b *hcl.Block) {
	var mb mirrorBlock
	if !d.decodeBody(b.Body, d.ctx, &mb) {
		return
	}
	blobPath := mb.BlobPath
	if blobPath == "" {
		blobPath = defaultBlobPath
	} else {
		d.checkBlobPath(blobPath, mb.BlobPathRange)
	}
	for _, s := range d.policy.Sites {
		if s.BlobPath == "" {
			s.BlobPath = blobPath
		}
	}
	d.defaultSite = mb.DefaultSite
	d.policy.Mirror.DefRange = b.DefRange
	if mb.Check != nil {
		d.policy.Mirror.Check = d.check(mb.Check)
	}
}

func (d *decoder) check(cb *checkBlock) *Check {
	c := &Check{
		PositiveTTL: d.duration(cb.PositiveTTL, cb.PositiveTTLRange),
		NegativeTTL: d.duration(cb.NegativeTTL, cb.NegativeTTLRange),
		Timeout:     d.duration(cb.Timeout, cb.TimeoutRange),
		CacheSize:   cb.CacheSize,
	}
	if c.CacheSize == 0 {
		c.CacheSize = 100000
	}
	if c.CacheSize < 0 || c.CacheSize > MaxCacheSize {
		// The sizes follow render's: 8,000 keys per MB of nginx zone, 512
		// answers per MB of Varnish storage; the proxy's were measured.
		d.errorf(cb.CacheSizeRange, "Invalid cache_size", "cache_size is how many answers the existence cache keeps, from 1 to 1,000,000; "+
			"at 1,000,000 nginx reserves a 126 MB keys zone, Varnish wants 1,954 MB of storage and the proxy about 330 MB.")
	}
	if c.Timeout > MaxTimeout {
		d.errorf(cb.TimeoutRange, "Invalid timeout", "The check's timeout is at most 60s: the client waits for the check.")
	}
	d.health(c, cb)
	for _, ttl := range []struct {
		v time.Duration
		r hcl.Range
	}{{c.PositiveTTL, cb.PositiveTTLRange}, {c.NegativeTTL, cb.NegativeTTLRange}} {
		if ttl.v > MaxTTL {
			d.errorf(ttl.r, "Invalid TTL", "An answer is kept at most 8760h (a year).")
		}
	}
	return c
}

// The health rule's defaults: three checks in a row without an answer make
// a site down for 30 s, doubled after each failed trial up to 5 min.
const (
	defaultDownAfter  = 3
	defaultDownFor    = 30 * time.Second
	defaultDownForMax = 5 * time.Minute
)

// health reads the check block's health thresholds into c. The periods are
// whole seconds from 1s to 1h, as every target can state them.
func (d *decoder) health(c *Check, cb *checkBlock) {
	c.DownAfter, c.DownFor, c.DownForMax = defaultDownAfter, defaultDownFor, defaultDownForMax
	if cb.DownAfter != nil {
		c.DownAfter = *cb.DownAfter
		if c.DownAfter < 1 || c.DownAfter > MaxDownAfter {
			d.errorf(cb.DownAfterRange, "Invalid down_after", "down_after is how many checks in a row must get no answer before a site is down, from 1 to %d.", MaxDownAfter)
		}
	}
	period := func(s string, r hcl.Range, v *time.Duration) {
		if s == "" {
			return
		}
		*v = d.duration(s, r)
		if *v != 0 && (*v < time.Second || *v > MaxDownFor || *v%time.Second != 0) {
			d.errorf(r, "Invalid down period", "A site's down period is whole seconds from \"1s\" to \"1h\", such as \"30s\".")
		}
	}
	period(cb.DownFor, cb.DownForRange, &c.DownFor)
	period(cb.DownForMax, cb.DownForMaxRange, &c.DownForMax)
	if cb.DownForMax == "" {
		c.DownForMax = max(c.DownForMax, c.DownFor)
	}
	if c.DownForMax < c.DownFor {
		d.errorf(cb.DownForMaxRange, "Invalid down_for_max", "down_for_max (%s) is less than down_for (%s): a site's down period only grows.", c.DownForMax, c.DownFor)
	}
}

func (d *decoder) route(name string, b *hcl.Block) {
	var rb routeBlock
	if !d.decodeBody(b.Body, d.ctx, &rb) {
		return
	}
	r := &Route{Name: name, DefRange: b.DefRange}
	kinds := d.stringList(rb.Kinds, rb.KindsRange)
	for _, k := range kinds {
		if !slices.Contains(kindNames, k) {
			d.errorf(rb.KindsRange, "Unknown request kind", "The kind %q is not one of %s.%s", k, quoteList(kindNames), DidYouMean(k, kindNames))
			continue
		}
		// A kind listed twice matches nothing more; kept once, the
		// kinds the plan checks for each class and route stay few.
		if !slices.Contains(r.Kinds, request.Kind(k)) {
			r.Kinds = append(r.Kinds, request.Kind(k))
		}
	}
	if len(kinds) == 0 && rb.Kinds.IsWhollyKnown() {
		d.errorf(rb.KindsRange, "No request kinds", "A route needs at least one kind, such as [\"blob\"] or [\"any\"].")
	}
	r.Regions = d.regionList(rb.Regions, rb.RegionsRange)
	d.policy.Routes = append(d.policy.Routes, r)
	d.routeTargets = append(d.routeTargets, routeRefs{route: r, to: rb.To, fallback: rb.Fallback, clouds: d.stringList(rb.Clouds, rb.CloudsRange), cloudsRange: rb.CloudsRange})
}

func (d *decoder) nginx(b *hcl.Block) {
	n := Nginx{Listen: target.DefaultListen, WorkerProcesses: "auto", StateDir: defaultStateDir}
	if b != nil {
		var nb nginxBlock
		if d.decodeBody(b.Body, d.ctx, &nb) {
			if listen := d.stringList(nb.Listen, nb.ListenRange); listen != nil {
				n.Listen = listen
				d.checkListen("nginx", listen, nb.ListenRange)
			}
			if nb.WorkerProcesses != "" {
				n.WorkerProcesses = nb.WorkerProcesses
			}
			n.Resolver = d.stringList(nb.Resolver, nb.ResolverRange)
			if nb.StateDir != "" {
				n.StateDir = nb.StateDir
				d.checkStateDir(n.StateDir, nb.StateDirRange)
			}
			if !workersPattern.MatchString(n.WorkerProcesses) {
				d.errorf(nb.WorkersRange, "Invalid worker_processes", "worker_processes is \"auto\" or a number.")
			}
			for _, r := range n.Resolver {
				d.checkResolver(r, nb.ResolverRange)
			}
		}
	}
	d.policy.Nginx = n
}

// edge decodes an edge target's block, whose settings default to the
// target table's.
func (d *decoder) edge(t target.Target, b *hcl.Block) {
	e := Edge{Name: t.Name, Check: t.Edge.Check, ClientIP: t.Edge.ClientIP, Listen: t.Edge.Listen, ProbeStatus: t.Edge.ProbeStatus}
	if b != nil {
		var eb edgeBlock
		if d.decodeBody(b.Body, d.ctx, &eb) {
			if eb.Check != nil {
				e.Check = *eb.Check
			}
			if eb.ClientIP != "" {
				e.ClientIP = eb.ClientIP
				if eb.ClientIP != "policy" && eb.ClientIP != "peer" && !headerPattern.MatchString(eb.ClientIP) {
					d.errorf(eb.ClientIPRange, "Invalid client_ip", "client_ip is \"policy\" (the client_ip block's rule), \"peer\" (the TCP peer) or a header name such as \"CF-Connecting-IP\".")
				}
			}
			if listen := d.stringList(eb.Listen, eb.ListenRange); listen != nil {
				if t.Edge.Listen == nil {
					d.errorf(eb.ListenRange, "Unsupported argument", "Only %s takes listen; %s's address is set where it is deployed.", edgeNames(func(e *target.Defaults) bool { return e.Listen != nil }), t.Name)
				} else {
					e.Listen = listen
					d.checkListen(t.Name, listen, eb.ListenRange)
				}
			}
			if eb.ProbeStatus != nil {
				switch {
				case t.Edge.ProbeStatus == 0:
					d.errorf(eb.ProbeStatusRange, "Unsupported argument", "Only %s takes probe_status, the status its health probe expects of every mirror.", edgeNames(func(e *target.Defaults) bool { return e.ProbeStatus != 0 }))
				case *eb.ProbeStatus < 200 || *eb.ProbeStatus > 499:
					d.errorf(eb.ProbeStatusRange, "Invalid probe_status", "probe_status is the status with which every mirror answers the health probe (a HEAD for a blob no mirror holds): an answer, from 200 to 499; 404 by default.")
				default:
					e.ProbeStatus = *eb.ProbeStatus
				}
			}
		}
	}
	d.policy.Edges = append(d.policy.Edges, e)
}

// edgeNames names, joined with "and", the edge targets whose defaults has
// says take a setting.
func edgeNames(has func(*target.Defaults) bool) string {
	var names []string
	for _, t := range target.Edges() {
		if has(t.Edge) {
			names = append(names, t.Name)
		}
	}
	return strings.Join(names, " and ")
}

// resolve turns references (upstream.x, site.x, mirror) and cloud names
// into names, now that every block has been decoded.
func (d *decoder) resolve() {
	p := d.policy
	if d.defaultSite != nil {
		if t, ok := d.reference(d.defaultSite, "site"); ok {
			p.Mirror.DefaultSite = t.Site
		}
	}
	var clouds []string
	known := map[string]bool{unknownCloud: true}
	for _, f := range p.Feeds {
		if !known[f.Cloud] {
			known[f.Cloud] = true
			clouds = append(clouds, f.Cloud)
		}
	}
	clouds = append(clouds, unknownCloud)
	for _, rt := range d.routeTargets {
		if isNull(rt.to) {
			// gohcl gives a missing expression attribute as a null one.
			d.errorf(rt.to.Range(), "Missing required argument", "The argument \"to\" is required, but no definition was found: give the route upstream.NAME, site.NAME or mirror.")
		} else if t, ok := d.reference(rt.to, "upstream", "site", "mirror"); ok {
			rt.route.To = t
		}
		if !isNull(rt.fallback) {
			if t, ok := d.reference(rt.fallback, "upstream"); ok {
				rt.route.Fallback = t.Upstream
			}
		}
		if (rt.route.To.Site != "" || rt.route.To.Mirror) && isNull(rt.fallback) {
			d.errorf(rt.route.DefRange, "Missing fallback", "A route to a mirror needs fallback = upstream.NAME for blobs the site lacks.")
		}
		if rt.route.To.Site != "" || rt.route.To.Mirror {
			for _, k := range rt.route.Kinds {
				if k != request.KindBlob {
					d.errorf(rt.to.Range(), "Mirror for non-blob requests", "Mirrors hold only blobs, but this route also matches %q requests; send those to an upstream in a separate route.", k)
					break
				}
			}
		}
		for _, c := range rt.clouds {
			if !known[c] {
				d.errorf(rt.cloudsRange, "Unknown cloud", "No feed has the cloud %q; the clouds are %s.%s", c, quoteList(clouds), DidYouMean(c, clouds))
			}
		}
		rt.route.Clouds = rt.clouds
	}
	for _, pat := range d.allPatterns() {
		if !known[pat.Cloud] {
			d.errorf(pat.Range, "Unknown cloud", "No feed has the cloud %q; the clouds are %s.%s", pat.Cloud, quoteList(clouds), DidYouMean(pat.Cloud, clouds))
		}
	}
}

func (d *decoder) allPatterns() []Pattern {
	var all []Pattern
	for _, s := range d.policy.Sites {
		all = append(all, s.Regions...)
	}
	for _, r := range d.policy.Routes {
		all = append(all, r.Regions...)
	}
	return all
}

// reference resolves an expression such as upstream.main, site.cloudfront or
// mirror, allowing only the given root names.
func (d *decoder) reference(expr hcl.Expression, roots ...string) (Target, bool) {
	trav, diags := hcl.AbsTraversalForExpr(expr)
	want := quoteList(roots)
	if diags.HasErrors() || !slices.Contains(roots, trav.RootName()) {
		d.errorf(expr.Range(), "Invalid reference", "Expected a reference to %s, such as upstream.main, without quotes.", want)
		return Target{}, false
	}
	if trav.RootName() == "mirror" {
		if len(trav) != 1 {
			d.errorf(expr.Range(), "Invalid reference", "mirror stands alone: it means the site that serves the client's region.")
			return Target{}, false
		}
		return Target{Mirror: true}, true
	}
	attr, ok := trav[1].(hcl.TraverseAttr)
	if len(trav) != 2 || !ok {
		d.errorf(expr.Range(), "Invalid reference", "Expected %s.NAME.", trav.RootName())
		return Target{}, false
	}
	var names []string
	if trav.RootName() == "upstream" {
		for _, u := range d.policy.Upstreams {
			names = append(names, u.Name)
		}
	} else {
		for _, s := range d.policy.Sites {
			names = append(names, s.Name)
		}
	}
	if !slices.Contains(names, attr.Name) {
		d.errorf(expr.Range(), "Reference to undeclared "+trav.RootName(), "No %s named %q is declared.%s", trav.RootName(), attr.Name, DidYouMean(attr.Name, names))
		return Target{}, false
	}
	if trav.RootName() == "upstream" {
		return Target{Upstream: attr.Name}, true
	}
	return Target{Site: attr.Name}, true
}

func isNull(expr hcl.Expression) bool {
	if expr == nil {
		return true
	}
	v, diags := expr.Value(nil)
	return !diags.HasErrors() && v.IsNull() && v.Type() == cty.DynamicPseudoType
}
