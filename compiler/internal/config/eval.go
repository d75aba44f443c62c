package config

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// locals evaluates the locals blocks' attributes.
type locals struct {
	attrs  map[string]*hcl.Attribute
	values map[string]cty.Value
	sizes  map[string]bound
	diags  hcl.Diagnostics
}

// evalLocals evaluates every locals block, in dependency order, and returns
// the context that the rest of the policy is evaluated in. Each local is
// evaluated once, seeing only the locals it names, and only after its cost
// is bounded; a local that fails leaves its dependents unevaluated.
func evalLocals(blocks []*hcl.Block, budget *float64) (*hcl.EvalContext, map[string]bound, hcl.Diagnostics) {
	l := &locals{attrs: map[string]*hcl.Attribute{}, values: map[string]cty.Value{}, sizes: map[string]bound{}}
	for _, b := range blocks {
		attrs, d := b.Body.JustAttributes()
		l.diags = append(l.diags, d...)
		for _, name := range sortedKeys(attrs) {
			if prev, ok := l.attrs[name]; ok {
				l.diags = append(l.diags, duplicate("local value", name, attrs[name].NameRange, prev.NameRange))
				continue
			}
			l.attrs[name] = attrs[name]
		}
	}
	names := sortedKeys(l.attrs)
	// Kahn's algorithm: a local is ready once every local it names is done.
	waiting := map[string]int{}
	dependents := map[string][]string{}
	for _, name := range names {
		for _, dep := range l.deps(name) {
			waiting[name]++
			dependents[dep] = append(dependents[dep], name)
		}
	}
	var ready []string
	for _, name := range names {
		if waiting[name] == 0 {
			ready = append(ready, name)
		}
	}
	failed := map[string]bool{}
	for len(ready) > 0 {
		name := ready[0]
		ready = ready[1:]
		if !failed[name] && !l.eval(name, budget) {
			failed[name] = true
		}
		var next []string
		for _, dep := range dependents[name] {
			if failed[name] {
				failed[dep] = true
			}
			if waiting[dep]--; waiting[dep] == 0 {
				next = append(next, dep)
			}
		}
		sort.Strings(next)
		ready = append(ready, next...)
	}
	for _, name := range names {
		if _, done := l.values[name]; !done && !failed[name] {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Circular local value",
				Detail:   fmt.Sprintf("The local value %q refers to itself, directly or through other locals; break the cycle.", name),
				Subject:  l.attrs[name].Expr.Range().Ptr(),
			})
		}
		if _, done := l.values[name]; !done {
			l.values[name] = cty.DynamicVal
		}
	}
	return &hcl.EvalContext{Functions: functions, Variables: map[string]cty.Value{"local": cty.ObjectVal(l.values)}}, l.sizes, l.diags
}

// deps returns the declared locals that a local's expression names, once
// each, in order.
func (l *locals) deps(name string) []string {
	seen := map[string]bool{}
	var deps []string
	for _, t := range l.attrs[name].Expr.Variables() {
		dep, ok := localName(t)
		if _, declared := l.attrs[dep]; ok && declared && !seen[dep] {
			seen[dep] = true
			deps = append(deps, dep)
		}
	}
	return deps
}

// localName returns the local a traversal names: local.NAME or
// local["NAME"].
func localName(t hcl.Traversal) (string, bool) {
	if t.RootName() != "local" || len(t) < 2 {
		return "", false
	}
	switch step := t[1].(type) {
	case hcl.TraverseAttr:
		return step.Name, true
	case hcl.TraverseIndex:
		if step.Key.Type() == cty.String && step.Key.IsKnown() && !step.Key.IsNull() {
			return step.Key.AsString(), true
		}
	}
	return "", false
}

