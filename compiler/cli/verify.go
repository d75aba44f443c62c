package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/regedge/regedge/compiler/verify"
)

// defaultBlob is the digest verify expects the mirrors to hold unless told
// otherwise.
const defaultBlob = "sha256:0000000000000000000000000000000000000000000000000000000000000000"

func runVerify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var pf policyFlags
	pf.register(fs)
	deployment := fs.String("deployment", "", "deployment `NAME`, for policies with deployments")
	target := fs.String("target", "", "the target's `NAME` (fastly, haproxy, varnish, worker) when its settings differ from the policy's")
	endpoint := fs.String("endpoint", "", "base `URL` of the target to verify, such as http://127.0.0.1:8080")
	blob := fs.String("blob", defaultBlob, "`DIGEST` of a blob the mirrors hold")
	sample := fs.Int("sample", 0, "probe only `N` addresses (at least one per label); 0 probes all")
	concurrency := fs.Int("concurrency", 8, "requests in flight")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	if fs.Parse(args) != nil || fs.NArg() != 0 || *endpoint == "" {
		fmt.Fprintln(stderr, "usage: regedge verify [-policy FILE] [-override FILE] [-deployment NAME] [-target NAME] -endpoint URL [-blob DIGEST] [-sample N] [-concurrency N] [-json]")
		return 2
	}
	p, status := pf.plan(stderr, *deployment)
	if p == nil {
		return status
	}
	p = p.For(*target)
	cfg := verify.Config{Plan: p, Endpoint: *endpoint, Blob: *blob, Sample: *sample, Concurrency: *concurrency, Target: *target}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar := progressbar.NewOptions(-1, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("verify"),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
		cfg.Progress = func(done, total int) {
			bar.ChangeMax(total)
			bar.Set(done)
		}
	}
	report := verify.Run(context.Background(), cfg)
	oracle := verify.CheckTable(p)
	if *asJSON {
		out, _ := json.MarshalIndent(struct {
			verify.Report
			Table []verify.OracleMismatch `json:"table_mismatches"`
		}{report, oracle}, "", "  ")
		fmt.Fprintf(stdout, "%s\n", out)
	} else {
		verify.WriteText(stdout, p, report, oracle)
	}
	if len(report.Mismatches) > 0 || len(report.CorpusMismatches) > 0 || len(oracle) > 0 {
		return 1
	}
	return 0
}
