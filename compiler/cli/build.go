package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path"

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
	force := fs.Bool("force", false, "replace DIR even if it is not empty and regedge build did not write it")
	if fs.Parse(args) != nil || fs.NArg() != 0 {
		return 2
	}
	plans, diags, inputs := pf.load(stderr)
	if plans == nil {
		return 1
	}
	var files []render.File
	for _, p := range plans {
		rendered, err := render.All(p)
		if err != nil {
			fmt.Fprintf(stderr, "regedge: rendering: %v\n", err)
			return 1
		}
		for _, f := range rendered {
			// Each named deployment gets its own folder.
			f.Path = path.Join(p.Deployment, f.Path)
			files = append(files, f)
		}
	}
	files = append(files, render.File{Path: "REPORT.md", Data: report.Write(plans, files, diags)})
	if err := outdir.Replace(*out, files, outdir.Options{Force: *force, Inputs: inputs}); err != nil {
		fmt.Fprintf(stderr, "regedge: %v\n", err)
		var refused *outdir.RefusedError
		if errors.As(err, &refused) {
			hint := "Name another folder with -out (-force does not change this)."
			if refused.Forcible {
				hint = "A build deletes everything in its output folder: name another folder with -out, or add -force to replace this one."
			}
			fmt.Fprintf(stderr, "regedge: %s\n", hint)
		}
		return 1
	}
	return 0
}
