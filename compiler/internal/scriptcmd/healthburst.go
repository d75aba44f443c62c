package scriptcmd

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

const healthburstUsage = "usage: healthburst [-H HEADER] [-within DURATION] [-site] N URL"

// healthburstBlobs numbers the blobs of every burst apart from
// healthcheck's, so that no answer is cached.
const healthburstBlobs = 1 << 40

// cmdHealthBurst sends N requests at once to the target at URL, each for
// a blob not asked for before, as a client of the site healthsites
// started (its address in HEADER). Every answer must be the fallback, or
// with -site either the fallback or the site, and none may take longer than
// -within. It prints how many answers were each; the mirror's own log
// (FLAKY.log) shows which requests reached the site.
func cmdHealthBurst(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("healthburst", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	header := fs.String("H", "X-Forwarded-For", "")
	within := fs.Duration("within", 0, "")
	site := fs.Bool("site", false, "")
	if err := fs.Parse(args); neg || err != nil || fs.NArg() != 2 {
		ts.Fatalf(healthburstUsage)
	}
	var n int
	if _, err := fmt.Sscan(fs.Arg(0), &n); err != nil || n < 1 {
		ts.Fatalf("%s: bad N %q", healthburstUsage, fs.Arg(0))
	}
	m := healthMirror(ts, "healthburst")
	hc := &healthClient{base: strings.TrimSuffix(fs.Arg(1), "/"), header: *header, site: "http://" + m.addr}
	hc.blobs.Store(healthburstBlobs + time.Now().UnixNano()%healthburstBlobs)

	start := time.Now()
	answers := make([]healthAnswer, n)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() { answers[i] = hc.ask(start, *site) })
	}
	wg.Wait()

	var fallback, atSite int
	var errs []string
	for _, a := range answers {
		switch {
		case a.err != nil:
			errs = append(errs, a.err.Error())
		case a.site:
			atSite++
		default:
			fallback++
		}
		if *within > 0 && a.took > *within {
			errs = append(errs, fmt.Sprintf("an answer took %v, want at most %v", a.took.Round(time.Millisecond), *within))
		}
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		ts.Fatalf("healthburst:\n%s", strings.Join(slices.Compact(errs), "\n"))
	}
	fmt.Fprintf(ts.Stdout(), "fallback %d\nsite %d\n", fallback, atSite)
}
