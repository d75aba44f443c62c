package scriptcmd

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
)

// logOffsets remembers, per script and log file, how far logcheck has read.
var logOffsets = struct {
	sync.Mutex
	m map[logKey]int
}{m: map[logKey]int{}}

type logKey struct {
	ts   *testscript.TestScript
	path string
}

// cmdLogCheck compares the lines FILE gained since the previous logcheck
// of FILE in this script (or since it was created) with WANT, in any
// order. Each line of WANT is a count and a log line, "3 GET /x 200",
// with $VAR and ${VAR} expanded as subst does; blank lines are ignored.
// Without WANT, it only moves past the new lines. It prints the new lines,
// counted and sorted, in WANT's form. -ignore leaves out the lines that
// match REGEX, such as a target's own health probes, which come when they
// will.
func cmdLogCheck(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "usage: logcheck [-ignore REGEX] FILE [WANT]"
	var ignore *regexp.Regexp
	if len(args) > 1 && args[0] == "-ignore" {
		re, err := regexp.Compile(args[1])
		if err != nil {
			ts.Fatalf("%s: %v", usage, err)
		}
		ignore, args = re, args[2:]
	}
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf(usage)
	}
	got, err := newLogLines(ts, ts.MkAbs(args[0]))
	if err != nil {
		ts.Fatalf("logcheck: %s: %v", args[0], pathless(err))
	}
	if ignore != nil {
		maps.DeleteFunc(got, func(line string, _ int) bool { return ignore.MatchString(line) })
	}
	fmt.Fprint(ts.Stdout(), formatCounts(got))
	if len(args) == 1 {
		return
	}
	data, err := os.ReadFile(ts.MkAbs(args[1]))
	if err != nil {
		ts.Fatalf("logcheck: %s: %v", args[1], pathless(err))
	}
	text, err := expand(string(data), ts.Getenv)
	if err != nil {
		ts.Fatalf("logcheck: %s: %v", args[1], err)
	}
	want, err := parseCounts(text)
	if err != nil {
		ts.Fatalf("logcheck: %s: %v", args[1], err)
	}
	if diff := diffCounts(want, got); diff != "" {
		ts.Fatalf("logcheck: %s does not match %s:\n%s", args[0], args[1], diff)
	}
}

// newLogLines returns the complete lines written to path since the last
// call for the same script and path, counted.
func newLogLines(ts *testscript.TestScript, path string) (map[string]int, error) {
	logOffsets.Lock()
	defer logOffsets.Unlock()
	key := logKey{ts, path}
	off, seen := logOffsets.m[key]
	if !seen {
		ts.Defer(func() {
			logOffsets.Lock()
			defer logOffsets.Unlock()
			delete(logOffsets.m, key)
		})
	}
	counts, next, err := linesFrom(path, off)
	if err != nil {
		return nil, err
	}
	logOffsets.m[key] = next
	return counts, nil
}

// linesFrom counts the complete lines of the file at path from byte off
// on, and returns the offset after the last of them. A line still being
// written is left for next time.
func linesFrom(path string, off int) (map[string]int, int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	if off > len(data) {
		return nil, 0, fmt.Errorf("the log shrank from %d to %d bytes", off, len(data))
	}
	data = data[off:]
	data = data[:bytes.LastIndexByte(data, '\n')+1]
	counts := map[string]int{}
	for line := range strings.Lines(string(data)) {
		counts[strings.TrimSuffix(line, "\n")]++
	}
	return counts, off + len(data), nil
}

// parseCounts reads "COUNT LINE" lines.
func parseCounts(text string) (map[string]int, error) {
	counts := map[string]int{}
	for i, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		n, rest, ok := strings.Cut(line, " ")
		c, err := strconv.Atoi(n)
		if !ok || err != nil || c < 1 {
			return nil, fmt.Errorf("line %d: %q is not a count and a log line", i+1, line)
		}
		counts[rest] += c
	}
	return counts, nil
}

// formatCounts writes counts as sorted "COUNT LINE" lines.
func formatCounts(counts map[string]int) string {
	var b strings.Builder
	for _, line := range slices.Sorted(maps.Keys(counts)) {
		fmt.Fprintf(&b, "%d %s\n", counts[line], line)
	}
	return b.String()
}

// diffCounts describes each line whose count differs, or returns "".
func diffCounts(want, got map[string]int) string {
	lines := slices.Sorted(maps.Keys(want))
	for line := range got {
		if _, ok := want[line]; !ok {
			lines = append(lines, line)
		}
	}
	slices.Sort(lines)
	var b strings.Builder
	for _, line := range lines {
		if want[line] != got[line] {
			fmt.Fprintf(&b, "\twant %d, got %d: %s\n", want[line], got[line], line)
		}
	}
	return b.String()
}
