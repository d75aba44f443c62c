package scriptcmd

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/ysugimoto/falco/ast"
	"github.com/ysugimoto/falco/interpreter"
	icontext "github.com/ysugimoto/falco/interpreter/context"
	"github.com/ysugimoto/falco/interpreter/value"
	"github.com/ysugimoto/falco/resolver"
)

// falcoMaxBackends lifts falco's default limit of 5 backends, which
// Fastly raises per account: the shipped policy declares 33.
const falcoMaxBackends = 1000

// cmdFalcoSim serves VCL, a Fastly VCL file, with falco's interpreter on a
// loopback port, and sets NAME to its http:// URL. Requests are logged to
// $WORK/NAME.log as "METHOD REQUEST-URI STATUS", and what falco reports
// (a runtime error, a failed fetch) to $WORK/NAME-falco.log.
//
// falco runs no health probe and reads every backend as healthy. With
// -probes, falcosim runs the probes the VCL declares (see falcoProber),
// logging to $WORK/NAME-probe.log, and req.backend.healthy reads the
// health they find of the request's backend.
//
// Not falco simulate, which listens on every interface and serves
// through a ServeMux, which redirects "/v2/../x" to "/x" before the VCL
// sees it, and through net/http's answer to "OPTIONS *". falcosim hands
// every request to the interpreter as net/http parsed it, and carries it
// over two places where falco does not do what Fastly does (see
// falcoSim).
func cmdFalcoSim(ts *testscript.TestScript, neg bool, args []string) {
	probes := len(args) > 0 && args[0] == "-probes"
	if probes {
		args = args[1:]
	}
	if neg || len(args) != 2 {
		ts.Fatalf("usage: falcosim [-probes] NAME VCL")
	}
	name := args[0]
	checkName(ts, name)
	src, err := os.ReadFile(ts.MkAbs(args[1]))
	if err != nil {
		ts.Fatalf("falcosim: %s: %v", args[1], pathless(err))
	}
	falcoLog, err := os.Create(filepath.Join(ts.Getenv("WORK"), name+"-falco.log"))
	ts.Check(err)
	ts.Defer(func() { falcoLog.Close() })
	sim := newFalcoSim(string(src), falcoLog)
	if probes {
		probeLog, err := os.Create(filepath.Join(ts.Getenv("WORK"), name+"-probe.log"))
		ts.Check(err)
		p, err := startProbes(string(src), probeLog)
		if err != nil {
			ts.Fatalf("falcosim: %s: %v", args[1], err)
		}
		ts.Defer(func() {
			p.close()
			probeLog.Close()
		})
		sim.readHealth(p)
	}
	ts.Setenv(name, "http://"+serve(ts, name, sim))
}

// falcoSim runs one request at a time through falco's interpreter, which
// keeps each request's state, and its cache, in itself. It differs from
// falco's own handler in two places, each where falco differs from Fastly:
//
//   - A fetch that fails (refused, timed out, unreadable) makes falco
//     return an error and answer nothing. Fastly runs vcl_error with
//     obj.status 503; falcoSim does the same.
//   - After a restart from vcl_deliver, falco clears the fetched answer
//     and then, once the restarted request is answered, caches the
//     cleared answer: a nil pointer, which panics. Fastly caches the
//     answer before vcl_deliver runs. falcoSim puts the fetched answer
//     back once the restarted request reaches vcl_log, so falco caches it
//     and the answer stands. The VCL fetches at most once per request.
type falcoSim struct {
	mu     sync.Mutex
	interp *interpreter.Interpreter
	ctx    *icontext.Context // the request's, set by ProcessInit
	// fetched is the answer a restart from vcl_deliver cleared.
	fetched *http.Response
	log     *log.Logger
}

func newFalcoSim(src string, logTo io.Writer) *falcoSim {
	s := &falcoSim{log: log.New(logTo, "", 0)}
	s.interp = interpreter.New(
		icontext.WithResolver(resolver.NewStaticResolver("main", src)),
		icontext.WithMaxBackends(falcoMaxBackends),
		func(c *icontext.Context) { s.ctx = c },
	)
	s.interp.Debugger = falcoDebugger{s}
	return s
}

