package scriptcmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCopyFilesKeepsNamesAndPermissions(t *testing.T) {
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "a", "b"), 0o777); err != nil {
		t.Fatal(err)
	}
	files := map[string]os.FileMode{"a/b/run.sh": 0o755, "a/data.json": 0o640}
	for name, mode := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(name), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(src, name), mode); err != nil {
			t.Fatal(err)
		}
	}
	root, err := os.OpenRoot(src)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	dst := filepath.Join(t.TempDir(), "new", "dir")
	if err := copyFiles(root, dst, []string{"a/b/run.sh", "a/data.json"}); err != nil {
		t.Fatal(err)
	}
	for name, mode := range files {
		got := filepath.Join(dst, filepath.Base(name))
		data, err := os.ReadFile(got)
		if err != nil || string(data) != name {
			t.Errorf("%s: %q, %v; want %q", got, data, err, name)
		}
		if info, err := os.Stat(got); err != nil || info.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, %v; want %v", got, info.Mode().Perm(), err, mode)
		}
	}
}

func TestCopyFilesRefusesWhatIsNotAFileInTheRoot(t *testing.T) {
	parent := t.TempDir()
	src := filepath.Join(parent, "repo")
	if err := os.MkdirAll(filepath.Join(src, "dir"), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(parent, "secret"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../secret", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(src)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for name, want := range map[string]string{
		"../secret": "../secret: path escapes from parent",
		"link":      "link: path escapes from parent",
		"dir":       "dir: not a regular file",
		"missing":   "missing: no such file or directory",
	} {
		dst := t.TempDir()
		err := copyFiles(root, dst, []string{name})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("copyFiles(%q) = %v, want %q", name, err, want)
		}
		if entries, _ := os.ReadDir(dst); len(entries) != 0 {
			t.Errorf("copyFiles(%q) wrote %v", name, entries)
		}
	}
}

func TestRepoRootHoldsGoMod(t *testing.T) {
	dir, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil || !strings.HasPrefix(string(data), "module github.com/regedge/regedge\n") {
		t.Errorf("repoRoot() = %s, whose go.mod starts %.40q (%v)", dir, data, err)
	}
}
