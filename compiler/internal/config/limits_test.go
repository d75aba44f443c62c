package config

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// withCDN is base with the site its mirror block names.
const withCDN = base + `site "cdn" { url = "https://cdn.example.com" }
`

// baseLines is how many lines withCDN has, so attacks can name their own.
var baseLines = strings.Count(withCDN, "\n")

// repeat joins copies of format for i from first to last: %d becomes i,
// %p i-1 and %n i+1.
func repeat(first, last int, format, sep string) string {
	var parts []string
	for i := first; i <= last; i++ {
		parts = append(parts, strings.NewReplacer("%d", fmt.Sprint(i), "%p", fmt.Sprint(i-1), "%n", fmt.Sprint(i+1)).Replace(format))
	}
	return strings.Join(parts, sep)
}

// errorsAt lists each error as summary@line:col, lines counted from the
// end of withCDN when the error is in the attack.
func errorsAt(diags hcl.Diagnostics) string {
	var s []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		where := "-"
		if d.Subject != nil {
			line := d.Subject.Start.Line
			if line > baseLines {
				where = fmt.Sprintf("+%d:%d", line-baseLines, d.Subject.Start.Column)
			} else {
				where = fmt.Sprintf("%d:%d", line, d.Subject.Start.Column)
			}
		}
		s = append(s, d.Summary+"@"+where)
	}
	return strings.Join(s, "; ")
}

// bigRegions declares local.big, 10,000 region patterns, in 4 lines.
var bigRegions = "locals {\n  big = [" + repeat(0, 9999, `"aws:r%d"`, ",") + "]\n}\n"

