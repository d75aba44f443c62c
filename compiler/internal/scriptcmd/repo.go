package scriptcmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// goLocations are the go env settings that a script's HOME would
// otherwise move: the caches, and the file that holds go env -w settings.
var goLocations = []string{"GOCACHE", "GOENV", "GOMODCACHE", "GOPATH"}

// cmdGoRepo lets a script build this repository as its developer does:
// it sets REPO to the module's root folder, HOSTPLATFORM to the test's
// GOOS/GOARCH, and go's caches, its settings file and every GO variable
// of the test's own environment to the test's, so that exec make -C $REPO
// or exec go finds the build and module caches warm.
func cmdGoRepo(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: gorepo")
	}
	root, err := repoRoot()
	if err != nil {
		ts.Fatalf("gorepo: %v", err)
	}
	env, err := goEnv()
	if err != nil {
		ts.Fatalf("gorepo: %v", err)
	}
	for k, v := range env {
		ts.Setenv(k, v)
	}
	ts.Setenv("REPO", root)
	ts.Setenv("HOSTPLATFORM", runtime.GOOS+"/"+runtime.GOARCH)
}

// goEnv is the test's GO variables and go's locations as go env resolves
// them for the test.
func goEnv() (map[string]string, error) {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "GO") {
			env[k] = v
		}
	}
	out, err := exec.Command("go", append([]string{"env", "-json"}, goLocations...)...).Output()
	if err != nil {
		return nil, errors.New("go env: " + err.Error())
	}
	var locs map[string]string
	if err := json.Unmarshal(out, &locs); err != nil {
		return nil, err
	}
	for k, v := range locs {
		env[k] = v
	}
	return env, nil
}

// cmdCapture sets NAME to what REGEXP matched in the last command's
// stdout: its first group, or the whole match when it has none. Lines
// are matched as stdout's are ((?m) is implied).
func cmdCapture(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: capture NAME REGEXP")
	}
	name := args[0]
	checkName(ts, name)
	re, err := regexp.Compile("(?m)" + args[1])
	if err != nil {
		ts.Fatalf("capture: %v", err)
	}
	m := re.FindStringSubmatch(ts.ReadFile("stdout"))
	if m == nil {
		ts.Fatalf("capture: no match for %q in stdout", args[1])
	}
	ts.Setenv(name, m[min(1, len(m)-1)])
}

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
