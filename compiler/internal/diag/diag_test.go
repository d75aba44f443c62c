package diag

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

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

// hostile holds each character a terminal would act on that tests feed
// through regedge's output: ESC (with a colour change), NUL, CR, BEL,
// U+202E (right-to-left override), DEL and a byte that is not UTF-8.
const hostile = "a\x1b[31mb\x00c\rd\ae\u202ef\x7fg\xffh"

func TestPrintable(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{hostile, `a\x1b[31mb\x00c\rd\ae\u202ef\x7fg\xffh`},
		{"plain text, \"quoted\", back\\slash and é→ü", "plain text, \"quoted\", back\\slash and é→ü"},
		{"tab\tand\nnewline", `tab\tand\nnewline`},
		{"\uFFFD is a character", "\uFFFD is a character"},
		{"", ""},
	} {
		if got := Printable(c.in); got != c.want {
			t.Errorf("Printable(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestWriteEscapes shows every part of a diagnostic a feed or file name
// can fill (the summary, the file name, the block it is in, the source
// line and the detail) without a byte a terminal would act on, and keeps
// the carets under the offending text.
func TestWriteEscapes(t *testing.T) {
	src := []byte("site \"s\x1b\" {\n  url = \"" + hostile + "\" # x\n}\n")
	parser := hclparse.NewParser()
	parser.ParseHCL(src, "p\x07.hcl") // the file, for the block the range is in
	start := strings.Index(string(src), hostile)
	r := hcl.Range{Filename: "p\x07.hcl",
		Start: hcl.Pos{Line: 2, Column: 10, Byte: start},
		End:   hcl.Pos{Line: 2, Column: 10 + utf8.RuneCountInString(hostile), Byte: start + len(hostile)}}
	var out strings.Builder
	Write(&out, parser.Files(), hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Bad \x1b[2J value",
		Detail: "The value " + hostile + " is bad.\nA second line\r.", Subject: &r}})
	want := `Error: Bad \x1b[2J value

  on p\a.hcl:2:10, in site "s\x1b":
   2:   url = "a\x1b[31mb\x00c\rd\ae\u202ef\x7fg\xffh" # x
               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^

The value a\x1b[31mb\x00c\rd\ae\u202ef\x7fg\xffh is bad.
A second line\r.

`
	if got := out.String(); got != want {
		t.Errorf("Write gave:\n%s\nwant:\n%s", got, want)
	}
}

// TestWriteClipsEscapedLines clips a long line by the width it is shown
// at: a line of NUL bytes (as /dev/zero gives) shows as many characters
// as a plain one.
func TestWriteClipsEscapedLines(t *testing.T) {
	src := []byte(strings.Repeat("\x00", 1000))
	r := hcl.Range{Filename: "zero", Start: hcl.Pos{Line: 1, Column: 501, Byte: 500}, End: hcl.Pos{Line: 1, Column: 502, Byte: 501}}
	var out strings.Builder
	Write(&out, map[string]*hcl.File{"zero": {Bytes: src}}, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "S", Subject: &r}})
	lines := strings.Split(out.String(), "\n")
	shown, marks := lines[3], lines[4]
	body := strings.TrimSuffix(strings.TrimPrefix(shown, "   1: ..."), "...")
	if len(body) > maxShown || len(body) < maxShown-len(`\x00`) || strings.Trim(body, `\x0`) != "" {
		t.Errorf("shows %d characters %q, want about %d of \\x00", len(body), body, maxShown)
	}
	if at := strings.Index(marks, "^"); shown[at:at+4] != `\x00` || strings.Count(marks, "^") != 4 {
		t.Errorf("carets %q not under one \\x00 of %q", marks, shown)
	}
}

