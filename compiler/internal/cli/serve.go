package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/regedge/regedge/compiler/internal/diag"
	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/proxy"
)

// The registry server's limits are proxy.NewServer's.
const (
	metricsReadTimeout = 5 * time.Second
	shutdownTimeout    = 30 * time.Second
	// slowLoad is how long reading the policy's files may take before
	// serve warns that it is stuck.
	slowLoad = 5 * time.Second
)

// server is one of serve's listeners: the registry's or the metrics'.
type server struct {
	name, addr string
	serve      func(net.Listener) error
	shutdown   func(context.Context) error
}

func runServe(args []string, stdout, stderr io.Writer) int {
	// Signals are caught before anything else: until Notify, a SIGHUP
	// kills the process. One that arrives while the policy loads waits in
	// its channel and reloads once the server listens. Loading never runs
	// where signals are read, so that a policy that cannot be read (a
	// hung network file system, a FIFO) never keeps SIGTERM waiting.
	reloads := make(chan os.Signal, 1)
	stops := make(chan os.Signal, 1)
	signal.Notify(reloads, syscall.SIGHUP)
	signal.Notify(stops, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(reloads)
	defer signal.Stop(stops)

	fs := newFlags("serve", stderr)
	var pf policyFlags
	pf.register(fs)
	deployment := fs.String("deployment", "", "deployment `NAME`, for policies with deployments")
	listen := fs.String("listen", ":8080", "`ADDR` to serve registry requests on")
	metricsAddr := fs.String("metrics", "", "`ADDR` to serve Prometheus metrics on; empty for none")
	level := fs.String("log-level", "info", "log `LEVEL`: debug logs every decision")
	if status, ok := parseFlags(fs, args, 0, stdout); !ok {
		return status
	}
	var logLevel slog.Level
	if err := logLevel.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(stderr, "regedge serve: -log-level %q is not a level; want debug, info, warn or error\n", *level)
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: logLevel, ReplaceAttr: printableAttr}))
	// net/http's transport and servers write to the standard logger (a
	// mirror's unsolicited response, say): through slog they are JSON lines
	// too, at warn level.
	slog.SetLogLoggerLevel(slog.LevelWarn)
	slog.SetDefault(log)

	load := func() loaded {
		// A read can block for good (a hung network file system, a FIFO
		// no one writes) and nothing can cancel it: say so, as reloads
		// queue behind it.
		slow := time.AfterFunc(slowLoad, func() {
			log.Warn("still reading the policy's files; reloads wait until this read ends", "after", slowLoad.String())
		})
		defer slow.Stop()
		var diags bytes.Buffer
		p, status := pf.plan(&diags, *deployment)
		return loaded{p, status, strings.TrimRight(diags.String(), "\n")}
	}
	log.Info("loading policy", "policy", pf.path(), "override", pf.override)
	firstLoad := make(chan loaded, 1)
	go func() { firstLoad <- load() }()
	var initial loaded
	select {
	case initial = <-firstLoad:
	case sig := <-stops:
		log.Info("shutting down", "signal", sig.String())
		log.Info("stopped")
		return 0
	}
	if initial.plan == nil {
		log.Error("the policy did not load", "diagnostics", initial.diags)
		return initial.status
	}
	if initial.diags != "" {
		log.Warn("policy warnings", "diagnostics", initial.diags)
	}
	metrics := proxy.NewMetrics()
	h := proxy.New(initial.plan, proxy.WithLogger(log), proxy.WithMetrics(metrics))

	registry := proxy.NewServer(h)
	serveRegistry := func(ln net.Listener) error { return registry.Serve(proxy.RetryAccept(ln, log)) }
	servers := []server{{name: "registry", addr: *listen, serve: serveRegistry, shutdown: registry.ShutdownWithContext}}
	if *metricsAddr != "" {
		m := &http.Server{Handler: metrics.Handler(), ReadHeaderTimeout: metricsReadTimeout}
		servers = append(servers, server{name: "metrics", addr: *metricsAddr, serve: m.Serve, shutdown: m.Shutdown})
	}
	// Every address is taken before any is served, so a taken metrics
	// port stops serve before it says it is listening.
	listeners := make([]net.Listener, len(servers))
	for i, s := range servers {
		ln, err := net.Listen("tcp", s.addr)
		if err != nil {
			for _, l := range listeners[:i] {
				l.Close()
			}
			log.Error("cannot listen", "server", s.name, "err", err)
			return 1
		}
		listeners[i] = ln
	}
	errc := make(chan error, len(servers))
	for i, s := range servers {
		ln := listeners[i]
		log.Info("listening", "addr", ln.Addr().String(), "metrics", s.name == "metrics")
		go func() { errc <- s.serve(ln) }()
	}

	// Reloads run one at a time, away from the signals: a SIGHUP during
	// one queues one more, and any further ones join that one, which
	// reads the files after they came.
	pending := make(chan struct{}, 1)
	defer close(pending)
	go func() {
		for range pending {
			reload(h, load, metrics, log)
		}
	}()
	for {
		select {
		case err := <-errc:
			log.Error("server failed", "err", err)
			return 1
		case <-reloads:
			select {
			case pending <- struct{}{}:
			default:
				log.Info("a reload is already queued")
			}
		case sig := <-stops:
			log.Info("shutting down", "signal", sig.String())
			return shutdown(servers, log)
		}
	}
}

// loaded is the outcome of loading the policy: the plan (nil on errors),
// the exit status and the diagnostics.
type loaded struct {
	plan   *plan.Plan
	status int
	diags  string
}

// printableAttr escapes a log value's characters that a terminal acts on.
// JSON escapes control characters but not U+202E and its kind, and a
// request target or a mirror's message can carry them to whoever reads
// the log with less or tail.
func printableAttr(_ []string, a slog.Attr) slog.Attr {
	switch v := a.Value; {
	case v.Kind() == slog.KindString:
		a.Value = slog.StringValue(diag.Printable(v.String()))
	case v.Kind() == slog.KindAny:
		if err, ok := v.Any().(error); ok {
			a.Value = slog.StringValue(diag.Printable(err.Error()))
		}
	}
	return a
}

// reload swaps in a newly loaded plan; a policy with errors leaves the old
// plan serving.
func reload(h *proxy.Handler, load func() loaded, metrics *proxy.Metrics, log *slog.Logger) {
	log.Info("reloading")
	l := load()
	metrics.Reloaded(l.plan != nil)
	if l.plan == nil {
		log.Error("reload failed; the previous policy keeps serving", "diagnostics", l.diags)
		return
	}
	if l.diags != "" {
		log.Warn("policy warnings", "diagnostics", l.diags)
	}
	h.Swap(l.plan)
	log.Info("reloaded", "labels", len(l.plan.Labels), "ipv4", len(l.plan.V4), "ipv6", len(l.plan.V6))
}

// shutdown stops accepting connections and waits for requests in flight.
func shutdown(servers []server, log *slog.Logger) int {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	status := 0
	for _, s := range servers {
		if err := s.shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("shutdown", "server", s.name, "err", err)
			status = 1
		}
	}
	log.Info("stopped")
	return status
}
