package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/regedge/regedge/compiler/internal/target"
	"github.com/regedge/regedge/compiler/internal/verify"
)

// defaultBlob is the digest verify expects the mirrors to hold unless told
// otherwise.
const defaultBlob = "sha256:0000000000000000000000000000000000000000000000000000000000000000"

func runVerify(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("verify", stderr)
	var pf policyFlags
	pf.register(fs)
	deployment := fs.String("deployment", "", "deployment `NAME`, for policies with deployments")
	targetName := fs.String("target", "", "the target's `NAME`: its client rule, its existence check and the refusals its HTTP parser is allowed ("+strings.Join(target.Names(), ", ")+")")
	endpoint := fs.String("endpoint", "", "base `URL` of the target to verify, such as http://127.0.0.1:8080")
	blob := fs.String("blob", defaultBlob, "`DIGEST` of a blob the mirrors hold")
	sample := fs.Int("sample", 0, "probe only `N` addresses (at least one per label); 0 probes all")
	concurrency := fs.Int("concurrency", 8, "requests in flight")
	timeout := fs.Duration("timeout", time.Hour, "stop after `D`, the whole run's time limit; 0 for none")
	maxErrors := fs.Int("max-errors", 20, "stop once `N` requests in a row got no answer (a target down or hung); 0 never stops")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	if status, ok := parseFlags(fs, args, 0, stdout); !ok {
		return status
	}
	if *endpoint == "" {
		fmt.Fprintln(stderr, "regedge verify: name the target with -endpoint URL, such as http://127.0.0.1:8080")
		return 2
	}
	base, problems := checkVerifyFlags(*targetName, *endpoint, *blob, *sample, *concurrency)
	if *timeout < 0 {
		problems = append(problems, fmt.Sprintf("-timeout: %v is negative; want a time limit such as 30m, or 0 for none", *timeout))
	}
	if *maxErrors < 0 {
		problems = append(problems, fmt.Sprintf("-max-errors: %d is negative; want a number of requests, or 0 never to stop", *maxErrors))
	}
	for _, problem := range problems {
		fmt.Fprintf(stderr, "regedge: %s\n", problem)
	}
	if len(problems) > 0 {
		return 2
	}
	p, status := pf.plan(stderr, *deployment)
	if p == nil {
		return status
	}
	p = p.For(*targetName)
	if err := verify.CheckHealth(context.Background(), p, base); err != nil {
		fmt.Fprintf(stderr, "regedge: cannot verify %s: %v\n", base, err)
		return 1
	}
	cfg := verify.Config{Plan: p, Endpoint: base, Blob: *blob, Sample: *sample, Concurrency: *concurrency, Target: *targetName,
		Timeout: *timeout, MaxErrors: *maxErrors}
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
	if report.Stopped != "" {
		fmt.Fprintf(stderr, "regedge: verify stopped before it sent every request: %s. What was answered is above; -timeout and -max-errors set when it stops.\n", report.Stopped)
		return 1
	}
	if len(report.Mismatches) > 0 || len(report.CorpusMismatches) > 0 || len(oracle) > 0 {
		return 1
	}
	return 0
}

// maxConcurrency bounds -concurrency: beyond it verify measures its own
// machine more than the target.
const maxConcurrency = 256

// checkVerifyFlags says what is wrong with each flag verify cannot use,
// before anything is sent, and returns the endpoint as a base URL.
func checkVerifyFlags(name, endpoint, blob string, sample, concurrency int) (string, []string) {
	var problems []string
	if name != "" && !slices.Contains(target.Names(), name) {
		problems = append(problems, fmt.Sprintf("-target: %q is not a target; want one of %s", name, strings.Join(target.Names(), ", ")))
	}
	base, err := verify.ParseEndpoint(endpoint)
	if err != nil {
		problems = append(problems, "-endpoint: "+err.Error())
	}
	if !verify.IsDigest(blob) {
		problems = append(problems, fmt.Sprintf("-blob: %q is not a digest; want sha256: and 64 lower-case hex digits, or sha512: and 128", blob))
	}
	if sample < 0 {
		problems = append(problems, fmt.Sprintf("-sample: %d is negative; want 0 (every address) or a number of addresses", sample))
	}
	if concurrency < 1 || concurrency > maxConcurrency {
		problems = append(problems, fmt.Sprintf("-concurrency: %d is out of range; want 1 to %d requests in flight", concurrency, maxConcurrency))
	}
	return base, problems
}
