// Package feeds parses public cloud IP-range feeds (AWS, Azure, GCP, Oracle)
// into one Snapshot type, reporting every problem as an hcl.Diagnostic that
// points at the offending JSON value so it can be printed with its source line.
package feeds

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
)

// feedFormat is one cloud's feed format: its name, as a policy's feed block
// gives it, the function that reads its top-level object, and the layout
// of the creation time it publishes, in UTC ("" if it publishes none).
// Adding a cloud's feed means one entry here and its parser.
type feedFormat struct {
	name    string
	parse   func(p *parser, root value) *Snapshot
	created string
}

// formats lists every feed format, sorted by name.
var formats = []feedFormat{
	{"aws", parseAWS, "2006-01-02-15-04-05"},
	{"azure", parseAzure, ""},
	{"gcp", parseGCP, "2006-01-02T15:04:05.999999999"},
	{"oracle", parseOracle, "2006-01-02T15:04:05.999999999"},
}

// CreatedTime reads a snapshot's creation time as its format publishes it;
// false when the format publishes none or it does not read.
func CreatedTime(format, created string) (time.Time, bool) {
	i := slices.IndexFunc(formats, func(f feedFormat) bool { return f.name == format })
	if i < 0 || formats[i].created == "" {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation(formats[i].created, created, time.UTC)
	return t, err == nil
}

// Formats returns the format names, sorted.
func Formats() []string {
	var names []string
	for _, f := range formats {
		names = append(names, f.name)
	}
	return names
}

// MaxFileBytes is the most a feed file or download may hold. The real
// feeds hold a few megabytes (AWS's 2.5 MB, Azure's about 5 MB, GCP's
// and Oracle's 100 KB); readers read no more than this, plus one byte to
// tell a file that is larger.
const MaxFileBytes = 64 << 20

// Entry is one prefix a feed publishes.
type Entry struct {
	Prefix  netip.Prefix // masked (canonical) form
	Region  string
	Service string
	Range   hcl.Range // the JSON object this entry came from
}

// Snapshot is one parsed feed file.
type Snapshot struct {
	Format    string
	SyncToken string  // as published (string form), "" if the format has none
	Created   string  // the feed's own creation time as published, "" if none
	Entries   []Entry // in file order
}

// Parse parses src (the contents of filename) in the given format.
// It reports every problem it finds rather than stopping at the first, and
// returns a (possibly partial) Snapshot for any known format so callers can
// decide what to do with the diagnostics; entries with errors are left out.
func Parse(format, filename string, src []byte) (*Snapshot, hcl.Diagnostics) {
	i := slices.IndexFunc(formats, func(f feedFormat) bool { return f.name == format })
	if i < 0 {
		return nil, hcl.Diagnostics{unknownFormat(format)}
	}
	p := newParser(filename, src)
	// Validating up front lets the walker below skip values with a plain
	// byte loop, several times faster than encoding/json's Decoder.
	if !json.Valid(src) {
		p.badJSON()
		return &Snapshot{Format: format}, p.diags
	}
	root := span{skipSpace(src, 0), len(bytes.TrimRight(src, space))}
	s := formats[i].parse(p, value{raw: src[root.start:root.end], at: root})
	s.Format = format
	p.reportHidden(format)
	return s, p.diags
}

// unknownFormat reports a format name the caller gave, so it has no Subject.
func unknownFormat(name string) *hcl.Diagnostic {
	detail := fmt.Sprintf("%q is not a feed format; use one of %s.", name, strings.Join(Formats(), ", "))
	best, bestDist := "", 3 // suggest only names within distance 2
	for _, f := range Formats() {
		if d := levenshtein.Distance(strings.ToLower(name), f, nil); d < bestDist {
			best, bestDist = f, d
		}
	}
	if best != "" {
		detail += fmt.Sprintf(" Did you mean %q?", best)
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown feed format", Detail: detail}
}

// span is a byte range [start, end) of the source.
type span struct{ start, end int }

// value is one JSON value, or a missing object member, and where it sits.
type value struct {
	key string // member name, or the enclosing array's name for elements
	raw []byte // nil when the member is missing
	at  span   // the value, or the object that lacks it
}

// parser walks one valid JSON file, translating offsets into hcl positions.
type parser struct {
	filename string
	src      []byte
	lines    []int   // byte offset of each line start, for binary search
	last     hcl.Pos // the previous result of pos
	diags    hcl.Diagnostics
	// A feed in the wrong format has the same problem in every entry:
	// past maxRepeats of one summary, problems are only counted.
	repeats map[string]int
	hidden  []hiddenProblems
}

// maxRepeats is how many problems with one summary a feed reports in full.
const maxRepeats = 3

// hiddenProblems counts the problems of one summary not reported in full,
// and where the first of them is.
type hiddenProblems struct {
	summary string
	count   int
	first   span
}

func newParser(filename string, src []byte) *parser {
	lines := make([]int, 1, bytes.Count(src, []byte{'\n'})+1)
	for i := 0; ; {
		j := bytes.IndexByte(src[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
		lines = append(lines, i)
	}
	return &parser{filename: filename, src: src, lines: lines, repeats: map[string]int{}}
}

// reportHidden reports, for each summary past maxRepeats, how many more
// problems it had, pointing at the first one not shown.
func (p *parser) reportHidden(format string) {
	for _, h := range p.hidden {
		r := p.rng(h.first)
		p.diags = append(p.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "More problems like these",
			Detail: fmt.Sprintf("%d more of these (%s) follow the %d shown, starting here; check that the file is a feed in the %s format.",
				h.count, h.summary, maxRepeats, format),
			Subject: &r,
			Extra:   hidden(h.count),
		})
	}
}

// hidden marks a diagnostic that stands for this many problems not shown.
type hidden int

// Problems counts the errors that diags report, those not shown included.
func Problems(diags hcl.Diagnostics) int {
	n := 0
	for _, d := range diags.Errs() {
		if h, ok := d.(*hcl.Diagnostic).Extra.(hidden); ok {
			n += int(h)
		} else {
			n++
		}
	}
	return n
}

// pos converts a byte offset into a 1-based line and character column.
// Offsets mostly arrive in increasing order, so counting characters resumes
// from the previous position on the same line, which keeps minified
// single-line feeds linear.
func (p *parser) pos(off int) hcl.Pos {
	line, found := slices.BinarySearch(p.lines, off)
	if !found {
		line--
	}
	from, col := p.lines[line], 1
	if p.last.Line == line+1 && p.last.Byte <= off {
		from, col = p.last.Byte, p.last.Column
	}
	p.last = hcl.Pos{Line: line + 1, Column: col + utf8.RuneCount(p.src[from:off]), Byte: off}
	return p.last
}

func (p *parser) rng(s span) hcl.Range {
	return hcl.Range{Filename: p.filename, Start: p.pos(s.start), End: p.pos(s.end)}
}

func (p *parser) errorf(at span, summary, format string, args ...any) {
	if p.repeats[summary]++; p.repeats[summary] > maxRepeats {
		i := slices.IndexFunc(p.hidden, func(h hiddenProblems) bool { return h.summary == summary })
		if i < 0 {
			p.hidden = append(p.hidden, hiddenProblems{summary: summary, first: at})
			i = len(p.hidden) - 1
		}
		p.hidden[i].count++
		return
	}
	r := p.rng(at)
	p.diags = append(p.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  &r,
	})
}

// badJSON reports why src is not valid JSON. Only a Decoder tells a
// truncated file from a bad byte; Unmarshal gives the byte's offset.
func (p *parser) badJSON() {
	err := json.NewDecoder(bytes.NewReader(p.src)).Decode(new(json.RawMessage))
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		end := len(bytes.TrimRight(p.src, space))
		p.errorf(span{end, end}, "Truncated JSON", "The file ends before its JSON is complete; download the feed again.")
		return
	}
	var se *json.SyntaxError
	errors.As(json.Unmarshal(p.src, new(json.RawMessage)), &se) // always a SyntaxError, as Valid failed
	off := max(int(se.Offset)-1, 0)                             // Offset counts the offending byte
	p.errorf(span{off, off + 1}, "Invalid JSON", "The file is not valid JSON here (%s); fix it or download the feed again.", se)
}

// space is JSON's whitespace.
const space = " \t\r\n"

// skipSpace returns the index of the first non-whitespace byte at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// end returns where the valid JSON value starting at i ends.
func (p *parser) end(i int) int {
	src, depth := p.src, 0
	for ; ; i++ {
		switch src[i] {
		case '"':
			for i++; src[i] != '"'; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		default:
			if depth == 0 { // a number or literal runs to the next delimiter
				for i < len(src) && strings.IndexByte(",}]"+space, src[i]) < 0 {
					i++
				}
				return i
			}
			continue
		}
		if depth == 0 {
			return i + 1
		}
	}
}

// walk calls fn for each member of the valid object, or element of the
// valid array, at sp; key is the unescaped member name, nil in arrays.
func (p *parser) walk(sp span, fn func(key []byte, v span)) {
	src := p.src
	for i := sp.start + 1; ; i++ { // i is past '{', '[' or ','
		i = skipSpace(src, i)
		if src[i] == '}' || src[i] == ']' {
			return // empty
		}
		var key []byte
		if src[sp.start] == '{' {
			end := p.end(i)
			key = unquote(src[i:end])
			i = skipSpace(src, skipSpace(src, end)+1) // past ':'
		}
		end := p.end(i)
		fn(key, span{i, end})
		if i = skipSpace(src, end); src[i] != ',' {
			return
		}
	}
}

// fields returns the members of the object obj named by keys, in order;
// missing ones point at obj.
func (p *parser) fields(obj value, keys ...string) ([]value, bool) {
	if !p.is(obj, "object") {
		return nil, false
	}
	vals := make([]value, len(keys))
	for i, k := range keys {
		vals[i] = value{key: k, at: obj.at}
	}
	p.walk(obj.at, func(key []byte, v span) {
		if i := slices.Index(keys, string(key)); i >= 0 {
			vals[i] = value{key: keys[i], raw: p.src[v.start:v.end], at: v}
		}
	})
	return vals, true
}

// items calls fn for each element of the array v.
func (p *parser) items(v value, fn func(el value)) bool {
	if !p.is(v, "array") {
		return false
	}
	p.walk(v.at, func(_ []byte, el span) {
		fn(value{key: v.key, raw: p.src[el.start:el.end], at: el})
	})
	return true
}

// kind names the JSON type of a valid value.
func kind(raw []byte) string {
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// is reports whether v is present and of JSON type want, diagnosing it if not.
func (p *parser) is(v value, want string) bool {
	if v.raw == nil {
		p.errorf(v.at, fmt.Sprintf("Missing field %q", v.key), "Add %q to this object, or download the feed again.", v.key)
		return false
	}
	if got := kind(v.raw); got != want {
		p.errorf(v.at, "Wrong JSON type", "Replace this JSON %s with a JSON %s.", got, want)
		return false
	}
	return true
}

// unquote returns the contents of a valid JSON string, copying only when
// it has escapes.
func unquote(raw []byte) []byte {
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1]
	}
	var s string
	json.Unmarshal(raw, &s) // cannot fail: raw is a valid JSON string
	return []byte(s)
}

