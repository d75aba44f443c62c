package config

import (
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// HCL evaluates whatever it is given: a local that doubles a list 40 times,
// a for-expression over a for-expression, a template repeating a long
// string. Before an expression is evaluated, its cost is bounded from its
// syntax and the values it refers to, and it is refused if the value could
// pass MaxValueElements or MaxValueBytes or if building it, and then using
// what it produced, could pass the policy's remaining budget of work. The
// bounds are loose but safe: what is accepted cannot take long to evaluate
// or decode.

// size bounds a value: its elements at every level, its text (strings,
// object keys, and numbers as the digits they print as), and its numbers.
type size struct{ elems, bytes, nums float64 }

// What building one element, or printing one number (cty's numbers have
// 512-bit mantissas: tens of microseconds each), costs, counted in bytes.
const (
	elementWork = 64
	numberWork  = 16 << 10
)

func (s size) work() float64 { return s.elems*elementWork + s.bytes + s.nums*numberWork }

func (s size) plus(t size) size { return size{s.elems + t.elems, s.bytes + t.bytes, s.nums + t.nums} }

func (s size) times(n float64) size { return size{s.elems * n, s.bytes * n, s.nums * n} }

func maxSize(s, t size) size {
	return size{math.Max(s.elems, t.elems), math.Max(s.bytes, t.bytes), math.Max(s.nums, t.nums)}
}

// number bounds a number with the given digits.
func number(digits float64) size { return size{bytes: digits, nums: 1} }

func (s size) tooBig() bool { return s.elems > MaxValueElements || s.bytes > MaxValueBytes }

// bound is what an expression can produce: all of it, any one element (for
// iterating over it or indexing it) and any one key, in bytes. For a
// string, each is the whole.
type bound struct {
	all, each size
	key       float64
}

func scalar(s size) bound { return bound{all: s, each: s} }

// element bounds one element of b, and its keys.
func (b bound) element() bound { return bound{all: b.each, each: b.each, key: b.each.bytes} }

// textOf bounds the text a value prints as in a template or format:
// strings quoted and escaped, collections as JSON.
func textOf(s size) float64 { return 6*s.bytes + 4*s.elems + 2 }

// numberText bounds the digits a number prints as.
func numberText(f *big.Float) float64 {
	if f.IsInf() {
		return 10
	}
	exp := math.Abs(float64(f.MantExp(nil))) * math.Log10(2)
	return 160 + exp // 512 bits of mantissa print as at most ~155 digits
}

// valueSize measures a value, stopping once it is far past the limits so a
// huge value (such as every local at once) costs no more to measure than a
// big one.
func valueSize(v cty.Value) bound {
	var total size
	over := func() bool { return total.elems > 2*MaxValueElements || total.bytes > 2*MaxValueBytes }
	isKeyed := func(ty cty.Type) bool { return ty.IsMapType() || ty.IsObjectType() }
	var walk func(v cty.Value) size
	walk = func(v cty.Value) size {
		if v.IsNull() || !v.IsKnown() {
			return size{}
		}
		var s size
		switch ty := v.Type(); {
		case ty == cty.String:
			s = size{bytes: float64(len(v.AsString()))}
		case ty == cty.Number:
			s = number(numberText(v.AsBigFloat()))
		case ty == cty.Bool:
			s = size{bytes: 5}
		case ty.IsCollectionType() || ty.IsObjectType() || ty.IsTupleType():
			for it := v.ElementIterator(); it.Next() && !over(); {
				k, e := it.Element()
				s.elems++
				total.elems++
				if isKeyed(ty) {
					s.bytes += float64(len(k.AsString()))
					total.bytes += float64(len(k.AsString()))
				}
				s = s.plus(walk(e))
			}
			return s
		}
		total = total.plus(s)
		return s
	}
	ty := v.Type()
	if v.IsNull() || !v.IsKnown() || !(ty.IsCollectionType() || ty.IsObjectType() || ty.IsTupleType()) {
		return scalar(walk(v))
	}
	b := bound{key: 20} // a list's index
	if isKeyed(ty) {
		b.key = 0
	}
	for it := v.ElementIterator(); it.Next() && !over(); {
		k, e := it.Element()
		b.all.elems++
		total.elems++
		if isKeyed(ty) {
			b.all.bytes += float64(len(k.AsString()))
			b.key = math.Max(b.key, float64(len(k.AsString())))
		}
		es := walk(e)
		b.all = b.all.plus(es)
		b.each = maxSize(b.each, es)
	}
	// Past the limits the walk stopped early: total is then over them.
	b.all = maxSize(b.all, total)
	return b
}

// coster bounds expressions. Variables bound by for-expressions and splats
// get bounds from their collections; every other traversal is looked up in
// the evaluation context, where locals and each already hold values.
type coster struct {
	ctx *hcl.EvalContext
	// locals holds the bound of each local value, measured once.
	locals map[string]bound
	// seen holds the bounds of the other traversals met so far.
	seen  map[string]bound
	vars  map[string]bound
	anons map[*hclsyntax.AnonSymbolExpr]bound
	// tooBig is the innermost expression whose value could be too big.
	tooBig hclsyntax.Expression
	bigAt  size
}

func (c *coster) expr(e hclsyntax.Expression) (bound, float64) {
	b, w := c.node(e)
	if c.tooBig == nil && b.all.tooBig() {
		c.tooBig, c.bigAt = e, b.all
	}
	return b, w + 1
}

func (c *coster) node(e hclsyntax.Expression) (bound, float64) {
	switch e := e.(type) {
	case *hclsyntax.LiteralValueExpr:
		return valueSize(e.Val), 0
	case *hclsyntax.ParenthesesExpr:
		return c.expr(e.Expression)
	case *hclsyntax.TemplateWrapExpr:
		return c.expr(e.Wrapped)
	case *hclsyntax.ScopeTraversalExpr:
		return c.traversal(e.Traversal), 0
	case *hclsyntax.RelativeTraversalExpr:
		src, w := c.expr(e.Source)
		return src.element(), w
	case *hclsyntax.IndexExpr:
		coll, w := c.expr(e.Collection)
		_, kw := c.expr(e.Key)
		return coll.element(), w + kw
	case *hclsyntax.TemplateExpr:
		var out size
		var w float64
		for _, part := range e.Parts {
			pb, pw := c.expr(part)
			out.bytes += pb.all.bytes // only strings, numbers and bools interpolate
			w += pw + pb.all.nums*numberWork
		}
		return scalar(out), w + out.work()
	case *hclsyntax.TemplateJoinExpr:
		t, w := c.expr(e.Tuple)
		out := size{bytes: t.all.bytes}
		return scalar(out), w + out.work() + t.all.nums*numberWork
	case *hclsyntax.TupleConsExpr:
		b := bound{key: 20}
		var w float64
		for _, item := range e.Exprs {
			ib, iw := c.expr(item)
			b.all = b.all.plus(ib.all).plus(size{elems: 1})
			b.each = maxSize(b.each, ib.all)
			w += iw
		}
		return b, w + b.all.work()
	case *hclsyntax.ObjectConsExpr:
		var b bound
		var w float64
		for _, item := range e.Items {
			kb, kw := c.expr(item.KeyExpr)
			vb, vw := c.expr(item.ValueExpr)
			b.all = b.all.plus(vb.all).plus(size{elems: 1, bytes: kb.all.bytes})
			b.each = maxSize(b.each, vb.all)
			b.key = math.Max(b.key, kb.all.bytes)
			w += kw + vw
		}
		return b, w + b.all.work()
	case *hclsyntax.ObjectConsKeyExpr:
		if name := hcl.ExprAsKeyword(e.Wrapped); name != "" && !e.ForceNonLiteral {
			return scalar(size{bytes: float64(len(name))}), 0
		}
		return c.expr(e.Wrapped)
	case *hclsyntax.ForExpr:
		return c.forExpr(e)
	case *hclsyntax.SplatExpr:
		src, w := c.expr(e.Source)
		n := math.Max(src.all.elems, 1)
		c.anons[e.Item] = src.element()
		item, iw := c.expr(e.Each)
		delete(c.anons, e.Item)
		out := bound{all: item.all.times(n).plus(size{elems: n}), each: item.all, key: 20}
		return out, w + n*iw + out.all.work()
	case *hclsyntax.AnonSymbolExpr:
		return c.anons[e], 0
	case *hclsyntax.FunctionCallExpr:
		return c.call(e)
	case *hclsyntax.ConditionalExpr:
		_, cw := c.expr(e.Condition)
		t, tw := c.expr(e.TrueResult)
		f, fw := c.expr(e.FalseResult)
		b := bound{all: maxSize(t.all, f.all), each: maxSize(t.each, f.each), key: math.Max(t.key, f.key)}
		return b, cw + tw + fw + t.all.work() + f.all.work()
	case *hclsyntax.BinaryOpExpr:
		l, lw := c.expr(e.LHS)
		r, rw := c.expr(e.RHS)
		w := lw + rw + l.all.work() + r.all.work() // comparing walks both
		switch e.Op {
		case hclsyntax.OpAdd, hclsyntax.OpSubtract:
			return scalar(number(math.Max(l.all.bytes, r.all.bytes) + 1)), w
		case hclsyntax.OpMultiply, hclsyntax.OpDivide:
			return scalar(number(l.all.bytes + r.all.bytes)), w
		case hclsyntax.OpModulo:
			return scalar(number(math.Max(l.all.bytes, r.all.bytes))), w
		}
		return scalar(size{bytes: 5}), w
	case *hclsyntax.UnaryOpExpr:
		v, w := c.expr(e.Val)
		if e.Op == hclsyntax.OpLogicalNot {
			return scalar(size{bytes: 5}), w
		}
		return v, w
	case *hclsyntax.ExprSyntaxError:
		return bound{}, 0
	}
	// An expression this walker does not know could do anything.
	inf := size{math.Inf(1), math.Inf(1), math.Inf(1)}
	return bound{inf, inf, math.Inf(1)}, math.Inf(1)
}

// traversal bounds a variable reference: from the enclosing for-expression
// if it names an iterator, else by looking the value up.
func (c *coster) traversal(t hcl.Traversal) bound {
	narrow := func(b bound, steps int) bound {
		if steps == 0 {
			return b
		}
		return b.element()
	}
	if b, ok := c.vars[t.RootName()]; ok {
		return narrow(b, len(t)-1)
	}
	if name, ok := localName(t); ok {
		if b, ok := c.locals[name]; ok {
			return narrow(b, len(t)-2)
		}
	}
	key := traversalKey(t)
	if b, ok := c.seen[key]; ok {
		return b
	}
	var b bound
	if v, diags := t.TraverseAbs(c.ctx); !diags.HasErrors() {
		b = valueSize(v)
	}
	c.seen[key] = b
	return b
}

// traversalKey writes a traversal out, to tell traversals apart.
func traversalKey(t hcl.Traversal) string {
	var s strings.Builder
	for _, step := range t {
		switch step := step.(type) {
		case hcl.TraverseRoot:
			s.WriteString(step.Name)
		case hcl.TraverseAttr:
			s.WriteString("." + step.Name)
		case hcl.TraverseIndex:
			s.WriteString("[" + step.Key.GoString() + "]")
		default:
			s.WriteString("[*]")
		}
	}
	return s.String()
}

func (c *coster) forExpr(e *hclsyntax.ForExpr) (bound, float64) {
	coll, w := c.expr(e.CollExpr)
	n := coll.all.elems
	saved := map[string]*bound{}
	for _, name := range []string{e.KeyVar, e.ValVar} {
		if name == "" {
			continue
		}
		if old, ok := c.vars[name]; ok {
			saved[name] = &old
		} else {
			saved[name] = nil
		}
	}
	if e.KeyVar != "" {
		c.vars[e.KeyVar] = scalar(size{bytes: math.Max(coll.key, 20)})
	}
	c.vars[e.ValVar] = coll.element()
	var per float64
	var key, val bound
	if e.CondExpr != nil {
		_, cw := c.expr(e.CondExpr)
		per += cw
	}
	if e.KeyExpr != nil {
		var kw float64
		key, kw = c.expr(e.KeyExpr)
		per += kw
	}
	val, vw := c.expr(e.ValExpr)
	per += vw
	for name, old := range saved {
		if old == nil {
			delete(c.vars, name)
		} else {
			c.vars[name] = *old
		}
	}
	item := val.all.plus(size{elems: 1, bytes: key.all.bytes})
	out := bound{all: item.times(n), each: val.all, key: math.Max(key.all.bytes, 20)}
	if e.Group {
		out.all.elems += n
		out.each = out.all
	}
	return out, w + n*per + out.all.work()
}

// call bounds a function call from its arguments' bounds.
func (c *coster) call(e *hclsyntax.FunctionCallExpr) (bound, float64) {
	args := make([]bound, len(e.Args))
	var w float64
	var sum size
	var maxArg, maxEach size
	var maxKey float64
	for i, a := range e.Args {
		b, aw := c.expr(a)
		args[i], w = b, w+aw
		sum = sum.plus(b.all)
		maxArg = maxSize(maxArg, b.all)
		maxEach = maxSize(maxEach, b.each)
		maxKey = math.Max(maxKey, b.key)
	}
	arg := func(i int) bound {
		if i < len(args) {
			return args[i]
		}
		return bound{}
	}
	var out bound
	switch e.Name {
	case "length":
		out = scalar(number(20))
	case "contains":
		out = scalar(size{bytes: 5})
	case "lookup":
		m, def := arg(0), arg(2)
		out = bound{all: maxSize(m.each, def.all), each: maxSize(m.each, def.each), key: math.Max(m.each.bytes, def.key)}
	case "join":
		sep, list := arg(0), arg(1)
		if e.ExpandFinal {
			list = bound{all: sum, each: sum}
		}
		out = scalar(size{bytes: list.all.bytes + list.all.elems*(sep.all.bytes+20)})
	case "split":
		s := arg(1).all.bytes
		out = bound{all: size{elems: s + 1, bytes: s}, each: size{bytes: s}, key: 20}
	case "replace":
		s, repl := arg(0).all.bytes, arg(2).all.bytes
		out = scalar(size{bytes: s + (s+1)*repl})
	case "format", "formatlist":
		// Each verb prints one argument, padded to at most MaxFormatWidth.
		verbs := arg(0).all.bytes/2 + 1
		item := size{bytes: arg(0).all.bytes + verbs*(textOf(maxArg)+MaxFormatWidth)}
		if e.Name == "format" {
			out = scalar(item)
			break
		}
		n := math.Max(maxArg.elems, 1)
		out = bound{all: item.times(n).plus(size{elems: n}), each: item, key: 20}
	default:
		// The rest return their arguments' elements and text, rearranged:
		// concat, distinct, flatten, keys, lower, merge, setunion, sort,
		// trimprefix, trimsuffix, upper, values, zipmap.
		out = bound{all: sum, each: maxEach, key: maxKey}
	}
	if e.Name == "length" || e.Name == "lookup" {
		return out, w + out.all.work() // they read one element, if any
	}
	// The rest read their arguments and build their result.
	return out, w + sum.work() + out.all.work()
}

// approx writes a bound for a diagnostic: in full up to a billion, else
// as a power of ten.
func approx(n float64) string {
	if n < 1e9 {
		return thousands(int(n))
	}
	if math.IsInf(n, 1) || n >= 1e300 {
		return "unbounded"
	}
	return fmt.Sprintf("about 10^%d", int(math.Log10(n)))
}

// checkCost bounds expr before it is evaluated in ctx, where locals holds
// the bounds of the local values, and charges its work to budget. It
// reports whether expr may be evaluated, with a diagnostic if not; once the
// budget is spent, nothing more is evaluated and nothing more reported.
func checkCost(expr hcl.Expression, ctx *hcl.EvalContext, locals map[string]bound, budget *float64) (*hcl.Diagnostic, bool) {
	e, ok := expr.(hclsyntax.Expression)
	if !ok {
		return nil, true
	}
	if *budget < 0 {
		return nil, false
	}
	c := &coster{ctx: ctx, locals: locals, seen: map[string]bound{}, vars: map[string]bound{}, anons: map[*hclsyntax.AnonSymbolExpr]bound{}}
	b, w := c.expr(e)
	// Referring to a value builds nothing, but its user then walks it all:
	// a local's value is measured, an attribute's decoded and checked
	// element by element. So the value is charged again, whole, wherever
	// it comes from: regions = local.big costs as much as writing the
	// list out, once per site of a for_each.
	w += b.all.work()
	if c.tooBig != nil {
		what := approx(c.bigAt.elems) + " elements"
		if c.bigAt.bytes > MaxValueBytes {
			what = approx(c.bigAt.bytes) + " bytes of text"
		}
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Value too large",
			Detail: fmt.Sprintf("This expression can produce up to %s; a value holds at most %s elements and 1 MiB of text.",
				what, thousands(MaxValueElements)),
			Subject: c.tooBig.Range().Ptr(),
		}, false
	}
	if *budget -= w; *budget < 0 {
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Policy too costly to evaluate",
			Detail: fmt.Sprintf("Evaluating the policy up to here can build more than %d MiB of values "+
				"(an element counts %d bytes, a number %d KiB); nothing after this is evaluated. "+
				"Build smaller values, or fewer for-expressions over large collections.", MaxWork>>20, elementWork, numberWork>>10),
			Subject: expr.Range().Ptr(),
		}, false
	}
	return nil, true
}
