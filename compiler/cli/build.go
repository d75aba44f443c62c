package cli

import (
	"flag"
	"fmt"
	"io"

	"github.com/regedge/regedge/compiler/outdir"
	"github.com/regedge/regedge/compiler/render"
	"github.com/regedge/regedge/compiler/report"
)

func runBuild(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var pf policyFlags
	pf.register(fs)
	out := fs.String("out", "out", "output `DIR`, replaced as a whole")
	if fs.Parse(args) != nil || fs.NArg() != 0 {
		return 2
	}
	plans, files, diags := pf.render(stderr)
	if files == nil {
		return 1
	}
	files = append(files, render.File{Path: "REPORT.md", Data: report.Write(plans, files, diags)})
	if err := outdir.Replace(*out, files); err != nil {
		fmt.Fprintf(stderr, "regedge: writing %s: %v\n", *out, err)
		return 1
	}
	return 0
}
