package cli

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/regedge/regedge/compiler/internal/compile"
	"github.com/regedge/regedge/compiler/internal/config"
	"github.com/regedge/regedge/compiler/internal/diag"
	"github.com/regedge/regedge/compiler/internal/render"
	"github.com/regedge/regedge/compiler/internal/target"
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

// path is the policy's file name: -policy, else the embedded default.
func (p *policyFlags) path() string {
	if p.policy == "" {
		return embeddedPrefix + policy.Default
	}
	return p.policy
}

// plans loads the policy and its feeds and builds one plan per deployment.
// It prints every diagnostic to stderr and returns nil plans on errors.
func (p *policyFlags) plans(stderr io.Writer) ([]*plan.Plan, hcl.Diagnostics) {
	plans, diags, _ := p.load(stderr)
	return plans, diags
}

// load is plans that also returns the files it read from disk: the
// policy, the override and the feeds, sorted.
func (p *policyFlags) load(stderr io.Writer) ([]*plan.Plan, hcl.Diagnostics, []string) {
	loader := config.NewLoader(reader{})
	plans, diags := compile.Plans(loader, p.path(), p.override)
	diag.Write(stderr, loader.Files(), diags)
	var read []string
	for name := range loader.Files() {
		if !strings.HasPrefix(name, embeddedPrefix) {
			read = append(read, name)
		}
	}
	slices.Sort(read)
	return plans, diags, read
}

// rendered is a policy built as build builds it: its plans, every
// target's files, the diagnostics, and the files read from disk.
type rendered struct {
	plans  []*plan.Plan
	files  []render.File
	diags  hcl.Diagnostics
	inputs []string
}

// render loads the policy, builds its plans and renders every target of
// each in memory, a named deployment's files under its name. It prints
// every diagnostic and any rendering error, and returns nil on errors.
// build writes the files; check only needs to know it could.
func (p *policyFlags) render(stderr io.Writer) *rendered {
	plans, diags, inputs := p.load(stderr)
	if plans == nil {
		return nil
	}
	r := &rendered{plans: plans, diags: diags, inputs: inputs}
	for _, pl := range plans {
		files, err := target.Render(pl)
		if err != nil {
			fmt.Fprintf(stderr, "regedge: rendering: %v\n", err)
			return nil
		}
		for _, f := range files {
			// Each named deployment gets its own folder.
			f.Path = path.Join(pl.Deployment, f.Path)
			r.files = append(r.files, f)
		}
	}
	return r
}

// chooseDeployment returns the policy's plan of the named deployment. A
// policy with deployments needs a name; one without takes none.
func chooseDeployment(plans []*plan.Plan, name, path string) (*plan.Plan, error) {
	var names []string
	for _, p := range plans {
		if p.Deployment == name {
			return p, nil
		}
		names = append(names, p.Deployment)
	}
	if name == "" {
		return nil, usageError{fmt.Sprintf("%s has deployments %s; choose one with -deployment", path, strings.Join(names, ", "))}
	}
	return nil, usageError{fmt.Sprintf("%s has no deployment %q", path, name)}
}

// plan loads the policy and returns one deployment's plan, or nil and the
// exit status after printing why.
func (p *policyFlags) plan(stderr io.Writer, deployment string) (*plan.Plan, int) {
	plans, _ := p.plans(stderr)
	if plans == nil {
		return nil, 1
	}
	pl, err := chooseDeployment(plans, deployment, p.path())
	if err != nil {
		fmt.Fprintf(stderr, "regedge: %v\n", err)
		return nil, 2
	}
	return pl, 0
}
