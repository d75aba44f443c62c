package scriptcmd

import (
	"errors"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// ctrlNames are the characters ctrlchars writes, by the name a script
// gives each: the ones a terminal acts on, which a script cannot hold as
// they are (or should not: they would hide in a review).
var ctrlNames = strings.NewReplacer(
	"{ESC}", "\x1b",
	"{NUL}", "\x00",
	"{CR}", "\r",
	"{BEL}", "\a",
	"{DEL}", "\x7f",
	"{RLO}", "\u202e", // right-to-left override
	"{XFF}", "\xff", // a byte that is not UTF-8
)

// cmdCtrlChars replaces {ESC}, {NUL}, {CR}, {BEL}, {DEL}, {RLO} and {XFF}
// in files, in place, by the characters they name.
func cmdCtrlChars(ts *testscript.TestScript, neg bool, args []string) {
	rewrite(ts, neg, "ctrlchars", args, func(s string) (string, error) {
		out := ctrlNames.Replace(s)
		if out == s {
			return "", errors.New("names no character")
		}
		return out, nil
	})
}
