package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/regedge/regedge/compiler/internal/answer"
	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

// Config says what to verify and how.
type Config struct {
	Plan *plan.Plan
	// Endpoint is the target's base URL, such as http://127.0.0.1:8080.
	Endpoint string
	// Blob is a digest the mirrors hold.
	Blob string
	// Sample limits the probe addresses; 0 probes them all.
	Sample      int
	Concurrency int
	// Progress, if set, is called after each probe with the number done.
	Progress func(done, total int)
	// Target names the target verified (nginx, proxy, varnish, ...), whose
	// recorded parser refusals of corpus requests are then allowed; "" for
	// any target's.
	Target string
	// Timeout bounds the whole run (0: no bound), and MaxErrors stops it
	// once that many requests in a row got no answer (0: never). Either
	// ends it early, with Report.Stopped saying why.
	Timeout   time.Duration
	MaxErrors int
}

// Answer is what a target answered: the parts verify compares.
type Answer struct {
	Status   int               `json:"status"`
	Location string            `json:"location,omitempty"`
	Headers  map[string]string `json:"headers,omitempty"`
	Err      string            `json:"error,omitempty"`
}

// Mismatch is a probe whose answer differed from the policy's.
type Mismatch struct {
	Probe Probe  `json:"probe"`
	Want  Answer `json:"want"`
	Got   Answer `json:"got"`
}

// Report is the outcome of a run.
type Report struct {
	Probes     int        `json:"probes"`
	Addresses  int        `json:"addresses"`
	Mismatches []Mismatch `json:"mismatches"`
	// Corpus counts the conformance corpus's requests, and CorpusMismatches
	// lists those answered otherwise than the rules allow.
	Corpus           int            `json:"corpus"`
	CorpusMismatches []CaseMismatch `json:"corpus_mismatches"`
	// Stopped says why the run ended before it sent every request; the
	// counts above are then of the requests answered.
	Stopped string `json:"stopped,omitempty"`
}

