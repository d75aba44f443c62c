// Package render writes a plan out as each target's files, through the
// templates in templates/. Go computes every value; the templates only lay
// them out.
package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"

	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
	"github.com/regedge/regedge/templates"
)

// File is one generated file, its path relative to the output folder.
type File struct {
	Path string
	Data []byte
	// Entries counts the address-table entries the file holds, for
	// out/REPORT.md; 0 for files without a table.
	Entries int
}

// targets render one target each, from the plan as that target sees it.
var targets = []struct {
	name   string
	render func(*plan.Plan) ([]File, error)
}{
	{"nginx", Nginx},
	{"varnish", Varnish},
	{"fastly", Fastly},
	{"haproxy", HAProxy},
	{"worker", Worker},
}

// All renders the plan and every target.
func All(p *plan.Plan) ([]File, error) {
	planJSON, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	files := []File{{Path: "plan.json", Data: append(planJSON, '\n')}}
	for _, t := range targets {
		out, err := t.render(p.For(t.name))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		files = append(files, out...)
	}
	return files, nil
}

// grammar is the request grammar of docs/request-handling.md, which every
// target's template matches requests with.
type grammar struct {
	UnsafeRegex string
	// UnsafePathRegex is UnsafeRegex for the path alone, for nginx.
	UnsafePathRegex string
	SignatureRegex  string
	ManifestRegex   string
	TagsRegex       string
	ReferrersRegex  string
	BlobRegex       string
	// BadQueryRegex finds what rules 8 and 9 must not copy from a query.
	BadQueryRegex string
	MaxName       int
	MaxPath       int
	MaxQuery      int
}

// requestGrammar is package request's grammar, the one every target uses.
var requestGrammar = grammar{
	UnsafeRegex:     request.Unsafe,
	UnsafePathRegex: request.UnsafeInPath,
	SignatureRegex:  request.SignaturePattern,
	ManifestRegex:   request.ManifestPattern,
	TagsRegex:       request.TagsPattern,
	ReferrersRegex:  request.ReferrersPattern,
	BlobRegex:       request.BlobPattern,
	BadQueryRegex:   request.BadQuery,
	MaxName:         request.MaxName,
	MaxPath:         request.MaxPath,
	MaxQuery:        request.MaxQuery,
}

var funcs = template.FuncMap{
	"inc":          func(n int) int { return n + 1 },
	"quote":        quote,
	"quoteRegex":   quoteRegex,
	"jsRegex":      jsRegex,
	"fastlyString": fastlyString,
	"quoteHAProxy": quoteHAProxy,
}

// execute renders one template with missing keys treated as errors.
func execute(name string, data any) ([]byte, error) {
	t, err := template.New(name[strings.LastIndex(name, "/")+1:]).
		Option("missingkey=error").Funcs(funcs).ParseFS(templates.FS, name)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// quote returns s as a double-quoted config string, so that user-supplied
// characters cannot end the directive. Validation already limits policy
// strings to a safe grammar; quote refuses anything outside it rather than
// escape it, because nginx and VCL expand "$" and "\" inside quotes.
func quote(s string) (string, error) {
	for _, r := range s {
		if r < 0x21 || r > 0x7e || strings.ContainsRune(`"'\$;{}#`+"`", r) {
			return "", fmt.Errorf("refusing to quote %q: it holds %q", s, r)
		}
	}
	return `"` + s + `"`, nil
}

// quoteRegex double-quotes a regular expression regedge generated. Regexes
// need backslashes and "$", but never a quote or one of the escapes nginx
// itself interprets inside quotes.
func quoteRegex(s string) (string, error) {
	for _, r := range s {
		if r < 0x21 || r > 0x7e || r == '"' || r == '\'' {
			return "", fmt.Errorf("refusing to quote regex %q: it holds %q", s, r)
		}
	}
	for _, esc := range []string{`\\`, `\"`, `\n`, `\r`, `\t`} {
		if strings.Contains(s, esc) {
			return "", fmt.Errorf("refusing to quote regex %q: it holds %s", s, esc)
		}
	}
	if strings.HasSuffix(s, `\`) {
		return "", fmt.Errorf("refusing to quote regex %q: it ends in a backslash", s)
	}
	return `"` + s + `"`, nil
}
