package outdir

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/regedge/regedge/compiler/internal/render"
)

// snapshot returns every file and folder under dir as "path" for folders
// (with a trailing slash), "path=contents" for files and "path->target"
// for symbolic links, sorted. Build's marker shows as marked, whatever
// files it lists (TestMarkerListsFiles reads the list).
func snapshot(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			out = append(out, rel+"/")
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(path)
			out = append(out, rel+"->"+target)
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if d.Name() == Marker && strings.HasPrefix(string(data), markerText) {
			out = append(out, marked)
			return nil
		}
		out = append(out, rel+"="+string(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// marked is build's marker file as snapshot lists it.
var marked = Marker + "=<build's marker>"

// names lists the entries of a folder.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestReplaceCreates(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "sub", "out")
	files := []render.File{
		{Path: "plan.json", Data: []byte("{}\n")},
		{Path: "nginx/nginx.conf", Data: []byte("events {}\n")},
		{Path: "nginx/conf.d/a.conf", Data: []byte("# a\n")},
		{Path: "empty", Data: nil},
	}
	if err := Replace(dir, files, Options{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"./", marked, "empty=", "nginx/", "nginx/conf.d/", "nginx/conf.d/a.conf=# a\n", "nginx/nginx.conf=events {}\n", "plan.json={}\n"}
	if got := snapshot(t, dir); !slices.Equal(got, want) {
		t.Errorf("output:\n%q\nwant:\n%q", got, want)
	}
	if got := names(t, filepath.Join(parent, "sub")); !slices.Equal(got, []string{"out"}) {
		t.Errorf("beside the output: %q, want only [out]", got)
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o755 {
		t.Errorf("output folder mode %v, want 0755", got)
	}
}

func TestReplaceReplaces(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	old := []render.File{
		{Path: "plan.json", Data: []byte("old plan")},
		{Path: "stale.conf", Data: []byte("stale")},
		{Path: "olddir/x", Data: []byte("x")},
	}
	if err := Replace(dir, old, Options{}); err != nil {
		t.Fatal(err)
	}
	// A file someone added by hand is not build's to delete, unless
	// forced.
	if err := os.WriteFile(filepath.Join(dir, "handmade"), []byte("h"), 0o644); err != nil {
		t.Fatal(err)
	}
	newFiles := []render.File{
		{Path: "plan.json", Data: []byte("new plan")},
		{Path: "nginx/nginx.conf", Data: []byte("conf")},
	}
	refused(t, Replace(dir, newFiles, Options{}), true)
	// The folder path may be given in any form.
	if err := Replace(dir+string(filepath.Separator), newFiles, Options{Force: true}); err != nil {
		t.Fatal(err)
	}
	want := []string{"./", marked, "nginx/", "nginx/nginx.conf=conf", "plan.json=new plan"}
	if got := snapshot(t, dir); !slices.Equal(got, want) {
		t.Errorf("output:\n%q\nwant:\n%q", got, want)
	}
	if got := names(t, parent); !slices.Equal(got, []string{"out"}) {
		t.Errorf("beside the output: %q, want only [out]", got)
	}
}

func TestReplaceEmpty(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	if err := Replace(dir, []render.File{{Path: "a", Data: []byte("a")}}, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := Replace(dir, nil, Options{}); err != nil {
		t.Fatal(err)
	}
	if got := snapshot(t, dir); !slices.Equal(got, []string{"./", marked}) {
		t.Errorf("output %q, want only the marker", got)
	}
}

func TestReplaceFailureKeepsOld(t *testing.T) {
	tests := []struct {
		name  string
		files []render.File
	}{
		{
			// "nginx" is written as a file, so "nginx/nginx.conf" cannot be.
			name: "parent is a file",
			files: []render.File{
				{Path: "plan.json", Data: []byte("new")},
				{Path: "nginx", Data: []byte("a file")},
				{Path: "nginx/nginx.conf", Data: []byte("conf")},
			},
		},
		{
			// "nginx" is a folder, so it cannot be written as a file.
			name: "file is a folder",
			files: []render.File{
				{Path: "nginx/nginx.conf", Data: []byte("conf")},
				{Path: "nginx", Data: []byte("a file")},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "out")
			if err := Replace(dir, []render.File{
				{Path: "plan.json", Data: []byte("old plan")},
				{Path: "nginx/nginx.conf", Data: []byte("old conf")},
				{Path: "keep/me", Data: []byte("kept")},
			}, Options{}); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, dir)
			err := Replace(dir, tt.files, Options{})
			if err == nil {
				t.Fatal("Replace succeeded, want an error")
			}
			if got := snapshot(t, dir); !slices.Equal(got, before) {
				t.Errorf("after a failed Replace:\n%q\nwant the old output:\n%q", got, before)
			}
			if got := names(t, parent); !slices.Equal(got, []string{"out"}) {
				t.Errorf("beside the output: %q, want only [out]", got)
			}
		})
	}
}

func TestReplaceFailureWithoutOld(t *testing.T) {
	parent := t.TempDir()
	if err := os.WriteFile(filepath.Join(parent, "other"), []byte("o"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, "out")
	err := Replace(dir, []render.File{{Path: "a", Data: []byte("a")}, {Path: "a/b", Data: []byte("b")}}, Options{})
	if err == nil {
		t.Fatal("Replace succeeded, want an error")
	}
	if got := names(t, parent); !slices.Equal(got, []string{"other"}) {
		t.Errorf("after a failed first Replace the parent holds %q, want only [other]", got)
	}
}