// TestJSONEscapes writes each character a terminal would act on as a JSON
// escape, and the report reads back with the text as it was (but the
// invalid byte, which encoding/json makes U+FFFD).
func TestJSONEscapes(t *testing.T) {
	src := "x = \"" + hostile + "\u200f\U000e0001\"\n"
	r := hcl.Range{Filename: "p.hcl", Start: hcl.Pos{Line: 1, Column: 5, Byte: 4}, End: hcl.Pos{Line: 1, Column: 6, Byte: 5}}
	out := JSON(map[string]*hcl.File{"p.hcl": {Bytes: []byte(src)}}, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "S\x7f", Detail: "D\u202e", Subject: &r}}).MarshalIndent()
	if got := Printable(string(out)); got != strings.ReplaceAll(string(out), "\n", `\n`) {
		t.Errorf("the JSON holds characters a terminal acts on:\n%s", got)
	}
	var back Report
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	d := back.Diagnostics[0]
	if want := strings.ReplaceAll(strings.TrimSuffix(src, "\n"), "\xff", "\uFFFD"); d.Snippet.Code != want || d.Summary != "S\x7f" || d.Detail != "D\u202e" {
		t.Errorf("read back %q, %q, %q; want %q", d.Summary, d.Detail, d.Snippet.Code, want)
	}
}

// TestWriteCapsRepeats: past maxOfAKind problems of one summary, Write prints
// one paragraph with their number and the first one's place; other
// summaries, and warnings of the same summary, are counted apart.
func TestWriteCapsRepeats(t *testing.T) {
	var src strings.Builder
	for i := range 30 {
		fmt.Fprintf(&src, "l%d = 1\n", i)
	}
	file := &hcl.File{Bytes: []byte(src.String())}
	var diags hcl.Diagnostics
	for i := range 30 {
		r := hcl.Range{Filename: "p.hcl", Start: hcl.Pos{Line: i + 1, Column: 1, Byte: 0}, End: hcl.Pos{Line: i + 1, Column: 3, Byte: 2}}
		r.Start.Byte = strings.Index(src.String(), fmt.Sprintf("l%d =", i))
		r.End.Byte = r.Start.Byte + 2
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Circular local value", Subject: r.Ptr()})
	}
	diags = append(diags,
		&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Other", Subject: diags[29].Subject},
		&hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Circular local value", Subject: diags[29].Subject})
	var out strings.Builder
	if err := Write(&out, map[string]*hcl.File{"p.hcl": file}, diags); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if n := strings.Count(got, "Error: Circular local value\n"); n != maxOfAKind {
		t.Errorf("%d circular locals shown in full, want %d", n, maxOfAKind)
	}
	if n := strings.Count(got, "Error: Other\n"); n != 1 {
		t.Errorf("the other problem is shown %d times, want once", n)
	}
	if n := strings.Count(got, "Warning: Circular local value\n"); n != 1 {
		t.Errorf("the warning of the same summary is shown %d times, want once", n)
	}
	want := `Error: 10 more like "Circular local value"

  on p.hcl:21:1:
  21: l20 = 1
      ^^

10 more problems of this kind follow the 20 shown; the first of them is here.
Fix those shown and run again.

`
	if !strings.HasSuffix(got, want) {
		t.Errorf("output ends:\n%s\nwant:\n%s", got[max(0, len(got)-len(want)-100):], want)
	}
}

func TestPrintableText(t *testing.T) {
	in := "line 1:\tok\nline 2: \u202e\x1b[31m\xff"
	want := "line 1:\tok\nline 2: \\u202e\\x1b[31m\\xff"
	if got := PrintableText(in); got != want {
		t.Errorf("PrintableText(%q) = %q, want %q", in, got, want)
	}
	// serve puts every log value through it: one with nothing to escape
	// is returned as it is.
	plain := "/v2/pause/blobs/sha256:0123\n\tok"
	if n := testing.AllocsPerRun(100, func() { PrintableText(plain) }); n != 0 {
		t.Errorf("PrintableText of a plain value allocates %v times, want 0", n)
	}
}
