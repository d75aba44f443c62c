// Package answer says what the policy answers to a request: the status and
// Location every target must send. It is the executable form of
// docs/request-handling.md, shared by the proxy, verify and explain.
package answer

import (
	"net/netip"
	"strings"

	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

// Response is the policy's answer to one request.
type Response struct {
	Status   int
	Location string
	// Site is the mirror site the answer redirects to, or "".
	Site string
	// Route is the policy route that decided, for rules 6 to 10.
	Route string
	// Headers are headers the answer must carry.
	Headers map[string]string
	// Body is the body of a 200 answer.
	Body string
}

// Exists reports whether a blob is at a site's URL. Any error counts as
// absent: the answer then falls back to the upstream.
type Exists func(site, url string) bool

// For returns the answer to r from a client with the given label. exists is
// asked only when the plan checks blobs before redirecting to a site.
func For(p *plan.Plan, r request.Request, label int, exists Exists) Response {
	switch r.Rule {
	case request.RuleMethod:
		return Response{Status: 405}
	case request.RuleInfo:
		return Response{Status: 307, Location: p.Registry.InfoURL}
	case request.RulePrivacy:
		return Response{Status: 307, Location: p.Registry.PrivacyURL}
	case request.RuleVersion:
		return Response{Status: 200, Body: "{}", Headers: map[string]string{
			request.APIVersionHeader: request.APIVersion,
			"Content-Type":           "application/json",
		}}
	case request.RuleHealth:
		return Response{Status: 200, Body: "ok\n", Headers: map[string]string{"Content-Type": "text/plain"}}
	case request.RuleUnsafePath, request.RuleNotFound:
		return Response{Status: 404}
	}
	a := p.Action(label, r.Kind)
	res := Response{Status: 307, Route: a.Route, Location: p.Upstream(a.Upstream).URL(r.Kind, r.Repo, r.Ref, r.Query)}
	if a.Site == "" {
		return res
	}
	url := p.Site(a.Site).BlobURL(r.Ref)
	if p.Check == nil || exists(a.Site, url) {
		res.Location, res.Site = url, a.Site
	}
	return res
}

// HeaderClient returns the client address a header's comma-separated list
// names: the entry hops entries from its right (repeated lines of the
// header joined with commas are one list). An entry that is missing or is
// not a plain IP address, once the blanks every target trims (spaces and
// tabs) are gone, gives the zero Addr: an unknown client.
func HeaderClient(list string, hops int) netip.Addr {
	entry, ok := fromRight(list, hops)
	if !ok {
		return netip.Addr{}
	}
	entry = strings.Trim(entry, " \t")
	if strings.ContainsAny(entry, " \t%") {
		return netip.Addr{}
	}
	addr, _ := netip.ParseAddr(entry)
	return addr
}

// fromRight returns the comma-separated entry of list that skip entries
// follow, without splitting the whole list.
func fromRight(list string, skip int) (string, bool) {
	end := len(list)
	for ; skip > 0; skip-- {
		i := strings.LastIndexByte(list[:end], ',')
		if i < 0 {
			return "", false
		}
		end = i
	}
	start := strings.LastIndexByte(list[:end], ',') + 1
	return list[start:end], true
}
