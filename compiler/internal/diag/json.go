package diag

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcled"
)

// Report is the diagnostics of one run in the shape of `terraform
// validate -json`, for tools: whether the run is valid, the counts, and
// every diagnostic with its range and source line.
type Report struct {
	FormatVersion string       `json:"format_version"`
	Valid         bool         `json:"valid"`
	ErrorCount    int          `json:"error_count"`
	WarningCount  int          `json:"warning_count"`
	Diagnostics   []Diagnostic `json:"diagnostics"`
}

// Diagnostic is one problem. Range and Snippet are absent when it points
// at no file.
type Diagnostic struct {
	Severity string   `json:"severity"`
	Summary  string   `json:"summary"`
	Detail   string   `json:"detail"`
	Range    *Range   `json:"range,omitempty"`
	Snippet  *Snippet `json:"snippet,omitempty"`
}

// Range is where a diagnostic points, lines and columns counted from 1.
type Range struct {
	Filename string `json:"filename"`
	Start    Pos    `json:"start"`
	End      Pos    `json:"end"`
}

// Pos is a position in a file.
type Pos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// Snippet is the source line a diagnostic points into, with the block it
// is in and, as byte offsets into Code, the text it underlines.
type Snippet struct {
	Context              *string `json:"context"`
	Code                 string  `json:"code"`
	StartLine            int     `json:"start_line"`
	HighlightStartOffset int     `json:"highlight_start_offset"`
	HighlightEndOffset   int     `json:"highlight_end_offset"`
}

// JSON returns the diagnostics, sorted as Write sorts them, as a Report.
func JSON(files map[string]*hcl.File, diags hcl.Diagnostics) Report {
	Sort(diags)
	r := Report{FormatVersion: "1.0", Valid: !diags.HasErrors(), Diagnostics: []Diagnostic{}}
	lines := map[*hcl.File][]int{}
	for _, d := range diags {
		jd := Diagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			jd.Severity = "warning"
			r.WarningCount++
		} else {
			r.ErrorCount++
		}
		if s := d.Subject; s != nil {
			jd.Range = &Range{Filename: s.Filename,
				Start: Pos{Line: s.Start.Line, Column: s.Start.Column, Byte: s.Start.Byte},
				End:   Pos{Line: s.End.Line, Column: s.End.Column, Byte: s.End.Byte}}
			jd.Snippet = snippet(files[s.Filename], lines, *s)
		}
		r.Diagnostics = append(r.Diagnostics, jd)
	}
	return r
}

// snippet is the line a range starts on, or nil when the file is unknown.
func snippet(file *hcl.File, lines map[*hcl.File][]int, r hcl.Range) *Snippet {
	if file == nil {
		return nil
	}
	if lines[file] == nil {
		lines[file] = lineStarts(file.Bytes)
	}
	code, ok := sourceLine(file, lines[file], r.Start.Line)
	if !ok {
		return nil
	}
	start := r.Start.Byte - lines[file][r.Start.Line-1]
	end := len(code)
	if r.End.Line == r.Start.Line {
		end = r.End.Byte - lines[file][r.Start.Line-1]
	}
	s := &Snippet{Code: code, StartLine: r.Start.Line,
		HighlightStartOffset: min(max(start, 0), len(code)), HighlightEndOffset: min(max(end, start), len(code))}
	if c := hcled.ContextString(file, r.Start.Byte); c != "" {
		s.Context = &c
	}
	return s
}

// MarshalIndent is the report as indented JSON, ending in a newline. A
// character a terminal would act on is written as a JSON escape, which
// reads back as the same character: encoding/json leaves DEL and U+202E
// as they are.
func (r Report) MarshalIndent() []byte {
	out, _ := json.MarshalIndent(r, "", "  ")
	return append(escapeJSON(out), '\n')
}

// escapeJSON writes each character of JSON text that Printable would
// escape as \uXXXX. Outside strings, MarshalIndent writes only printable
// characters, newlines and spaces, so each such character is in a string.
func escapeJSON(text []byte) []byte {
	var out []byte
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRune(text[i:])
		if r == '\n' || plain(r, n) {
			out = append(out, text[i:i+n]...)
		} else {
			for _, u := range utf16.AppendRune(nil, r) {
				out = fmt.Appendf(out, `\u%04x`, u)
			}
		}
		i += n
	}
	return out
}

// Errorf is an error that points at no file, such as a target that cannot
// be rendered.
func Errorf(summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: strings.TrimSpace(detail)}
}