// eval evaluates one local whose dependencies are done, and reports whether
// it has a value.
func (l *locals) eval(name string, budget *float64) bool {
	expr := l.attrs[name].Expr
	// The context holds the locals this one names; if it names undeclared
	// ones, every local so far, so HCL can suggest a near name.
	known := map[string]cty.Value{}
	for _, dep := range l.deps(name) {
		known[dep] = l.values[dep]
	}
	for _, t := range expr.Variables() {
		ref, ok := localName(t)
		if _, declared := l.attrs[ref]; t.RootName() == "local" && (!ok || !declared) {
			known = l.values
			break
		}
	}
	ctx := &hcl.EvalContext{Functions: functions, Variables: map[string]cty.Value{"local": cty.ObjectVal(known)}}
	if d, ok := checkCost(expr, ctx, l.sizes, budget); !ok {
		if d != nil {
			l.diags = append(l.diags, d)
		}
		return false
	}
	v, d := expr.Value(ctx)
	l.diags = append(l.diags, d...)
	l.values[name] = v
	l.sizes[name] = valueSize(v)
	return true
}

// forEachKeys evaluates a for_each expression: a list or set of strings, or
// a map. It returns each instance's each.key and each.value.
func forEachKeys(expr hcl.Expression, ctx *hcl.EvalContext, locals map[string]bound, budget *float64) ([]cty.Value, []cty.Value, hcl.Diagnostics) {
	if d, ok := checkCost(expr, ctx, locals, budget); !ok {
		if d != nil {
			return nil, nil, hcl.Diagnostics{d}
		}
		return nil, nil, nil
	}
	v, diags := expr.Value(ctx)
	if diags.HasErrors() || !v.IsWhollyKnown() {
		// An unknown value comes from an error already reported.
		return nil, nil, diags
	}
	bad := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid for_each",
		Detail:   "for_each must be a list or set of strings, or a map; give one instance per element.",
		Subject:  expr.Range().Ptr(),
	}
	if v.IsNull() {
		return nil, nil, hcl.Diagnostics{bad}
	}
	ty := v.Type()
	var keys, values []cty.Value
	switch {
	case ty.IsMapType() || ty.IsObjectType():
		for it := v.ElementIterator(); it.Next(); {
			k, val := it.Element()
			keys = append(keys, k)
			values = append(values, val)
		}
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
		for it := v.ElementIterator(); it.Next(); {
			_, val := it.Element()
			if val.IsNull() || val.Type() != cty.String {
				return nil, nil, hcl.Diagnostics{bad}
			}
			keys = append(keys, val)
			values = append(values, val)
		}
	default:
		return nil, nil, hcl.Diagnostics{bad}
	}
	return keys, values, nil
}

// withEach returns a child context in which each.key and each.value are set.
func withEach(ctx *hcl.EvalContext, key, value cty.Value) *hcl.EvalContext {
	child := ctx.NewChild()
	child.Variables = map[string]cty.Value{
		"each": cty.ObjectVal(map[string]cty.Value{"key": key, "value": value}),
	}
	return child
}

// affordable checks the cost of each attribute in body and its blocks.
func (d *decoder) affordable(body hcl.Body, ctx *hcl.EvalContext) bool {
	b, ok := body.(*hclsyntax.Body)
	if !ok {
		return true
	}
	for _, name := range sortedKeys(b.Attributes) {
		if name == "for_each" {
			continue // bounded when the instances were made
		}
		if diag, ok := checkCost(b.Attributes[name].Expr, ctx, d.localSizes, d.budget); !ok {
			if diag != nil {
				d.diags = append(d.diags, diag)
			}
			return false
		}
	}
	for _, blk := range b.Blocks {
		if !d.affordable(blk.Body, ctx) {
			return false
		}
	}
	return true
}

// stringList converts a list, set or tuple of strings element by element (cty
// would compare every pair of element types first). A value that is
// missing, null or unknown (after an error already reported) gives nil.
func (d *decoder) stringList(v cty.Value, r hcl.Range) []string {
	if v.Type() == cty.NilType || v.IsNull() || !v.IsWhollyKnown() {
		return nil
	}
	ty := v.Type()
	if !(ty.IsListType() || ty.IsSetType() || ty.IsTupleType()) {
		d.errorf(r, "Unsuitable value type", "Unsuitable value: list of string required, but have %s", ty.FriendlyName())
		return nil
	}
	out := make([]string, 0, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		s, err := convert.Convert(e, cty.String)
		if err != nil || s.IsNull() {
			d.errorf(r, "Unsuitable value type", "Unsuitable value: element %d of the list is %s; a string is required", len(out), e.Type().FriendlyName())
			return nil
		}
		out = append(out, s.AsString())
	}
	return out
}