// hostile policies, each appended to withCDN, and the errors they must
// give (the last may be cut short): every one is refused before it can
// take long or use much memory.
var hostile = []struct {
	name, policy, want string
}{
	// The four attacks of issue 10.
	{"locals doubling 40 times", "locals {\n  l0 = [\"x\"]\n" + repeat(1, 40, "  l%d = concat(local.l%p, local.l%p)", "\n") + "\n}\n",
		"Value too large@+16:9"},
	{"100,000 nested brackets", "locals {\n  x = " + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + "\n}\n",
		"Policy nested too deeply@+2:70"},
	{"5,000 chained locals", "locals {\n  c0 = \"x\"\n" + repeat(1, 4999, "  c%d = local.c%p", "\n") + "\n}\n",
		"Too many local values@+1002:3"},
	{"a site with 20,000 regions", "site \"many\" {\n  url = \"https://m.example.com\"\n  regions = [" + repeat(0, 19999, `"aws:r%d"`, ",") + "]\n}\n",
		"Value too large@+3:13"},
	{"a site with 100,000 regions", "site \"many\" {\n  url = \"https://m.example.com\"\n  regions = [" + repeat(0, 99999, `"aws:r%d"`, ",") + "]\n}\n",
		"Policy file too large@+3:"},

	// Growth inside one expression.
	{"for nested in for", "locals {\n  l = [" + repeat(0, 99, `"e%d"`, ",") + "]\n  x = [for a in local.l : [for b in local.l : [for c in local.l : \"${a}${b}${c}\"]]]\n}\n",
		"Value too large@+3:27"},
	{"for nested in for, counted", "locals {\n  l = [" + repeat(0, 299, `"e%d"`, ",") + "]\n  x = length([for a in local.l : length([for b in local.l : length([for c in local.l : 1])])])\n}\n",
		"Policy too costly to evaluate@+3:7"},
	{"a for repeating a long string", "locals {\n  l = [" + repeat(0, 4999, `"e%d"`, ",") + "]\n  s = \"" + strings.Repeat("x", 100_000) + "\"\n  x = length([for a in local.l : \"${local.s}\"])\n}\n",
		"Value too large@+4:14"},
	{"a template repeating a long string", "locals {\n  s = \"" + strings.Repeat("x", 1000) + "\"\n  t = \"" + strings.Repeat("${local.s}", 5000) + "\"\n}\n",
		"Value too large@+3:7"},
	{"concat of one list 2,000 times", "locals {\n  l = [" + repeat(0, 8999, `"e%d"`, ",") + "]\n  x = concat(" + strings.Repeat("local.l,", 2000) + ")\n}\n",
		"Value too large@+3:7"},
	{"join with a long separator", "locals {\n  l = [" + repeat(0, 8999, `"e%d"`, ",") + "]\n  x = join(\"" + strings.Repeat("x", 10_000) + "\", local.l)\n}\n",
		"Value too large@+3:7"},
	{"replace of the empty string", "locals {\n  s = \"" + strings.Repeat("x", 10_000) + "\"\n  t = replace(local.s, \"\", local.s)\n}\n",
		"Value too large@+3:7"},
	{"split into characters", "locals {\n  s = \"" + strings.Repeat("x", 20_000) + "\"\n  t = split(\"\", local.s)\n}\n",
		"Value too large@+3:7"},
	{"a format width of a billion", "locals {\n  s = format(\"%999999999s\", \"x\")\n}\n",
		"Invalid function argument@+2:15"},
	{"a format width from a local", "locals {\n  w = \"%999999999s\"\n  s = format(local.w, \"x\")\n}\n",
		"Invalid function argument@+3:14"},
	{"a list compared with itself in a for", "locals {\n  l = [" + repeat(0, 8999, `"e%d"`, ",") + "]\n  x = [for a in local.l : local.l == local.l]\n}\n",
		"Policy too costly to evaluate@+3:7"},
	{"every local at once, six times", "locals {\n  a = [" + repeat(0, 4999, `"e%d"`, ",") + "]\n  b = [local, local, local, local, local, local]\n}\n",
		"Value too large@+3:7"},
	{"a string of 20,000 numbers", "locals {\n  l = [" + repeat(0, 19999, "%d", ",") + "]\n}\n",
		"Value too large@+2:7"},

	// Growth across locals.
	{"formatlist doubling", "locals {\n  f0 = [\"ab\"]\n" + repeat(1, 40, `  f%d = formatlist("%s%s", local.f%p, local.f%p)`, "\n") + "\n}\n",
		"Value too large@+18:9"},
	{"flatten doubling", "locals {\n  f0 = [\"ab\"]\n" + repeat(1, 40, "  f%d = flatten([local.f%p, local.f%p])", "\n") + "\n}\n",
		"Value too large@+16:17"},
	{"merge doubling", "locals {\n  m0 = {a = \"x\"}\n" + repeat(1, 40, `  m%d = merge(local.m%p, { for k, v in local.m%p : "${k}%d" => v })`, "\n") + "\n}\n",
		"Value too large@+16:9"},
	{"zipmap doubling", "locals {\n  k0 = [\"a\"]\n" + repeat(1, 40, `  k%d = keys(zipmap(concat(local.k%p, [for k in local.k%p : "${k}%d"]), concat(local.k%p, local.k%p)))`, "\n") + "\n}\n",
		"Value too large@+15:14"},
	{"template doubling", "locals {\n  s0 = \"ab\"\n" + repeat(1, 40, `  s%d = "${local.s%p}${local.s%p}"`, "\n") + "\n}\n",
		"Value too large@+22:9"},
	{"number squaring", "locals {\n  n0 = 1e300\n" + repeat(1, 40, "  n%d = local.n%p * local.n%p", "\n") + "\n  t = \"${local.n39}\"\n}\n",
		"Value too large@+14:9"},

	// One large value named many times: each use is charged in full, and
	// region patterns are counted before they are converted.
	{"a local of 10,000 regions in each of 990 sites of a for_each", bigRegions + "locals {\n  keys = [" + repeat(0, 989, `"k%d"`, ",") + "]\n}\n" +
		"site \"many\" {\n  for_each = local.keys\n  url = \"https://m.example.com\"\n  regions = local.big\n}\n",
		"Too many region patterns@+10:13; Policy too costly to evaluate@+10:13"},
	{"a local of 10,000 regions in 990 sites", bigRegions + repeat(0, 989, "site \"s%d\" {\n  url = \"https://m.example.com\"\n  regions = local.big\n}", "\n") + "\n",
		"Too many region patterns@+10:13; Policy too costly to evaluate@+362:13"},
	{"a local of 10,000 regions excluded by 200 feeds", bigRegions + repeat(0, 199, "feed \"f%d\" {\n  format = \"aws\"\n  file = \"aws.json\"\n  url = \"https://e.com\"\n  exclude_regions = local.big\n}", "\n") + "\n",
		"Policy too costly to evaluate@+"},
	{"a local of 10,000 regions in each of 32 deployments' routes", bigRegions + "route \"r\" {\n  kinds = [\"any\"]\n  regions = local.big\n  to = upstream.main\n}\n" +
		repeat(0, 31, "deployment \"d%d\" {\n  site \"cdn\" {\n    regions = local.big\n  }\n}", "\n") + "\n",
		"Too many region patterns@+6:13; Policy too costly to evaluate@+2:9"},

	// Deep syntax: each level is a recursion of HCL's parser.
	{"nested braces", "locals {\n  x = " + strings.Repeat("{a = ", 10_000) + "1" + strings.Repeat("}", 10_000) + "\n}\n",
		"Policy nested too deeply@+2:"},
	{"nested parentheses", "locals {\n  x = " + strings.Repeat("(", 100_000) + "1" + strings.Repeat(")", 100_000) + "\n}\n",
		"Policy nested too deeply@+2:70"},
	{"nested blocks", strings.Repeat("a {\n", 10_000) + strings.Repeat("}\n", 10_000),
		"Policy nested too deeply@+65:3"},
	{"nested template directives", "locals {\n  x = \"" + strings.Repeat("%{if true}", 10_000) + "x" + strings.Repeat("%{endif}", 10_000) + "\"\n}\n",
		"Policy nested too deeply@+2:"},
	{"a chain of nots", "locals {\n  x = " + strings.Repeat("!", 100_000) + "true\n}\n",
		"Policy nested too deeply@+2:"},
	{"a chain of nots across lines", "locals {\n  x = {for k in [1] : k => " + strings.Repeat("!\n", 100_000) + "true}\n}\n",
		"Policy nested too deeply@+"},
	{"a chain of conditionals", "locals {\n  x = " + strings.Repeat("true ? 1 : ", 20_000) + "1\n}\n",
		"Policy nested too deeply@+2:"},
	{"a chain of additions", "locals {\n  x = 1" + strings.Repeat(" + 1", 50_000) + "\n}\n",
		"Policy nested too deeply@+2:"},
	{"a chain of splats", "locals {\n  x = [1]" + strings.Repeat("[*]", 50_000) + "\n}\n",
		"Policy nested too deeply@+2:"},

	// Counts.
	{"1,001 routes", repeat(0, 1000, "route \"r%d\" {\n  kinds = [\"any\"]\n  to = upstream.main\n}", "\n") + "\n",
		"Too many blocks@+"},
	{"a for_each of 5,000 sites", "locals {\n  m = {" + repeat(0, 4999, `k%d = "x"`, ",") + "}\n}\nsite \"many\" {\n  for_each = local.m\n  url = \"https://${each.key}.example.com\"\n}\n",
		"Too many sites@+5:14"},
	{"100 deployments", repeat(0, 99, "deployment \"d%d\" {\n}", "\n") + "\n",
		"Too many deployments@+"},
}

