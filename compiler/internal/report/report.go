// Package report writes out/REPORT.md: for each deployment, what each site
// serves, how large each target's artifacts are, and every warning the
// build gave. Reviewers read it in the pull request beside the diff.
package report

import (
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/regedge/regedge/compiler/internal/diag"
	"github.com/regedge/regedge/compiler/internal/render"
	"github.com/regedge/regedge/compiler/plan"
)

// Write returns the report for the plans, the files rendered from them
// (paths relative to the output folder) and the build's diagnostics.
func Write(plans []*plan.Plan, files []render.File, diags hcl.Diagnostics) []byte {
	var b strings.Builder
	b.WriteString("# regedge build report\n\n")
	if len(plans) > 0 {
		// The report covers every deployment: name none.
		whole := *plans[0]
		whole.Deployment = ""
		b.WriteString(strings.Join(render.Provenance(&whole), "\n") + "\n")
	}
	for _, p := range plans {
		title := "the policy"
		if p.Deployment != "" {
			title = "deployment " + p.Deployment
		}
		fmt.Fprintf(&b, "\n## Sites of %s\n\n", title)
		writeSites(&b, p)
		fmt.Fprintf(&b, "\n## Artifacts of %s\n\n", title)
		writeArtifacts(&b, p, files)
		writeChecks(&b, p)
	}
	b.WriteString("\n## Warnings\n\n")
	writeWarnings(&b, diags)
	return []byte(b.String())
}

// writeSites lists, for each blob destination, the client classes sent
// there and how many addresses that is.
func writeSites(b *strings.Builder, p *plan.Plan) {
	b.WriteString("| Blobs go to | Client regions | IPv4 addresses | IPv6 /64s |\n|---|---|---|---|\n")
	for i, l := range p.Labels {
		blob := l.Actions[0]
		dest := "upstream " + blob.Upstream
		if blob.Site != "" {
			dest = "site " + blob.Site + ", else upstream " + blob.Upstream
		}
		classes := strings.Join(l.Classes, ", ")
		v4, v6 := addressCount(p.V4, i, 0), addressCount(p.V6, i, 64)
		if i == p.Default {
			// The tables leave out the default label's addresses.
			classes += ", and every address no feed lists"
			v4, v6 = "the rest", "the rest"
		}
		// Classes are feed regions, which feeds checks; this keeps even
		// a plan built elsewhere from writing control characters.
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", dest, diag.Printable(classes), v4, v6)
	}
}

// addressCount returns how many addresses the intervals with a label hold, in
// blocks of 2^shift addresses.
func addressCount(table []plan.Interval, label int, shift uint) string {
	total := new(big.Int)
	for _, iv := range table {
		if iv.Label != label {
			continue
		}
		total.Add(total, Addresses(iv.First, iv.Last))
	}
	return Commas(total.Rsh(total, shift))
}

// writeArtifacts lists each generated file of the plan's folder with its
// size and table entries.
func writeArtifacts(b *strings.Builder, p *plan.Plan, files []render.File) {
	b.WriteString("| File | Bytes | Table entries |\n|---|---|---|\n")
	for _, f := range files {
		if !inDeployment(f.Path, p.Deployment) {
			continue
		}
		entries := "-"
		if f.Entries > 0 {
			entries = Commas(big.NewInt(int64(f.Entries)))
		}
		fmt.Fprintf(b, "| `%s` | %s | %s |\n", f.Path, Commas(big.NewInt(int64(len(f.Data)))), entries)
	}
}

func inDeployment(file, deployment string) bool {
	if deployment == "" {
		return true
	}
	return strings.HasPrefix(file, deployment+"/")
}

// writeChecks states, for each edge target, whether it checks blobs.
func writeChecks(b *strings.Builder, p *plan.Plan) {
	if p.Check == nil {
		b.WriteString("\nNo target checks whether a site holds a blob: the policy has no check block.\n")
		return
	}
	var off []string
	for _, e := range p.Edges {
		if !e.Check {
			off = append(off, e.Name)
		}
	}
	slices.Sort(off)
	if len(off) > 0 {
		fmt.Fprintf(b, "\nNot checking whether a site holds a blob before redirecting to it: %s. "+
			"Clients of these targets are sent to their site even when it lacks the blob.\n", strings.Join(off, ", "))
	}
}

func writeWarnings(b *strings.Builder, diags hcl.Diagnostics) {
	diag.Sort(diags)
	n := 0
	for _, d := range diags {
		if d.Severity != hcl.DiagWarning {
			continue
		}
		n++
		where := ""
		if d.Subject != nil {
			where = fmt.Sprintf(" (%s:%d:%d)", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		// A file name or a feed's text could hold control characters.
		fmt.Fprintf(b, "- **%s**%s: %s\n", diag.Printable(d.Summary), diag.Printable(where), diag.Printable(d.Detail))
	}
	if n == 0 {
		b.WriteString("None.\n")
	}
}
