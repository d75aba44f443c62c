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

// ProbeDigest is the blob the targets whose health probes ask a mirror
// (HAProxy, Fastly) ask for: one no image holds, so every mirror that
// works gives it the same answer, 403 or 404.
const ProbeDigest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"

// File is one generated file, its path relative to the output folder.
type File struct {
	Path string
	Data []byte
	// Entries counts the address-table entries the file holds, for
	// out/REPORT.md; 0 for files without a table.
	Entries int
}

// Plan writes the plan itself as plan.json, which regedge diff reads, with
// what made it under "generated_by".
func Plan(p *plan.Plan) ([]File, error) {
	planJSON, err := json.MarshalIndent(struct {
		GeneratedBy []string `json:"generated_by"`
		*plan.Plan
	}{Provenance(p), p}, "", "  ")
	if err != nil {
		return nil, err
	}
	return []File{{Path: "plan.json", Data: append(planJSON, '\n')}}, nil
}

// grammar is the request grammar of docs/request-handling.md, which every
// target's template matches requests with.
type grammar struct {
	UnsafeRegex string
	// UnsafePathRegex is UnsafeRegex for the path alone, for the
	// targets that cut the path from the query first.
	UnsafePathRegex string
	SignatureRegex  string
	ManifestRegex   string
	TagsRegex       string
	ReferrersRegex  string
	BlobRegex       string
	// AbsoluteFormRegex matches the start of an absolute-form target.
	AbsoluteFormRegex string
	// BadQueryRegex finds what rules 8 and 9 must not copy from a query.
	BadQueryRegex string
	MaxName       int
	MaxPath       int
	MaxQuery      int
}

// checkGraceMs is how much longer than the check's timeout a request waits
// for the check it started, on the targets whose own code cuts the check
// off (the Worker and HAProxy's Lua): the check is recorded before the
// request gives up on it.
const checkGraceMs = 200

// requestGrammar is package request's grammar, the one every target uses.
var requestGrammar = grammar{
	UnsafeRegex:       request.Unsafe,
	UnsafePathRegex:   request.UnsafeInPath,
	SignatureRegex:    request.SignaturePattern,
	ManifestRegex:     request.ManifestPattern,
	TagsRegex:         request.TagsPattern,
	ReferrersRegex:    request.ReferrersPattern,
	BlobRegex:         request.BlobPattern,
	AbsoluteFormRegex: request.AbsoluteForm,
	BadQueryRegex:     request.BadQuery,
	MaxName:           request.MaxName,
	MaxPath:           request.MaxPath,
	MaxQuery:          request.MaxQuery,
}

// parseTemplates parses a target's templates, templates/<dir>/*.tmpl,
// once, with the functions its files need. A missing key is an error.
func parseTemplates(dir string, funcs template.FuncMap) *template.Template {
	return template.Must(template.New(dir).Option("missingkey=error").Funcs(funcs).ParseFS(templates.FS, dir+"/*.tmpl"))
}

// execute renders the template of a target's set named after its file.
func execute(set *template.Template, name string, data any) ([]byte, error) {
	var buf bytes.Buffer
	if err := set.ExecuteTemplate(&buf, name, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// inc is n+1, for patterns that match one more than a limit.
func inc(n int) int { return n + 1 }

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
