package diag

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// at returns a range in file starting at byte off on line 1.
func at(file string, off int) *hcl.Range {
	return &hcl.Range{
		Filename: file,
		Start:    hcl.Pos{Line: 1, Column: off + 1, Byte: off},
		End:      hcl.Pos{Line: 1, Column: off + 2, Byte: off + 1},
	}
}

func diagsString(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		where := "-"
		if d.Subject != nil {
			where = fmt.Sprintf("%s@%d", d.Subject.Filename, d.Subject.Start.Byte)
		}
		fmt.Fprintf(&b, "%s %s %s\n", sev, where, d.Summary)
	}
	return b.String()
}

func TestSort(t *testing.T) {
	diags := hcl.Diagnostics{
		{Severity: hcl.DiagError, Summary: "e b.hcl 5", Subject: at("b.hcl", 5)},
		{Severity: hcl.DiagWarning, Summary: "w b.hcl 1", Subject: at("b.hcl", 1)},
		{Severity: hcl.DiagError, Summary: "e a.hcl 20 z", Subject: at("a.hcl", 20)},
		{Severity: hcl.DiagError, Summary: "e a.hcl 20 a", Subject: at("a.hcl", 20)},
		{Severity: hcl.DiagError, Summary: "e no subject"},
		{Severity: hcl.DiagWarning, Summary: "w a.hcl 9", Subject: at("a.hcl", 9)},
		{Severity: hcl.DiagError, Summary: "e a.hcl 3", Subject: at("a.hcl", 3)},
		{Severity: hcl.DiagWarning, Summary: "w a.hcl 100", Subject: at("a.hcl", 100)},
		{Severity: hcl.DiagWarning, Summary: "w no subject"},
	}
	Sort(diags)
	want := `warning - w no subject
warning a.hcl@9 w a.hcl 9
warning a.hcl@100 w a.hcl 100
warning b.hcl@1 w b.hcl 1
error - e no subject
error a.hcl@3 e a.hcl 3
error a.hcl@20 e a.hcl 20 a
error a.hcl@20 e a.hcl 20 z
error b.hcl@5 e b.hcl 5
`
	if got := diagsString(diags); got != want {
		t.Errorf("Sort gave:\n%s\nwant:\n%s", got, want)
	}
}

// TestSortStable checks that diagnostics equal in every key keep their order.
func TestSortStable(t *testing.T) {
	diags := hcl.Diagnostics{
		{Severity: hcl.DiagError, Summary: "same", Detail: "first", Subject: at("a.hcl", 1)},
		{Severity: hcl.DiagWarning, Summary: "w", Subject: at("a.hcl", 1)},
		{Severity: hcl.DiagError, Summary: "same", Detail: "second", Subject: at("a.hcl", 1)},
	}
	Sort(diags)
	var got []string
	for _, d := range diags {
		got = append(got, d.Summary+"/"+d.Detail)
	}
	if g, w := strings.Join(got, ","), "w/,same/first,same/second"; g != w {
		t.Errorf("Sort gave %s, want %s", g, w)
	}
}

func TestWrite(t *testing.T) {
	src := []byte(`feed "aws" {
  format = "awz"
}

route "all" {
  kinds = ["any"]
}
`)
	parser := hclparse.NewParser()
	if _, d := parser.ParseHCL(src, "policy.hcl"); d.HasErrors() {
		t.Fatal(d)
	}
	formatRange := span(src, `"awz"`, 2, 12)
	routeRange := span(src, `route "all"`, 5, 1)
	diags := hcl.Diagnostics{
		{Severity: hcl.DiagError, Summary: "Unknown feed format",
			Detail: `The format "awz" is not one of "aws", "azure", "gcp", "oracle". Did you mean "aws"?`, Subject: &formatRange},
		{Severity: hcl.DiagWarning, Summary: "Route never matches",
			Detail: `Earlier routes handle every request route "all" could match; remove it or move it up.`, Subject: &routeRange},
		{Severity: hcl.DiagError, Summary: "Cannot read policy file", Detail: "open nowhere.hcl: no such file or directory."},
	}
	var out strings.Builder
	if err := Write(&out, parser.Files(), diags); err != nil {
		t.Fatal(err)
	}
	want := `Warning: Route never matches

  on policy.hcl:5:1, in route "all":
   5: route "all" {
      ^^^^^^^^^^^

Earlier routes handle every request route "all" could match; remove it or move
it up.

Error: Cannot read policy file

open nowhere.hcl: no such file or directory.

Error: Unknown feed format

  on policy.hcl:2:12, in feed "aws":
   2:   format = "awz"
                 ^^^^^

The format "awz" is not one of "aws", "azure", "gcp", "oracle". Did you mean
"aws"?

`
	if got := out.String(); got != want {
		t.Errorf("Write gave:\n%s\nwant:\n%s", got, want)
	}
	// Write sorts its argument in place.
	if got, want := diags[0].Summary, "Route never matches"; got != want {
		t.Errorf("after Write, diags[0] is %q, want %q", got, want)
	}
}

// span returns the range of the first occurrence of text in src, which
// starts at the given line and column.
func span(src []byte, text string, line, col int) hcl.Range {
	off := strings.Index(string(src), text)
	return hcl.Range{
		Filename: "policy.hcl",
		Start:    hcl.Pos{Line: line, Column: col, Byte: off},
		End:      hcl.Pos{Line: line, Column: col + len(text), Byte: off + len(text)},
	}
}

