package cli

import (
	"fmt"
	"io"

	"github.com/hashicorp/hcl/v2"
	"github.com/regedge/regedge/compiler/internal/diag"
)

// runCheck runs everything build runs, rendering every target in memory,
// and writes nothing.
func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check", stderr)
	var pf policyFlags
	pf.register(fs)
	strict := fs.Bool("strict", false, "fail on warnings too")
	asJSON := fs.Bool("json", false, "print the diagnostics as one JSON object, as terraform validate -json does")
	if status, ok := parseFlags(fs, args, 0, stdout); !ok {
		return status
	}
	r, ok := pf.render()
	failed := !ok || *strict && countWarnings(r.diags) > 0
	if *asJSON {
		report := diag.JSON(r.sources, r.diags)
		report.Valid = !failed
		stdout.Write(report.MarshalIndent())
	} else {
		diag.Write(stderr, r.sources, r.diags)
	}
	if failed {
		return 1
	}
	if !*asJSON {
		fmt.Fprintf(stdout, "regedge check: valid: %s\n", r.summary(pf.path()))
	}
	return 0
}

func countWarnings(diags hcl.Diagnostics) int {
	n := 0
	for _, d := range diags {
		if d.Severity == hcl.DiagWarning {
			n++
		}
	}
	return n
}
