// Package pipeline runs the compiler's front half: it loads a policy, parses
// the feeds it names and builds one plan per deployment. The build command,
// explain and the tests all start here.
package compile

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/hashicorp/hcl/v2"

	"github.com/regedge/regedge/compiler/internal/config"
	"github.com/regedge/regedge/compiler/internal/diag"
	"github.com/regedge/regedge/compiler/internal/feeds"
	"github.com/regedge/regedge/compiler/plan"
)

// Plans loads the policy at policyPath (and overridePath, if not empty)
// through loader and builds its plans. It returns nil plans when there are
// errors; the diagnostics hold every problem found, warnings included.
func Plans(loader *config.Loader, policyPath, overridePath string) ([]*plan.Plan, hcl.Diagnostics) {
	policies, diags := loader.Load(policyPath, overridePath)
	if diags.HasErrors() {
		return nil, diags
	}
	parsed := map[string]*feeds.Snapshot{}
	var plans []*plan.Plan
	for _, pol := range policies {
		snaps := make([]*feeds.Snapshot, len(pol.Feeds))
		for i, f := range pol.Feeds {
			src, d := loader.ReadFeed(f)
			if d.HasErrors() {
				diags = diag.AppendNew(diags, d...)
				continue
			}
			// Deployments share feed files: parse each once.
			key := f.Format + "\x00" + f.File
			if s, ok := parsed[key]; ok {
				snaps[i] = s
				continue
			}
			s, d := feeds.Parse(f.Format, f.File, src)
			diags = append(diags, d...)
			parsed[key], snaps[i] = s, s
		}
		if diags.HasErrors() {
			continue
		}
		p, d := build(pol, snaps)
		diags = diag.AppendNew(diags, d...)
		if p != nil {
			plans = append(plans, p)
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	sum := policyHash(loader, policyPath, overridePath)
	for _, p := range plans {
		p.PolicySHA256 = sum
	}
	return plans, diags
}

// policyHash is the SHA-256 of the policy file and the override, as read.
func policyHash(loader *config.Loader, paths ...string) string {
	h := sha256.New()
	for _, path := range paths {
		if f := loader.Files()[path]; f != nil {
			h.Write(f.Bytes)
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
