package cli

import (
	"flag"
	"io"

	"github.com/hashicorp/hcl/v2"
)

// runCheck runs everything build runs, rendering every target in memory,
// and writes nothing.
func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var pf policyFlags
	pf.register(fs)
	strict := fs.Bool("strict", false, "fail on warnings too")
	if fs.Parse(args) != nil || fs.NArg() != 0 {
		return 2
	}
	r := pf.render(stderr)
	if r == nil {
		return 1
	}
	if *strict && hasWarnings(r.diags) {
		return 1
	}
	return 0
}

func hasWarnings(diags hcl.Diagnostics) bool {
	for _, d := range diags {
		if d.Severity == hcl.DiagWarning {
			return true
		}
	}
	return false
}