// TestHostilePolicies loads each hostile policy, and bounds the memory it
// makes regedge allocate, in all, before it is refused: a few hundred
// megabytes at most. (A local of 10,000 region patterns named by 990
// sites once took 10 GB.) No test of this package runs in parallel, so
// the process's count of allocated bytes is this test's alone.
func TestHostilePolicies(t *testing.T) {
	const most = 512 << 20
	for _, tc := range hostile {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, diags := load(t, map[string]string{"policy.hcl": withCDN + tc.policy}, "")
			runtime.ReadMemStats(&after)
			if n := after.TotalAlloc - before.TotalAlloc; n > most {
				t.Errorf("allocated %d MiB, want at most %d", n>>20, most>>20)
			}
			got := errorsAt(diags)
			if !strings.HasPrefix(got, tc.want) || strings.Count(got, "@") != strings.Count(tc.want, "@") {
				t.Errorf("errors: %s\nwant: %s...", got, tc.want)
			}
		})
	}
}

// TestReferencesAreCharged charges each use of a local the local's whole
// size, as if it were written out: naming a 4,000-element list from one
// more site, or from one more instance of a for_each, costs at least
// 4,000 elements.
func TestReferencesAreCharged(t *testing.T) {
	spent := func(attack string) float64 {
		t.Helper()
		src := withCDN + "locals {\n  l = [" + repeat(0, 3999, `"aws:r%d"`, ",") + "]\n}\n" + attack
		f, diags := hclsyntax.ParseConfig([]byte(src), "p.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		budget := float64(MaxWork)
		if _, diags := decode(f.Body.(*hclsyntax.Body), Disk{}, &budget); diags.HasErrors() {
			t.Fatal(diags)
		}
		return MaxWork - budget
	}
	site := "site \"s%d\" {\n  url = \"https://s.example.com\"\n  regions = local.l\n}"
	one, two := spent(repeat(1, 1, site, "\n")), spent(repeat(1, 2, site, "\n"))
	forEach := func(n int) float64 {
		return spent("site \"e\" {\n  for_each = [" + repeat(1, n, `"k%d"`, ",") + "]\n  url = \"https://e.example.com\"\n  regions = local.l\n}\n")
	}
	const least = 4000 * elementWork
	if two-one < least {
		t.Errorf("a second site naming the local costs %.0f, want at least %d", two-one, least)
	}
	if d := forEach(2) - forEach(1); d < least {
		t.Errorf("a second instance naming the local costs %.0f, want at least %d", d, least)
	}
}

// TestBigButAllowed loads policies at the edge of the limits: they load,
// and their values are right.
func TestBigButAllowed(t *testing.T) {
	chain := "locals {\n  c0 = \"x\"\n" + repeat(1, 999, "  c%d = local.c%p", "\n") + "\n}\n"
	reversed := "locals {\n" + repeat(0, 998, "  c%d = local.c%n", "\n") + "\n  c999 = \"y\"\n}\n"
	regions := "site \"many\" {\n  url = \"https://m.example.com\"\n  regions = [" + repeat(0, 9999, `"aws:r%d"`, ",") + "]\n}\n"
	sites := "locals {\n  m = {" + repeat(0, 899, `k%d = "x"`, ",") + "}\n}\nsite \"many\" {\n  for_each = local.m\n" +
		"  url = \"https://${each.key}.example.com\"\n  regions = [\"aws:${each.key}\"]\n}\n"
	for _, tc := range []struct {
		name, policy, want string
		got                func(p *Policy) string
	}{
		{"1,000 chained locals", chain + "site \"c\" {\n  url = \"https://${local.c999}.example.com\"\n}\n", "https://x.example.com",
			func(p *Policy) string { return p.Site("c").URL }},
		{"1,000 chained locals, the first last", reversed + "site \"c\" {\n  url = \"https://${local.c0}.example.com\"\n}\n", "https://y.example.com",
			func(p *Policy) string { return p.Site("c").URL }},
		{"a site with 10,000 regions", regions, "10000 aws:r9999",
			func(p *Policy) string {
				return fmt.Sprint(len(p.Site("many").Regions), " ", p.Site("many").Regions[9999])
			}},
		{"900 sites from one for_each", sites, "901 [aws:k899]",
			func(p *Policy) string { return fmt.Sprint(len(p.Sites), " ", p.Site("many-k899").Regions) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := mustLoad(t, map[string]string{"policy.hcl": withCDN + tc.policy}, "")[0]
			if got := tc.got(p); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// TestFunctionsOnBigLists checks that the functions given tuples convert
// them as cty would, element by element.
func TestFunctionsOnBigLists(t *testing.T) {
	src := withCDN + `
locals {
  l = [` + repeat(0, 4999, `"e%d"`, ",") + `, "e1", 7]
  d = distinct(local.l)
  s = sort(local.l)
  j = join("-", ["a", 1, true])
  u = setunion(local.l, ["z"])
  c = contains(local.l, "e4999")
  z = zipmap(["a", "b"], [1, 2])
}
site "d" {
  url = "https://d.example.com/${length(local.d)}/${local.s[0]}/${local.s[5001]}/${local.j}/${length(local.u)}/${local.c}/${local.z.b}"
}
`
	p := mustLoad(t, map[string]string{"policy.hcl": src}, "")[0]
	// distinct drops the second "e1"; as strings, "7" sorts first; 7
	// and "7" are one element of a set of strings.
	if got, want := p.Site("d").URL, "https://d.example.com/5001/7/e999/a-1-true/5002/true/2"; got != want {
		t.Errorf("url = %s, want %s", got, want)
	}
}

// TestShippedPolicyFarBelowLimits holds the shipped policy to a tenth of
// every limit, and a hundredth of the work budget.
func TestShippedPolicyFarBelowLimits(t *testing.T) {
	src, err := os.ReadFile("../../../policy/registry.k8s.io.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if len(src)*10 > MaxPolicyBytes {
		t.Errorf("the policy is %d bytes", len(src))
	}
	tokens, _ := hclsyntax.LexConfig(src, "p.hcl", hcl.InitialPos)
	if tok, deep := tooDeep(tokens, MaxNesting/10); deep {
		t.Errorf("nests past %d at %s", MaxNesting/10, tok.Range)
	}
	f, diags := hclsyntax.ParseConfig(src, "p.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	body := f.Body.(*hclsyntax.Body)
	blocks, locals := 0, 0
	for _, b := range body.Blocks {
		blocks++
		if b.Type == "locals" {
			locals += len(b.Body.Attributes)
		}
	}
	if blocks*10 > MaxBlocks || locals*10 > MaxLocals {
		t.Errorf("%d blocks, %d locals", blocks, locals)
	}
	content, _ := body.Content(rootSchema)
	var localBlocks []*hcl.Block
	for _, b := range content.Blocks {
		if b.Type == "locals" {
			localBlocks = append(localBlocks, b)
		}
	}
	spare := float64(MaxWork)
	_, sizes, _ := evalLocals(localBlocks, &spare)
	for name, b := range sizes {
		if b.all.elems*10 > MaxValueElements || b.all.bytes*10 > MaxValueBytes {
			t.Errorf("local %s holds %.0f elements and %.0f bytes", name, b.all.elems, b.all.bytes)
		}
	}
	budget := float64(MaxWork)
	p, diags := decode(body, Disk{}, &budget)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	patterns := len((&decoder{policy: p}).allPatterns())
	t.Logf("evaluating the policy costs %.0f of %d; it lists %d region patterns", MaxWork-budget, MaxWork, patterns)
	if spent := MaxWork - budget; spent*100 > MaxWork {
		t.Errorf("evaluating the policy costs %.0f of %d", spent, MaxWork)
	}
	if len(p.Sites)*10 > MaxBlocks {
		t.Errorf("%d sites", len(p.Sites))
	}
	if patterns*10 > MaxRegionPatterns {
		t.Errorf("%d region patterns", patterns)
	}
}

// BenchmarkHostilePolicies loads each hostile policy: each should take well
// under a second.
func BenchmarkHostilePolicies(b *testing.B) {
	for _, tc := range hostile {
		files := memReader{"policy.hcl": {Data: []byte(withCDN + tc.policy)}}
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				NewLoader(files).Load("policy.hcl", "")
			}
		})
	}
}