// readHealth makes req.backend.healthy read the health p finds of the
// request's backend, where falco reads true.
func (s *falcoSim) readHealth(p *falcoProber) {
	s.interp.IdentResolver = func(name string) value.Value {
		if name != "req.backend.healthy" || s.ctx.Backend == nil || s.ctx.Backend.Value == nil {
			return nil
		}
		if h, ok := p.healthy[s.ctx.Backend.Value.Name.Value]; ok {
			return &value.Boolean{Value: h.Load()}
		}
		return nil
	}
}

func (s *falcoSim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	resp, err := s.answer(r)
	if err != nil {
		s.log.Printf("%s %s: %v", r.Method, r.RequestURI, err)
		http.Error(w, "falco: "+err.Error(), http.StatusInternalServerError)
		return
	}
	for name, values := range resp.Header {
		w.Header()[name] = values
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// answer runs r through the VCL and returns the response it makes.
func (s *falcoSim) answer(r *http.Request) (resp *http.Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("falco panicked: %v", p)
		}
	}()
	s.ctx, s.fetched = nil, nil
	if err := s.interp.ProcessInit(r); err != nil {
		return nil, err
	}
	err = s.interp.ProcessRecv()
	if err != nil && s.ctx.Scope == icontext.FetchScope && s.ctx.BackendResponse == nil {
		s.log.Printf("%s %s: the fetch failed, so vcl_error runs with 503: %v", r.Method, r.RequestURI, err)
		s.ctx.ObjectStatus = &value.Integer{Value: http.StatusServiceUnavailable}
		s.ctx.ObjectResponse = &value.String{Value: "Service Unavailable"}
		err = s.interp.ProcessError()
	}
	if err != nil {
		return nil, err
	}
	if s.ctx.Response == nil {
		return nil, fmt.Errorf("falco made no response")
	}
	return s.ctx.Response, nil
}

// falcoDebugger hears the interpreter's state changes, for falcoSim's
// cache fix; it prints nothing.
type falcoDebugger struct{ s *falcoSim }

func (falcoDebugger) Run(ast.Node) interpreter.DebugState { return interpreter.DebugPass }

func (d falcoDebugger) Message(msg string) {
	s := d.s
	switch {
	case strings.HasPrefix(msg, "Restarted ("):
		if s.ctx.BackendResponse != nil {
			s.fetched = s.ctx.BackendResponse
		}
	case strings.HasSuffix(msg, " -> LOG"):
		if s.fetched != nil && s.ctx.BackendResponse == nil {
			s.ctx.BackendResponse = s.fetched
		}
	}
}

// cmdWaitProbe waits, at most WITHIN, until a line the probes of falcosim
// -probes NAME logged since the last waitprobe of NAME matches REGEXP.
func cmdWaitProbe(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: waitprobe NAME WITHIN REGEXP")
	}
	within, err := time.ParseDuration(args[1])
	if err != nil {
		ts.Fatalf("waitprobe: %v", err)
	}
	re, err := regexp.Compile(args[2])
	if err != nil {
		ts.Fatalf("waitprobe: %v", err)
	}
	path := filepath.Join(ts.Getenv("WORK"), args[0]+"-probe.log")
	seenKey := "WAITPROBE_" + args[0]
	seen, _ := strconv.Atoi(ts.Getenv(seenKey))
	deadline := time.Now().Add(within)
	for {
		data, err := os.ReadFile(path)
		if err != nil {
			ts.Fatalf("waitprobe: %v", pathless(err))
		}
		// Only whole lines: the prober may be writing the last.
		for end := seen; ; {
			n := bytes.IndexByte(data[end:], '\n')
			if n < 0 {
				break
			}
			line := data[end : end+n]
			end += n + 1
			if re.Match(line) {
				ts.Setenv(seenKey, strconv.Itoa(end))
				return
			}
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitprobe: no line matched %s within %v; the probes logged:\n%s", args[2], within, data[seen:])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
