package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/regedge/regedge/compiler/internal/config"
	"github.com/regedge/regedge/compiler/internal/diag"
	"github.com/regedge/regedge/compiler/internal/plandiff"
	"github.com/regedge/regedge/compiler/plan"
)

// runDiff prints, as Markdown or JSON, what changes for clients from one
// plan to another. With -exit-code its status says whether routing
// changed, as terraform plan -detailed-exitcode does: 0 no change, 2
// changes, 1 any error, a usage error included.
func runDiff(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("diff", stderr)
	oldPath := fs.String("old", "", "`PATH` before: a plan.json, a folder build wrote, or a policy .hcl file")
	newPath := fs.String("new", "", "`PATH` after, as for -old")
	deployment := fs.String("deployment", "", "deployment `NAME`, for policies and folders with deployments")
	asJSON := fs.Bool("json", false, "print the changes as one JSON object")
	exitCode := fs.Bool("exit-code", false, "exit 0 when routing does not change, 2 when it does, 1 on errors")
	failed := func(status int) int {
		if status != 0 && wantsExitCode(args) {
			return 1
		}
		return status
	}
	if status, ok := parseFlags(fs, args, 0, stdout); !ok {
		return failed(status)
	}
	if *oldPath == "" || *newPath == "" {
		fmt.Fprintln(stderr, "regedge diff: name both plans with -old and -new")
		return failed(2)
	}
	before, status := loadPlan(*oldPath, *deployment, stderr)
	if before == nil {
		return failed(status)
	}
	after, status := loadPlan(*newPath, *deployment, stderr)
	if after == nil {
		return failed(status)
	}
	d, err := plandiff.Compare(before, after)
	if err != nil {
		fmt.Fprintf(stderr, "regedge: %s\n", diag.Printable(err.Error()))
		return 1
	}
	if *asJSON {
		out, _ := json.MarshalIndent(d.Report(), "", "  ")
		fmt.Fprintf(stdout, "%s\n", out)
	} else {
		io.WriteString(stdout, d.Markdown())
	}
	if *exitCode && d.RoutingChanged() {
		return 2
	}
	return 0
}

// wantsExitCode reports whether the arguments ask for -exit-code, for a
// usage error found before the flags could be read.
func wantsExitCode(args []string) bool {
	for _, a := range args {
		switch strings.TrimLeft(a, "-") {
		case "exit-code", "exit-code=true", "exit-code=1":
			return true
		}
	}
	return false
}

// usageError is a problem with the command line rather than the files.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// loadPlan returns the plan at path, or nil and the exit status after
// printing why. A path ending in .hcl (or naming the embedded policy) is a
// policy, built as build would; a folder holds plan.json, or one folder per
// deployment; anything else is a plan.json.
func loadPlan(path, deployment string, stderr io.Writer) (*plan.Plan, int) {
	if strings.HasSuffix(path, ".hcl") || strings.HasPrefix(path, embeddedPrefix) {
		pf := policyFlags{policy: path}
		return pf.plan(stderr, deployment)
	}
	p, err := readPlan(path, deployment)
	if err != nil {
		fmt.Fprintf(stderr, "regedge: %s\n", diag.Printable(err.Error()))
		if errors.As(err, new(usageError)) {
			return nil, 2
		}
		return nil, 1
	}
	return p, 0
}

// maxPlanBytes bounds a plan.json diff reads: the shipped policy's is
// about 0.6 MB, and the policy's own limits keep any plan far below this.
const maxPlanBytes = 256 << 20

// readPlan reads a plan.json, or the one in a folder build wrote: the
// deployment's folder in it, if one is named.
func readPlan(path, deployment string) (*plan.Plan, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		dir := path
		path = filepath.Join(dir, deployment, "plan.json")
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, folderError(dir, deployment)
		}
	}
	data, err := config.Disk{}.ReadFile(path, maxPlanBytes)
	if err != nil {
		return nil, err
	}
	if len(data) > maxPlanBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB, which no plan regedge writes is", path, maxPlanBytes>>20)
	}
	p, err := decodePlan(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if deployment != "" && p.Deployment != deployment {
		return nil, usageError{fmt.Sprintf("%s is not the plan of deployment %q", path, deployment)}
	}
	return p, nil
}

// folderError explains a folder without the plan.json asked for, naming the
// deployments it does hold.
func folderError(dir, deployment string) error {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "plan.json")); err == nil && e.IsDir() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	switch {
	case len(names) == 0 && deployment != "":
		return usageError{fmt.Sprintf("%s has no deployment %q", dir, deployment)}
	case len(names) == 0:
		return fmt.Errorf("%s holds no plan.json; is it a folder regedge build wrote?", dir)
	case deployment == "":
		return usageError{fmt.Sprintf("%s has deployments %s; choose one with -deployment", dir, strings.Join(names, ", "))}
	}
	return usageError{fmt.Sprintf("%s has no deployment %q; it has %s", dir, deployment, strings.Join(names, ", "))}
}

func decodePlan(data []byte) (*plan.Plan, error) {
	var p plan.Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, err
	}
	return &p, nil
}
