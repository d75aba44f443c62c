package scriptcmd

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdEdit writes DST as SRC changed by the diff in DIFF, so that a script
// can hold one base file and state each case as its change to it.
func cmdEdit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: edit SRC DST DIFF")
	}
	src, dst, diff := args[0], args[1], args[2]
	read := func(file string) string {
		data, err := os.ReadFile(ts.MkAbs(file))
		if err != nil {
			ts.Fatalf("edit: %s: %v", file, pathless(err))
		}
		return string(data)
	}
	out, err := applyDiff(read(src), read(diff))
	if err != nil {
		ts.Fatalf("edit: %s by %s: %v", src, diff, err)
	}
	if err := os.WriteFile(ts.MkAbs(dst), []byte(out), 0o666); err != nil {
		ts.Fatalf("edit: %s: %v", dst, pathless(err))
	}
}

// applyDiff returns text with one change made. Each line of diff starts
// with ' ' (a line kept), '-' (a line removed) or '+' (a line added). The
// kept and removed lines, in order, must stand in text exactly once as
// whole consecutive lines; they are replaced by the kept and added lines.
// A diff of added lines alone adds them at the end. The result ends in a
// newline unless it is empty.
func applyDiff(text, diff string) (string, error) {
	var before, after []string
	for i, line := range lines(diff) {
		if line == "" {
			return "", fmt.Errorf("diff line %d is empty; start it with ' ', '-' or '+'", i+1)
		}
		switch body := line[1:]; line[0] {
		case ' ':
			before, after = append(before, body), append(after, body)
		case '-':
			before = append(before, body)
		case '+':
			after = append(after, body)
		default:
			return "", fmt.Errorf("diff line %d starts with %q; start it with ' ', '-' or '+'", i+1, line[0])
		}
	}
	if slices.Equal(before, after) {
		return "", errors.New("the diff changes nothing")
	}
	base := lines(text)
	at := len(base)
	if len(before) > 0 {
		var found []string
		for i := 0; i+len(before) <= len(base); i++ {
			if slices.Equal(base[i:i+len(before)], before) {
				at = i
				found = append(found, fmt.Sprint(i+1))
			}
		}
		switch len(found) {
		case 0:
			return "", errors.New("the kept and removed lines are not in the file")
		case 1:
		default:
			return "", fmt.Errorf("the kept and removed lines stand at lines %s; keep more lines around them to tell them apart", strings.Join(found, ", "))
		}
	}
	out := slices.Concat(base[:at], after, base[at+len(before):])
	if len(out) == 0 {
		return "", nil
	}
	return strings.Join(out, "\n") + "\n", nil
}

// lines splits s into lines, without their newlines.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
