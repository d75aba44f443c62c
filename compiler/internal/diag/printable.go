package diag

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Printable returns s with every character a terminal could act on
// written as Go writes it in a quoted string: control characters (ESC,
// NUL, CR, BEL, ...), format characters such as U+202E, which turns the
// rest of a line around, and bytes that are not UTF-8. Feeds, downloads
// and file names reach regedge's messages and REPORT.md; shown through
// Printable, none can recolour, rewrite or reorder what is printed.
func Printable(s string) string { return escape(s, "") }

// PrintableText is Printable for text of several lines: line feeds and
// tabs stay as they are.
func PrintableText(s string) string { return escape(s, "\n\t") }

// escape writes s as Printable does, but for the characters in keep. A
// string with nothing to escape, the common case, is returned as it is.
func escape(s, keep string) string {
	kept := func(r rune, n int) bool { return plain(r, n) || strings.ContainsRune(keep, r) }
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !kept(r, n) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if kept(r, n) {
			b.WriteString(s[i : i+n])
		} else {
			b.WriteString(shown(r, n, s[i]))
		}
		i += n
	}
	return b.String()
}

// plain reports whether the character r, n bytes long, is shown as it is.
func plain(r rune, n int) bool {
	return r == ' ' || strconv.IsPrint(r) && !(r == utf8.RuneError && n == 1)
}

// shown is how Printable writes the character r, n bytes long, whose
// first byte is first.
func shown(r rune, n int, first byte) string {
	switch {
	case plain(r, n):
		return string(r)
	case r == utf8.RuneError && n == 1:
		return fmt.Sprintf(`\x%02x`, first)
	}
	q := strconv.QuoteRune(r)
	return q[1 : len(q)-1]
}
