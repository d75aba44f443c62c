package scriptcmd

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// The health policy's thresholds: short, so that a script sees a site go
// down, stay down through failed trials and come back in seconds.
const (
	healthTimeout    = time.Second
	healthDownAfter  = 2
	healthDownFor    = time.Second
	healthDownForMax = 2 * time.Second
	// healthRate is how many blob requests a second healthcheck sends.
	healthRate = 50
	// healthP99 is how fast a client of a site that is down is answered.
	healthP99 = 50 * time.Millisecond
)

// healthMirrors holds each script's switchable mirror.
var healthMirrors sync.Map // *testscript.TestScript → *switchMirror

// switchMirror is a mirror whose behaviour a script changes as it runs: a
// faultmirror mode, or "refuse", which closes its port until the next mode.
type switchMirror struct {
	addr    string
	log     *os.File
	handler atomic.Pointer[http.Handler]
	mu      sync.Mutex
	srv     *http.Server // nil while it refuses
}

// set switches the mirror to mode.
func (m *switchMirror) set(mode string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if mode == "refuse" {
		if m.srv != nil {
			m.srv.Close()
			m.srv = nil
		}
		return nil
	}
	h, err := faultHandler(mode)
	if err != nil {
		return err
	}
	m.handler.Store(&h)
	if m.srv == nil {
		l, err := net.Listen("tcp", m.addr)
		if err != nil {
			return err
		}
		m.srv = &http.Server{
			Handler: accessLog(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				(*m.handler.Load()).ServeHTTP(w, r)
			}), m.log),
			ErrorLog: log.New(io.Discard, "", 0),
		}
		go m.srv.Serve(l)
	}
	return nil
}

func (m *switchMirror) close() {
	m.set("refuse")
	m.log.Close()
}

// requests counts the requests in the mirror's log.
func (m *switchMirror) requests() int {
	data, _ := os.ReadFile(m.log.Name())
	return strings.Count(string(data), "\n")
}

// cmdHealthMode switches the mirror healthsites started to MODE, a
// faultmirror mode or "refuse".
func cmdHealthMode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: healthmode MODE")
	}
	ts.Check(healthMirror(ts, "healthmode").set(args[0]))
}

// healthMirror is the mirror healthsites started for the script; cmd,
// which needs it, fails the script when there is none.
func healthMirror(ts *testscript.TestScript, cmd string) *switchMirror {
	v, ok := healthMirrors.Load(ts)
	if !ok {
		ts.Fatalf("%s: run healthsites first", cmd)
	}
	return v.(*switchMirror)
}

// cmdHealthSites starts the mirror healthcheck drives, hanging until told
// otherwise, and writes POLICY as faultsites does: one site, flaky, for
// clients in 10.0.1.0/24, with a check that makes it down after
// healthDownAfter failures for healthDownFor, up to healthDownForMax;
// then each EXTRA file. FLAKY is set to the site's URL.
func cmdHealthSites(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: healthsites POLICY [EXTRA...]")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	addr := l.Addr().String()
	l.Close()
	logFile, err := os.Create(filepath.Join(ts.Getenv("WORK"), "FLAKY.log"))
	ts.Check(err)
	m := &switchMirror{addr: addr, log: logFile}
	ts.Check(m.set("hang"))
	healthMirrors.Store(ts, m)
	ts.Defer(func() {
		healthMirrors.Delete(ts)
		m.close()
	})
	url := "http://" + addr
	ts.Setenv("FLAKY", url)

	policy := ts.MkAbs(args[0])
	feed := `{"syncToken": "1", "createDate": "2026-01-01-00-00-00",
 "prefixes": [{"ip_prefix": "10.0.1.0/24", "region": "flaky", "service": "AMAZON", "network_border_group": "x"}],
 "ipv6_prefixes": []}
`
	ts.Check(os.WriteFile(filepath.Join(filepath.Dir(policy), "health-aws.json"), []byte(feed), 0o666))
	sites := fmt.Sprintf("site \"flaky\" {\n  url     = %q\n  regions = [\"aws:flaky\"]\n}\n", url)
	check := fmt.Sprintf("positive_ttl = \"1h\"\n    negative_ttl = \"1h\"\n    timeout      = \"%s\"\n    down_after   = %d\n    down_for     = \"%s\"\n    down_for_max = \"%s\"",
		healthTimeout, healthDownAfter, healthDownFor, healthDownForMax)
	text := scriptPolicy("health-aws.json", sites, "flaky", check)
	for _, extra := range args[1:] {
		data, err := os.ReadFile(ts.MkAbs(extra))
		if err != nil {
			ts.Fatalf("healthsites: %s: %v", extra, pathless(err))
		}
		text += string(data)
	}
	ts.Check(os.WriteFile(policy, []byte(text), 0o666))
}

const healthcheckUsage = "usage: healthcheck [-H HEADER] URL"

