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

// Write sorts diagnostics and prints each with its file:line:col, the
// source line with the offending text underlined, and its detail wrapped at
// 78 columns.
func Write(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics) error {
	Sort(diags)
	var b strings.Builder
	for _, d := range diags {
		writeOne(&b, files, d)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeOne(b *strings.Builder, files map[string]*hcl.File, d *hcl.Diagnostic) {
	severity := "Error"
	if d.Severity == hcl.DiagWarning {
		severity = "Warning"
	}
	fmt.Fprintf(b, "%s: %s\n\n", severity, d.Summary)
	if r := d.Subject; r != nil {
		file := files[r.Filename]
		context := ""
		if file != nil {
			if c := hcled.ContextString(file, r.Start.Byte); c != "" {
				context = ", in " + c
			}
		}
		fmt.Fprintf(b, "  on %s:%d:%d%s:\n", r.Filename, r.Start.Line, r.Start.Column, context)
		if line, ok := sourceLine(file, r.Start.Line); ok {
			fmt.Fprintf(b, "%4d: %s\n", r.Start.Line, line)
			fmt.Fprintf(b, "      %s\n", underline(line, *r))
		}
		b.WriteString("\n")
	}
	if d.Detail != "" {
		fmt.Fprintf(b, "%s\n\n", wordwrap.WrapString(d.Detail, 78))
	}
}

// sourceLine returns line n (1-based) of a file, without its newline.
func sourceLine(file *hcl.File, n int) (string, bool) {
	if file == nil || n < 1 {
		return "", false
	}
	lines := strings.SplitN(string(file.Bytes), "\n", n+1)
	if len(lines) < n {
		return "", false
	}
	return strings.TrimRight(lines[n-1], "\r"), true
}

// underline returns carets under the part of line that r covers (to the
// end of the line when r spans several), keeping tabs so they line up.
func underline(line string, r hcl.Range) string {
	runes := []rune(line)
	start := min(max(r.Start.Column-1, 0), len(runes))
	end := len(runes)
	if r.End.Line == r.Start.Line {
		end = min(max(r.End.Column-1, start+1), len(runes))
	}
	var u strings.Builder
	for _, c := range runes[:start] {
		if c == '\t' {
			u.WriteRune('\t')
		} else {
			u.WriteRune(' ')
		}
	}
	u.WriteString(strings.Repeat("^", max(end-start, 1)))
	return u.String()
}

// AppendNew appends the diagnostics not already in diags: a problem in the
// part of a policy that deployments share would otherwise be reported once
// per deployment.
func AppendNew(diags hcl.Diagnostics, more ...*hcl.Diagnostic) hcl.Diagnostics {
	for _, d := range more {
		if !slices.ContainsFunc(diags, func(e *hcl.Diagnostic) bool {
			return e.Summary == d.Summary && e.Detail == d.Detail && subject(e) == subject(d)
		}) {
			diags = append(diags, d)
		}
	}
	return diags
}
