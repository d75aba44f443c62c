// Package diag orders and prints diagnostics the way Terraform does:
// warnings first, then by file and position, so output is stable enough to
// compare with golden files. Unlike hcl's own writer it names the column and
// underlines the offending text, so it needs no colour to point.
package diag

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcled"
	"github.com/mitchellh/go-wordwrap"
)

// Sort orders diagnostics: warnings before errors, then by file, line,
// column and summary.
func Sort(diags hcl.Diagnostics) {
	slices.SortStableFunc(diags, func(a, b *hcl.Diagnostic) int {
		if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
			return c
		}
		ar, br := subject(a), subject(b)
		if c := cmp.Compare(ar.Filename, br.Filename); c != 0 {
			return c
		}
		if c := cmp.Compare(ar.Start.Byte, br.Start.Byte); c != 0 {
			return c
		}
		return cmp.Compare(a.Summary, b.Summary)
	})
}

func subject(d *hcl.Diagnostic) hcl.Range {
	if d.Subject == nil {
		return hcl.Range{}
	}
	return *d.Subject
}

// maxOfAKind is how many problems of one kind (severity and summary) Write
// prints in full. A thousand routes that never match, or a cycle through a
// thousand locals, then take one more paragraph, not a thousand.
const maxOfAKind = 20

// Write sorts diagnostics and prints each with its file:line:col, the
// source line with the offending text underlined, and its detail wrapped at
// 78 columns. Past maxOfAKind of one kind, it prints how many more there are
// and where the first of them is.
func Write(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics) error {
	Sort(diags)
	type kind struct {
		severity hcl.DiagnosticSeverity
		summary  string
	}
	count := map[kind]int{}
	var hidden []*hcl.Diagnostic
	var b strings.Builder
	lines := map[*hcl.File][]int{}
	for _, d := range diags {
		k := kind{d.Severity, d.Summary}
		if count[k]++; count[k] <= maxOfAKind {
			writeOne(&b, files, lines, d)
		} else if count[k] == maxOfAKind+1 {
			hidden = append(hidden, d)
		}
	}
	for _, d := range hidden {
		more := count[kind{d.Severity, d.Summary}] - maxOfAKind
		writeOne(&b, files, lines, &hcl.Diagnostic{
			Severity: d.Severity,
			Summary:  fmt.Sprintf("%d more like %q", more, d.Summary),
			Detail:   fmt.Sprintf("%d more problems of this kind follow the %d shown; the first of them is here. Fix those shown and run again.", more, maxOfAKind),
			Subject:  d.Subject,
		})
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeOne(b *strings.Builder, files map[string]*hcl.File, lines map[*hcl.File][]int, d *hcl.Diagnostic) {
	severity := "Error"
	if d.Severity == hcl.DiagWarning {
		severity = "Warning"
	}
	fmt.Fprintf(b, "%s: %s\n\n", severity, Printable(d.Summary))
	if r := d.Subject; r != nil {
		file := files[r.Filename]
		context := ""
		if file != nil {
			if c := hcled.ContextString(file, r.Start.Byte); c != "" {
				context = ", in " + Printable(c)
			}
		}
		fmt.Fprintf(b, "  on %s:%d:%d%s:\n", Printable(r.Filename), r.Start.Line, r.Start.Column, context)
		if file != nil && lines[file] == nil {
			lines[file] = lineStarts(file.Bytes)
		}
		if line, ok := sourceLine(file, lines[file], r.Start.Line); ok {
			shown, marks := clip(line, *r)
			fmt.Fprintf(b, "%4d: %s\n", r.Start.Line, shown)
			fmt.Fprintf(b, "      %s\n", marks)
		}
		b.WriteString("\n")
	}
	if d.Detail != "" {
		fmt.Fprintf(b, "%s\n\n", wordwrap.WrapString(printableLines(d.Detail), 78))
	}
}

// printableLines is Printable for text of several lines.
func printableLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Printable(l)
	}
	return strings.Join(lines, "\n")
}

// lineStarts returns the offset at which each line of src starts.
func lineStarts(src []byte) []int {
	starts := []int{0}
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// sourceLine returns line n (1-based) of a file, without its newline.
func sourceLine(file *hcl.File, starts []int, n int) (string, bool) {
	if file == nil || n < 1 || n > len(starts) {
		return "", false
	}
	end := len(file.Bytes)
	if n < len(starts) {
		end = starts[n] - 1
	}
	return strings.TrimRight(string(file.Bytes[starts[n-1]:end]), "\r"), true
}

// A source line longer than maxShown characters is shown as a window that
// starts up to shownBefore characters before the offending text, with an
// ellipsis for each end cut off: a minified JSON feed is one line.
const (
	maxShown    = 200
	shownBefore = 60
	ellipsis    = "..."
)

// clip returns the part of line to show and the carets under the part of
// it that r covers (to the end of the line when r spans several), keeping
// tabs so they line up. A character a terminal would act on is shown as
// Printable shows it, and the carets under it are as wide.
func clip(line string, r hcl.Range) (string, string) {
	var pieces []string
	widths := []int{0} // widths[i] is how wide pieces[:i] are shown
	for i := 0; i < len(line); {
		c, n := utf8.DecodeRuneInString(line[i:])
		p := shown(c, n, line[i])
		if c == '\t' {
			p = "\t"
		}
		pieces = append(pieces, p)
		widths = append(widths, widths[len(widths)-1]+utf8.RuneCountInString(p))
		i += n
	}
	width := func(from, to int) int { return widths[to] - widths[from] }
	start := min(max(r.Start.Column-1, 0), len(pieces))
	end := len(pieces)
	if r.End.Line == r.Start.Line {
		end = min(max(r.End.Column-1, start+1), len(pieces))
	}
	from, to := 0, len(pieces)
	if width(from, to) > maxShown {
		from = start
		for from > 0 && width(from-1, start) <= shownBefore {
			from--
		}
		to = from
		for to < len(pieces) && width(from, to+1) <= maxShown {
			to++
		}
		for from > 0 && width(from-1, to) <= maxShown {
			from--
		}
	}
	var shownLine, marks strings.Builder
	if from > 0 {
		shownLine.WriteString(ellipsis)
		marks.WriteString(strings.Repeat(" ", len(ellipsis)))
	}
	shownLine.WriteString(strings.Join(pieces[from:to], ""))
	if to < len(pieces) {
		shownLine.WriteString(ellipsis)
	}
	for _, p := range pieces[from:start] {
		if p == "\t" {
			marks.WriteString(p)
		} else {
			marks.WriteString(strings.Repeat(" ", utf8.RuneCountInString(p)))
		}
	}
	marks.WriteString(strings.Repeat("^", max(width(start, min(end, to)), 1)))
	return shownLine.String(), marks.String()
}

// AppendNew appends the diagnostics not already in diags: a problem in the
// part of a policy that deployments share would otherwise be reported once
// per deployment.
func AppendNew(diags hcl.Diagnostics, more ...*hcl.Diagnostic) hcl.Diagnostics {
	type key struct {
		summary, detail string
		subject         hcl.Range
	}
	seen := make(map[key]bool, len(diags)+len(more))
	for _, d := range diags {
		seen[key{d.Summary, d.Detail, subject(d)}] = true
	}
	for _, d := range more {
		if k := (key{d.Summary, d.Detail, subject(d)}); !seen[k] {
			seen[k] = true
			diags = append(diags, d)
		}
	}
	return diags
}
