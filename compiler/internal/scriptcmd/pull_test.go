package scriptcmd

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

func TestCranePullFollowsRedirectsWithHeadersAndVerifies(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	record := func(who string, h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = append(seen, who+" "+r.Method+" "+r.URL.Path+" "+r.Header.Get("X-Forwarded-For"))
			mu.Unlock()
			h.ServeHTTP(w, r)
		})
	}
	reg := httptest.NewServer(record("registry", registry.New(registry.Logger(log.New(io.Discard, "", 0)))))
	defer reg.Close()
	s, err := newImageSet()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.push(strings.TrimPrefix(reg.URL, "http://"), "lib/pause", "3.10"); err != nil {
		t.Fatal(err)
	}
	// A front that answers every request but the version check with a
	// redirect to the registry, as a target does.
	front := httptest.NewServer(record("front", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			w.WriteHeader(http.StatusOK)
			return
		}
		http.Redirect(w, r, reg.URL+r.URL.Path, http.StatusTemporaryRedirect)
	})))
	defer front.Close()
	mu.Lock()
	seen = nil
	mu.Unlock()

	p, err := parseCranePull([]string{"-xff", "192.0.2.1", strings.TrimPrefix(front.URL, "http://") + "/lib/pause:3.10", "out"})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	out, err := p.pull(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := "pulled index " + s.vars["INDEX_DIGEST"] + "\n" +
		"pulled image " + s.vars["AMD64_DIGEST"] + " linux/amd64\n" +
		"pulled image " + s.vars["ARM64_DIGEST"] + " linux/arm64\n" +
		"verified 6 blobs\n"
	if out != want {
		t.Errorf("pull printed\n%s\nwant\n%s", out, want)
	}
	fronts, regs := 0, 0
	for _, line := range seen {
		if !strings.HasSuffix(line, " 192.0.2.1, 127.0.0.1") {
			t.Errorf("request without the header: %s", line)
		}
		if strings.HasPrefix(line, "front ") {
			fronts++
		} else {
			regs++
		}
	}
	// The version check, three manifests and six blobs, each redirected.
	if fronts != 10 || regs != 9 {
		t.Errorf("front got %d requests and the registry %d, want 10 and 9:\n%s", fronts, regs, strings.Join(seen, "\n"))
	}

	// The layout is read back from disk: a changed blob fails validation.
	blob := filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(s.vars["ARM64_LAYER2"], "sha256:"))
	data, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-1] ^= 1
	if err := os.WriteFile(blob, data, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := verifyLayout(layout.Path(dir)); err == nil {
		t.Error("verifyLayout accepted a changed layer")
	}
}

func TestParseCranePull(t *testing.T) {
	p, err := parseCranePull([]string{"-H", "CF-Connecting-IP: 192.0.2.1", "-platform", "linux/arm64", "h:1/r:t", "dir"})
	if err != nil {
		t.Fatal(err)
	}
	if p.headers.Get("CF-Connecting-IP") != "192.0.2.1" || p.platform.Architecture != "arm64" || p.ref != "h:1/r:t" || p.outDir != "dir" {
		t.Errorf("parsed %+v", p)
	}
	for _, args := range [][]string{{}, {"ref"}, {"-H", "bad", "ref", "dir"}, {"-platform", "", "ref", "dir"}, {"-platform", "linux", "ref", "dir"}, {"a", "b", "c"}} {
		if _, err := parseCranePull(args); err == nil {
			t.Errorf("parseCranePull(%q) succeeded", args)
		}
	}
}

func TestCranePullRefusesAWrongBlob(t *testing.T) {
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	s, err := newImageSet()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.push(strings.TrimPrefix(reg.URL, "http://"), "lib/pause", "3.10"); err != nil {
		t.Fatal(err)
	}
	// A mirror that holds other content of the same size under one
	// layer's digest.
	bad := "/v2/lib/pause/blobs/" + s.vars["AMD64_LAYER2"]
	size := 0
	for _, b := range s.blobs {
		if b.digest == s.vars["AMD64_LAYER2"] {
			size = len(b.data)
		}
	}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == bad {
			w.Write(make([]byte, size))
			return
		}
		http.Redirect(w, r, reg.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer front.Close()
	for _, args := range [][]string{
		{strings.TrimPrefix(front.URL, "http://") + "/lib/pause:3.10", "out"},
		{"-platform", "linux/amd64", strings.TrimPrefix(front.URL, "http://") + "/lib/pause:3.10", "out"},
	} {
		p, err := parseCranePull(args)
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.pull(filepath.Join(t.TempDir(), "out"))
		if err == nil || !strings.Contains(err.Error(), "error verifying sha256 checksum") {
			t.Errorf("cranepull %q: %v, want a checksum error\n%s", args, err, out)
		}
	}
}
