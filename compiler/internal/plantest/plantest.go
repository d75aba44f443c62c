// Package plantest helps tests build small plans by hand.
package plantest

import (
	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

// Actions returns one action per request kind in request.Kinds order, each
// to upstream by a route named "<route>-<kind>", with blobs going to site
// when it is not "".
func Actions(route, upstream, site string) []plan.Action {
	var as []plan.Action
	for _, k := range request.Kinds {
		a := plan.Action{Kind: k, Route: route + "-" + string(k), Upstream: upstream}
		if k == request.KindBlob {
			a.Site = site
		}
		as = append(as, a)
	}
	return as
}
