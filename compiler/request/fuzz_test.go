package request

import (
	"regexp"
	"strings"
	"testing"
)

// FuzzParse checks that any request target parses without panicking, and
// that whatever a routed rule captures obeys the grammars: no target can
// smuggle a dot segment, an empty segment or an encoded byte into a name
// or reference that is joined onto the upstream's repository prefix.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, method, target string) {
		r := Parse(method, target)
		if r.Rule < RuleMethod || r.Rule > RuleNotFound {
			t.Fatalf("rule %d out of range", r.Rule)
		}
		if r.Kind == "" {
			return
		}
		for _, part := range []string{r.Repo, r.Ref} {
			if strings.ContainsAny(part, "%?#\\ \t\r\n") || strings.Contains(part, "//") ||
				part == "." || part == ".." || strings.HasPrefix(part, "../") || strings.Contains(part, "/../") || strings.HasSuffix(part, "/..") {
				t.Fatalf("%q %q: unsafe capture %q", method, target, part)
			}
		}
		if len(r.Repo) > MaxName || r.Repo == "" {
			t.Fatalf("%q: repository %q", target, r.Repo)
		}
		if r.Query != "" && r.Rule != RuleTags && r.Rule != RuleReferrers {
			t.Fatalf("%q: query kept for rule %d", target, r.Rule)
		}
	})
}

var (
	unsafePattern   = regexp.MustCompile(Unsafe)
	badQueryPattern = regexp.MustCompile(BadQuery)
	kindPatterns    = []struct {
		rule    Rule
		kind    Kind
		pattern *regexp.Regexp
	}{
		{RuleSignature, KindSignature, regexp.MustCompile(SignaturePattern)},
		{RuleManifest, KindManifest, regexp.MustCompile(ManifestPattern)},
		{RuleTags, KindTags, regexp.MustCompile(TagsPattern)},
		{RuleReferrers, KindReferrers, regexp.MustCompile(ReferrersPattern)},
		{RuleBlob, KindBlob, regexp.MustCompile(BlobPattern)},
	}
)

// parseByPatterns is Parse written with the exported patterns, the form
// nginx and the other targets are generated from.
func parseByPatterns(method, target string) Request {
	if method != "GET" && method != "HEAD" {
		return Request{Rule: RuleMethod}
	}
	target, _, _ = strings.Cut(target, "#")
	if unsafePattern.MatchString(target) {
		return Request{Rule: RuleUnsafePath}
	}
	path, query, _ := strings.Cut(target, "?")
	switch path {
	case "/":
		return Request{Rule: RuleInfo}
	case "/privacy":
		return Request{Rule: RulePrivacy}
	case "/v2", "/v2/":
		return Request{Rule: RuleVersion}
	case "/healthz":
		return Request{Rule: RuleHealth}
	}
	if len(path) > MaxPath {
		return Request{Rule: RuleNotFound}
	}
	for _, k := range kindPatterns {
		m := k.pattern.FindStringSubmatch(path)
		if m == nil {
			continue
		}
		if len(m[1]) > MaxName {
			return Request{Rule: RuleNotFound}
		}
		r := Request{Rule: k.rule, Kind: k.kind, Repo: m[1]}
		if len(m) > 2 {
			r.Ref = m[2]
		}
		if k.rule == RuleTags || k.rule == RuleReferrers {
			if len(query) > MaxQuery || badQueryPattern.MatchString(query) {
				return Request{Rule: RuleUnsafePath}
			}
			r.Query = query
		}
		return r
	}
	return Request{Rule: RuleNotFound}
}

// FuzzParseMatchesPatterns holds the hand-written Parse to the patterns
// every generated target uses.
func FuzzParseMatchesPatterns(f *testing.F) {
	f.Fuzz(func(t *testing.T, method, target string) {
		if got, want := Parse(method, target), parseByPatterns(method, target); got != want {
			t.Fatalf("Parse(%q, %q) = %+v, the patterns say %+v", method, target, got, want)
		}
	})
}
