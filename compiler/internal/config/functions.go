package config

import (
	"fmt"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// functions are the HCL functions a policy may call: enough to build lists
// and URLs from templates, nothing that reads files or the environment.
var functions = map[string]function.Function{
	"concat":     stdlib.ConcatFunc,
	"contains":   stdlib.ContainsFunc,
	"distinct":   linear(distinctFunc),
	"flatten":    stdlib.FlattenFunc,
	"format":     narrow(stdlib.FormatFunc),
	"formatlist": narrow(stdlib.FormatListFunc),
	"join":       linear(stdlib.JoinFunc),
	"keys":       stdlib.KeysFunc,
	"length":     stdlib.LengthFunc,
	"lookup":     stdlib.LookupFunc,
	"lower":      stdlib.LowerFunc,
	"merge":      stdlib.MergeFunc,
	"replace":    stdlib.ReplaceFunc,
	"setunion":   linear(stdlib.SetUnionFunc),
	"sort":       linear(stdlib.SortFunc),
	"split":      stdlib.SplitFunc,
	"trimprefix": stdlib.TrimPrefixFunc,
	"trimsuffix": stdlib.TrimSuffixFunc,
	"upper":      stdlib.UpperFunc,
	"values":     stdlib.ValuesFunc,
	"zipmap":     linear(stdlib.ZipmapFunc),
}

// distinctFunc is stdlib.DistinctFunc in linear time: cty's compares each
// element with every element kept so far.
var distinctFunc = function.New(&function.Spec{
	Description: stdlib.DistinctFunc.Description(),
	Params:      stdlib.DistinctFunc.Params(),
	Type: func(args []cty.Value) (cty.Type, error) {
		return args[0].Type(), nil
	},
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		list := args[0]
		if !list.IsWhollyKnown() {
			return cty.UnknownVal(retType), nil
		}
		seen := map[string]bool{}
		var out []cty.Value
		for it := list.ElementIterator(); it.Next(); {
			_, v := it.Element()
			// Equal values have equal JSON: it sorts keys and writes
			// each number one way.
			key, err := ctyjson.Marshal(v, v.Type())
			if err != nil {
				return cty.NilVal, err
			}
			if !seen[string(key)] {
				seen[string(key)] = true
				out = append(out, v)
			}
		}
		if len(out) == 0 {
			return cty.ListValEmpty(retType.ElementType()), nil
		}
		return cty.ListVal(out), nil
	},
})

// MaxFormatWidth is the widest field format and formatlist may pad to.
const MaxFormatWidth = 256

// maxElementTypes bounds how many different element types a tuple passed as
// a list may have: unifying them compares every pair.
const maxElementTypes = 16

// linear wraps a function that takes lists or sets so that a tuple (what
// ["a", "b"] and a for-expression produce) is converted element by
// element. cty's own conversion compares every pair of element types,
// which takes seconds for 10,000 elements.
func linear(f function.Function) function.Function {
	spec := &function.Spec{
		Description: f.Description(),
		Type: func(args []cty.Value) (cty.Type, error) {
			args, err := asCollections(f, args)
			if err != nil {
				return cty.NilType, err
			}
			return f.ReturnTypeForValues(args)
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			args, err := asCollections(f, args)
			if err != nil {
				return cty.NilVal, err
			}
			return f.Call(args)
		},
	}
	// The wrapper takes anything, so that cty converts nothing before
	// asCollections does; f then checks the arguments as it always does.
	open := func(p function.Parameter) function.Parameter {
		p.Type, p.AllowNull, p.AllowUnknown, p.AllowDynamicType, p.AllowMarked = cty.DynamicPseudoType, true, true, true, true
		return p
	}
	for _, p := range f.Params() {
		spec.Params = append(spec.Params, open(p))
	}
	if vp := f.VarParam(); vp != nil {
		p := open(*vp)
		spec.VarParam = &p
	}
	return function.New(spec)
}

// asCollections converts each tuple argument of f whose parameter is a list
// or set type into that list or set.
func asCollections(f function.Function, args []cty.Value) ([]cty.Value, error) {
	params := f.Params()
	out := make([]cty.Value, len(args))
	for i, arg := range args {
		out[i] = arg
		var pt cty.Type
		switch {
		case i < len(params):
			pt = params[i].Type
		case f.VarParam() != nil:
			pt = f.VarParam().Type
		default:
			continue
		}
		if !(pt.IsListType() || pt.IsSetType()) || arg.IsMarked() || !arg.IsKnown() || arg.IsNull() || !arg.Type().IsTupleType() {
			continue
		}
		v, err := tupleAs(arg, pt)
		if err != nil {
			return nil, function.NewArgError(i, err)
		}
		out[i] = v
	}
	return out, nil
}

// tupleAs converts a known tuple into a list or set of want's element type,
// or of the one type its elements unify to.
func tupleAs(tuple cty.Value, want cty.Type) (cty.Value, error) {
	ety := want.ElementType()
	if ety == cty.DynamicPseudoType {
		var types []cty.Type
		for _, t := range tuple.Type().TupleElementTypes() {
			if !containsType(types, t) {
				types = append(types, t)
			}
			if len(types) > maxElementTypes {
				return cty.NilVal, fmt.Errorf("the elements have more than %d different types", maxElementTypes)
			}
		}
		if len(types) > 0 {
			if ety, _ = convert.UnifyUnsafe(types); ety == cty.NilType {
				return cty.NilVal, fmt.Errorf("all elements must have the same type")
			}
		}
	}
	elems := make([]cty.Value, 0, tuple.LengthInt())
	for it := tuple.ElementIterator(); it.Next(); {
		_, e := it.Element()
		c, err := convert.Convert(e, ety)
		if err != nil {
			return cty.NilVal, fmt.Errorf("element %d: %s", len(elems), err)
		}
		elems = append(elems, c)
	}
	switch {
	case len(elems) == 0 && want.IsSetType():
		return cty.SetValEmpty(ety), nil
	case len(elems) == 0:
		return cty.ListValEmpty(ety), nil
	case want.IsSetType():
		return cty.SetVal(elems), nil
	}
	return cty.ListVal(elems), nil
}

func containsType(types []cty.Type, t cty.Type) bool {
	for _, u := range types {
		if u.Equals(t) {
			return true
		}
	}
	return false
}

// narrow wraps format or formatlist so that no field is padded, or no
// number printed, wider than MaxFormatWidth: "%999999999s" would
// otherwise build a gigabyte.
func narrow(f function.Function) function.Function {
	spec := &function.Spec{
		Description: f.Description(),
		Params:      f.Params(),
		VarParam:    f.VarParam(),
		Type: func(args []cty.Value) (cty.Type, error) {
			return f.ReturnTypeForValues(args)
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if args[0].IsKnown() && !args[0].IsNull() {
				if w := widestField(args[0].AsString()); w > MaxFormatWidth {
					return cty.NilVal, function.NewArgErrorf(0, "a field width or precision of %d is over the limit of %d", w, MaxFormatWidth)
				}
			}
			return f.Call(args)
		},
	}
	return function.New(spec)
}

// widestField returns the largest number in any verb of a format string:
// its width, precision or argument index.
func widestField(format string) int {
	widest := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		n := 0
		for i++; i < len(format) && format[i] != '%' && !isVerb(format[i]); i++ {
			if c := format[i]; c >= '0' && c <= '9' {
				n = min(n*10+int(c-'0'), 1<<30)
				widest = max(widest, n)
			} else {
				n = 0
			}
		}
	}
	return widest
}

func isVerb(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
