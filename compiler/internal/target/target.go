// Package target is the one table of the targets regedge serves requests
// through: for each, its name, the files it writes, its renderer, and what
// its policy block holds when the policy says nothing. The policy's schema
// and defaults, rendering, the command's help and verify -target all read
// it, so adding a target means one entry here, one renderer, one template
// folder, its docs and its testscripts.
package target

import (
	"slices"
	"strings"

	"github.com/regedge/regedge/compiler/internal/render"
	"github.com/regedge/regedge/compiler/plan"
)

// Target is one way regedge's rules reach clients.
type Target struct {
	// Name names the target everywhere: its policy block, its folder in
	// the output, and verify -target.
	Name string
	// Files are the files it writes, under its folder; none for the proxy,
	// which answers from the plan itself.
	Files []string
	// Render writes the files from the plan as the target sees it (see
	// plan.Plan.For); nil for the proxy.
	Render func(*plan.Plan) ([]render.File, error)
	// Edge holds the defaults of an edge target's policy block, which
	// takes check, client_ip and, where Listen is not nil, listen, and
	// where ProbeStatus is not 0, probe_status. It is
	// nil for nginx, whose block holds settings of its own, and for the
	// proxy; both follow the policy's client_ip block and existence check.
	Edge *Defaults
}

// Defaults are an edge target's settings when its policy block says
// nothing.
type Defaults struct {
	// Check is whether the target checks a mirror holds a blob.
	Check bool
	// ClientIP is where it finds the client: "policy" (the client_ip
	// block's rule), "peer" (the TCP peer) or a header.
	ClientIP string
	// Listen is where it listens; nil when its block takes no listen,
	// because it is told where it is deployed.
	Listen []string
	// ProbeStatus is the status its health probe expects of a mirror; 0
	// when its block takes no probe_status, as it keeps a site's health
	// without a probe.
	ProbeStatus int
}

// DefaultListen is where a target with listen addresses listens unless
// told otherwise: port 80 on every address.
var DefaultListen = []string{"80", "[::]:80"}

// All lists every target, in the order their files are written.
var All = []Target{
	{Name: "nginx", Files: []string{"nginx.conf", "regedge.conf"}, Render: render.Nginx},
	{Name: "varnish", Files: []string{"regedge.vcl"}, Render: render.Varnish,
		// Varnish and HAProxy sit behind the policy's proxies.
		Edge: &Defaults{Check: true, ClientIP: "policy"}},
	{Name: "fastly", Files: []string{"regedge.vcl"}, Render: render.Fastly,
		// Fastly sees the client as client.ip.
		Edge: &Defaults{Check: true, ClientIP: "peer", ProbeStatus: render.FastlyProbeStatus}},
	{Name: "haproxy", Files: []string{"haproxy.cfg", "labels.map", "regedge.lua"}, Render: render.HAProxy,
		Edge: &Defaults{Check: true, ClientIP: "policy", Listen: DefaultListen}},
	{Name: "worker", Files: []string{"worker.js", "wrangler.toml", "workerd.capnp"}, Render: render.Worker,
		// Cloudflare puts the client in CF-Connecting-IP.
		Edge: &Defaults{Check: true, ClientIP: "CF-Connecting-IP"}},
	{Name: "proxy"},
}

// Names returns every target's name, sorted.
func Names() []string {
	var names []string
	for _, t := range All {
		names = append(names, t.Name)
	}
	slices.Sort(names)
	return names
}

// Edges returns the edge targets, sorted by name.
func Edges() []Target {
	var edges []Target
	for _, t := range All {
		if t.Edge != nil {
			edges = append(edges, t)
		}
	}
	slices.SortFunc(edges, func(a, b Target) int { return strings.Compare(a.Name, b.Name) })
	return edges
}

// Render writes the plan as plan.json and every target's files from it.
func Render(p *plan.Plan) ([]render.File, error) {
	files, err := render.Plan(p)
	if err != nil {
		return nil, err
	}
	for _, t := range All {
		if t.Render == nil {
			continue
		}
		out, err := t.Render(p.For(t.Name))
		if err != nil {
			return nil, &RenderError{Target: t.Name, Err: err}
		}
		files = append(files, out...)
	}
	return files, nil
}

// RenderError is why a target cannot be rendered from a plan.
type RenderError struct {
	Target string
	Err    error
}

func (e *RenderError) Error() string { return e.Target + ": " + e.Err.Error() }

func (e *RenderError) Unwrap() error { return e.Err }
