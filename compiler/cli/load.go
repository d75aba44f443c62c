package cli

import (
	"flag"
	"io"
	"io/fs"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/regedge/regedge/compiler/config"
	"github.com/regedge/regedge/compiler/diag"
	"github.com/regedge/regedge/compiler/feeds"
	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/policy"
)

// embeddedPrefix names files inside the binary's copy of policy/.
const embeddedPrefix = "embedded:policy/"

// reader reads the embedded default policy and its feeds, and everything
// else from disk.
type reader struct{}

func (reader) ReadFile(name string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(name, embeddedPrefix); ok {
		return fs.ReadFile(policy.FS, rest)
	}
	return config.Disk{}.ReadFile(name)
}

// policyFlags are the flags every command that reads a policy takes.
type policyFlags struct {
	policy, override string
}

func (p *policyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.policy, "policy", "", "policy `FILE` (default: the embedded "+policy.Default+")")
	fs.StringVar(&p.override, "override", "", "`FILE` whose blocks replace attributes of the policy's blocks")
}

// plans loads the policy and its feeds and builds one plan per deployment.
// It prints every diagnostic to stderr and returns nil on errors.
func (p *policyFlags) plans(stderr io.Writer) []*plan.Plan {
	path := p.policy
	if path == "" {
		path = embeddedPrefix + policy.Default
	}
	loader := config.NewLoader(reader{})
	policies, diags := loader.Load(path, p.override)
	var plans []*plan.Plan
	if !diags.HasErrors() {
		var d hcl.Diagnostics
		plans, d = buildPlans(loader, policies)
		diags = append(diags, d...)
	}
	diag.Write(stderr, loader.Files(), diags)
	if diags.HasErrors() {
		return nil
	}
	return plans
}

func buildPlans(loader *config.Loader, policies []*config.Policy) ([]*plan.Plan, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	parsed := map[string]*feeds.Snapshot{}
	var plans []*plan.Plan
	for _, pol := range policies {
		snaps := make([]*feeds.Snapshot, len(pol.Feeds))
		for i, f := range pol.Feeds {
			key := f.Format + "\x00" + f.File
			if s, ok := parsed[key]; ok {
				snaps[i] = s
				continue
			}
			src, err := loader.Reader.ReadFile(f.File)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Cannot read feed",
					Detail:   err.Error() + "; check the feed's file attribute.",
					Subject:  f.DefRange.Ptr(),
				})
				continue
			}
			loader.AddSource(f.File, src)
			s, d := feeds.Parse(f.Format, f.File, src)
			diags = append(diags, d...)
			parsed[key], snaps[i] = s, s
		}
		if diags.HasErrors() {
			continue
		}
		pl, d := plan.Build(pol, snaps)
		diags = diag.AppendNew(diags, d...)
		if pl != nil {
			plans = append(plans, pl)
		}
	}
	return plans, diags
}
