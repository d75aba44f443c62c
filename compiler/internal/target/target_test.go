package target

import (
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/regedge/regedge/compiler/internal/plantest"
)

// TestRenderWritesEveryTargetsFiles: Render writes plan.json and, for each
// target in the table's order, exactly the files its entry lists.
func TestRenderWritesEveryTargetsFiles(t *testing.T) {
	files, err := Render(plantest.Plan("https://east.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, f.Path)
	}
	want := []string{"plan.json"}
	for _, tgt := range All {
		for _, f := range tgt.Files {
			want = append(want, path.Join(tgt.Name, f))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("paths = %s\nwant    %s", strings.Join(got, " "), strings.Join(want, " "))
	}
	if !strings.Contains(string(files[0].Data), `"first": "10.0.0.0"`) {
		t.Errorf("plan.json lacks the interval:\n%s", files[0].Data)
	}
}

// TestTable: names are unique and sorted by Names; only the proxy renders
// nothing; an edge target's defaults are a valid client rule.
func TestTable(t *testing.T) {
	names := Names()
	if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(All) {
		t.Errorf("Names = %v: want every target once, sorted", names)
	}
	for _, tgt := range All {
		if (tgt.Render == nil) != (len(tgt.Files) == 0) {
			t.Errorf("%s: a renderer without files or files without a renderer", tgt.Name)
		}
		if e := tgt.Edge; e != nil && e.ClientIP == "" {
			t.Errorf("%s: no default client rule", tgt.Name)
		}
	}
	var edges []string
	for _, e := range Edges() {
		edges = append(edges, e.Name)
	}
	if want := []string{"fastly", "haproxy", "varnish", "worker"}; !slices.Equal(edges, want) {
		t.Errorf("Edges = %v, want %v", edges, want)
	}
}
