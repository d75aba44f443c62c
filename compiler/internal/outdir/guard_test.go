package outdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/regedge/regedge/compiler/internal/render"
)

var newFiles = []render.File{{Path: "plan.json", Data: []byte("new")}, {Path: "nginx/nginx.conf", Data: []byte("conf")}}

var newSnapshot = []string{"./", marked, "nginx/", "nginx/nginx.conf=conf", "plan.json=new"}

// writeTree creates files (path=contents; a path ending in / is a folder).
func writeTree(t *testing.T, dir string, files ...string) {
	t.Helper()
	for _, f := range files {
		path, data, _ := strings.Cut(f, "=")
		full := filepath.Join(dir, filepath.FromSlash(path))
		if path[len(path)-1] == '/' {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// refused checks that err is a refusal, forcible or not.
func refused(t *testing.T, err error, forcible bool) {
	t.Helper()
	var r *RefusedError
	if !errors.As(err, &r) {
		t.Fatalf("err = %v, want a refusal", err)
	}
	if r.Forcible != forcible {
		t.Errorf("%v: forcible = %v, want %v", err, r.Forcible, forcible)
	}
}

func TestRefusesUnmarkedFolder(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "project")
	writeTree(t, dir, "notes.txt=mine", "src/main.go=package main")
	before := snapshot(t, dir)
	err := Replace(dir, newFiles, Options{})
	refused(t, err, true)
	if got := snapshot(t, dir); !slices.Equal(got, before) {
		t.Errorf("after the refusal:\n%q\nwant:\n%q", got, before)
	}
	if got := names(t, parent); !slices.Equal(got, []string{"project"}) {
		t.Errorf("beside the folder: %q, want only [project]", got)
	}
	if err := Replace(dir, newFiles, Options{Force: true}); err != nil {
		t.Fatal(err)
	}
	if got := snapshot(t, dir); !slices.Equal(got, newSnapshot) {
		t.Errorf("forced:\n%q\nwant:\n%q", got, newSnapshot)
	}
}

func TestReplacesEmptyOrMarkedFolder(t *testing.T) {
	for name, tree := range map[string][]string{
		"empty":       nil,
		"marker only": {Marker + "=anything"},
		"marked":      {Marker + "=", "stale.conf=x", "sub/x=y"},
		"listed":      {Marker + "=" + markerText + "stale.conf\nsub/x\n", "stale.conf=x", "sub/x=y"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			writeTree(t, dir, append([]string{"./"}, tree...)...)
			if err := Replace(dir, newFiles, Options{}); err != nil {
				t.Fatal(err)
			}
			if got := snapshot(t, dir); !slices.Equal(got, newSnapshot) {
				t.Errorf("output:\n%q\nwant:\n%q", got, newSnapshot)
			}
		})
	}
}

func TestRefusesNonFolder(t *testing.T) {
	parent := t.TempDir()
	writeTree(t, parent, "file=data", "folder/x=y")
	if err := os.Symlink("nowhere", filepath.Join(parent, "dangling")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"file", "dangling"} {
		err := Replace(filepath.Join(parent, name), newFiles, Options{Force: true})
		refused(t, err, false)
	}
	if got := snapshot(t, parent); !slices.Equal(got, []string{"./", "dangling->nowhere", "file=data", "folder/", "folder/x=y"}) {
		t.Errorf("after the refusals: %q", got)
	}
}

func TestRefusesFoldersHoldingInputs(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, Marker+"=", "policy/"+Marker+"=", "policy/p.hcl=policy", "policy/feeds/aws.json={}", "override.hcl=o")
	if err := os.Symlink("policy", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	inputs := []string{filepath.Join(root, "policy/p.hcl"), filepath.Join(root, "policy/feeds/../feeds/aws.json"), filepath.Join(root, "override.hcl")}
	before := snapshot(t, root)
	// Marked and forced, so only the inputs stand in the way.
	for _, dir := range []string{"policy", "policy/feeds", "policy/feeds/", ".", "link", "link/feeds"} {
		err := Replace(filepath.Join(root, dir), newFiles, Options{Force: true, Inputs: inputs})
		refused(t, err, false)
	}
	if got := snapshot(t, root); !slices.Equal(got, before) {
		t.Errorf("after the refusals:\n%q\nwant:\n%q", got, before)
	}
	// A folder beside the inputs, or inside their folder, is fine.
	for _, dir := range []string{"out", "policy/out"} {
		if err := Replace(filepath.Join(root, dir), newFiles, Options{Inputs: inputs}); err != nil {
			t.Errorf("%s: %v", dir, err)
		}
	}
}

// TestRefusesWhatBuildNeverWrites: a folder holding, at any depth, a .git
// entry, a .hcl file or a file named like one the build reads is refused
// even with Force, marked or not, and before any forcible refusal, so
// that the message never suggests -force.
func TestRefusesWhatBuildNeverWrites(t *testing.T) {
	names := []string{"registry.k8s.io.hcl", "aws-ip-ranges.json"}
	for tree, reason := range map[string]string{
		".git/HEAD=ref":                  "it holds out/.git, so it is under version control",
		"a/b/.git/HEAD=ref":              "it holds out/a/b/.git, so it is under version control",
		".git=gitdir: ../.git/worktrees": "it holds out/.git, so it is under version control",
		"policy/registry.hcl=x":          "it holds out/policy/registry.hcl, a policy, which build never writes",
		"feeds/aws-ip-ranges.json={}":    "it holds out/feeds/aws-ip-ranges.json, named like a file this build reads",
	} {
		for _, marked := range []bool{false, true} {
			for _, force := range []bool{false, true} {
				parent := t.TempDir()
				dir := filepath.Join(parent, "out")
				files := []string{"notes.txt=mine", tree}
				if marked {
					files = append(files, Marker+"=")
				}
				writeTree(t, dir, files...)
				before := snapshot(t, dir)
				t.Chdir(parent)
				err := Replace("out", newFiles, Options{Force: force, InputNames: names})
				refused(t, err, false)
				if want := "refusing to replace out: " + reason; err == nil || err.Error() != want {
					t.Errorf("%s (marked %v, force %v): %v, want %q", tree, marked, force, err, want)
				}
				if got := snapshot(t, dir); !slices.Equal(got, before) {
					t.Errorf("%s: after the refusal:\n%q\nwant:\n%q", tree, got, before)
				}
			}
		}
	}
	// A folder or a link named like them is no such file, and a file
	// named like one build writes is build's: each is replaced.
	dir := filepath.Join(t.TempDir(), "out")
	writeTree(t, dir, "x.hcl/y=z", "aws-ip-ranges.json/y=z", "nginx/nginx.conf=old")
	if err := os.Symlink("/nowhere/p.hcl", filepath.Join(dir, "p.hcl")); err != nil {
		t.Fatal(err)
	}
	if err := Replace(dir, newFiles, Options{Force: true, InputNames: append(names, "nginx.conf")}); err != nil {
		t.Fatal(err)
	}
}

// TestRefusesAHugeFolder: a folder of more entries than any build writes
// (a mistyped -out) is refused, forced or not, and left as it was.
func TestRefusesAHugeFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	files := []string{Marker + "="}
	for i := range maxEntries {
		files = append(files, fmt.Sprintf("d%d/f%d=x", i%100, i))
	}
	writeTree(t, dir, files...)
	for _, force := range []bool{false, true} {
		err := Replace(dir, newFiles, Options{Force: force})
		refused(t, err, false)
		if err == nil || !strings.Contains(err.Error(), "far more than regedge build writes") {
			t.Errorf("force %v: %v", force, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "d99", "f9999")); err != nil {
		t.Error(err)
	}
}

func TestRefusesCurrentFolderAndAncestors(t *testing.T) {
	root := t.TempDir()
	work := filepath.Join(root, "a", "work")
	writeTree(t, root, Marker+"=", "a/"+Marker+"=", "a/work/"+Marker+"=", "a/work/x=y")
	t.Chdir(work)
	before := snapshot(t, root)
	for _, dir := range []string{".", "..", "../..", work, "../work"} {
		err := Replace(dir, newFiles, Options{Force: true})
		refused(t, err, false)
	}
	if got := snapshot(t, root); !slices.Equal(got, before) {
		t.Errorf("after the refusals:\n%q\nwant:\n%q", got, before)
	}
	if err := Replace("out", newFiles, Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestReplacesThroughSymlink(t *testing.T) {
	parent := t.TempDir()
	writeTree(t, parent, "real/"+Marker+"=", "real/old=x")
	link := filepath.Join(parent, "out")
	if err := os.Symlink("real", link); err != nil {
		t.Fatal(err)
	}
	if err := Replace(link, newFiles, Options{}); err != nil {
		t.Fatal(err)
	}
	if target, err := os.Readlink(link); err != nil || target != "real" {
		t.Errorf("the link now points at %q (%v), want real", target, err)
	}
	if got := snapshot(t, filepath.Join(parent, "real")); !slices.Equal(got, newSnapshot) {
		t.Errorf("output:\n%q\nwant:\n%q", got, newSnapshot)
	}
	if got := names(t, parent); !slices.Equal(got, []string{"out", "real"}) {
		t.Errorf("beside the output: %q", got)
	}
}

func TestMarkerListsFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := Replace(dir, newFiles, Options{}); err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(filepath.Join(dir, Marker))
	if err != nil {
		t.Fatal(err)
	}
	if want := markerText + "nginx/nginx.conf\nplan.json\n"; string(text) != want {
		t.Errorf("marker:\n%s\nwant:\n%s", text, want)
	}
}

// TestRefusesWhatItsMarkerDoesNotList: a marked folder holding a file or
// folder that its marker does not list (a marker copied in, or a file
// added after the build) is replaced only with Force.
func TestRefusesWhatItsMarkerDoesNotList(t *testing.T) {
	listing := Marker + "=" + markerText + "nginx/nginx.conf\nplan.json\n"
	for name, extra := range map[string]string{
		"file":          "precious.txt=mine",
		"nested file":   "nginx/notes=mine",
		"empty folder":  "keep/",
		"copied marker": "",
		"huge marker":   "",
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			tree := []string{listing, "nginx/nginx.conf=old", "plan.json=old", extra}
			switch name {
			case "copied marker":
				tree = []string{listing, "src/main.go=package main"}
			case "huge marker":
				tree = []string{listing + strings.Repeat("plan.json\n", 200_000), "plan.json=old"}
			}
			writeTree(t, dir, tree...)
			before := snapshot(t, dir)
			refused(t, Replace(dir, newFiles, Options{}), true)
			if got := snapshot(t, dir); !slices.Equal(got, before) {
				t.Errorf("after the refusal:\n%q\nwant:\n%q", got, before)
			}
			if err := Replace(dir, newFiles, Options{Force: true}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRefusesStateFolder: an output that is, or holds, a folder to keep
// (nginx's state_dir) is refused even with Force.
func TestRefusesStateFolder(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, "out/"+Marker+"=", "out/nginx/state/nginx.pid=1")
	before := snapshot(t, root)
	for _, keep := range []string{"out", "out/nginx/state", "out/nginx/state/../state", "out/not-yet"} {
		err := Replace(filepath.Join(root, "out"), newFiles, Options{Force: true, Keep: []string{filepath.Join(root, keep)}})
		refused(t, err, false)
	}
	if got := snapshot(t, root); !slices.Equal(got, before) {
		t.Errorf("after the refusals:\n%q\nwant:\n%q", got, before)
	}
	// State beside the output, or above it, is no reason to refuse.
	for _, keep := range []string{"state", "."} {
		if err := Replace(filepath.Join(root, "out"), newFiles, Options{Keep: []string{filepath.Join(root, keep)}}); err != nil {
			t.Errorf("keep %s: %v", keep, err)
		}
	}
}

// TestKeepBehindAFolderItCannotRead: a state folder whose path cannot be
// resolved (under a folder of nginx's that the builder may not search;
// here a symbolic link loop, which fails alike for root) is no reason to
// fail the build.
func TestKeepBehindAFolderItCannotRead(t *testing.T) {
	root := t.TempDir()
	if err := os.Symlink("loop", filepath.Join(root, "loop")); err != nil {
		t.Fatal(err)
	}
	if err := Replace(filepath.Join(root, "out"), newFiles, Options{Keep: []string{filepath.Join(root, "loop/nginx")}}); err != nil {
		t.Fatal(err)
	}
}
