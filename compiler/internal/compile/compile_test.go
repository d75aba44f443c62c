package compile

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/regedge/regedge/compiler/internal/config"
)

const shipped = "../../../policy/registry.k8s.io.hcl"

func TestShippedPolicy(t *testing.T) {
	plans, diags := Plans(config.NewLoader(config.Disk{}), shipped, "")
	if diags.HasErrors() || len(plans) != 1 {
		t.Fatalf("%d plans: %v", len(plans), diags)
	}
	src, err := os.ReadFile(shipped)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(append(append(src, 0), 0))
	if got := plans[0].PolicySHA256; got != hex.EncodeToString(sum[:]) {
		t.Errorf("PolicySHA256 = %s", got)
	}
	if len(plans[0].Feeds) != 2 || plans[0].Feeds[0].SyncToken != "1785313625" {
		t.Errorf("feeds = %+v", plans[0].Feeds)
	}
}

func TestOverrideChangesPolicyHash(t *testing.T) {
	override := filepath.Join(t.TempDir(), "override.hcl")
	if err := os.WriteFile(override, []byte(`upstream "artifact-registry" { endpoint = "http://127.0.0.1:9" }`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, _ := Plans(config.NewLoader(config.Disk{}), shipped, "")
	b, diags := Plans(config.NewLoader(config.Disk{}), shipped, override)
	if b == nil {
		t.Fatal(diags)
	}
	if a[0].PolicySHA256 == b[0].PolicySHA256 {
		t.Error("an override left the policy hash unchanged")
	}
	if b[0].Upstreams[0].Endpoint != "http://127.0.0.1:9" {
		t.Errorf("upstream = %+v", b[0].Upstreams[0])
	}
}

func TestMissingFeedFile(t *testing.T) {
	dir := t.TempDir()
	override := filepath.Join(dir, "override.hcl")
	if err := os.WriteFile(override, []byte(`feed "gcp" { file = "nowhere.json" }`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plans, diags := Plans(config.NewLoader(config.Disk{}), shipped, override)
	if plans != nil || len(diags) != 1 || diags[0].Summary != "Cannot read feed" {
		t.Fatalf("plans %v, diagnostics %v", plans, diags)
	}
}
