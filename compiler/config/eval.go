package config

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// functions are the HCL functions a policy may call: enough to build lists
// and URLs from templates, nothing that reads files or the environment.
var functions = map[string]function.Function{
	"concat":     stdlib.ConcatFunc,
	"contains":   stdlib.ContainsFunc,
	"distinct":   stdlib.DistinctFunc,
	"flatten":    stdlib.FlattenFunc,
	"format":     stdlib.FormatFunc,
	"formatlist": stdlib.FormatListFunc,
	"join":       stdlib.JoinFunc,
	"keys":       stdlib.KeysFunc,
	"length":     stdlib.LengthFunc,
	"lookup":     stdlib.LookupFunc,
	"lower":      stdlib.LowerFunc,
	"merge":      stdlib.MergeFunc,
	"replace":    stdlib.ReplaceFunc,
	"setunion":   stdlib.SetUnionFunc,
	"sort":       stdlib.SortFunc,
	"split":      stdlib.SplitFunc,
	"trimprefix": stdlib.TrimPrefixFunc,
	"trimsuffix": stdlib.TrimSuffixFunc,
	"upper":      stdlib.UpperFunc,
	"values":     stdlib.ValuesFunc,
	"zipmap":     stdlib.ZipmapFunc,
}

// evalLocals evaluates every locals block, in dependency order, and returns
// the context that the rest of the policy is evaluated in.
func evalLocals(blocks []*hcl.Block) (*hcl.EvalContext, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	pending := map[string]*hcl.Attribute{}
	for _, b := range blocks {
		attrs, d := b.Body.JustAttributes()
		diags = append(diags, d...)
		for _, name := range sortedKeys(attrs) {
			if prev, ok := pending[name]; ok {
				diags = append(diags, duplicate("local value", name, attrs[name].NameRange, prev.NameRange))
				continue
			}
			pending[name] = attrs[name]
		}
	}
	values := map[string]cty.Value{}
	ctx := &hcl.EvalContext{Functions: functions, Variables: map[string]cty.Value{}}
	// Evaluate whatever is ready, over and over: each pass resolves at least
	// one local unless the rest refer to missing or circular names.
	for len(pending) > 0 {
		progressed := false
		for _, name := range sortedKeys(pending) {
			attr := pending[name]
			if !localsReady(attr.Expr, pending) {
				continue
			}
			ctx.Variables["local"] = cty.ObjectVal(values)
			v, d := attr.Expr.Value(ctx)
			diags = append(diags, d...)
			values[name] = v
			delete(pending, name)
			progressed = true
		}
		if !progressed {
			for _, name := range sortedKeys(pending) {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Circular local value",
					Detail:   fmt.Sprintf("The local value %q refers to itself, directly or through other locals; break the cycle.", name),
					Subject:  pending[name].Expr.Range().Ptr(),
				})
			}
			break
		}
	}
	ctx.Variables["local"] = cty.ObjectVal(values)
	return ctx, diags
}

// localsReady reports whether expr refers to no local still pending.
func localsReady(expr hcl.Expression, pending map[string]*hcl.Attribute) bool {
	for _, t := range expr.Variables() {
		if t.RootName() != "local" || len(t) < 2 {
			continue
		}
		if attr, ok := t[1].(hcl.TraverseAttr); ok {
			if _, waiting := pending[attr.Name]; waiting {
				return false
			}
		}
	}
	return true
}

// forEachKeys evaluates a for_each expression: a list or set of strings, or
// a map. It returns each instance's each.key and each.value.
func forEachKeys(expr hcl.Expression, ctx *hcl.EvalContext) ([]cty.Value, []cty.Value, hcl.Diagnostics) {
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return nil, nil, diags
	}
	bad := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid for_each",
		Detail:   "for_each must be a list or set of strings, or a map; give one instance per element.",
		Subject:  expr.Range().Ptr(),
	}
	if v.IsNull() || !v.IsKnown() {
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
