package scriptcmd

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regedge/regedge/compiler/internal/verify"
	"github.com/rogpeppe/go-internal/testscript"
)

const (
	loadstartUsage = "usage: loadstart NAME [-c CONCURRENCY] [-n TOTAL] [-H 'Name: value']... [-want STATUS] URL..."
	loadstopUsage  = "usage: loadstop NAME"
	loadwaitUsage  = "usage: loadwait NAME"

	// maxLocations caps the distinct (status, Location) pairs a load
	// counts, so that a server answering unique Locations cannot grow
	// the report without bound.
	maxLocations = 50
	// maxErrors is how many distinct transport errors a load keeps.
	maxErrors = 3
)

// cmdLoadStart starts a load of GET requests in the background and
// returns at once; loadstop or loadwait ends it and prints its report.
func cmdLoadStart(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf(loadstartUsage)
	}
	name, spec, err := parseLoad(args)
	if err != nil {
		ts.Fatalf("%s: %v", loadstartUsage, err)
	}
	key := loadKey{ts, name}
	if loads.get(key) != nil {
		ts.Fatalf("loadstart: load %s is already running; end it with loadstop", name)
	}
	l := startLoad(spec)
	loads.put(key, l)
	ts.Defer(func() {
		if loads.remove(key, l) {
			l.abort()
		}
	})
}

// cmdLoadStop cancels a load, waits for its in-flight requests and
// prints its report.
func cmdLoadStop(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf(loadstopUsage)
	}
	l := takeLoad(ts, "loadstop", args[0])
	l.stop()
	l.report(ts, "loadstop")
}

// cmdLoadWait waits until a load started with -n has sent all its
// requests, and prints its report.
func cmdLoadWait(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf(loadwaitUsage)
	}
	if l := loads.get(loadKey{ts, args[0]}); l != nil && l.spec.total == 0 {
		ts.Fatalf("%s: load %s has no -n TOTAL; end it with loadstop", loadwaitUsage, args[0])
	}
	l := takeLoad(ts, "loadwait", args[0])
	<-l.done
	l.report(ts, "loadwait")
}

// takeLoad removes the running load name from the registry.
func takeLoad(ts *testscript.TestScript, cmd, name string) *load {
	key := loadKey{ts, name}
	l := loads.get(key)
	if l == nil {
		ts.Fatalf("%s: no load named %s is running; start one with loadstart", cmd, name)
	}
	loads.remove(key, l)
	return l
}

// loadSpec is one parsed loadstart command line.
type loadSpec struct {
	concurrency int
	total       int // 0 runs until loadstop
	headers     http.Header
	want        int // 0 accepts any status
	urls        []string
}

func parseLoad(args []string) (string, *loadSpec, error) {
	if len(args) == 0 || args[0] == "" || strings.HasPrefix(args[0], "-") {
		return "", nil, errors.New("want a NAME first")
	}
	name := args[0]
	spec := &loadSpec{headers: http.Header{}}
	fs := flag.NewFlagSet("loadstart", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.IntVar(&spec.concurrency, "c", 4, "")
	fs.IntVar(&spec.total, "n", 0, "")
	fs.Func("H", "", headerFlag(spec.headers))
	fs.IntVar(&spec.want, "want", 0, "")
	if err := fs.Parse(args[1:]); err != nil {
		return "", nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case spec.concurrency < 1:
		return "", nil, fmt.Errorf("-c %d is not a positive number", spec.concurrency)
	case set["n"] && spec.total < 1:
		return "", nil, fmt.Errorf("-n %d is not a positive number", spec.total)
	case set["want"] && (spec.want < 100 || spec.want > 599):
		return "", nil, fmt.Errorf("-want %d is not an HTTP status", spec.want)
	case fs.NArg() == 0:
		return "", nil, errors.New("want at least one URL")
	}
	spec.urls = fs.Args()
	for _, u := range spec.urls {
		if _, err := verify.NewRawRequest(context.Background(), http.MethodGet, u); err != nil {
			return "", nil, err
		}
	}
	return name, spec, nil
}

// loadKey names a load within one script; scripts run in parallel and
// may use the same names.
type loadKey struct {
	ts   *testscript.TestScript
	name string
}

// loads holds the running loads of every script.
var loads = &loadRegistry{m: map[loadKey]*load{}}

type loadRegistry struct {
	mu sync.Mutex
	m  map[loadKey]*load
}

func (r *loadRegistry) get(key loadKey) *load {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[key]
}

func (r *loadRegistry) put(key loadKey, l *load) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[key] = l
}

// remove unregisters l, reporting whether it was registered.
func (r *loadRegistry) remove(key loadKey, l *load) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m[key] != l {
		return false
	}
	delete(r.m, key)
	return true
}

