package cli

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/regedge/regedge/compiler/internal/diag"
	"github.com/regedge/regedge/compiler/internal/outdir"
	"github.com/regedge/regedge/compiler/internal/render"
	"github.com/regedge/regedge/compiler/internal/report"
)

func runBuild(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("build", stderr)
	var pf policyFlags
	pf.register(fs)
	out := fs.String("out", "out", "output `DIR`, replaced as a whole")
	force := fs.Bool("force", false, "replace DIR even if it is not empty and regedge build did not write it")
	if status, ok := parseFlags(fs, args, 0, stdout); !ok {
		return status
	}
	r, ok := pf.render()
	diag.Write(stderr, r.sources, r.diags)
	if !ok {
		return 1
	}
	files := append(r.files, render.File{Path: "REPORT.md", Data: report.Write(r.plans, r.files, r.diags)})
	// Every file read, embedded ones included, by name: a folder holding
	// a copy of the embedded policy is as much the build's source.
	var names []string
	for name := range r.sources {
		names = append(names, filepath.Base(name))
	}
	// nginx's runtime state outlives every build.
	var keep []string
	for _, p := range r.plans {
		keep = append(keep, p.Nginx.StateDir)
	}
	if err := outdir.Replace(*out, files, outdir.Options{Force: *force, Inputs: r.inputs, InputNames: names, Keep: keep}); err != nil {
		fmt.Fprintf(stderr, "regedge: %s\n", diag.Printable(err.Error()))
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
	fmt.Fprintf(stdout, "regedge build: wrote %s from %s\n", diag.Printable(*out), r.summary(pf.path()))
	return 0
}
