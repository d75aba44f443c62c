package cli

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// shippedOut builds the shipped policy into a temporary folder.
func shippedOut(b *testing.B) string {
	b.Helper()
	out := filepath.Join(b.TempDir(), "out")
	if msg, err := exec.Command(builtBinary(b), "build", "-out", out).CombinedOutput(); err != nil {
		b.Fatalf("%v\n%s", err, msg)
	}
	return out
}

// BenchmarkVarnishCompile measures how long Varnish takes to compile the
// shipped policy's VCL (varnishd -C: VCL to C to a shared object).
func BenchmarkVarnishCompile(b *testing.B) {
	varnishd := requireRuntime(b, "varnishd")
	vcl := filepath.Join(shippedOut(b), "varnish", "regedge.vcl")
	for b.Loop() {
		cmd := exec.Command(varnishd, "-C", "-j", "none", "-f", vcl)
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v\n%s", err, msg[max(0, len(msg)-2000):])
		}
	}
}

// BenchmarkWorkerdStart measures the time from starting workerd on the
// shipped policy's Worker to its first answer, global-scope start-up (the
// table decode) included, and reports the module's size.
func BenchmarkWorkerdStart(b *testing.B) {
	workerd := requireRuntime(b, "workerd")
	dir := filepath.Join(shippedOut(b), "worker")
	module, err := os.Stat(filepath.Join(dir, "worker.js"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		port := freePort(b)
		cmd := exec.Command(workerd, "serve", filepath.Join(dir, "workerd.capnp"), "--socket-addr", "http=127.0.0.1:"+port)
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if resp, err := http.Get("http://127.0.0.1:" + port + "/healthz"); err == nil {
				resp.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				b.Fatal("workerd did not answer within 10s")
			}
		}
		b.StopTimer()
		cmd.Process.Kill()
		cmd.Wait()
		b.StartTimer()
	}
	b.ReportMetric(float64(module.Size()), "module-B")
}
