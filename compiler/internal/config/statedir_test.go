package config

import (
	"strings"
	"testing"
)

func TestStateDir(t *testing.T) {
	files := map[string]string{"policy.hcl": base + `site "cdn" { url = "https://cdn.example.com" }`}
	if got := mustLoad(t, files, "")[0].Nginx.StateDir; got != defaultStateDir {
		t.Errorf("default state_dir %q, want %q", got, defaultStateDir)
	}
	files["override.hcl"] = `nginx { state_dir = "/srv/regedge-1.2/nginx_state" }`
	if got := mustLoad(t, files, "override.hcl")[0].Nginx.StateDir; got != "/srv/regedge-1.2/nginx_state" {
		t.Errorf("state_dir %q, want the override's", got)
	}
	long := "/" + strings.Repeat("a", maxStateDir)
	for _, bad := range []string{
		"var/lib/regedge", "/", "/var/lib/", "/var//lib", "/var/../etc", "/var/./lib", "/var/.hidden",
		"/var/lib/x y", "/var/lib/x;", `/var/lib/x"`, "/var/lib/$x", "/var/lib/x{", "/var/lib/x\n", long,
	} {
		files["override.hcl"] = `nginx { state_dir = "` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "$", "$$").Replace(bad) + `" }`
		_, diags := load(t, files, "override.hcl")
		if got := summaries(diags); got != "Invalid state_dir@1:21" {
			t.Errorf("state_dir %q: diagnostics %q, want one Invalid state_dir", bad, got)
		}
	}
}
