package outdir

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestReplaceFileCreates(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "feeds", "aws.json")
	if err := ReplaceFile(file, []byte("new")); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(file)
	info, _ := os.Stat(file)
	if string(got) != "new" || info.Mode().Perm() != 0o644 {
		t.Errorf("wrote %q with mode %v, want \"new\" with 0644", got, info.Mode().Perm())
	}
	if got := names(t, filepath.Dir(file)); !slices.Equal(got, []string{"aws.json"}) {
		t.Errorf("folder holds %q", got)
	}
}

func TestReplaceFileReplacesKeepingMode(t *testing.T) {
	file := filepath.Join(t.TempDir(), "aws.json")
	if err := os.WriteFile(file, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ReplaceFile(file, []byte("new")); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(file)
	info, _ := os.Stat(file)
	if string(got) != "new" || info.Mode().Perm() != 0o600 {
		t.Errorf("wrote %q with mode %v, want \"new\" with 0600", got, info.Mode().Perm())
	}
}

func TestReplaceFileFailureKeepsOld(t *testing.T) {
	// A folder cannot be renamed over, even by root.
	dir := t.TempDir()
	file := filepath.Join(dir, "aws.json")
	if err := os.MkdirAll(filepath.Join(file, "inside"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := ReplaceFile(file, []byte("new")); err == nil {
		t.Fatal("replacing a folder succeeded")
	}
	if got := names(t, dir); !slices.Equal(got, []string{"aws.json"}) {
		t.Errorf("folder holds %q, want the temporary file gone", got)
	}
	if got := names(t, file); !slices.Equal(got, []string{"inside"}) {
		t.Errorf("the folder in the way holds %q", got)
	}

	// A file where the folder should be.
	blocker := filepath.Join(dir, "blocker")
	if err := os.WriteFile(blocker, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ReplaceFile(filepath.Join(blocker, "aws.json"), []byte("new")); err == nil {
		t.Fatal("writing under a file succeeded")
	}
}
