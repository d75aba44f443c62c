package image

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// TestFromBuild refuses what the image could not run or describe.
func TestFromBuild(t *testing.T) {
	good := map[string]string{
		"GOOS": "linux", "GOARCH": "arm64", "CGO_ENABLED": "0",
		"vcs.revision": "0123456789abcdef0123456789abcdef01234567",
		"vcs.time":     "2026-01-02T03:04:05Z", "vcs.modified": "false",
	}
	bi := func(change map[string]string) *debug.BuildInfo {
		b := &debug.BuildInfo{Main: debug.Module{Path: "github.com/regedge/regedge", Version: "v1.2.0"}}
		for k, v := range good {
			if c, ok := change[k]; ok {
				v = c
			}
			if v != "" {
				b.Settings = append(b.Settings, debug.BuildSetting{Key: k, Value: v})
			}
		}
		return b
	}
	b, err := fromBuild(bi(nil))
	want := Provenance{Module: "github.com/regedge/regedge", Version: "v1.2.0", Revision: good["vcs.revision"], Time: commitTime}
	if err != nil || b.Provenance != want || b.Platform.String() != "linux/arm64" {
		t.Errorf("fromBuild = %+v, %v; want linux/arm64 and %+v", b, err, want)
	}
	for _, tt := range []struct {
		change map[string]string
		err    string
	}{
		{map[string]string{"GOOS": "darwin"}, "built for darwin/arm64; the image runs linux binaries"},
		{map[string]string{"CGO_ENABLED": "1"}, "built with cgo"},
		{map[string]string{"vcs.revision": ""}, "records no VCS revision"},
		{map[string]string{"vcs.modified": "true"}, "uncommitted changes"},
		{map[string]string{"vcs.time": ""}, "records no valid commit time"},
	} {
		if _, err := fromBuild(bi(tt.change)); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("fromBuild with %v: %v; want an error saying %q", tt.change, err, tt.err)
		}
	}
}

// TestReadBinary builds a small static program from a git commit, as make
// release builds regedge, and reads its platform and provenance back; and
// refuses a dynamically linked program and a file that is no program.
func TestReadBinary(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/standin\n\ngo 1.26\n")
	write("main.go", "package main\n\nfunc main() {}\n")
	run := func(env []string, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git := []string{"GIT_CONFIG_GLOBAL=/dev/null", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z", "GIT_AUTHOR_DATE=2026-01-02T03:04:05Z"}
	run(git, "git", "init", "-q")
	run(git, "git", "add", ".")
	run(git, "git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "stand-in")
	rev := run(git, "git", "rev-parse", "HEAD")
	run([]string{"CGO_ENABLED=0", "GOOS=linux"}, "go", "build", "-buildvcs=true", "-o", "standin", ".")

	b, err := ReadBinary(filepath.Join(dir, "standin"))
	if err != nil {
		t.Fatal(err)
	}
	want := Provenance{Module: "example.com/standin", Revision: rev, Time: commitTime}
	if b.Platform.String() != "linux/"+runtime.GOARCH || b.Provenance.Revision != want.Revision ||
		!b.Provenance.Time.Equal(want.Time) || b.Provenance.Module != want.Module || !strings.HasPrefix(b.Provenance.Version, "v0.0.0-20260102030405-") {
		t.Errorf("ReadBinary = %s %+v; want linux/%s, %+v and a pseudo-version", b.Platform, b.Provenance, runtime.GOARCH, want)
	}
	if len(b.Data) == 0 {
		t.Error("ReadBinary kept no data")
	}

	// /bin/sh is a C program, dynamically linked: checkStatic refuses it
	// even before the build info would.
	sh, err := os.ReadFile("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkStatic(sh); err == nil || !strings.Contains(err.Error(), "dynamically linked") {
		t.Errorf("checkStatic(/bin/sh) = %v, want dynamically linked", err)
	}
	if _, err := ReadBinary(filepath.Join(dir, "main.go")); err == nil || !strings.Contains(err.Error(), "not a Go binary") {
		t.Errorf("ReadBinary(main.go) = %v, want not a Go binary", err)
	}
}

// TestNewSpec sorts binaries by platform and refuses two of one platform
// and binaries of different commits.
func TestNewSpec(t *testing.T) {
	spec := standIn(t)
	if got := spec.Binaries[0].Platform.String() + " " + spec.Binaries[1].Platform.String(); got != "linux/amd64 linux/arm64" {
		t.Errorf("NewSpec's platforms: %s", got)
	}
	twice := []Binary{spec.Binaries[0], spec.Binaries[0]}
	if _, err := NewSpec(twice, nil); err == nil || err.Error() != "two binaries for linux/amd64" {
		t.Errorf("NewSpec of two amd64 binaries: %v", err)
	}
	other := spec.Binaries[1]
	other.Provenance.Time = other.Provenance.Time.Add(time.Hour)
	if _, err := NewSpec([]Binary{spec.Binaries[0], other}, nil); err == nil || !strings.Contains(err.Error(), "different builds") {
		t.Errorf("NewSpec of binaries of two builds: %v", err)
	}
	if _, err := NewSpec(nil, nil); err == nil {
		t.Error("NewSpec of no binaries: no error")
	}
}
