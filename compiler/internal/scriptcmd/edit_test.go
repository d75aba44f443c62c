package scriptcmd

import "testing"

func TestApplyDiff(t *testing.T) {
	const text = "a {\n  x = 1\n}\nb {\n  x = 1\n}\n"
	for _, tc := range []struct{ name, diff, want string }{
		{"one line changed", "-a {\n+c {\n", "c {\n  x = 1\n}\nb {\n  x = 1\n}\n"},
		{"a kept line tells two alike apart", " b {\n-  x = 1\n+  x = 2\n", "a {\n  x = 1\n}\nb {\n  x = 2\n}\n"},
		{"lines added after a kept line", " a {\n+  y = 2\n", "a {\n  y = 2\n  x = 1\n}\nb {\n  x = 1\n}\n"},
		{"lines removed", "-b {\n-  x = 1\n-}\n", "a {\n  x = 1\n}\n"},
		{"added lines alone go at the end", "+c {\n+}\n", text + "c {\n}\n"},
		{"a line with a leading space", "-  x = 1\n-}\n-b {\n+  x = 3\n+}\n+b {\n", "a {\n  x = 3\n}\nb {\n  x = 1\n}\n"},
		{"every line removed", "-a {\n-  x = 1\n-}\n-b {\n-  x = 1\n-}\n", ""},
	} {
		if got, err := applyDiff(text, tc.diff); err != nil || got != tc.want {
			t.Errorf("%s: applyDiff = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	if got, err := applyDiff("a\nb", "-b\n+c\n"); err != nil || got != "a\nc\n" {
		t.Errorf("text without a final newline: applyDiff = %q, %v; want %q", got, err, "a\nc\n")
	}
	for _, tc := range []struct{ name, diff, want string }{
		{"lines not in the text", "-  x = 2\n+  x = 3\n", "the kept and removed lines are not in the file"},
		{"a part of a line only", "-x = 1\n+x = 2\n", "the kept and removed lines are not in the file"},
		{"lines twice in the text", "-  x = 1\n+  x = 2\n", "the kept and removed lines stand at lines 2, 5; keep more lines around them to tell them apart"},
		{"an empty line", "-a {\n\n+c {\n", "diff line 2 is empty; start it with ' ', '-' or '+'"},
		{"a line without a sign", "-a {\nc {\n", `diff line 2 starts with 'c'; start it with ' ', '-' or '+'`},
		{"kept lines alone", " a {\n", "the diff changes nothing"},
		{"an empty diff", "", "the diff changes nothing"},
	} {
		if got, err := applyDiff(text, tc.diff); err == nil || err.Error() != tc.want {
			t.Errorf("%s: applyDiff = %q, %v; want the error %q", tc.name, got, err, tc.want)
		}
	}
}
