package scriptcmd

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regedge/regedge/compiler/internal/fastlycheck"
)

// falcoProber stands in for Fastly's health probes, which falco does not
// run: falco reads every backend as healthy. It sends each probe a VCL
// declares as Varnish, whose probes Fastly's come from, documents them:
// the request every interval, a good result only for the expected status
// within the timeout, the backend healthy while at least threshold of the
// last window results were good, with initial good results in the window
// to begin with. It logs each result and each change of health.
type falcoProber struct {
	healthy map[string]*atomic.Bool // by backend name
	log     *log.Logger
	stop    chan struct{}
	wg      sync.WaitGroup
}

// startProbes starts the probes src declares, logging to logTo.
func startProbes(src string, logTo io.Writer) (*falcoProber, error) {
	probes, err := fastlycheck.Probes(src)
	if err != nil {
		return nil, err
	}
	p := &falcoProber{healthy: map[string]*atomic.Bool{}, log: log.New(logTo, "", 0), stop: make(chan struct{})}
	for _, pr := range probes {
		h := &atomic.Bool{}
		h.Store(pr.Initial >= pr.Threshold)
		p.healthy[pr.Backend] = h
		p.wg.Go(func() { p.run(pr, h) })
	}
	return p, nil
}

// close stops the probes and waits for the last ones to end.
func (p *falcoProber) close() {
	close(p.stop)
	p.wg.Wait()
}

// run probes one backend until close, one probe at a time: the next
// starts an interval after the one before it started, or when it ended.
func (p *falcoProber) run(pr fastlycheck.Probe, healthy *atomic.Bool) {
	window := make([]bool, 0, pr.Window+1)
	for range min(pr.Initial, pr.Window) {
		window = append(window, true)
	}
	for {
		start := time.Now()
		status, err := probe(pr)
		good := err == nil && status == pr.Status
		window = append(window, good)
		if len(window) > pr.Window {
			window = window[1:]
		}
		goods := 0
		for _, g := range window {
			if g {
				goods++
			}
		}
		now := goods >= pr.Threshold
		result := fmt.Sprint(status)
		if err != nil {
			result = err.Error()
		}
		p.log.Printf("%s: %s, good %v; %d of the last %d good", pr.Backend, result, good, goods, len(window))
		if was := healthy.Swap(now); was != now {
			p.log.Printf("%s %s", pr.Backend, map[bool]string{true: "back healthy", false: "went sick"}[now])
		}
		select {
		case <-p.stop:
			return
		case <-time.After(time.Until(start.Add(pr.Interval))):
		}
	}
}

// probe sends pr's request on a new connection and returns the status
// of the answer, all within pr's timeout.
func probe(pr fastlycheck.Probe) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), pr.Timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", pr.Addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	if pr.TLS {
		conn = tls.Client(conn, &tls.Config{ServerName: pr.ServerName})
	}
	if _, err := io.WriteString(conn, pr.Request); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: http.MethodHead})
	if err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}