// Run sends every probe to the endpoint and compares the answers, then
// sends the conformance corpus. cfg's Timeout and MaxErrors may stop it
// early.
func Run(ctx context.Context, cfg Config) Report {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if cfg.Timeout > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeoutCause(ctx, cfg.Timeout, &stopError{fmt.Sprintf("it ran for its whole time limit, %v", cfg.Timeout)})
		defer stop()
	}
	errs := &errorRun{max: cfg.MaxErrors, cancel: cancel}
	probes := Probes(cfg.Plan, cfg.Blob, cfg.Sample)
	client := probeClient(cfg.Concurrency)
	mirrors := newMirrorState()
	report := Report{Addresses: countAddresses(probes)}

	var mu sync.Mutex
	done := 0
	work := make(chan Probe)
	var wg sync.WaitGroup
	for range max(cfg.Concurrency, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pr := range work {
				want := expected(ctx, cfg.Plan, pr, mirrors)
				got := send(ctx, client, cfg, pr, want)
				if ctx.Err() != nil {
					// The run stopped: this answer may be the stop's.
					continue
				}
				errs.answered(pr.Method+" "+pr.Target, got)
				mu.Lock()
				report.Probes++
				if !same(want, got) {
					report.Mismatches = append(report.Mismatches, Mismatch{Probe: pr, Want: want, Got: got})
				}
				done++
				if cfg.Progress != nil {
					cfg.Progress(done, len(probes))
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, pr := range probes {
		select {
		case work <- pr:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	sortMismatches(report.Mismatches)
	if report.Stopped = stopped(ctx); report.Stopped != "" {
		return report
	}
	report.Corpus, report.CorpusMismatches = runCorpus(ctx, cfg, mirrors, errs)
	report.Stopped = stopped(ctx)
	return report
}

// probeClient is the client probes are sent with: it follows no redirect,
// keeps a connection per request in flight, and reads at most
// maxAnswerHeaderBytes of an answer's headers.
func probeClient(concurrency int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: max(concurrency, 1),
			MaxResponseHeaderBytes: maxAnswerHeaderBytes},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// expected is the policy's answer to a probe, with blob existence learnt by
// verify's own HEAD to the mirror.
func expected(ctx context.Context, p *plan.Plan, pr Probe, mirrors *mirrorState) Answer {
	label := p.Lookup(pr.Client)
	res := answer.For(p, request.Parse(pr.Method, pr.Target), label, func(_, url string) bool {
		return mirrors.exists(ctx, url)
	})
	return Answer{Status: res.Status, Location: res.Location, Headers: res.Headers}
}

// send sends a probe and returns the answer, with the headers want
// requires.
func send(ctx context.Context, client *http.Client, cfg Config, pr Probe, want Answer) Answer {
	req, err := NewRawRequest(ctx, pr.Method, strings.TrimRight(cfg.Endpoint, "/")+pr.Target)
	if err != nil {
		return Answer{Err: err.Error()}
	}
	for name, values := range header(cfg.Plan, pr.Client) {
		req.Header[name] = values
	}
	resp, err := client.Do(req)
	if err != nil {
		// The request is named beside the answer; the error need not.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return Answer{Err: err.Error()}
	}
	defer resp.Body.Close()
	// A body past the limit is left unread, and its connection closed.
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswerBodyBytes))
	return answerFrom(resp, want)
}

// answerFrom reads the parts of an answer verify compares: the status, the
// Location and the headers want requires.
func answerFrom(resp *http.Response, want Answer) Answer {
	a := Answer{Status: resp.StatusCode, Location: resp.Header.Get("Location")}
	for name := range want.Headers {
		if a.Headers == nil {
			a.Headers = map[string]string{}
		}
		a.Headers[name] = resp.Header.Get(name)
	}
	return a
}

// same compares status, Location and the headers the policy requires.
func same(want, got Answer) bool {
	return got.Err == "" && want.Status == got.Status && want.Location == got.Location &&
		maps.Equal(want.Headers, got.Headers)
}

// mirrorState remembers what verify's own HEAD requests found.
type mirrorState struct {
	client *http.Client
	mu     sync.Mutex
	known  map[string]bool
}

func newMirrorState() *mirrorState {
	return &mirrorState{client: &http.Client{
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{Proxy: nil, MaxResponseHeaderBytes: maxAnswerHeaderBytes},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, known: map[string]bool{}}
}

func (m *mirrorState) exists(ctx context.Context, url string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.known[url]; ok {
		return v
	}
	ok := false
	if req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil); err == nil {
		if resp, err := m.client.Do(req); err == nil {
			resp.Body.Close()
			ok = resp.StatusCode >= 200 && resp.StatusCode < 300
		}
	}
	m.known[url] = ok
	return ok
}

func countAddresses(probes []Probe) int {
	seen := map[string]bool{}
	for _, p := range probes {
		seen[p.Client.String()] = true
	}
	return len(seen)
}

func sortMismatches(ms []Mismatch) {
	sort.SliceStable(ms, func(i, j int) bool {
		a, b := ms[i].Probe, ms[j].Probe
		if c := a.Client.Compare(b.Client); c != 0 {
			return c < 0
		}
		return a.Method+a.Target < b.Method+b.Target
	})
}

// WriteText prints each mismatch as the request, the expected answer and
// the answer received, then a summary line.
func WriteText(w io.Writer, p *plan.Plan, r Report, oracle []OracleMismatch) {
	for _, m := range r.Mismatches {
		fmt.Fprintf(w, "MISMATCH %s %s (%s)\n", m.Probe.Method, m.Probe.Target, m.Probe.Kind)
		for name, values := range header(p, m.Probe.Client) {
			fmt.Fprintf(w, "  %s: %s\n", name, values[0])
		}
		fmt.Fprintf(w, "  want %s\n  got  %s\n", describe(m.Want), describe(m.Got))
	}
	for _, m := range r.CorpusMismatches {
		fmt.Fprintf(w, "CORPUS MISMATCH %s\n  %s\n  want %s", m.Case, m.Request, describe(m.Want))
		if m.Refusable {
			fmt.Fprint(w, " or any 4xx")
		}
		fmt.Fprintf(w, "\n  got  %s\n", describe(m.Got))
	}
	for _, m := range oracle {
		fmt.Fprintf(w, "TABLE MISMATCH %s: plan says %s, cidranger over the feeds says %s (prefix %s)\n",
			m.Addr, m.Plan, m.Oracle, m.Prefix)
	}
	fmt.Fprintf(w, "verify: %d probes from %d addresses, %d mismatches; corpus: %d requests, %d mismatches; table check: %d mismatches\n",
		r.Probes, r.Addresses, len(r.Mismatches), r.Corpus, len(r.CorpusMismatches), len(oracle))
}

// printable returns s as it is, or quoted when it holds a byte that is not
// printable ASCII: a target's answer must not write to the terminal.
func printable(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return strconv.Quote(s)
		}
	}
	return s
}

func describe(a Answer) string {
	if a.Err != "" {
		return "error: " + a.Err
	}
	if a.Status == statusHTTP09 {
		return "an HTTP/0.9 answer (no status line)"
	}
	if a.Status == statusClosed {
		return "no answer: the connection was closed"
	}
	s := fmt.Sprint(a.Status)
	if a.Location != "" {
		s += " " + printable(a.Location)
	}
	for _, name := range slices.Sorted(maps.Keys(a.Headers)) {
		s += fmt.Sprintf(" [%s: %s]", name, printable(a.Headers[name]))
	}
	return s
}
