// Package scriptcmd provides the custom testscript commands used by the
// regedge end-to-end scripts: starting loopback servers, sending raw HTTP
// requests and load, signalling background processes, and preparing
// files. Every server listens on 127.0.0.1 only.
package scriptcmd

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// Commands returns the custom commands, for testscript.Params.Cmds.
// Use them together with Setup.
func Commands() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(*testscript.TestScript, bool, []string){
		"blob":         cmdBlob,
		"capture":      cmdCapture,
		"cranepull":    cmdCranePull,
		"ctrlchars":    cmdCtrlChars,
		"edit":         cmdEdit,
		"falcosim":     cmdFalcoSim,
		"faultcheck":   cmdFaultCheck,
		"faultmirror":  cmdFaultMirror,
		"faultsites":   cmdFaultSites,
		"freeport":     cmdFreeport,
		"gorepo":       cmdGoRepo,
		"headermirror": cmdHeaderMirror,
		"halfclose":    cmdHalfClose,
		"healthburst":  cmdHealthBurst,
		"healthcheck":  cmdHealthCheck,
		"healthmode":   cmdHealthMode,
		"healthsites":  cmdHealthSites,
		"httpget":      cmdHTTPGet,
		"images":       cmdImages,
		"layoutcheck":  cmdLayoutCheck,
		"loadstart":    cmdLoadStart,
		"loadstop":     cmdLoadStop,
		"loadwait":     cmdLoadWait,
		"logcheck":     cmdLogCheck,
		"memregistry":  cmdMemregistry,
		"mirror":       cmdMirror,
		"need":         cmdNeed,
		"repocopy":     cmdRepoCopy,
		"sigsend":      cmdSigsend,
		"sitemirror":   cmdSiteMirror,
		"slowheader":   cmdSlowHeader,
		"subst":        cmdSubst,
		"unpack":       cmdUnpack,
		"waitfile":     cmdWaitFile,
		"waitgone":     cmdWaitGone,
		"waitprobe":    cmdWaitProbe,
		"waithttp":     cmdWaitHTTP,
		"xffproxy":     cmdXFFProxy,
	}
}

// tKey is the Env.Values key under which Setup stores the script's T,
// so that need can skip the script.
type tKey struct{}

// Setup prepares each script's environment, for testscript.Params.Setup.
// It passes CI through from the real environment, points HOME at
// $WORK/.home, and records what need requires to skip a script.
func Setup(env *testscript.Env) error {
	if v, ok := os.LookupEnv("CI"); ok {
		env.Setenv("CI", v)
	}
	home := filepath.Join(env.WorkDir, ".home")
	if err := os.MkdirAll(home, 0o777); err != nil {
		return err
	}
	env.Setenv("HOME", home)
	env.Values[tKey{}] = env.T()
	return nil
}

// cmdNeed skips the script unless every program is installed, or fails
// it when CI=true. It adds each program's directory to PATH.
func cmdNeed(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: need PROGRAM...")
	}
	for _, p := range args {
		path, err := lookProgram(p, ts.Getenv("PATH"))
		if err != nil {
			if ts.Getenv("CI") == "true" {
				ts.Fatalf("%s is required under CI=true but is not installed; run make test as root to install it", p)
			}
			t, ok := ts.Value(tKey{}).(testscript.T)
			if !ok {
				ts.Fatalf("%s is not installed, and the script cannot skip because scriptcmd.Setup did not run", p)
			}
			t.Skip(p + " is not installed")
		}
		if dirs := filepath.SplitList(ts.Getenv("PATH")); !slices.Contains(dirs, filepath.Dir(path)) {
			ts.Setenv("PATH", strings.Join(append(dirs, filepath.Dir(path)), string(os.PathListSeparator)))
		}
	}
}

// lookProgram finds the executable name in the absolute directories of
// pathList, then in /usr/sbin and /sbin, which a normal user's PATH lacks.
func lookProgram(name, pathList string) (string, error) {
	if name == "" || strings.ContainsRune(name, '/') {
		return "", fmt.Errorf("%q is not a program name", name)
	}
	for _, dir := range append(filepath.SplitList(pathList), "/usr/sbin", "/sbin") {
		if !filepath.IsAbs(dir) {
			continue
		}
		if path, err := exec.LookPath(filepath.Join(dir, name)); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, exec.ErrNotFound)
}

// cmdFreeport sets each NAME to a distinct TCP port that is free on 127.0.0.1.
func cmdFreeport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: freeport NAME...")
	}
	for _, name := range args {
		checkName(ts, name)
		// Keep each port bound until all are chosen, so they differ.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		defer l.Close()
		ts.Setenv(name, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
}

// cmdSubst expands $VAR and ${VAR} in files in place; $$ stands for $.
func cmdSubst(ts *testscript.TestScript, neg bool, args []string) {
	rewrite(ts, neg, "subst", args, func(s string) (string, error) { return expand(s, ts.Getenv) })
}

// rewrite runs the command name, which changes each file of args in place
// by change.
func rewrite(ts *testscript.TestScript, neg bool, name string, args []string, change func(string) (string, error)) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: %s FILE...", name)
	}
	for _, file := range args {
		data, err := os.ReadFile(ts.MkAbs(file))
		if err != nil {
			ts.Fatalf("%s: %s: %v", name, file, pathless(err))
		}
		out, err := change(string(data))
		if err != nil {
			ts.Fatalf("%s: %s: %v", name, file, err)
		}
		if err := os.WriteFile(ts.MkAbs(file), []byte(out), 0o666); err != nil {
			ts.Fatalf("%s: %s: %v", name, file, pathless(err))
		}
	}
}

// expand replaces variable references in s using getenv. A reference to
// an empty or unset variable is an error, so that an unescaped nginx
// variable such as $host is caught rather than silently erased.
func expand(s string, getenv func(string) string) (string, error) {
	var unset []string
	out := os.Expand(s, func(name string) string {
		if name == "$" {
			return "$"
		}
		v := getenv(name)
		if v == "" && !slices.Contains(unset, name) {
			unset = append(unset, name)
		}
		return v
	})
	if len(unset) > 0 {
		return "", fmt.Errorf("$%s is not set (write $$ for a literal $)", strings.Join(unset, ", $"))
	}
	return out, nil
}

// cmdBlob writes CONTENT to DIR/<digest> and sets NAME to the digest.
func cmdBlob(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: blob NAME DIR CONTENT")
	}
	name, dir, content := args[0], args[1], args[2]
	checkName(ts, name)
	d := digest(content)
	if err := os.MkdirAll(ts.MkAbs(dir), 0o777); err != nil {
		ts.Fatalf("blob: %s: %v", dir, pathless(err))
	}
	if err := os.WriteFile(filepath.Join(ts.MkAbs(dir), d), []byte(content), 0o666); err != nil {
		ts.Fatalf("blob: %s: %v", dir, pathless(err))
	}
	ts.Setenv(name, d)
}

// digest returns the OCI digest of content: "sha256:" and the hex hash.
func digest(content string) string {
	sum := sha256.Sum256([]byte(content))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// checkName fails the script unless name can be an environment variable.
func checkName(ts *testscript.TestScript, name string) {
	if name == "" || strings.ContainsAny(name, "=$ ") {
		ts.Fatalf("%q is not a valid environment variable name", name)
	}
}

// pathless drops the absolute path from a file error, since the caller
// names the file as the script wrote it.
func pathless(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}
