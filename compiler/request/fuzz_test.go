package request

import (
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
