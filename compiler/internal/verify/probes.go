// Package verify proves a target answers as the policy says: it generates
// probes from the plan, sends them to the target, and compares every answer
// with the reference answer of package answer. It also checks the compiled
// table against an independent longest-prefix match over the raw feeds.
package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/regedge/regedge/compiler/plan"
)

// Probe is one request verify sends.
type Probe struct {
	Method string
	// Target is the raw path and query.
	Target string
	// Client is the address the request claims to come from; invalid when
	// the policy takes the TCP peer, which verify cannot choose.
	Client netip.Addr
	// Kind names the probe's request kind, for reports.
	Kind string
}

// Digests used by the blob probes. absentDigest names no real blob.
var absentDigest = "sha256:" + hex.EncodeToString(sha256sum("regedge verify: a blob no mirror holds"))

func sha256sum(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

const repo = "regedge/verify"

// routedKinds are the requests whose answer depends on the client: each is
// sent from every probe address.
func routedKinds(blob string) []Probe {
	sig := "sha256-" + strings.TrimPrefix(absentDigest, "sha256:")
	return []Probe{
		{Method: "GET", Target: "/v2/" + repo + "/manifests/v1.0", Kind: "manifest by tag"},
		{Method: "HEAD", Target: "/v2/" + repo + "/manifests/" + blob, Kind: "manifest by digest"},
		{Method: "GET", Target: "/v2/" + repo + "/tags/list?n=10&last=v1", Kind: "tags"},
		{Method: "GET", Target: "/v2/" + repo + "/referrers/" + blob + "?artifactType=application%2Fspdx%2Bjson", Kind: "referrers"},
		{Method: "GET", Target: "/v2/" + repo + "/blobs/" + blob, Kind: "blob at the mirror"},
		{Method: "HEAD", Target: "/v2/" + repo + "/blobs/" + absentDigest, Kind: "blob not at the mirror"},
		{Method: "GET", Target: "/v2/" + repo + "/manifests/" + sig + ".sig", Kind: "cosign signature"},
		{Method: "GET", Target: "/v2/" + repo + "/manifests/" + sig + ".att", Kind: "cosign attestation"},
	}
}

// fixedKinds are the requests whose answer depends on no client: each is
// sent from one address per label.
func fixedKinds(blob string) []Probe {
	probes := []Probe{
		{Method: "GET", Target: "/", Kind: "root"},
		{Method: "GET", Target: "/privacy", Kind: "privacy"},
		{Method: "GET", Target: "/v2/", Kind: "version"},
		{Method: "HEAD", Target: "/v2", Kind: "version"},
		{Method: "GET", Target: "/v2/_catalog", Kind: "catalog"},
		{Method: "GET", Target: "/healthz", Kind: "health"},
		{Method: "GET", Target: "/favicon.ico", Kind: "unknown path"},
		{Method: "GET", Target: "/v2/" + repo + "/uploads/", Kind: "unknown path"},
		{Method: "POST", Target: "/v2/" + repo + "/blobs/uploads/", Kind: "method"},
		{Method: "DELETE", Target: "/v2/" + repo + "/manifests/v1.0", Kind: "method"},
		{Method: "PUT", Target: "/v2/" + repo + "/manifests/v1.0", Kind: "method"},
	}
	for _, target := range HostilePaths(blob) {
		probes = append(probes, Probe{Method: "GET", Target: target, Kind: "hostile path"})
	}
	return probes
}

// HostilePaths are targets that try to steer a redirect outside the
// repository prefix, or break the name, tag or digest grammar. Every target
// must answer each with 404. blob is a digest (IsDigest), sha256 or sha512;
// the digest cases are built from its algorithm and hex, whatever their
// length.
func HostilePaths(blob string) []string {
	algorithm, hex, _ := strings.Cut(blob, ":")
	// One digit short, and upper case with at least one letter.
	short := hex[:max(len(hex)-1, 0)]
	upper := strings.ToUpper(short) + "A"
	long := strings.Repeat("a", 129)
	return []string{
		"/v2/../x",
		"/v2/../../x/manifests/latest",
		"/v2/" + repo + "/../../../x/manifests/latest",
		"/v2/./" + repo + "/manifests/latest",
		"/v2/" + repo + "/manifests/..",
		"/v2/" + repo + "/manifests/.",
		"/v2/" + repo + "/blobs/" + blob + "/..",
		"/v2/%2e%2e/x/manifests/latest",
		"/v2/%2E%2E/%2E%2E/x/manifests/latest",
		"/v2/" + repo + "%2fmanifests/latest",
		"/v2/" + repo + "/manifests/latest%2F..%2F..%2Fx",
		"/v2/" + repo + "/blobs/" + algorithm + "%3A" + hex,
		"/v2/r%65gedge/manifests/latest",
		"/v2//" + repo + "/manifests/latest",
		"/v2/" + repo + "//manifests/latest",
		"/v2/Regedge/manifests/latest",
		"/v2/-regedge/manifests/latest",
		"/v2/" + repo + "/manifests/-latest",
		"/v2/" + repo + "/manifests/" + long,
		"/v2/" + strings.Repeat("a/", 129) + "manifests/latest",
		"/v2/" + repo + "/manifests/latest%00",
		"/v2/" + repo + "/manifests/lat%20est",
		"/v2/" + repo + "/manifests/caf%C3%A9",
		"/v2/" + repo + "/blobs/" + algorithm + ":" + upper,
		"/v2/" + repo + "/blobs/" + algorithm + ":" + short,
		"/v2/" + repo + "/blobs/sha384:" + hex,
		"/v2/" + repo + "/blobs/md5:0123456789abcdef0123456789abcdef",
		"/v2/" + repo + "/referrers/latest",
		"/v2/" + repo + "/manifests/latest/",
	}
}

// addresses returns the probe addresses of a plan: for every interval its
// first and last address, one inside and the addresses just outside, plus
// the IPv4-mapped form of each IPv4 interval's inside address. With sample
// > 0 it keeps that many, spread evenly, but always one per label.
func addresses(p *plan.Plan, sample int) []netip.Addr {
	seen := map[netip.Addr]bool{}
	var all []netip.Addr
	add := func(a netip.Addr) {
		if a.IsValid() && !seen[a] {
			seen[a] = true
			all = append(all, a)
		}
	}
	for _, table := range [][]plan.Interval{p.V4, p.V6} {
		for _, iv := range table {
			inside := Mid(iv.First, iv.Last)
			add(iv.First)
			add(iv.Last)
			add(inside)
			add(iv.First.Prev())
			add(iv.Last.Next())
			if inside.Is4() {
				add(netip.AddrFrom16(inside.As16()))
			}
		}
	}
	// Addresses no feed lists, in case the tables are empty.
	add(netip.MustParseAddr("192.0.2.1"))
	add(netip.MustParseAddr("2001:db8::1"))
	slices.SortFunc(all, func(a, b netip.Addr) int { return a.Compare(b) })
	if sample <= 0 || sample >= len(all) {
		return all
	}
	keep := perLabel(p, all)
	step := float64(len(all)) / float64(sample)
	for i := 0; len(keep) < sample && int(float64(i)*step) < len(all); i++ {
		a := all[int(float64(i)*step)]
		if !slices.Contains(keep, a) {
			keep = append(keep, a)
		}
	}
	slices.SortFunc(keep, func(a, b netip.Addr) int { return a.Compare(b) })
	return keep
}

// perLabel returns the first address of each label among addrs.
func perLabel(p *plan.Plan, addrs []netip.Addr) []netip.Addr {
	seen := map[int]bool{}
	var out []netip.Addr
	for _, a := range addrs {
		if l := p.Lookup(a); !seen[l] {
			seen[l] = true
			out = append(out, a)
		}
	}
	return out
}

// Mid returns an address halfway between first and last, which must be of
// one family.
func Mid(first, last netip.Addr) netip.Addr {
	a, b := first.As16(), last.As16()
	var sum [16]byte
	carry := 0
	for i := 15; i >= 0; i-- {
		s := int(a[i]) + int(b[i]) + carry
		sum[i], carry = byte(s), s>>8
	}
	// Halve the 129-bit sum.
	for i := range sum {
		low := int(sum[i]) & 1
		sum[i] = byte(int(sum[i])>>1 | carry<<7)
		carry = low
	}
	mid := netip.AddrFrom16(sum)
	if first.Is4() {
		return mid.Unmap()
	}
	return mid
}

// Probes lists every probe for a plan: the routed kinds from every probe
// address, the fixed kinds from one address per label. blob is a digest the
// mirrors hold.
func Probes(p *plan.Plan, blob string, sample int) []Probe {
	addrs := addresses(p, sample)
	if p.ClientIP.Header == "" {
		// The target sees verify's own address, the loopback one.
		addrs = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	}
	var out []Probe
	for _, a := range addrs {
		for _, k := range routedKinds(blob) {
			k.Client = a
			out = append(out, k)
		}
	}
	for _, a := range perLabel(p, addrs) {
		for _, k := range fixedKinds(blob) {
			k.Client = a
			out = append(out, k)
		}
	}
	return out
}

// header returns the header value that makes the target see the probe's
// client, formed as the trusted chain of proxies would: the client, then
// one loopback entry per trusted hop.
func header(p *plan.Plan, client netip.Addr) http.Header {
	if p.ClientIP.Header == "" {
		return nil
	}
	v := client.String() + strings.Repeat(", 127.0.0.1", p.ClientIP.TrustedHops)
	return http.Header{p.ClientIP.Header: {v}}
}
