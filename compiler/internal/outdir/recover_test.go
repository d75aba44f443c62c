package outdir

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"

	"github.com/regedge/regedge/compiler/internal/render"
)

// TestMain doubles as the helper process of TestKilledReplace: with
// OUTDIR_KILL_AT set, it runs one Replace and kills itself at that step.
func TestMain(m *testing.M) {
	if step := os.Getenv("OUTDIR_KILL_AT"); step != "" {
		os.Exit(killedReplace(step))
	}
	os.Exit(m.Run())
}

// killedReplace replaces OUTDIR_DIR with newFiles and sends itself
// SIGKILL at step. It returns only if the step never came.
func killedReplace(step string) int {
	testHook = func(s string) {
		if s == step {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
	if os.Getenv("OUTDIR_NO_EXCHANGE") != "" {
		exchange = func(a, b string) error { return errNoExchange }
	}
	if err := Replace(os.Getenv("OUTDIR_DIR"), newFiles, Options{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	fmt.Fprintf(os.Stderr, "step %q never came\n", step)
	return 3
}

// killAt runs a Replace of dir with newFiles in a helper process killed
// at step, and fails unless it was.
func killAt(t *testing.T, dir, step string, noExchange bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "OUTDIR_KILL_AT="+step, "OUTDIR_DIR="+dir)
	if noExchange {
		cmd.Env = append(cmd.Env, "OUTDIR_NO_EXCHANGE=1")
	}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("helper at step %q: %v\n%s", step, err, out)
	}
}

var (
	oldFiles    = []render.File{{Path: "plan.json", Data: []byte("old")}, {Path: "varnish/regedge.vcl", Data: []byte("vcl")}, {Path: "REPORT.md", Data: []byte("r")}}
	oldSnapshot = []string{"./", marked, "REPORT.md=r", "plan.json=old", "varnish/", "varnish/regedge.vcl=vcl"}
	// badFiles cannot be written: "a" is a file and a folder.
	badFiles   = []render.File{{Path: "a", Data: nil}, {Path: "a/b", Data: nil}}
	lastFiles  = []render.File{{Path: "plan.json", Data: []byte("last")}}
	lastOutput = []string{"./", marked, "plan.json=last"}
)

// TestKilledReplace kills a Replace at each step where a kill leaves
// something behind, with and without an old output and with the exchange
// and the two renames. The output folder must then hold the old output
// or the new one (or be missing only between the two renames), a failed
// Replace must put the old output back and clean up, and the next
// Replace must succeed leaving nothing beside the output.
func TestKilledReplace(t *testing.T) {
	for _, tc := range []struct {
		noExchange bool
		firstBuild bool
		step       string
		want       []string // the output right after the kill; nil: missing
		recovered  []string // after the next (failed) Replace
	}{
		{step: "created", want: oldSnapshot},
		{step: "marked", want: oldSnapshot},
		{step: "writing", want: oldSnapshot},
		{step: "written", want: oldSnapshot},
		{step: "swapped", want: newSnapshot},
		{step: "removing", want: newSnapshot},
		{noExchange: true, step: "written", want: oldSnapshot},
		{noExchange: true, step: "moved aside", want: nil, recovered: oldSnapshot},
		{noExchange: true, step: "swapped", want: newSnapshot},
		{noExchange: true, step: "renamed old", want: newSnapshot},
		{noExchange: true, step: "removing", want: newSnapshot},
		{firstBuild: true, step: "marked", want: nil},
		{firstBuild: true, step: "written", want: nil},
		{firstBuild: true, step: "swapped", want: newSnapshot},
	} {
		name := tc.step
		if tc.noExchange {
			name = "renames/" + name
		}
		if tc.firstBuild {
			name = "first/" + name
		}
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "out")
			writeTree(t, parent, "keep=k")
			if !tc.firstBuild {
				if err := Replace(dir, oldFiles, Options{}); err != nil {
					t.Fatal(err)
				}
			}
			killAt(t, dir, tc.step, tc.noExchange)
			checkOutput(t, dir, tc.want, "right after the kill")

			// A Replace that fails still recovers and cleans up.
			if err := Replace(dir, badFiles, Options{}); err == nil {
				t.Fatal("a Replace of a file that is also a folder succeeded")
			}
			recovered := tc.want
			if tc.recovered != nil {
				recovered = tc.recovered
			}
			checkOutput(t, dir, recovered, "after the next, failed, Replace")
			wantNames := []string{"keep"}
			if recovered != nil {
				wantNames = []string{"keep", "out"}
			}
			if got := names(t, parent); !slices.Equal(got, wantNames) {
				t.Errorf("beside the output: %q, want %q", got, wantNames)
			}

			if err := Replace(dir, lastFiles, Options{}); err != nil {
				t.Fatal(err)
			}
			checkOutput(t, dir, lastOutput, "after the next Replace")
		})
	}
}

