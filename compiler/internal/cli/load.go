package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/regedge/regedge/compiler/internal/compile"
	"github.com/regedge/regedge/compiler/internal/config"
	"github.com/regedge/regedge/compiler/internal/diag"
	"github.com/regedge/regedge/compiler/internal/render"
	"github.com/regedge/regedge/compiler/internal/report"
	"github.com/regedge/regedge/compiler/internal/target"
	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/policy"
)

// embeddedPrefix names files inside the binary's copy of policy/.
const embeddedPrefix = "embedded:policy/"

// reader reads the embedded default policy and its feeds, and everything
// else from disk.
type reader struct{}

func (reader) ReadFile(name string, limit int) ([]byte, error) {
	rest, ok := strings.CutPrefix(name, embeddedPrefix)
	if !ok {
		return config.Disk{}.ReadFile(name, limit)
	}
	f, err := policy.FS.Open(rest)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return config.ReadLimited(f, limit)
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
	r := p.load()
	diag.Write(stderr, r.sources, r.diags)
	return r.plans, r.diags
}

// rendered is a policy built as build builds it: its plans, every
// target's files, the diagnostics, the files read from disk, and the
// sources diagnostics quote.
type rendered struct {
	plans   []*plan.Plan
	files   []render.File
	diags   hcl.Diagnostics
	inputs  []string
	sources map[string]*hcl.File
}

// load loads the policy and its feeds and builds one plan per deployment,
// printing nothing; its plans are nil on errors.
func (p *policyFlags) load() *rendered {
	loader := config.NewLoader(reader{})
	plans, diags := compile.Plans(loader, p.path(), p.override)
	r := &rendered{plans: plans, diags: diags, sources: loader.Files()}
	for name := range r.sources {
		if !strings.HasPrefix(name, embeddedPrefix) {
			r.inputs = append(r.inputs, name)
		}
	}
	slices.Sort(r.inputs)
	return r
}

// render loads the policy, builds its plans and renders every target of
// each in memory, a named deployment's files under its name. A target
// that cannot be rendered is an error among the diagnostics. It reports
// whether there were no errors. build writes the files; check only needs
// to know it could.
func (p *policyFlags) render() (*rendered, bool) {
	r := p.load()
	if r.plans == nil {
		return r, false
	}
	for _, pl := range r.plans {
		files, err := target.Render(pl)
		if err != nil {
			summary, detail := "Cannot render a target", err.Error()
			if re, ok := errors.AsType[*target.RenderError](err); ok {
				summary, detail = "Cannot render the "+re.Target+" target", re.Err.Error()
			}
			// The renderer's error reads as a sentence once capitalised.
			r.diags = append(r.diags, diag.Errorf(summary, strings.ToUpper(detail[:1])+detail[1:]+"."))
			return r, false
		}
		for _, f := range files {
			// Each named deployment gets its own folder.
			f.Path = path.Join(pl.Deployment, f.Path)
			r.files = append(r.files, f)
		}
	}
	return r, true
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
		fmt.Fprintf(stderr, "regedge: %s\n", diag.Printable(err.Error()))
		return nil, 2
	}
	return pl, 0
}

// summary is the one line check and build print on success, as nginx -t
// does: the policy, its feeds with their prefix counts, the labels, and
// what was rendered.
func (r *rendered) summary(policyPath string) string {
	var feeds []string
	for _, f := range r.plans[0].Feeds {
		feeds = append(feeds, fmt.Sprintf("%s (%s)", f.Name, report.Plural(f.Prefixes, "prefix", "prefixes")))
	}
	labels := report.Plural(len(r.plans[0].Labels), "label", "labels")
	if len(r.plans) > 1 {
		var deps []string
		for _, p := range r.plans {
			deps = append(deps, fmt.Sprintf("%s (%s)", p.Deployment, report.Plural(len(p.Labels), "label", "labels")))
		}
		labels = "deployments " + strings.Join(deps, ", ")
	}
	s := fmt.Sprintf("policy %s: feeds %s; %s; %s for %s", diag.Printable(strings.TrimPrefix(policyPath, embeddedPrefix)),
		strings.Join(feeds, ", "), labels, report.Plural(len(r.files), "file", "files"), report.Plural(renderedTargets(), "target", "targets"))
	if n := countWarnings(r.diags); n > 0 {
		s += "; " + report.Plural(n, "warning", "warnings")
	}
	return s
}

// renderedTargets counts the targets that write files.
func renderedTargets() int {
	n := 0
	for _, t := range target.All {
		if t.Render != nil {
			n++
		}
	}
	return n
}
