package fastlycheck

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/ysugimoto/falco/ast"
	"github.com/ysugimoto/falco/lexer"
	"github.com/ysugimoto/falco/parser"
)

// file is a VCL file's declarations, in source order, as falco's parser
// reads them.
type file struct {
	acls     []acl
	tables   []table
	backends []backend
	subs     map[string]*ast.SubroutineDeclaration
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
// strings decoded, under its name with the leading dot (".host").
type backend struct {
	name  string
	line  int
	props map[string]string
	// probe holds the properties of its health probe as props does, the
	// request's strings joined by newlines; nil without a probe.
	probe map[string]string
}

// parse reads a VCL file with falco's lexer and parser, Fastly's grammar,
// and collects its acl, table, backend and sub declarations. Any other
// declaration is an error, as regedge writes none.
func parse(src string) (*file, error) {
	vcl, err := parser.New(lexer.NewFromString(src)).ParseVCL()
	if err != nil {
		return nil, err
	}
	f := &file{subs: map[string]*ast.SubroutineDeclaration{}}
	for _, stmt := range vcl.Statements {
		switch d := stmt.(type) {
		case *ast.AclDeclaration:
			a, err := readACL(d)
			if err != nil {
				return nil, err
			}
			f.acls = append(f.acls, a)
		case *ast.TableDeclaration:
			t, err := readTable(d)
			if err != nil {
				return nil, err
			}
			f.tables = append(f.tables, t)
		case *ast.BackendDeclaration:
			f.backends = append(f.backends, readBackend(d))
		case *ast.SubroutineDeclaration:
			if _, dup := f.subs[d.Name.Value]; dup {
				return nil, fmt.Errorf("line %d: sub %s declared twice", line(d), d.Name.Value)
			}
			f.subs[d.Name.Value] = d
		default:
			return nil, fmt.Errorf("line %d: unexpected %T at the top level", line(stmt), stmt)
		}
	}
	return f, nil
}

// line is the source line a node starts on.
func line(n ast.Node) int { return n.GetMeta().Token.Line }

func readACL(d *ast.AclDeclaration) (acl, error) {
	a := acl{name: d.Name.Value, line: line(d)}
	for _, c := range d.CIDRs {
		e := aclEntry{line: line(c), negated: c.Inverse != nil && c.Inverse.Value}
		addr, err := netip.ParseAddr(c.IP.Value)
		if err != nil {
			return acl{}, fmt.Errorf("line %d: acl %s: %w", e.line, a.name, err)
		}
		bits := addr.BitLen()
		if c.Mask != nil {
			bits = int(c.Mask.Value)
		}
		if e.prefix, err = addr.Prefix(bits); err != nil || e.prefix.Bits() != bits {
			return acl{}, fmt.Errorf("line %d: acl %s: %s/%d is not a prefix", e.line, a.name, addr, bits)
		}
		if e.prefix.Addr() != addr {
			return acl{}, fmt.Errorf("line %d: acl %s: %s/%d has bits set past the prefix length", e.line, a.name, addr, bits)
		}
		a.entries = append(a.entries, e)
	}
	return a, nil
}

func readTable(d *ast.TableDeclaration) (table, error) {
	t := table{name: d.Name.Value, line: line(d), values: map[string]string{}}
	for _, p := range d.Properties {
		k := p.Key.Value
		if _, dup := t.values[k]; dup {
			return table{}, fmt.Errorf("line %d: table %s holds key %q twice", p.Meta.Token.Line, t.name, k)
		}
		t.keys = append(t.keys, k)
		t.values[k] = literal(p.Value)
	}
	return t, nil
}

func readBackend(d *ast.BackendDeclaration) backend {
	b := backend{name: d.Name.Value, line: line(d), props: map[string]string{}}
	for _, p := range d.Properties {
		probe, nested := p.Value.(*ast.BackendProbeObject)
		if !nested {
			b.props["."+p.Key.Value] = literal(p.Value)
			continue
		}
		b.probe = map[string]string{}
		for _, v := range probe.Values {
			b.probe["."+v.Key.Value] = literal(v.Value)
			if lines, ok := strs(v.Value); ok {
				b.probe["."+v.Key.Value] = strings.Join(lines, "\n")
			}
		}
	}
	return b
}

// strs returns the strings a string literal, or strings written one after
// another (which VCL joins), are made of.
func strs(e ast.Expression) ([]string, bool) {
	switch v := e.(type) {
	case *ast.String:
		return []string{v.Value}, true
	case *ast.InfixExpression:
		left, ok := strs(v.Left)
		right, ok2 := strs(v.Right)
		return append(left, right...), ok && ok2 && v.Operator == "+"
	}
	return nil, false
}

// Probe is a backend's health probe as Fastly reads its declaration.
type Probe struct {
	Backend string
	// Addr is the backend's host:port, TLS whether it speaks TLS there,
	// and ServerName the name it sends and checks.
	Addr       string
	TLS        bool
	ServerName string
	// Request is the probe's request as sent: each string of .request
	// as a line, then an empty line.
	Request string
	// Status is the one status that counts as a good result.
	Status            int
	Interval, Timeout time.Duration
	// The backend is healthy while at least Threshold of the last Window
	// results were good; Initial good results stand in the window at
	// first.
	Window, Threshold, Initial int
}

// Probes reads the health probes of the backends that src, a VCL file
// regedge wrote, declares. A probe must set each of Probe's values, as
// regedge writes them: Fastly's defaults for the others are not known.
func Probes(src string) ([]Probe, error) {
	f, err := parse(src)
	if err != nil {
		return nil, err
	}
	var probes []Probe
	for _, b := range f.backends {
		if b.probe == nil {
			continue
		}
		pr := Probe{Backend: b.name, Addr: net.JoinHostPort(b.props[".host"], b.props[".port"]), TLS: b.props[".ssl"] == "true", ServerName: b.props[".ssl_sni_hostname"]}
		var errs []error
		number := func(name string) int {
			n, err := strconv.Atoi(b.probe[name])
			if err != nil {
				errs = append(errs, fmt.Errorf("%s is %q, not a number", name, b.probe[name]))
			}
			return n
		}
		duration := func(name string) time.Duration {
			d, err := time.ParseDuration(b.probe[name])
			if err != nil || d <= 0 {
				errs = append(errs, fmt.Errorf("%s is %q, not a duration in s or ms", name, b.probe[name]))
			}
			return d
		}
		for line := range strings.SplitSeq(b.probe[".request"], "\n") {
			pr.Request += line + "\r\n"
		}
		pr.Request += "\r\n"
		pr.Status, pr.Window, pr.Threshold, pr.Initial = number(".expected_response"), number(".window"), number(".threshold"), number(".initial")
		pr.Interval, pr.Timeout = duration(".interval"), duration(".timeout")
		if b.probe[".request"] == "" || b.probe[".dummy"] == "true" {
			errs = append(errs, errors.New("it sends no request"))
		}
		if err := errors.Join(errs...); err != nil {
			return nil, fmt.Errorf("line %d: the probe of backend %s: %w", b.line, b.name, err)
		}
		probes = append(probes, pr)
	}
	return probes, nil
}

// literal is a literal's value as written, strings decoded; any other
// expression as falco prints it.
func literal(e ast.Expression) string {
	switch v := e.(type) {
	case *ast.String:
		return v.Value
	case *ast.Ident:
		return v.Value
	case *ast.RTime:
		return v.Value
	case *ast.Boolean:
		return strconv.FormatBool(v.Value)
	case *ast.Integer:
		return strconv.FormatInt(v.Value, 10)
	}
	return e.String()
}

// eachStatement calls fn for every statement of stmts in source order,
// and for the statements in each branch of an if and in each block.
func eachStatement(stmts []ast.Statement, fn func(ast.Statement)) {
	for _, s := range stmts {
		fn(s)
		switch v := s.(type) {
		case *ast.BlockStatement:
			eachStatement(v.Statements, fn)
		case *ast.IfStatement:
			for _, branch := range append([]*ast.IfStatement{v}, v.Another...) {
				if branch != v {
					fn(branch)
				}
				eachStatement(branch.Consequence.Statements, fn)
			}
			if v.Alternative != nil {
				eachStatement(v.Alternative.Consequence.Statements, fn)
			}
		}
	}
}

// eachExpression calls fn for e and, left to right, for the operands and
// arguments inside it (see parts).
func eachExpression(e ast.Expression, fn func(ast.Expression)) {
	if e == nil {
		return
	}
	fn(e)
	for _, x := range parts(e) {
		eachExpression(x, fn)
	}
}

// expressions calls fn for every expression in the conditions and the
// assigned values of the statements, in source order: all the checker
// reads.
func expressions(stmts []ast.Statement, fn func(ast.Expression)) {
	eachStatement(stmts, func(s ast.Statement) {
		for _, e := range parts(s) {
			eachExpression(e, fn)
		}
	})
}

// parts returns an if's condition, a set's value, or the expressions an
// operation or call is made of, in source order.
func parts(n ast.Node) []ast.Expression {
	switch v := n.(type) {
	case *ast.IfStatement:
		return []ast.Expression{v.Condition}
	case *ast.SetStatement:
		return []ast.Expression{v.Value}
	case *ast.InfixExpression:
		return []ast.Expression{v.Left, v.Right}
	case *ast.PrefixExpression:
		return []ast.Expression{v.Right}
	case *ast.GroupedExpression:
		return []ast.Expression{v.Right}
	case *ast.FunctionCallExpression:
		return v.Arguments
	}
	return nil
}

// ident returns the name e refers to, or "" if e is not a name.
func ident(e ast.Expression) string {
	if v, ok := e.(*ast.Ident); ok {
		return v.Value
	}
	return ""
}

// str returns the value of a string literal and whether e is one.
func str(e ast.Expression) (string, bool) {
	v, ok := e.(*ast.String)
	if !ok {
		return "", false
	}
	return v.Value, true
}

// compares reports whether e is "left op right" with left the variable
// name and right any string literal, and returns that string.
func compares(e ast.Expression, name, op string) (string, bool) {
	in, ok := e.(*ast.InfixExpression)
	if !ok || in.Operator != op || ident(in.Left) != name {
		return "", false
	}
	return str(in.Right)
}

// sets reports whether s is "set name = value;" and returns the value.
func sets(s ast.Statement, name string) (ast.Expression, bool) {
	v, ok := s.(*ast.SetStatement)
	if !ok || v.Ident.Value != name || v.Operator.Operator != "=" {
		return nil, false
	}
	return v.Value, true
}

// branches calls fn for every if and else if of stmts, at any depth, with
// its condition and the statements it runs.
func branches(stmts []ast.Statement, fn func(cond ast.Expression, body []ast.Statement, line int)) {
	eachStatement(stmts, func(s ast.Statement) {
		if v, ok := s.(*ast.IfStatement); ok {
			fn(v.Condition, v.Consequence.Statements, line(v))
		}
	})
}
