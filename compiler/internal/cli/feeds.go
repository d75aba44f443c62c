package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/regedge/regedge/compiler/internal/config"
	"github.com/regedge/regedge/compiler/internal/diag"
	"github.com/regedge/regedge/compiler/internal/feedupdate"
	"github.com/regedge/regedge/policy"
)

// runFeeds runs a feeds subcommand; update is the only one.
func runFeeds(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "update" {
		return runFeedsUpdate(args[1:], stdout, stderr)
	}
	if len(args) > 0 && strings.HasPrefix(args[0], "-") {
		// Flags without the subcommand, -h among them.
		return runFeedsUpdate(args, stdout, stderr)
	}
	if len(args) > 0 {
		fmt.Fprintf(stderr, "regedge feeds: unknown subcommand %q.%s\n", args[0], config.DidYouMean(args[0], []string{"update"}))
	}
	c, _ := lookup("feeds")
	fmt.Fprintf(stderr, "Usage: regedge feeds %s\n", c.usage)
	return 2
}

// runFeedsUpdate refreshes the policy's feed snapshots from their URLs,
// printing one line per feed, and fails if any feed kept its snapshot
// because the update went wrong.
func runFeedsUpdate(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("feeds update", stderr)
	var pf policyFlags
	fs.StringVar(&pf.policy, "policy", "", "policy `FILE` on disk, whose feed snapshots are replaced")
	fs.StringVar(&pf.override, "override", "", "`FILE` whose blocks replace attributes of the policy's blocks")
	timeout := fs.Duration("timeout", feedupdate.DefaultTimeout, "the longest one fetch may take, body included")
	maxShrink := fs.Float64("max-shrink", config.DefaultMaxShrink, "the largest `FRACTION` of its prefixes any feed may lose")
	if status, ok := parseFlags(fs, args, 0, stdout); !ok {
		return status
	}
	if pf.policy == "" {
		fmt.Fprintf(stderr, "regedge: feeds update needs -policy FILE: the embedded default policy is read-only; name the policy on disk, such as policy/%s\n", policy.Default)
		return 2
	}
	if *timeout <= 0 {
		fmt.Fprintf(stderr, "regedge: -timeout %s: give a positive duration, such as 30s\n", *timeout)
		return 2
	}
	if !(*maxShrink >= 0 && *maxShrink <= 1) { // NaN too
		fmt.Fprintf(stderr, "regedge: -max-shrink %g: give a fraction from 0 to 1, such as 0.05\n", *maxShrink)
		return 2
	}
	loader := config.NewLoader(config.Disk{})
	policies, diags := loader.Load(pf.policy, pf.override)
	diag.Write(stderr, loader.Files(), diags)
	if diags.HasErrors() {
		return 1
	}
	list, err := feedupdate.FromPolicies(policies)
	if err != nil {
		fmt.Fprintf(stderr, "regedge: %s\n", diag.Printable(err.Error()))
		return 1
	}
	if flagSet(fs, "max-shrink") {
		for i := range list {
			list[i].MaxShrink = *maxShrink
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	u := &feedupdate.Updater{Timeout: *timeout}
	status := 0
	for _, r := range u.UpdateAll(ctx, list) {
		// A feed kept because its update failed is an error, on stderr.
		// The line may quote the server (its reason phrase, a syncToken).
		out := stdout
		if r.Outcome == feedupdate.Kept {
			out = stderr
		}
		fmt.Fprintln(out, diag.Printable(r.String()))
		if r.Diags != nil {
			diag.Write(stderr, map[string]*hcl.File{r.Feed.URL: {Bytes: r.Source}}, r.Diags)
		}
		if r.Warning != nil {
			fmt.Fprintf(stderr, "regedge: %s: warning: %s\n", r.Feed.Name, diag.Printable(r.Warning.Error()))
		}
		if r.Outcome == feedupdate.Kept {
			status = 1
		}
	}
	return status
}

// flagSet reports whether the command line set the named flag.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
