package fastlycheck

import (
	"fmt"
	"strconv"
	"strings"
)

// tokenKind sorts the tokens of VCL source.
type tokenKind int

const (
	// word is an identifier, a keyword, a variable such as
	// req.http.X-Regedge-Label, a number or a duration such as 3000ms.
	word tokenKind = iota
	// str is a string literal; text holds its decoded value.
	str
	// punct is an operator or punctuation: ( ) { } ; , = ~ ! / : and the
	// two-character == != >= <= && || +=.
	punct
)

type token struct {
	kind tokenKind
	text string
	line int
}

func (t token) String() string {
	if t.kind == str {
		return strconv.Quote(t.text)
	}
	return t.text
}

func (t token) is(kind tokenKind, text string) bool { return t.kind == kind && t.text == text }

// lex splits VCL source into tokens, dropping comments (#, // and /* */;
// the #FASTLY macros are comments to it). Strings in double quotes have
// their %XX escapes decoded; long strings {"..."} are taken as written.
func lex(src string) ([]token, error) {
	var toks []token
	line := 1
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#' || strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated comment", line)
			}
			line += strings.Count(src[i:i+2+end], "\n")
			i += end + 4
		case c == '"':
			end := strings.IndexAny(src[i+1:], "\"\n")
			if end < 0 || src[i+1+end] != '"' {
				return nil, fmt.Errorf("line %d: unterminated string", line)
			}
			text, err := unescape(src[i+1 : i+1+end])
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			toks = append(toks, token{str, text, line})
			i += end + 2
		case strings.HasPrefix(src[i:], `{"`):
			end := strings.Index(src[i+2:], `"}`)
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated long string", line)
			}
			text := src[i+2 : i+2+end]
			toks = append(toks, token{str, text, line})
			line += strings.Count(text, "\n")
			i += end + 4
		case isWord(c):
			j := i
			for j < len(src) && isWord(src[j]) {
				j++
			}
			toks = append(toks, token{word, src[i:j], line})
			i = j
		default:
			n := 1
			for _, op := range []string{"==", "!=", ">=", "<=", "&&", "||", "+="} {
				if strings.HasPrefix(src[i:], op) {
					n = 2
				}
			}
			if n == 1 && !strings.ContainsRune("(){};,=~!/:<>+", rune(c)) {
				return nil, fmt.Errorf("line %d: unexpected character %q", line, c)
			}
			toks = append(toks, token{punct, src[i : i+n], line})
			i += n
		}
	}
	return toks, nil
}

func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

// unescape decodes the %XX escapes of a double-quoted VCL string.
func unescape(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+3 > len(s) {
			return "", fmt.Errorf("string %q: %% without two hex digits", s)
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("string %q: %% without two hex digits", s)
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), nil
}
