package proxy

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regedge/regedge/compiler/internal/compile"
	"github.com/regedge/regedge/compiler/internal/config"
	"github.com/regedge/regedge/compiler/plan"
)

// TestCacheBoundedUnderFlood sends a flood of random digests from one
// AWS client through the shipped policy, with a small existence cache: the
// cache never holds more than cache_size answers, every request gets a
// 307, and the metric reports the size.
func TestCacheBoundedUnderFlood(t *testing.T) {
	var heads atomic.Int64
	mirror := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		heads.Add(1)
		http.NotFound(w, r)
	}))
	defer mirror.Close()
	p := floodPlan(t, mirror.URL)
	m := NewMetrics()
	h := New(p, WithMetrics(m))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		path := fmt.Sprintf("/v2/pause/blobs/sha256:%016x%016x%016x%016x", rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64())
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("X-Forwarded-For", "52.216.0.5, 127.0.0.1")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusTemporaryRedirect || !strings.HasPrefix(w.Header().Get("Location"), "http://127.0.0.1:9/") {
			t.Fatalf("request %d: %d %s", i, w.Code, w.Header().Get("Location"))
		}
		if n := h.state.Load().checker.Len(); n > p.Check.CacheSize {
			t.Fatalf("after %d requests the cache holds %d answers, more than %d", i+1, n, p.Check.CacheSize)
		}
	}
	if heads.Load() != 2000 {
		t.Errorf("the mirror saw %d HEADs, want one per digest", heads.Load())
	}
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(w.Body)
	if want := fmt.Sprintf("regedge_existence_cache_entries %d\n", p.Check.CacheSize); !strings.Contains(string(body), want) {
		t.Errorf("metrics lack %q", want)
	}
}

func floodPlan(t *testing.T, mirror string) *plan.Plan {
	t.Helper()
	override := t.TempDir() + "/override.hcl"
	src := `upstream "artifact-registry" { endpoint = "http://127.0.0.1:9" }
site "s3" { url = "` + mirror + `/${each.key}" }
site "cloudfront" { url = "` + mirror + `" }
mirror {
  check { cache_size = 50 }
}
`
	if err := os.WriteFile(override, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	plans, diags := compile.Plans(config.NewLoader(config.Disk{}), "../../policy/registry.k8s.io.hcl", override)
	if plans == nil {
		t.Fatal(diags)
	}
	plans[0].Check.Timeout = plan.Duration(5 * time.Second)
	return plans[0]
}
