// Package cli is the regedge command: it parses arguments and runs one
// subcommand. main.go only calls Main, so tests can run it in-process.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/regedge/regedge/compiler/internal/config"
)

// command is one subcommand: its name, its usage line after the name, a
// sentence saying what it does, and how it runs.
type command struct {
	name, usage, summary string
	run                  func(args []string, stdout, stderr io.Writer) int
}

// commands is filled in init, as help reads it.
var commands []command

func init() {
	commands = []command{
		{"build", "[-policy FILE] [-override FILE] [-out DIR] [-force]",
			"Write every target's configuration from the policy into DIR, replacing DIR as a whole.", runBuild},
		{"check", "[-policy FILE] [-override FILE] [-strict] [-json]",
			"Run everything build runs, write nothing, and report every error and warning.", runCheck},
		{"diff", "-old PATH -new PATH [-deployment NAME] [-json] [-exit-code]",
			"Show what changes for clients from one plan to another, as Markdown for a pull request.", runDiff},
		{"feeds", "update [-policy FILE] [-override FILE] [-timeout D] [-max-shrink F]",
			"Refresh the policy's feed snapshots from their URLs, keeping each one on any problem.", runFeeds},
		{"explain", "[-policy FILE] [-override FILE] [-deployment NAME] [-json] [-method M] CLIENT_IP PATH",
			"Say how the policy answers one request from one client, and why.", runExplain},
		{"verify", "[-policy FILE] [-override FILE] [-deployment NAME] [-target NAME] -endpoint URL [-blob DIGEST] [-sample N] [-concurrency N] [-timeout D] [-max-errors N] [-json]",
			"Probe a running target and prove every answer is the policy's.", runVerify},
		{"serve", "[-policy FILE] [-override FILE] [-deployment NAME] [-listen ADDR] [-metrics ADDR] [-log-level LEVEL]",
			"Answer registry requests from the policy itself: the runtime fallback proxy.", runServe},
		{"version", "", "Print regedge's version, the source revision it was built from and the Go version.", runVersion},
		{"help", "[COMMAND]", "Print this list, or a command's usage and flags.", runHelp},
	}
}

// Main runs the command named by os.Args and returns its exit status.
func Main() int {
	return run(os.Args[1:], os.Stdout, os.Stderr)
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		writeCommands(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help":
		writeCommands(stdout)
		return 0
	case "-version", "--version":
		return runVersion(nil, stdout, stderr)
	}
	c, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(stderr, "regedge: unknown command %q.%s Run 'regedge help' for the list.\n", args[0], config.DidYouMean(args[0], commandNames()))
		return 2
	}
	return c.run(args[1:], stdout, stderr)
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func commandNames() []string {
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	return names
}

// writeCommands prints every command with what it does.
func writeCommands(w io.Writer) {
	fmt.Fprintln(w, "regedge compiles a registry's routing policy into edge configurations, serves it, and proves them equal.")
	fmt.Fprintln(w, "\nUsage: regedge COMMAND [flags]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'regedge help COMMAND' for a command's flags.")
}

// runHelp prints the command list, or one command's usage and flags.
func runHelp(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		writeCommands(stdout)
		return 0
	}
	if len(args) > 1 {
		fmt.Fprintf(stderr, "regedge help: name one command; got %s\n", strings.Join(args, " "))
		return 2
	}
	c, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(stderr, "regedge help: unknown command %q.%s\n", args[0], config.DidYouMean(args[0], commandNames()))
		return 2
	}
	// A command prints its own help, flags included, for -h.
	return c.run([]string{"-h"}, stdout, stderr)
}

// newFlags returns the flag set of a command, whose errors and usage go
// to stderr.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { writeUsage(fs.Output(), fs) }
	return fs
}

// writeUsage prints a command's usage line, what it does and its flags.
func writeUsage(w io.Writer, fs *flag.FlagSet) {
	name, _, _ := strings.Cut(fs.Name(), " ")
	c, _ := lookup(name)
	fmt.Fprintf(w, "Usage: regedge %s %s\n\n%s\n", name, c.usage, c.summary)
	if hasFlags(fs) {
		fmt.Fprintln(w, "\nFlags:")
		out := fs.Output()
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(out)
	}
}

func hasFlags(fs *flag.FlagSet) bool {
	any := false
	fs.VisitAll(func(*flag.Flag) { any = true })
	return any
}

// parseFlags parses a command's arguments, of which it takes nargs that
// are not flags. It returns false with the exit status when the command
// must not run: 0 after printing help for -h, 2 after a usage error, which
// names every argument the command does not take and the flag that was
// probably meant.
func parseFlags(fs *flag.FlagSet, args []string, nargs int, stdout io.Writer) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			// -h is not an error: help goes to stdout, with status 0.
			writeUsage(stdout, fs)
			return 0, false
		}
		return 2, false
	}
	if fs.NArg() == nargs {
		return 0, true
	}
	w := fs.Output()
	name := fs.Name()
	if fs.NArg() < nargs {
		c, _ := lookup(strings.Fields(name)[0])
		fmt.Fprintf(w, "regedge %s: missing arguments: usage: regedge %s %s\n", name, strings.Fields(name)[0], c.usage)
		return 2, false
	}
	for i, arg := range fs.Args()[nargs:] {
		fmt.Fprintf(w, "regedge %s: unexpected argument %q%s\n", name, arg, hint(fs, fs.Args(), nargs+i))
	}
	return 2, false
}

// hint suggests what a stray argument was meant to be: a flag written
// after the arguments, which Go's flags do not read there, or the value of
// the flag that names a file of that kind.
func hint(fs *flag.FlagSet, args []string, i int) string {
	arg := args[i]
	if strings.HasPrefix(arg, "-") && fs.Lookup(strings.TrimLeft(arg, "-")) != nil {
		return fmt.Sprintf("; flags come before the arguments: move %s to just after the command", arg)
	}
	for _, f := range []struct{ suffix, flag string }{
		{".hcl", "policy"}, {".hcl", "old"}, {".json", "old"}, {".hcl", "new"}, {".json", "new"},
	} {
		if strings.HasSuffix(arg, f.suffix) && fs.Lookup(f.flag) != nil && !flagSet(fs, f.flag) {
			return fmt.Sprintf("; did you mean -%s %s?", f.flag, arg)
		}
	}
	if fs.Lookup("out") != nil {
		return fmt.Sprintf("; did you mean -out %s?", arg)
	}
	return "; this command takes no arguments, only flags"
}