// str returns a string value, diagnosing a missing or mistyped one.
func (p *parser) str(v value) (string, bool) {
	if !p.is(v, "string") {
		return "", false
	}
	return string(unquote(v.raw)), true
}

// grammar is what a feed string must match: it reaches the plan,
// REPORT.md, explain and regedge's messages, which must show it as it is.
type grammar struct {
	pattern       *regexp.Regexp
	summary, what string
}

var (
	regionName = grammar{regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`), "Invalid region",
		`a region name: a letter or digit, then up to 62 letters, digits, "-" and "_"`}
	// Services are only matched against exclude_services.
	serviceName = grammar{regexp.MustCompile(`^[ -~]{0,256}$`), "Invalid service",
		"a service name: up to 256 printable ASCII characters"}
	versionName = grammar{regexp.MustCompile(`^[A-Za-z0-9._:+-]{0,64}$`), "Invalid version",
		`a version: up to 64 letters, digits and "._:+-"`}
)

// matches reports whether s, read from v, matches g, diagnosing it if not.
func (p *parser) matches(v value, s string, g grammar) bool {
	if g.pattern.MatchString(s) {
		return true
	}
	p.errorf(v.at, g.summary, "The %q value %q is not %s; fix the feed or download it again.", v.key, clipped(s), g.what)
	return false
}

// strOf returns a string value that matches g.
func (p *parser) strOf(v value, g grammar) (string, bool) {
	s, ok := p.str(v)
	return s, ok && p.matches(v, s, g)
}

// clipped shortens s to its first 64 bytes, whole characters, for a
// message.
func clipped(s string) string {
	const most = 64
	if len(s) <= most {
		return s
	}
	cut := most
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// family is the address family a prefix key accepts.
type family struct {
	version int    // 4 or 6; 0 accepts either
	alt     string // where prefixes of the other family belong
}

// prefix parses a CIDR value, insisting on masked form and the key's family.
func (p *parser) prefix(v value, fam family) (netip.Prefix, bool) {
	s, ok := p.str(v)
	if !ok {
		return netip.Prefix{}, false
	}
	pfx, err := netip.ParsePrefix(s)
	switch {
	case err != nil:
		p.errorf(v.at, "Invalid prefix", "%q is not a CIDR prefix; write it as address/length, like \"192.0.2.0/24\".", s)
	case pfx != pfx.Masked():
		p.errorf(v.at, "Prefix has host bits set", "%q has address bits set past its length; write %q instead.", s, pfx.Masked().String())
	case fam.version == 4 && !pfx.Addr().Is4(), fam.version == 6 && !pfx.Addr().Is6():
		p.errorf(v.at, "Wrong address family", "%q takes IPv%d prefixes only; list %q under %q instead.", v.key, fam.version, s, fam.alt)
	default:
		return pfx, true
	}
	return netip.Prefix{}, false
}

// requireEntries reports a feed that parsed cleanly but lists nothing;
// feeds whose entries were all broken have already been reported.
func (p *parser) requireEntries(s *Snapshot, list value) {
	if len(s.Entries) == 0 && !p.diags.HasErrors() {
		p.errorf(list.at, "Feed has no prefixes", "The feed lists no IP prefixes; check that the download is complete.")
	}
}