// TestKilledRecovery kills the recovery itself, between putting the old
// output back and deleting the new one.
func TestKilledRecovery(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	if err := Replace(dir, oldFiles, Options{}); err != nil {
		t.Fatal(err)
	}
	killAt(t, dir, "moved aside", true)
	killAt(t, dir, "restored", true)
	checkOutput(t, dir, oldSnapshot, "after a kill in recovery")
	if err := Replace(dir, lastFiles, Options{}); err != nil {
		t.Fatal(err)
	}
	checkOutput(t, dir, lastOutput, "after the next Replace")
	if got := names(t, parent); !slices.Equal(got, []string{"out"}) {
		t.Errorf("beside the output: %q, want only [out]", got)
	}
}

func checkOutput(t *testing.T, dir string, want []string, when string) {
	t.Helper()
	if want == nil {
		if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s the output exists (%v), want it missing", when, err)
		}
		return
	}
	if got := snapshot(t, dir); !slices.Equal(got, want) {
		t.Errorf("%s the output is:\n%q\nwant:\n%q", when, got, want)
	}
}

// TestLeftoversCleaned: only folders named as Replace names its own and
// carrying the marker (or empty) are deleted.
func TestLeftoversCleaned(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	writeTree(t, parent,
		"out/"+Marker+"=",
		".out.new-123/"+Marker+"=", ".out.new-123/plan.json=partial",
		".out.new-45.old/"+Marker+"=", ".out.new-45.old/x/y=z",
		".out.new-6/",
		".out.new-7/mine=not marked",
		".out.new-8=a file",
		".out.new-x/"+Marker+"=",
		".other.new-9/"+Marker+"=",
	)
	if err := Replace(dir, newFiles, Options{}); err != nil {
		t.Fatal(err)
	}
	want := []string{".other.new-9", ".out.new-7", ".out.new-8", ".out.new-x", "out"}
	if got := names(t, parent); !slices.Equal(got, want) {
		t.Errorf("beside the output: %q, want %q", got, want)
	}
	if got := snapshot(t, filepath.Join(parent, ".out.new-7")); !slices.Equal(got, []string{"./", "mine=not marked"}) {
		t.Errorf("an unmarked leftover holds %q, want it untouched", got)
	}
	checkOutput(t, dir, newSnapshot, "after the Replace")
}

// TestRestoresUnmarkedMovedAside: an output forced over a folder build
// did not write, killed between the renames, gets that folder back, and
// the next Replace refuses it again.
func TestRestoresUnmarkedMovedAside(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	writeTree(t, parent, ".out.new-5.old/notes=mine", ".out.new-5/"+Marker+"=", ".out.new-5/plan.json=new")
	refused(t, Replace(dir, newFiles, Options{}), true)
	checkOutput(t, dir, []string{"./", "notes=mine"}, "after the refusal")
	if got := names(t, parent); !slices.Equal(got, []string{"out"}) {
		t.Errorf("beside the output: %q, want only [out]", got)
	}
}

// TestConcurrentReplaces: builds into one folder take turns, and none
// deletes another's new folder.
func TestConcurrentReplaces(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = Replace(dir, newFiles, Options{}) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	checkOutput(t, dir, newSnapshot, "after the Replaces")
	if got := names(t, parent); !slices.Equal(got, []string{"out"}) {
		t.Errorf("beside the output: %q, want only [out]", got)
	}
}
