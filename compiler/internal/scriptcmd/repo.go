package scriptcmd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdRepoCopy copies files of this repository into DIR, each under its
// own name and with its permission bits, so that a script runs what the
// repository ships (the real feed snapshots, the examples) rather than a
// copy of it. Each FILE is a path from the repository's root.
func cmdRepoCopy(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: repocopy DIR FILE...")
	}
	dir, err := repoRoot()
	if err != nil {
		ts.Fatalf("repocopy: %v", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		ts.Fatalf("repocopy: %v", err)
	}
	defer root.Close()
	if err := copyFiles(root, ts.MkAbs(args[0]), args[1:]); err != nil {
		ts.Fatalf("repocopy: %v", err)
	}
}

// repoRoot returns the folder holding go.mod, from the test's working
// directory (its package's folder) up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod in the test's folder or above it")
		}
		dir = parent
	}
}

// copyFiles copies each regular file named under root into dir, which it
// creates. A name that leaves root, or is not a regular file, is an error.
func copyFiles(root *os.Root, dir string, names []string) error {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return pathless(err)
	}
	for _, name := range names {
		info, err := root.Stat(name)
		if err != nil {
			return fmt.Errorf("%s: %v", name, pathless(err))
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("%s: not a regular file", name)
		}
		data, err := root.ReadFile(name)
		if err != nil {
			return fmt.Errorf("%s: %v", name, pathless(err))
		}
		dst := filepath.Join(dir, filepath.Base(name))
		if err := os.WriteFile(dst, data, info.Mode().Perm()); err != nil {
			return fmt.Errorf("%s: %v", name, pathless(err))
		}
		// WriteFile's mode is reduced by the umask; the copy keeps the bits.
		if err := os.Chmod(dst, info.Mode().Perm()); err != nil {
			return fmt.Errorf("%s: %v", name, pathless(err))
		}
	}
	return nil
}