// load is a running set of workers sending requests round-robin.
type load struct {
	spec   *loadSpec
	client *http.Client
	cancel context.CancelFunc // ends the workers' loops
	reqCtx context.Context    // the requests' context
	cut    context.CancelFunc // cancels reqCtx
	done   chan struct{}      // closed when every worker has returned
	next   atomic.Int64       // index of the next request

	mu    sync.Mutex
	stats loadStats
}

// startLoad starts spec.concurrency workers sharing one keep-alive client.
func startLoad(spec *loadSpec) *load {
	ctx, cancel := context.WithCancel(context.Background())
	reqCtx, cut := context.WithCancel(context.Background())
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: spec.concurrency}
	l := &load{
		spec: spec,
		client: &http.Client{
			Timeout:       10 * time.Second,
			Transport:     tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		cancel: cancel,
		reqCtx: reqCtx,
		cut:    cut,
		done:   make(chan struct{}),
	}
	var wg sync.WaitGroup
	for range spec.concurrency {
		wg.Go(func() { l.work(ctx) })
	}
	go func() {
		wg.Wait()
		tr.CloseIdleConnections()
		cut()
		close(l.done)
	}()
	return l
}

// stop cancels the load and waits for the workers, which finish the
// requests they have in flight.
func (l *load) stop() {
	l.cancel()
	<-l.done
}

// abort stops the load without waiting for requests in flight, for a
// script that ended without reading the report.
func (l *load) abort() {
	l.cancel()
	l.cut()
	<-l.done
}

// work sends requests until ctx is done or the total is reached. The
// requests use reqCtx instead, so stop never cuts one short.
func (l *load) work(ctx context.Context) {
	for ctx.Err() == nil {
		n := l.next.Add(1) - 1
		if l.spec.total > 0 && n >= int64(l.spec.total) {
			return
		}
		status, location, err := l.get(l.spec.urls[n%int64(len(l.spec.urls))])
		l.mu.Lock()
		l.stats.add(status, location, err, l.spec.want)
		l.mu.Unlock()
	}
}

// get sends one request and reads the whole body, so that the
// connection can be reused.
func (l *load) get(rawURL string) (status int, location string, err error) {
	req, err := verify.NewRawRequest(l.reqCtx, http.MethodGet, rawURL)
	if err != nil {
		return 0, "", err
	}
	setHeaders(req, l.spec.headers)
	resp, err := l.client.Do(req)
	if err != nil {
		return 0, "", requestError(req.Method, rawURL, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, "", requestError(req.Method, rawURL, err)
	}
	return resp.StatusCode, resp.Header.Get("Location"), nil
}

// report prints the load's statistics to stdout and its first errors
// to the log.
func (l *load) report(ts *testscript.TestScript, cmd string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.stats.firstErrors {
		ts.Logf("%s: %s", cmd, e)
	}
	if l.stats.untracked > 0 {
		ts.Logf("%s: %d responses had a Location beyond the first %d distinct ones, which are not listed",
			cmd, l.stats.untracked, maxLocations)
	}
	fmt.Fprint(ts.Stdout(), l.stats.format())
}

// loadStats counts the outcomes of a load's requests.
type loadStats struct {
	requests    int
	errors      int // transport errors
	unexpected  int // statuses other than -want
	firstErrors []string
	status      map[int]int
	locations   map[statusLocation]int
	untracked   int // responses whose Location was over maxLocations
}

// statusLocation is a response's status and its Location header.
type statusLocation struct {
	status   int
	location string
}

// add counts one request's outcome; want is -want, or 0.
func (s *loadStats) add(status int, location string, err error, want int) {
	s.requests++
	if err != nil {
		s.errors++
		if msg := err.Error(); len(s.firstErrors) < maxErrors && !slices.Contains(s.firstErrors, msg) {
			s.firstErrors = append(s.firstErrors, msg)
		}
		return
	}
	if want != 0 && status != want {
		s.unexpected++
	}
	if s.status == nil {
		s.status, s.locations = map[int]int{}, map[statusLocation]int{}
	}
	s.status[status]++
	if location == "" {
		return
	}
	key := statusLocation{status, location}
	if _, ok := s.locations[key]; !ok && len(s.locations) >= maxLocations {
		s.untracked++
		return
	}
	s.locations[key]++
}

// format returns the report in a fixed order: totals, then statuses by
// code, then Locations by code and value.
func (s *loadStats) format() string {
	var b strings.Builder
	fmt.Fprintf(&b, "requests %d\nerrors %d\nfailures %d\n", s.requests, s.errors, s.errors+s.unexpected)
	for _, code := range slices.Sorted(maps.Keys(s.status)) {
		fmt.Fprintf(&b, "status %d %d\n", code, s.status[code])
	}
	keys := slices.SortedFunc(maps.Keys(s.locations), func(a, b statusLocation) int {
		return cmp.Or(cmp.Compare(a.status, b.status), strings.Compare(a.location, b.location))
	})
	for _, k := range keys {
		fmt.Fprintf(&b, "location %d %s %d\n", k.status, k.location, s.locations[k])
	}
	return b.String()
}
