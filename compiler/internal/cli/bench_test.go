package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// BenchmarkBuild runs `regedge build` on the shipped policy as its own
// process, so that its peak memory is the process's own.
func BenchmarkBuild(b *testing.B) {
	bin := builtBinary(b)
	out := filepath.Join(b.TempDir(), "out")
	var peak int64
	for b.Loop() {
		cmd := exec.Command(bin, "build", "-out", out)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
		peak = max(peak, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)
	}
	b.ReportMetric(float64(peak)/1024, "peak-MiB")
}

// BenchmarkCheckHostileLocals runs `regedge check` as its own process on
// the shipped policy with 960 more sites, each naming one local of 10,000
// region patterns (once 10 GB and 30 s); check must refuse it, and
// quickly.
func BenchmarkCheckHostileLocals(b *testing.B) {
	bin := builtBinary(b)
	feeds, err := filepath.Abs("../../../policy/feeds")
	if err != nil {
		b.Fatal(err)
	}
	shipped, err := os.ReadFile("../../../policy/registry.k8s.io.hcl")
	if err != nil {
		b.Fatal(err)
	}
	var big, keys []string
	for i := range 10_000 {
		big = append(big, fmt.Sprintf(`"aws:r%d"`, i))
	}
	for i := range 960 {
		keys = append(keys, fmt.Sprintf(`"k%d"`, i))
	}
	policy := strings.ReplaceAll(string(shipped), `"feeds/`, `"`+feeds+"/") + `
locals {
  big  = [` + strings.Join(big, ", ") + `]
  keys = [` + strings.Join(keys, ", ") + `]
}
site "many" {
  for_each = local.keys
  url      = "https://many.example.com"
  regions  = local.big
}
`
	path := filepath.Join(b.TempDir(), "policy.hcl")
	if err := os.WriteFile(path, []byte(policy), 0o644); err != nil {
		b.Fatal(err)
	}
	var peak int64
	for b.Loop() {
		cmd := exec.Command(bin, "check", "-policy", path)
		out, err := cmd.CombinedOutput()
		if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "Error: Too many region patterns") {
			b.Fatalf("check: %v\n%s", err, out)
		}
		peak = max(peak, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)
	}
	b.ReportMetric(float64(peak)/1024, "peak-MiB")
}

// BenchmarkNginxLoad measures how long nginx takes to load the generated
// config (nginx -t parses it and builds the geo table).
func BenchmarkNginxLoad(b *testing.B) {
	bin := builtBinary(b)
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		b.Skip("nginx is not installed")
	}
	dir := b.TempDir()
	// nginx -t creates its temp folders, under a state folder of its own.
	state := filepath.Join(dir, "nginx-state")
	if err := os.Mkdir(state, 0o755); err != nil {
		b.Fatal(err)
	}
	override := filepath.Join(dir, "override.hcl")
	writeFile(b, override, fmt.Sprintf("nginx {\n  state_dir = %q\n}\n", state))
	out := filepath.Join(dir, "out")
	if msg, err := exec.Command(bin, "build", "-override", override, "-out", out).CombinedOutput(); err != nil {
		b.Fatalf("regedge build: %v\n%s", err, msg)
	}
	for b.Loop() {
		cmd := exec.Command(nginx, "-q", "-t", "-c", filepath.Join(out, "nginx", "nginx.conf"), "-e", "stderr")
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v\n%s", err, msg)
		}
	}
}

// builtBinary returns bin/regedge, which make bench builds first.
func builtBinary(b *testing.B) string {
	bin, err := filepath.Abs("../../../bin/regedge")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		b.Fatalf("%v: run make bench, which builds it", err)
	}
	return bin
}
