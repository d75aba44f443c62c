package fastlycheck

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/regedge/regedge/compiler/internal/plantest"
	"github.com/regedge/regedge/compiler/internal/render"
	"github.com/regedge/regedge/compiler/plan"
)

var update = flag.Bool("update", false, "rewrite testdata/*.vcl from the renderer (or set UPDATE_GOLDEN=1)")

// goldenPlan is plantest.Uneven whose labels default and other send blobs
// to two more sites, on one http host.
func goldenPlan() *plan.Plan {
	p := plantest.Uneven("https://east.example.com/m")
	p.Sites = append(p.Sites,
		plan.Site{Name: "west", URL: "http://127.0.0.1:8081/west", BlobPath: "/containers/images/{digest}"},
		plan.Site{Name: "west-2", URL: "http://127.0.0.1:8081/west2", BlobPath: "/containers/images/{digest}"})
	p.Labels[plantest.LabelDefault].Actions = plantest.Actions("default", "main", "west")
	p.Labels[plantest.LabelOther].Actions = plantest.Actions("other", "other", "west-2")
	return p
}

func TestGolden(t *testing.T) {
	peer := goldenPlan()
	peer.ClientIP, peer.Check = plan.ClientIP{}, nil
	for _, tc := range []struct {
		name string
		p    *plan.Plan
	}{
		{"header-check", goldenPlan()},
		{"peer-nocheck", peer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files, err := render.Fastly(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			got := files[0].Data
			if err := Check(got, tc.p); err != nil {
				t.Errorf("the check fails:\n%v", err)
			}
			path := filepath.Join("testdata", tc.name+".vcl")
			if *update || os.Getenv("UPDATE_GOLDEN") != "" {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("render.Fastly differs from %s; run go test ./compiler/internal/fastlycheck -update and review the diff", path)
			}
		})
	}
}
