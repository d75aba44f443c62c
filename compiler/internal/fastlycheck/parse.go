package fastlycheck

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// file is a VCL file's declarations, in source order.
type file struct {
	acls     []acl
	tables   []table
	backends []backend
	subs     map[string][]token
}

// acl is an ACL declaration.
type acl struct {
	name    string
	line    int
	entries []aclEntry
}

// aclEntry is one ACL line: an address and the length of its prefix.
type aclEntry struct {
	prefix  netip.Prefix
	negated bool
	line    int
}

// table is a table declaration; its keys keep their source order.
type table struct {
	name   string
	line   int
	keys   []string
	values map[string]string
}

// backend is a backend declaration: each property's value as written,
// strings decoded.
type backend struct {
	name  string
	line  int
	props map[string]string
}

// parser walks the tokens of a VCL file.
type parser struct {
	toks []token
	pos  int
}

// parse reads the top-level declarations of a VCL file: acl, table,
// backend and sub. Anything else is an error, as regedge writes nothing
// else.
func parse(src string) (*file, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	f := &file{subs: map[string][]token{}}
	for !p.done() {
		t := p.next()
		switch {
		case t.is(word, "acl"):
			a, err := p.acl(t.line)
			if err != nil {
				return nil, err
			}
			f.acls = append(f.acls, a)
		case t.is(word, "table"):
			tb, err := p.table(t.line)
			if err != nil {
				return nil, err
			}
			f.tables = append(f.tables, tb)
		case t.is(word, "backend"):
			b, err := p.backend(t.line)
			if err != nil {
				return nil, err
			}
			f.backends = append(f.backends, b)
		case t.is(word, "sub"):
			name, err := p.word()
			if err != nil {
				return nil, err
			}
			body, err := p.block()
			if err != nil {
				return nil, err
			}
			if _, dup := f.subs[name]; dup {
				return nil, fmt.Errorf("line %d: sub %s declared twice", t.line, name)
			}
			f.subs[name] = body
		default:
			return nil, fmt.Errorf("line %d: unexpected %s at the top level", t.line, t)
		}
	}
	return f, nil
}

func (p *parser) done() bool { return p.pos >= len(p.toks) }

func (p *parser) next() token {
	if p.done() {
		return token{kind: punct, text: "end of file", line: p.last()}
	}
	t := p.toks[p.pos]
	p.pos++
	return t
}

func (p *parser) last() int {
	if len(p.toks) == 0 {
		return 1
	}
	return p.toks[len(p.toks)-1].line
}

func (p *parser) peek() token {
	if p.done() {
		return token{kind: punct, text: "end of file", line: p.last()}
	}
	return p.toks[p.pos]
}

func (p *parser) expect(kind tokenKind, text string) error {
	if t := p.next(); !t.is(kind, text) {
		return fmt.Errorf("line %d: want %s, found %s", t.line, text, t)
	}
	return nil
}

func (p *parser) word() (string, error) {
	t := p.next()
	if t.kind != word {
		return "", fmt.Errorf("line %d: want a name, found %s", t.line, t)
	}
	return t.text, nil
}

func (p *parser) acl(line int) (acl, error) {
	name, err := p.word()
	if err != nil {
		return acl{}, err
	}
	a := acl{name: name, line: line}
	if err := p.expect(punct, "{"); err != nil {
		return acl{}, err
	}
	for !p.peek().is(punct, "}") {
		e := aclEntry{line: p.peek().line}
		if p.peek().is(punct, "!") {
			p.next()
			e.negated = true
		}
		t := p.next()
		if t.kind != str {
			return acl{}, fmt.Errorf("line %d: want an address in acl %s, found %s", t.line, name, t)
		}
		addr, err := netip.ParseAddr(t.text)
		if err != nil {
			return acl{}, fmt.Errorf("line %d: acl %s: %w", t.line, name, err)
		}
		bits := addr.BitLen()
		if p.peek().is(punct, "/") {
			p.next()
			t := p.next()
			if bits, err = strconv.Atoi(t.text); err != nil || t.kind != word {
				return acl{}, fmt.Errorf("line %d: acl %s: want a prefix length, found %s", t.line, name, t)
			}
		}
		if e.prefix, err = addr.Prefix(bits); err != nil || e.prefix.Bits() != bits {
			return acl{}, fmt.Errorf("line %d: acl %s: %s/%d is not a prefix", e.line, name, addr, bits)
		}
		if e.prefix.Addr() != addr {
			return acl{}, fmt.Errorf("line %d: acl %s: %s/%d has bits set past the prefix length", e.line, name, addr, bits)
		}
		if err := p.expect(punct, ";"); err != nil {
			return acl{}, err
		}
		a.entries = append(a.entries, e)
	}
	p.next()
	return a, nil
}