func TestAppendNew(t *testing.T) {
	a := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "S", Detail: "D", Subject: at("a.hcl", 1)}
	sameAsA := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "S", Detail: "D", Subject: at("a.hcl", 1)}
	otherSummary := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "S2", Detail: "D", Subject: at("a.hcl", 1)}
	otherDetail := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "S", Detail: "D2", Subject: at("a.hcl", 1)}
	otherFile := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "S", Detail: "D", Subject: at("b.hcl", 1)}
	otherPlace := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "S", Detail: "D", Subject: at("a.hcl", 2)}
	noSubject := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "S", Detail: "D"}
	noSubjectAgain := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "S", Detail: "D"}

	tests := []struct {
		name string
		have hcl.Diagnostics
		more []*hcl.Diagnostic
		want hcl.Diagnostics
	}{
		{"into empty", nil, []*hcl.Diagnostic{a}, hcl.Diagnostics{a}},
		{"nothing more", hcl.Diagnostics{a}, nil, hcl.Diagnostics{a}},
		{"identical dropped", hcl.Diagnostics{a}, []*hcl.Diagnostic{sameAsA}, hcl.Diagnostics{a}},
		{"duplicates within more dropped", nil, []*hcl.Diagnostic{a, sameAsA, a}, hcl.Diagnostics{a}},
		{"different ones kept in order", hcl.Diagnostics{a},
			[]*hcl.Diagnostic{otherSummary, sameAsA, otherDetail, otherFile, otherPlace, noSubject, noSubjectAgain},
			hcl.Diagnostics{a, otherSummary, otherDetail, otherFile, otherPlace, noSubject}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendNew(tt.have, tt.more...)
			if len(got) != len(tt.want) {
				t.Fatalf("AppendNew gave %d diagnostics:\n%s\nwant %d:\n%s", len(got), diagsString(got), len(tt.want), diagsString(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("diagnostic %d is %+v, want %+v", i, *got[i], *tt.want[i])
				}
			}
		})
	}
}

// TestWriteClipsLongLines shows a window of a long line around the
// offending text, with an ellipsis for each end cut off, and keeps the
// carets under it.
func TestWriteClipsLongLines(t *testing.T) {
	src := []byte(`{"a": "` + strings.Repeat("x", 1000) + `", "bad": 12, "b": "` + strings.Repeat("y", 1000) + `"}`)
	off := strings.Index(string(src), "12")
	r := hcl.Range{Filename: "feed.json",
		Start: hcl.Pos{Line: 1, Column: off + 1, Byte: off},
		End:   hcl.Pos{Line: 1, Column: off + 3, Byte: off + 2}}
	files := map[string]*hcl.File{"feed.json": {Bytes: src}}
	var out strings.Builder
	if err := Write(&out, files, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Wrong JSON type", Subject: &r}}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	shown, marks := lines[3], lines[4]
	if !strings.HasPrefix(shown, "   1: ...") || !strings.HasSuffix(shown, "...") {
		t.Errorf("line not clipped at both ends: %q", shown)
	}
	if n := len(shown) - len("   1: ") - 2*len(ellipsis); n != maxShown {
		t.Errorf("shows %d characters, want %d", n, maxShown)
	}
	at := strings.Index(marks, "^")
	if got := shown[at : at+2]; got != "12" || strings.Count(marks, "^") != 2 {
		t.Errorf("carets under %q (%q)", got, marks)
	}
}

// TestWriteLineEnds shows the last line of a file without a final newline,
// the first of a file, and a short line whole.
func TestWriteLineEnds(t *testing.T) {
	src := []byte("first\r\nsecond\nlast")
	files := map[string]*hcl.File{"f": {Bytes: src}}
	var diags hcl.Diagnostics
	for line, off := range map[int]int{1: 0, 2: 7, 3: 14} {
		r := hcl.Range{Filename: "f", Start: hcl.Pos{Line: line, Column: 1, Byte: off}, End: hcl.Pos{Line: line, Column: 2, Byte: off + 1}}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "S", Subject: &r})
	}
	var out strings.Builder
	Write(&out, files, diags)
	for _, want := range []string{"   1: first\n", "   2: second\n", "   3: last\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// BenchmarkWriteManyDiagnostics writes 10,000 diagnostics into one large
// file: each costs its own line, not the file.
func BenchmarkWriteManyDiagnostics(b *testing.B) {
	var src strings.Builder
	for i := 0; i < 10_000; i++ {
		fmt.Fprintf(&src, "{\"ip_prefix\": %d},\n", i)
	}
	files := map[string]*hcl.File{"feed.json": {Bytes: []byte(src.String())}}
	var diags hcl.Diagnostics
	for i := 0; i < 10_000; i++ {
		r := hcl.Range{Filename: "feed.json", Start: hcl.Pos{Line: i + 1, Column: 15}, End: hcl.Pos{Line: i + 1, Column: 16}}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Wrong JSON type", Subject: &r})
	}
	for b.Loop() {
		Write(io.Discard, files, diags)
	}
}
