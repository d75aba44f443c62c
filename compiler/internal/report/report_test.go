package report

import (
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"

	"github.com/regedge/regedge/compiler/internal/plantest"
	"github.com/regedge/regedge/compiler/internal/render"
	"github.com/regedge/regedge/compiler/plan"
)

func TestWrite(t *testing.T) {
	files := []render.File{{Path: "plan.json", Data: make([]byte, 1234)}, {Path: "nginx/geo.conf", Data: make([]byte, 10), Entries: 4}}
	warn := &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Route never matches", Detail: "Remove it.",
		Subject: &hcl.Range{Filename: "p.hcl", Start: hcl.Pos{Line: 3, Column: 1}}}
	// Two intervals of label east, one a single address; an IPv6 interval
	// of many /64s; a label of two classes; a target that does not check.
	p := plantest.Plan("https://east.example.com")
	p.V4 = append(p.V4, plan.Interval{First: netip.MustParseAddr("10.0.3.0"), Last: netip.MustParseAddr("10.0.3.0"), Label: plantest.LabelEast})
	p.V6[0].Last = netip.MustParseAddr("2001:db8:0:ffff:ffff:ffff:ffff:ffff")
	p.Labels[plantest.LabelDefault].Classes = []string{"aws:GLOBAL", "unknown"}
	p.Edges[plantest.EdgeHAProxy].Check = false
	got := string(Write([]*plan.Plan{p}, files, hcl.Diagnostics{warn}))
	for _, want := range []string{
		"| upstream main | aws:GLOBAL, unknown, and every address no feed lists | the rest | the rest |\n",
		"| site east, else upstream main | aws:east | 257 | 65,536 |\n",
		"| upstream other | aws:other | 256 | 0 |\n",
		"| `plan.json` | 1,234 | - |\n| `nginx/geo.conf` | 10 | 4 |\n",
		"Not checking whether a site holds a blob before redirecting to it: haproxy.",
		"- **Route never matches** (p.hcl:3:1): Remove it.\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
}

// TestWriteEscapes writes no control character, U+202E or invalid byte
// that a warning's file or text, or a plan's class, holds.
func TestWriteEscapes(t *testing.T) {
	const hostile = "\x1b[31m\x00\r\a\u202e\xff"
	warn := &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "S" + hostile, Detail: "D" + hostile,
		Subject: &hcl.Range{Filename: "p" + hostile + ".hcl", Start: hcl.Pos{Line: 3, Column: 1}}}
	p := plantest.Plan("https://east.example.com")
	p.Labels[plantest.LabelDefault].Classes = []string{"aws:r" + hostile}
	got := string(Write([]*plan.Plan{p}, nil, hcl.Diagnostics{warn}))
	const shown = `\x1b[31m\x00\r\a\u202e\xff`
	for _, want := range []string{
		"| upstream main | aws:r" + shown + ", and every address no feed lists |",
		"- **S" + shown + "** (p" + shown + ".hcl:3:1): D" + shown + "\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	if strings.ContainsAny(got, "\x1b\x00\r\a\u202e") || !utf8.ValidString(got) {
		t.Errorf("report holds a control character:\n%q", got)
	}
}

func TestDeploymentFiles(t *testing.T) {
	p := plantest.Plan("https://east.example.com")
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
