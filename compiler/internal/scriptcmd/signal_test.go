package scriptcmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReadPid(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pid")
	for content, want := range map[string]int{"1234\n": 1234, " 42 ": 42} {
		if err := os.WriteFile(file, []byte(content), 0o666); err != nil {
			t.Fatal(err)
		}
		if pid, err := readPid(file); err != nil || pid != want {
			t.Errorf("readPid(%q) = %d, %v; want %d", content, pid, err, want)
		}
	}
	for _, content := range []string{"", "abc", "0", "1", "-5", "12 13"} {
		if err := os.WriteFile(file, []byte(content), 0o666); err != nil {
			t.Fatal(err)
		}
		if pid, err := readPid(file); err == nil {
			t.Errorf("readPid(%q) = %d, want an error", content, pid)
		}
	}
	if _, err := readPid(filepath.Join(dir, "missing")); err == nil || strings.Contains(err.Error(), dir) {
		t.Errorf("readPid of a missing file: %v, want an error without the path", err)
	}
}

func TestWaitFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pid")
	go func() {
		time.Sleep(50 * time.Millisecond)
		os.WriteFile(file, nil, 0o666)
		time.Sleep(50 * time.Millisecond)
		os.WriteFile(file, []byte("1234\n"), 0o666)
	}()
	if err := waitFile(file, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(file); string(data) != "1234\n" {
		t.Errorf("waitFile returned when the file held %q", data)
	}
	if err := waitFile(filepath.Join(dir, "missing"), 50*time.Millisecond); err == nil || strings.Contains(err.Error(), dir) {
		t.Errorf("waitFile on a missing file: %v, want an error without the path", err)
	}
	if err := waitFile(dir, 50*time.Millisecond); err == nil {
		t.Error("waitFile accepted a directory")
	}
	if err := waitFile(file+"2", 0); err == nil {
		t.Error("waitFile with no time left accepted a missing file")
	}
}

func TestSignalNames(t *testing.T) {
	for _, name := range []string{"HUP", "TERM", "INT", "KILL", "USR1"} {
		if _, ok := signals[name]; !ok {
			t.Errorf("sigsend does not know %s", name)
		}
	}
}

// TestWaitGone: waitGone returns once a process has exited, zombie or
// reaped, and fails on one that keeps running.
func TestWaitGone(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	pid := cmd.Process.Pid
	if err := waitGone(pid, 100*time.Millisecond); err == nil {
		t.Fatal("waitGone returned while the process runs")
	}
	cmd.Process.Kill()
	// Not yet reaped: a zombie has exited.
	if err := waitGone(pid, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if err := waitGone(pid, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}