// cmdHealthCheck takes the target at URL through an outage of the site
// healthsites started, sending healthRate blob requests a second for new
// blobs as a client of the site (its address in HEADER):
//   - the site hangs, then refuses connections: every answer is the
//     fallback, no 5xx; once the site is down, p99 of the answers is under
//     healthP99, and at most a handful of requests reach the site per
//     down period;
//   - the site answers again: within one period and a second, clients are
//     sent to it, and from then on every answer is the site.
func cmdHealthCheck(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	header := fs.String("H", "X-Forwarded-For", "")
	if err := fs.Parse(args); neg || err != nil || fs.NArg() != 1 {
		ts.Fatalf(healthcheckUsage)
	}
	m := healthMirror(ts, "healthcheck")
	hc := &healthClient{base: strings.TrimSuffix(fs.Arg(0), "/"), header: *header, site: "http://" + m.addr}

	// The site hangs. The requests of the first timeout all wait for it;
	// by the time healthDownAfter checks have failed the site must be
	// down, and from then on the answers are quick and few requests reach
	// the site.
	const hangFor, refuseFor = 6 * time.Second, 3 * time.Second
	downBy := time.Duration(healthDownAfter)*healthTimeout + 500*time.Millisecond
	ts.Check(m.set("hang"))
	hang := hc.run(downBy, false)
	before := m.requests()
	down := hc.run(hangFor-downBy, false)
	reached := m.requests() - before
	ts.Check(m.set("refuse"))
	refuse := hc.run(refuseFor, false)
	var errs []error
	for _, phase := range []struct {
		name    string
		answers []healthAnswer
	}{{"hang", hang}, {"hang", down}, {"refuse", refuse}} {
		for _, a := range phase.answers {
			if a.err != nil {
				errs = append(errs, fmt.Errorf("%s: %v", phase.name, a.err))
			}
		}
	}
	if p := p99(down); p > healthP99 {
		errs = append(errs, fmt.Errorf("hang: p99 of the answers after the first %v is %v, want under %v", downBy, p, healthP99))
	}
	if p := p99(refuse); p > healthP99 {
		errs = append(errs, fmt.Errorf("refuse: p99 of the answers is %v, want under %v", p, healthP99))
	}
	// A handful: one trial per period of the shortest length, and two to
	// spare.
	if most := int((hangFor-downBy)/healthDownFor) + 2; reached > most {
		errs = append(errs, fmt.Errorf("hang: %d requests reached the site in the %v it was down, want at most %d", reached, hangFor-downBy, most))
	}

	// The site answers again.
	ts.Check(m.set("status=200"))
	back := hc.run(healthDownForMax+time.Second, true)
	first := slices.IndexFunc(back, func(a healthAnswer) bool { return a.site })
	switch {
	case first < 0:
		errs = append(errs, fmt.Errorf("recover: no client was sent to the site in %v", healthDownForMax+time.Second))
	default:
		for _, a := range back[first:] {
			if a.err != nil || !a.site {
				errs = append(errs, fmt.Errorf("recover: after the first answer from the site at %v, another was not the site: %v", back[first].at.Round(time.Millisecond), a.err))
				break
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		ts.Fatalf("healthcheck:\n%v", err)
	}
	fmt.Fprint(ts.Stdout(), "hang: the fallback, quickly once the site was down\nrefuse: the fallback, quickly\nrecover: the site again\n")
}

// healthClient sends healthcheck's requests, each for a blob not asked
// for before.
type healthClient struct {
	base, header, site string
	blobs              atomic.Int64
}

// healthAnswer is one request's outcome: when it was sent, from the start
// of its phase, how long it took, whether it was sent to the site, and
// what was wrong with it, if anything.
type healthAnswer struct {
	at, took time.Duration
	site     bool
	err      error
}

// run sends healthRate requests a second for d, each on its own, and
// returns their answers in the order sent. A 307 to the fallback is right;
// so is one to the site when site is true.
func (c *healthClient) run(d time.Duration, site bool) []healthAnswer {
	start := time.Now()
	tick := time.NewTicker(time.Second / healthRate)
	defer tick.Stop()
	var (
		answers []healthAnswer
		wg      sync.WaitGroup
		mu      sync.Mutex // answers grows as the answers come in
	)
	for i := 0; time.Since(start) < d; i++ {
		<-tick.C
		mu.Lock()
		answers = append(answers, healthAnswer{})
		mu.Unlock()
		wg.Go(func() {
			a := c.ask(start, site)
			mu.Lock()
			answers[i] = a
			mu.Unlock()
		})
	}
	wg.Wait()
	return answers
}

func (c *healthClient) ask(start time.Time, site bool) healthAnswer {
	digest := fmt.Sprintf("sha256:%064x", c.blobs.Add(1))
	g := &httpGet{method: http.MethodGet, headers: http.Header{c.header: {"10.0.1.1"}}, url: c.base + "/v2/a/blobs/" + digest}
	a := healthAnswer{at: time.Since(start)}
	sent := time.Now()
	out, err := g.do()
	a.took = time.Since(sent)
	fallback := "STATUS 307\nLocation: " + faultUpstream + digest + "\n"
	atSite := "STATUS 307\nLocation: " + c.site + "/containers/images/" + digest + "\n"
	switch {
	case err != nil:
		a.err = err
	case out == fallback:
	case site && out == atSite:
		a.site = true
	default:
		a.err = fmt.Errorf("got %q", out)
	}
	return a
}

// p99 is the 99th percentile of the time the answers took.
func p99(answers []healthAnswer) time.Duration {
	if len(answers) == 0 {
		return 0
	}
	took := make([]time.Duration, len(answers))
	for i, a := range answers {
		took[i] = a.took
	}
	slices.Sort(took)
	return took[(len(took)*99)/100]
}
