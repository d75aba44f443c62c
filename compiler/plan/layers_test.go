package plan_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/regedge/regedge/"

// TestLayers holds the package graph to docs/architecture.md: the plan is
// the hub, it and the request vocabulary know nothing of the policy
// language, and whatever serves or checks requests reads only the plan.
func TestLayers(t *testing.T) {
	tests := []struct {
		pkg string
		// ours lists every package of this module the package may depend
		// on; nil allows any but the forbidden ones.
		ours []string
	}{
		{"compiler/request", []string{}},
		{"compiler/plan", []string{"compiler/request"}},
		{"compiler/proxy", nil},
		{"compiler/internal/answer", nil},
		{"compiler/internal/render", nil},
		{"compiler/internal/verify", nil},
		{"compiler/internal/lookup", nil},
		{"compiler/internal/exists", nil},
	}
	forbidden := []string{"github.com/hashicorp/hcl", "github.com/zclconf/go-cty", module + "compiler/internal/config", module + "compiler/internal/compile"}
	for _, tt := range tests {
		out, err := exec.Command("go", "list", "-deps", module+tt.pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", tt.pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if strings.HasPrefix(dep, f) {
					t.Errorf("%s depends on %s", tt.pkg, dep)
				}
			}
			ours, ok := strings.CutPrefix(dep, module)
			if !ok || ours == tt.pkg || tt.ours == nil {
				continue
			}
			allowed := false
			for _, a := range tt.ours {
				allowed = allowed || ours == a
			}
			if !allowed {
				t.Errorf("%s depends on %s", tt.pkg, ours)
			}
		}
	}
}
