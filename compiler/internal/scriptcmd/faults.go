package scriptcmd

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// A fault is one misbehaving mirror of the matrix every target's fault
// script runs, with the outcome docs/request-handling.md's rule 10 gives
// its answer.
type fault struct {
	name    string
	mode    string // a faultmirror mode; "" for a site nothing serves
	url     string // the site's URL when mode is ""
	outcome string
}

// The outcomes of rule 10.
const (
	present  = "present"
	absent   = "absent"
	noAnswer = "none"
)

// faultTimeout is the check timeout of the matrix's policy.
const faultTimeout = time.Second

// faults is the matrix. Client 10.0.N.1 is in the region of the Nth.
var faults = []fault{
	{name: "ok", mode: "status=200", outcome: present},
	{name: "nocontent", mode: "status=204", outcome: present},
	{name: "quick", mode: "slow=200ms", outcome: present},
	{name: "continue", mode: "continue=200", outcome: present},
	{name: "header4k", mode: "bigheader=4000", outcome: present},
	{name: "fields30", mode: "headers=30", outcome: present},
	{name: "forbidden", mode: "status=403", outcome: absent},
	{name: "notfound", mode: "status=404", outcome: absent},
	{name: "continue404", mode: "continue=404", outcome: absent},
	{name: "notmodified", mode: "raw=304", outcome: absent},
	{name: "redirect", mode: "header=302:Location:http://127.0.0.1:9/blob", outcome: absent},
	{name: "accel", mode: "header=404:X-Accel-Redirect:/v2/", outcome: absent},
	{name: "body404", mode: "headbody=404", outcome: absent},
	{name: "broken", mode: "status=500", outcome: noAnswer},
	{name: "busy", mode: "status=503", outcome: noAnswer},
	{name: "switching", mode: "raw=101", outcome: noAnswer},
	{name: "nostatus", mode: "raw=2000", outcome: noAnswer},
	{name: "header65k", mode: "bigheader=66000", outcome: noAnswer},
	{name: "fields101", mode: "headers=101", outcome: noAnswer},
	{name: "hang", mode: "hang", outcome: noAnswer},
	{name: "trickle", mode: "trickle=100ms", outcome: noAnswer},
	{name: "garbage", mode: "garbage", outcome: noAnswer},
	{name: "cut", mode: "cut", outcome: noAnswer},
	{name: "refused", outcome: noAnswer},
	{name: "unresolvable", url: "http://mirror.invalid", outcome: noAnswer},
}

// The blobs faultcheck asks for: the first twice, to see the cache, and
// the second once, on a connection the first may have left in a bad state
// (a body after the answer to a HEAD).
const (
	faultBlob1 = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	faultBlob2 = "sha256:1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	// faultUpstream is the policy's upstream, the route's fallback.
	faultUpstream = "http://127.0.0.1:9/v2/images/a/blobs/"
)

// faultEnv is the variable that holds a fault site's URL.
func faultEnv(f fault) string { return "FAULT_" + strings.ToUpper(f.name) }

// cmdFaultSites starts the matrix's mirrors and writes POLICY: its
// registry, feed, upstream, sites, mirror (with a check whose timeout is
// faultTimeout) and routes, then each EXTRA file, which names the client
// address and the target. The feed goes to faults-aws.json beside POLICY.
func cmdFaultSites(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: faultsites POLICY [EXTRA...]")
	}
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	refusedURL := "http://" + refused.Addr().String()
	refused.Close()

	var feed, sites strings.Builder
	for i, f := range faults {
		url := f.url
		switch {
		case f.mode != "":
			h, err := faultHandler(f.mode)
			ts.Check(err)
			url = "http://" + serve(ts, faultEnv(f), h)
		case url == "":
			url = refusedURL
		}
		ts.Setenv(faultEnv(f), url)
		sep := ","
		if i == len(faults)-1 {
			sep = ""
		}
		fmt.Fprintf(&feed, "  {\"ip_prefix\": \"10.0.%d.0/24\", \"region\": %q, \"service\": \"AMAZON\", \"network_border_group\": \"x\"}%s\n", i+1, f.name, sep)
		fmt.Fprintf(&sites, "site %q {\n  url     = %q\n  regions = [\"aws:%s\"]\n}\n", f.name, url, f.name)
	}
	policy := ts.MkAbs(args[0])
	feedFile := filepath.Join(filepath.Dir(policy), "faults-aws.json")
	ts.Check(os.WriteFile(feedFile, []byte("{\"syncToken\": \"1\", \"createDate\": \"2026-01-01-00-00-00\",\n \"prefixes\": [\n"+feed.String()+" ],\n \"ipv6_prefixes\": []}\n"), 0o666))

	check := fmt.Sprintf("positive_ttl = \"1h\"\n    negative_ttl = \"1h\"\n    timeout      = \"%s\"", faultTimeout)
	var b strings.Builder
	b.WriteString(scriptPolicy("faults-aws.json", sites.String(), "ok", check))
	for _, extra := range args[1:] {
		data, err := os.ReadFile(ts.MkAbs(extra))
		if err != nil {
			ts.Fatalf("faultsites: %s: %v", extra, pathless(err))
		}
		b.Write(data)
	}
	ts.Check(os.WriteFile(policy, []byte(b.String()), 0o666))
}