func (p *parser) table(line int) (table, error) {
	name, err := p.word()
	if err != nil {
		return table{}, err
	}
	t := table{name: name, line: line, values: map[string]string{}}
	if p.peek().kind == word {
		p.next() // the value type
	}
	if err := p.expect(punct, "{"); err != nil {
		return table{}, err
	}
	for !p.peek().is(punct, "}") {
		k := p.next()
		if k.kind != str {
			return table{}, fmt.Errorf("line %d: want a key in table %s, found %s", k.line, name, k)
		}
		if err := p.expect(punct, ":"); err != nil {
			return table{}, err
		}
		v := p.next()
		if v.kind == punct {
			return table{}, fmt.Errorf("line %d: want a value in table %s, found %s", v.line, name, v)
		}
		if _, dup := t.values[k.text]; dup {
			return table{}, fmt.Errorf("line %d: table %s holds key %q twice", k.line, name, k.text)
		}
		t.keys = append(t.keys, k.text)
		t.values[k.text] = v.text
		if p.peek().is(punct, ",") {
			p.next()
		}
	}
	p.next()
	return t, nil
}

func (p *parser) backend(line int) (backend, error) {
	name, err := p.word()
	if err != nil {
		return backend{}, err
	}
	b := backend{name: name, line: line, props: map[string]string{}}
	if err := p.expect(punct, "{"); err != nil {
		return backend{}, err
	}
	for !p.peek().is(punct, "}") {
		prop := p.next()
		if prop.kind != word || !strings.HasPrefix(prop.text, ".") {
			return backend{}, fmt.Errorf("line %d: want a property of backend %s, found %s", prop.line, name, prop)
		}
		if err := p.expect(punct, "="); err != nil {
			return backend{}, err
		}
		if p.peek().is(punct, "{") {
			if _, err := p.block(); err != nil {
				return backend{}, err
			}
			continue
		}
		var value []string
		for !p.peek().is(punct, ";") && !p.done() {
			value = append(value, p.next().text)
		}
		p.next()
		b.props[prop.text] = strings.Join(value, " ")
	}
	p.next()
	return b, nil
}

// block returns the tokens between a { and its matching }.
func (p *parser) block() ([]token, error) {
	open := p.peek()
	if err := p.expect(punct, "{"); err != nil {
		return nil, err
	}
	start, depth := p.pos, 1
	for !p.done() {
		t := p.next()
		switch {
		case t.is(punct, "{"):
			depth++
		case t.is(punct, "}"):
			if depth--; depth == 0 {
				return p.toks[start : p.pos-1], nil
			}
		}
	}
	return nil, fmt.Errorf("line %d: unclosed {", open.line)
}

// match reports whether toks[at:] starts with pattern and returns what its
// wildcards matched. A pattern element is "$s" for any string, "$w" for any
// word, a quoted Go string for that string, or else the exact text of a
// word or punctuation.
func match(toks []token, at int, pattern ...string) ([]string, bool) {
	var got []string
	for i, want := range pattern {
		if at+i >= len(toks) {
			return nil, false
		}
		t := toks[at+i]
		switch {
		case want == "$s" && t.kind == str, want == "$w" && t.kind == word:
			got = append(got, t.text)
		case strings.HasPrefix(want, `"`):
			if s, _ := strconv.Unquote(want); t.kind != str || t.text != s {
				return nil, false
			}
		case t.kind == str || t.text != want:
			return nil, false
		}
	}
	return got, true
}

// findAll returns the position and wildcard matches of every place in toks
// that matches pattern.
func findAll(toks []token, pattern ...string) []found {
	var out []found
	for i := range toks {
		if got, ok := match(toks, i, pattern...); ok {
			out = append(out, found{at: i, line: toks[i].line, got: got})
		}
	}
	return out
}

type found struct {
	at, line int
	got      []string
}
