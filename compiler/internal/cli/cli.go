// Package cli is the regedge command: it parses arguments and runs one
// subcommand. main.go only calls Main, so tests can run it in-process.
package cli

import (
	"fmt"
	"io"
	"os"
)

type command struct {
	name, usage string
	run         func(args []string, stdout, stderr io.Writer) int
}

var commands = []command{
	{"build", "build [-policy FILE] [-override FILE] [-out DIR] [-force]", runBuild},
	{"check", "check [-policy FILE] [-override FILE] [-strict]", runCheck},
	{"diff", "diff -old PATH -new PATH [-deployment NAME]", runDiff},
	{"feeds", "feeds update [-policy FILE] [-override FILE] [-timeout D] [-max-shrink F]", runFeeds},
	{"explain", "explain [-policy FILE] [-override FILE] [-deployment NAME] [-json] [-method M] CLIENT_IP PATH", runExplain},
	{"verify", "verify [-policy FILE] [-override FILE] [-deployment NAME] [-target NAME] -endpoint URL [-blob DIGEST] [-sample N] [-concurrency N] [-json]", runVerify},
	{"serve", "serve [-policy FILE] [-override FILE] [-deployment NAME] [-listen ADDR] [-metrics ADDR] [-log-level LEVEL]", runServe},
}

// Main runs the command named by os.Args and returns its exit status.
func Main() int {
	return run(os.Args[1:], os.Stdout, os.Stderr)
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		for _, c := range commands {
			if c.name == args[0] {
				return c.run(args[1:], stdout, stderr)
			}
		}
		fmt.Fprintf(stderr, "regedge: unknown command %q\n", args[0])
	}
	fmt.Fprintln(stderr, "usage:")
	for _, c := range commands {
		fmt.Fprintf(stderr, "  regedge %s\n", c.usage)
	}
	return 2
}
