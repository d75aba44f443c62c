package feedupdate

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/regedge/regedge/compiler/internal/config"
)

// sharedFeeds holds real AWS and GCP snapshots from April and July 2026.
const sharedFeeds = "../../../policy/snapshots"

// copyFile copies src to dst, creating dst's folder.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestShippedPolicyRealFeeds updates the April snapshots of the shipped
// policy's feeds to July's, served on loopback with ETags, through an
// override that points each feed's url and file away from the real hosts
// and the shipped snapshots.
func TestShippedPolicyRealFeeds(t *testing.T) {
	shared, err := filepath.Abs(sharedFeeds)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := map[string]string{
			"/aws.json":       "2026-07/aws-ip-ranges.json",
			"/gcp.json":       "2026-07/gcp-cloud.json",
			"/aws-april.json": "2026-04/aws-ip-ranges.json",
		}[r.URL.Path]
		f, err := os.Open(filepath.Join(shared, name))
		if name == "" || err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		w.Header().Set("ETag", `"`+name+`"`)
		http.ServeContent(w, r, "", time.Time{}, f)
	}))
	defer srv.Close()

	dir := t.TempDir()
	copyFile(t, filepath.Join(shared, "2026-04", "aws-ip-ranges.json"), filepath.Join(dir, "feeds", "aws.json"))
	copyFile(t, filepath.Join(shared, "2026-04", "gcp-cloud.json"), filepath.Join(dir, "feeds", "gcp.json"))
	override := filepath.Join(dir, "override.hcl")
	err = os.WriteFile(override, fmt.Appendf(nil, `
feed "aws" {
  url  = "%[1]s/aws.json"
  file = "feeds/aws.json"
}
feed "gcp" {
  url  = "%[1]s/gcp.json"
  file = "feeds/gcp.json"
}
`, srv.URL), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	policies, diags := config.NewLoader(config.Disk{}).Load("../../../policy/registry.k8s.io.hcl", override)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	fs, err := FromPolicies(policies)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if !strings.HasPrefix(f.URL, srv.URL) || !strings.HasPrefix(f.File, dir) {
			t.Fatalf("feed %s is not overridden: %s from %s", f.Name, f.File, f.URL)
		}
	}

	run := func(want ...string) {
		t.Helper()
		var got []string
		for _, r := range (&Updater{}).UpdateAll(context.Background(), fs) {
			got = append(got, r.String())
		}
		if !slices.Equal(got, want) {
			t.Errorf("results:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	run("aws: updated 1777433824 → 1785313625 (16424 prefixes)",
		"gcp: updated 1777428430858 → 1785333953849 (1047 prefixes)")
	for _, name := range []string{"aws-ip-ranges.json", "gcp-cloud.json"} {
		want, _ := os.ReadFile(filepath.Join(shared, "2026-07", name))
		got, _ := os.ReadFile(filepath.Join(dir, "feeds", name[:3]+".json"))
		if string(got) != string(want) {
			t.Errorf("%s is not July's", name[:3]+".json")
		}
	}
	run("aws: unchanged (304)", "gcp: unchanged (304)")

	// Going back to April is refused, and July's snapshot stays.
	july := mustRead(t, fs[0].File)
	fs = []Feed{fs[0]}
	fs[0].URL = srv.URL + "/aws-april.json"
	run("aws: kept: the download's syncToken 1777433824 is older than the snapshot's 1785313625")
	checkFile(t, fs[0].File, july)
}

func mustRead(t *testing.T, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
