package cli

import (
	"flag"
	"io"
	"io/fs"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/regedge/regedge/compiler/config"
	"github.com/regedge/regedge/compiler/diag"
	"github.com/regedge/regedge/compiler/pipeline"
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
// It prints every diagnostic to stderr and returns nil plans on errors.
func (p *policyFlags) plans(stderr io.Writer) ([]*plan.Plan, hcl.Diagnostics) {
	path := p.policy
	if path == "" {
		path = embeddedPrefix + policy.Default
	}
	loader := config.NewLoader(reader{})
	plans, diags := pipeline.Plans(loader, path, p.override)
	diag.Write(stderr, loader.Files(), diags)
	return plans, diags
}
