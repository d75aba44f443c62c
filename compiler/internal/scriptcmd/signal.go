package scriptcmd

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

const sigsendUsage = "usage: sigsend PIDFILE HUP|TERM|INT|KILL|USR1|USR2"

// signals are the signals sigsend can send, by the names it accepts.
var signals = map[string]syscall.Signal{
	"HUP":  syscall.SIGHUP,
	"TERM": syscall.SIGTERM,
	"INT":  syscall.SIGINT,
	"KILL": syscall.SIGKILL,
	"USR1": syscall.SIGUSR1,
	"USR2": syscall.SIGUSR2,
}

// cmdSigsend sends a signal to the process whose id is in PIDFILE, such
// as a server started with
// exec sh -c 'echo $$ > proxy.pid; exec regedge serve ...' &proxy&.
func cmdSigsend(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf(sigsendUsage)
	}
	file, name := args[0], args[1]
	sig, ok := signals[name]
	if !ok {
		ts.Fatalf("%s: unknown signal %q", sigsendUsage, name)
	}
	pid, err := readPid(ts.MkAbs(file))
	if err != nil {
		ts.Fatalf("sigsend: %s: %v", file, err)
	}
	if err := syscall.Kill(pid, sig); err != nil {
		ts.Fatalf("sigsend: %s to process %d: %v", name, pid, err)
	}
}

// readPid reads a decimal process id from path. It refuses 0, 1 and
// negative ids, which kill would take for process groups or init.
func readPid(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, pathless(err)
	}
	s := strings.TrimSpace(string(data))
	pid, err := strconv.Atoi(s)
	if err != nil || pid < 2 {
		return 0, fmt.Errorf("%q is not a process id", s)
	}
	return pid, nil
}

// cmdWaitFile waits until FILE exists and is not empty, as a pid file
// is once the process that writes it has started.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	if err := waitFile(ts.MkAbs(args[0]), 10*time.Second); err != nil {
		ts.Fatalf("waitfile: %s: %v", args[0], err)
	}
}

// waitFile polls path every 20ms until it is a non-empty regular file
// or timeout passes.
func waitFile(path string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		fi, err := os.Stat(path)
		if err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("not there after %v: %w", timeout, pathless(err))
			}
			return fmt.Errorf("still empty after %v", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cmdWaitGone waits until the process whose id is in PIDFILE has exited,
// for at most 10 seconds: a server told to stop must stop. One that does
// not is killed before the script fails, as testscript would otherwise
// wait for it for ever.
func cmdWaitGone(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitgone PIDFILE")
	}
	pid, err := readPid(ts.MkAbs(args[0]))
	if err != nil {
		ts.Fatalf("waitgone: %s: %v", args[0], err)
	}
	if err := waitGone(pid, 10*time.Second); err != nil {
		syscall.Kill(pid, syscall.SIGKILL)
		ts.Fatalf("waitgone: %v; killed it", err)
	}
}

// waitGone polls every 20ms until process pid has exited (it is gone, or
// a zombie its parent has yet to reap) or timeout passes.
func waitGone(pid int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for running(pid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d still runs after %v", pid, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// running reports whether process pid runs: /proc lists it in a state
// other than zombie or dead.
func running(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and
	// may hold any byte.
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 || i+2 >= len(stat) {
		return false
	}
	state := stat[i+2]
	return state != 'Z' && state != 'X'
}