// scriptPolicy is the policy of the fault and health scripts: the feed in
// feedFile, sites as given, the mirror with defaultSite and the check
// block's body, blobs to the mirror with the upstream as fallback, and
// everything else to the upstream, http://127.0.0.1:9, where nothing
// listens.
func scriptPolicy(feedFile, sites, defaultSite, check string) string {
	return fmt.Sprintf(`registry {
  info_url    = "https://example.com/info"
  privacy_url = "https://example.com/privacy"
}
feed "aws" {
  format = "aws"
  file   = %q
  url    = "https://example.com/aws.json"
}
upstream "main" {
  endpoint = "http://127.0.0.1:9"
  prefix   = "images"
}
%smirror {
  default_site = site.%s
  check {
    %s
  }
}
route "blobs" {
  kinds    = ["blob"]
  to       = mirror
  fallback = upstream.main
}
route "all" {
  kinds = ["any"]
  to    = upstream.main
}
`, feedFile, sites, defaultSite, check)
}

const faultcheckUsage = "usage: faultcheck [-H HEADER] [-skip NAME]... URL"

// cmdFaultCheck asks the target at URL for two blobs as a client of each
// fault site (its address in HEADER, X-Forwarded-For by default): the
// first twice, then the second. Every answer must be the rule's 307 within
// the check timeout and a second, and the site's own log must show the
// rule's caching: an answer is asked for once per blob, no answer every
// time. Sites run in parallel. -skip leaves out a site whose fault a
// target documents it cannot meet.
func cmdFaultCheck(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("faultcheck", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	header := fs.String("H", "X-Forwarded-For", "")
	skip := map[string]bool{}
	fs.Func("skip", "", func(s string) error {
		skip[s] = true
		return nil
	})
	if err := fs.Parse(args); neg || err != nil || fs.NArg() != 1 {
		ts.Fatalf(faultcheckUsage)
	}
	for name := range skip {
		if !knownFault(name) {
			ts.Fatalf("faultcheck: no fault site is named %q", name)
		}
	}
	base := strings.TrimSuffix(fs.Arg(0), "/")
	errs := make([]error, len(faults))
	var wg sync.WaitGroup
	for i, f := range faults {
		if skip[f.name] {
			continue
		}
		wg.Go(func() {
			errs[i] = checkFault(ts, base, *header, fmt.Sprintf("10.0.%d.1", i+1), f)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		ts.Fatalf("faultcheck:\n%v", err)
	}
	for _, f := range faults {
		if !skip[f.name] {
			fmt.Fprintf(ts.Stdout(), "%s %s\n", f.name, f.outcome)
		}
	}
}

func knownFault(name string) bool {
	for _, f := range faults {
		if f.name == name {
			return true
		}
	}
	return false
}

// checkFault runs the three requests of one fault site and reads its log.
func checkFault(ts *testscript.TestScript, base, header, client string, f fault) error {
	site := ts.Getenv(faultEnv(f))
	for i, blob := range []string{faultBlob1, faultBlob1, faultBlob2} {
		if i == 2 {
			// Let whatever the mirror sent after its answer arrive, as a
			// target can only tell it from the next answer once it has.
			time.Sleep(3 * faultPause)
		}
		want := faultUpstream + blob
		if f.outcome == present {
			want = site + "/containers/images/" + blob
		}
		g := &httpGet{method: http.MethodGet, headers: http.Header{header: {client}}, url: base + "/v2/a/blobs/" + blob}
		start := time.Now()
		out, err := g.do()
		took := time.Since(start)
		switch {
		case err != nil:
			return fmt.Errorf("%s (%s): %v", f.name, f.mode, err)
		case out != "STATUS 307\nLocation: "+want+"\n":
			return fmt.Errorf("%s (%s, %s): got\n%swant a 307 to %s", f.name, f.mode, f.outcome, out, want)
		case took > faultTimeout+time.Second:
			return fmt.Errorf("%s (%s): the answer took %v", f.name, f.mode, took.Round(time.Millisecond))
		}
	}
	if f.mode == "" {
		return nil
	}
	logged, err := os.ReadFile(filepath.Join(ts.Getenv("WORK"), faultEnv(f)+".log"))
	if err != nil {
		return err
	}
	var want strings.Builder
	asks := []string{faultBlob1, faultBlob2}
	if f.outcome == noAnswer {
		asks = []string{faultBlob1, faultBlob1, faultBlob2}
	}
	status := loggedStatus(f.mode)
	for _, blob := range asks {
		fmt.Fprintf(&want, "HEAD /containers/images/%s %s\n", blob, status)
	}
	if string(logged) != want.String() {
		return fmt.Errorf("%s (%s, %s): the mirror's log is\n%swant\n%s", f.name, f.mode, f.outcome, logged, want.String())
	}
	return nil
}

// loggedStatus is the status faultmirror logs for a request in mode.
func loggedStatus(mode string) string {
	kind, arg, _ := strings.Cut(mode, "=")
	switch kind {
	case "status", "continue", "headbody", "raw":
		return arg
	case "header":
		code, _, _ := strings.Cut(arg, ":")
		return code
	case "hang", "garbage", "cut":
		return "-"
	}
	return "200"
}
