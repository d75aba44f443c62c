package report

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/regedge/regedge/compiler/internal/render"
	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

func testPlan() *plan.Plan {
	actions := func(site string) []plan.Action {
		var a []plan.Action
		for _, k := range request.Kinds {
			act := plan.Action{Kind: k, Route: "r", Upstream: "main"}
			if k == request.KindBlob {
				act.Site = site
			}
			a = append(a, act)
		}
		return a
	}
	return &plan.Plan{
		Labels: []plan.Label{
			{Name: "cdn", Classes: []string{"aws:GLOBAL", "unknown"}, Actions: actions("cdn")},
			{Name: "east", Classes: []string{"aws:us-east-1"}, Actions: actions("east")},
			{Name: "upstream-main", Classes: []string{"gcp:us-central1"}, Actions: actions("")},
		},
		Default: 0,
		V4: []plan.Interval{
			{First: netip.MustParseAddr("10.0.0.0"), Last: netip.MustParseAddr("10.0.1.255"), Label: 1},
			{First: netip.MustParseAddr("10.0.3.0"), Last: netip.MustParseAddr("10.0.3.0"), Label: 1},
			{First: netip.MustParseAddr("10.1.0.0"), Last: netip.MustParseAddr("10.1.255.255"), Label: 2},
		},
		V6: []plan.Interval{
			{First: netip.MustParseAddr("2001:db8::"), Last: netip.MustParseAddr("2001:db8:0:ffff:ffff:ffff:ffff:ffff"), Label: 1},
		},
		Check: &plan.Check{},
		Edges: []plan.Edge{{Name: "haproxy"}, {Name: "varnish", Check: true}},
	}
}

func TestWrite(t *testing.T) {
	files := []render.File{{Path: "plan.json", Data: make([]byte, 1234)}, {Path: "nginx/geo.conf", Data: make([]byte, 10), Entries: 4}}
	warn := &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Route never matches", Detail: "Remove it.",
		Subject: &hcl.Range{Filename: "p.hcl", Start: hcl.Pos{Line: 3, Column: 1}}}
	got := string(Write([]*plan.Plan{testPlan()}, files, hcl.Diagnostics{warn}))
	for _, want := range []string{
		"| site cdn, else upstream main | aws:GLOBAL, unknown, and every address no feed lists | the rest | the rest |\n",
		"| site east, else upstream main | aws:us-east-1 | 513 | 65,536 |\n",
		"| upstream main | gcp:us-central1 | 65,536 | 0 |\n",
		"| `plan.json` | 1,234 | - |\n| `nginx/geo.conf` | 10 | 4 |\n",
		"Not checking whether a site holds a blob before redirecting to it: haproxy.",
		"- **Route never matches** (p.hcl:3:1): Remove it.\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
}

func TestDeploymentFiles(t *testing.T) {
	p := testPlan()
	p.Deployment = "eu"
	files := []render.File{{Path: "eu/plan.json", Data: []byte("x")}, {Path: "us/plan.json", Data: []byte("y")}}
	got := string(Write([]*plan.Plan{p}, files, nil))
	if !strings.Contains(got, "## Sites of deployment eu") || !strings.Contains(got, "`eu/plan.json`") || strings.Contains(got, "us/plan.json") {
		t.Errorf("report:\n%s", got)
	}
	if !strings.Contains(got, "## Warnings\n\nNone.\n") {
		t.Errorf("report without warnings:\n%s", got)
	}
}
