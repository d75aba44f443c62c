package verify

import (
	"strings"
)

// refusal is a kind of request that a target's own HTTP parser, or its
// runtime, answers before the generated rules see it.
type refusal struct {
	target string
	// status is what the target answers: a 4xx, except where runtime
	// says why it cannot be.
	status int
	// runtime explains an answer other than a 4xx, which the target's
	// generated code never sees and cannot change; "" for a 4xx.
	runtime string
	applies func(c Case) bool
}

// Targets by the names verify -target takes; the proxy and nginx follow
// the policy's own client rule.
const (
	targetNginx   = "nginx"
	targetProxy   = "proxy"
	targetVarnish = "varnish"
	targetHAProxy = "haproxy"
	targetWorker  = "worker"
)

// refusals lists, per target, the corpus requests its HTTP parser or its
// runtime answers before the rules run. docs/request-handling.md names them.
var refusals = []refusal{
	// nginx's parser refuses these with 400, which the config answers as
	// 404, as it must for a path that climbs above the root (rule 2).
	{target: targetNginx, status: 404, applies: func(c Case) bool {
		return strings.IndexFunc(c.Method, func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r == '_' || r == '-') }) >= 0 ||
			c.Method == "CONNECT" || c.Target == "*" || emptyHost(c) ||
			strings.ContainsAny(absolute(c.Target).authority, "@#")
	}},
	// A request line over nginx's 8 KiB header buffer.
	{target: targetNginx, status: 414, applies: func(c Case) bool { return len(c.Target) > 8192 }},
	{target: targetNginx, status: statusHTTP09, runtime: "a line feed in the target ends nginx's request line there, and a request line without a version is HTTP/0.9, whose answer has no status line",
		applies: func(c Case) bool { return strings.Contains(c.Target, "\n") }},

	// HAProxy's parser refuses a "#" in the target, a request over its
	// 16 KiB buffer, and an absolute-form target whose authority is not
	// the Host header's.
	{target: targetHAProxy, status: 400, applies: func(c Case) bool {
		a := absolute(c.Target)
		_, host, hasUser := strings.Cut(a.authority, "@")
		if !hasUser {
			host = a.authority
		}
		return strings.Contains(c.Target, "#") || len(c.Target) > 16000 || a.ok && !strings.EqualFold(host, hostHeader(c))
	}},

	// varnishd reads an absolute http:// target's authority into Host up
	// to the first "/", so the VCL refuses a Host holding "?" or "#".
	{target: targetVarnish, status: 400, applies: func(c Case) bool {
		a := absolute(c.Target)
		return strings.EqualFold(a.scheme, "http") && a.slash && strings.ContainsAny(a.authority, "?#")
	}},

	// fasthttp refuses an empty Host.
	{target: targetProxy, status: 400, applies: emptyHost},

	{target: targetWorker, status: 501, runtime: "workerd answers a method it does not know with 501 before any Worker code runs; Cloudflare's edge, not the Worker, answers such methods in production",
		applies: func(c Case) bool { return !workerdMethods[c.Method] }},
	{target: targetWorker, status: 200, runtime: "workerd accepts a CONNECT with 200 before the Worker's connect() handler runs, which closes the tunnel at once; Cloudflare never passes a CONNECT to a Worker",
		applies: func(c Case) bool { return c.Method == "CONNECT" }},

	// i10-ops: no rule reads a body, and each server refuses one over its
	// limit with 413: the proxy over 64 KiB (maxBodyBytes in
	// compiler/proxy/fasthttp.go), nginx over its client_max_body_size,
	// 1 MiB by default.
	{target: targetProxy, status: 413, applies: func(c Case) bool { return len(c.Body) > proxyMaxBody }},
	{target: targetNginx, status: 413, applies: func(c Case) bool { return len(c.Body) > nginxMaxBody }},
}

// The largest bodies the proxy and nginx read.
const (
	proxyMaxBody = 64 << 10
	nginxMaxBody = 1 << 20
)

// workerdMethods are the methods workerd's HTTP parser reads.
var workerdMethods = map[string]bool{}

func init() {
	for _, m := range strings.Fields("GET HEAD POST PUT DELETE PATCH PURGE OPTIONS TRACE COPY LOCK MKCOL MOVE PROPFIND PROPPATCH SEARCH UNLOCK ACL REPORT MKACTIVITY CHECKOUT MERGE MSEARCH NOTIFY SUBSCRIBE UNSUBSCRIBE QUERY BAN CONNECT") {
		workerdMethods[m] = true
	}
}

// record fills each case's Refused from the refusals that apply to it.
func record(cases []Case) {
	for i := range cases {
		for _, r := range refusals {
			if !r.applies(cases[i]) {
				continue
			}
			if cases[i].Refused == nil {
				cases[i].Refused = map[string]int{}
			}
			cases[i].Refused[r.target] = r.status
		}
	}
}

// emptyHost reports whether the case sends a Host header with no value.
func emptyHost(c Case) bool { return hasHeader(c.Headers, "Host") && hostHeader(c) == "" }

// hostHeader returns the value of the case's first Host header, trimmed.
func hostHeader(c Case) string {
	for _, h := range c.Headers {
		if name, value, ok := strings.Cut(h, ":"); ok && strings.EqualFold(name, "Host") {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

// absoluteTarget is an absolute-form target's scheme and authority, read
// as far as the first "/", and whether a "/" follows.
type absoluteTarget struct {
	scheme, authority string
	slash, ok         bool
}

func absolute(target string) absoluteTarget {
	prefix := absoluteForm.FindString(target)
	if prefix == "" {
		return absoluteTarget{}
	}
	authority, _, slash := strings.Cut(target[len(prefix):], "/")
	return absoluteTarget{scheme: strings.TrimSuffix(prefix, "://"), authority: authority, slash: slash, ok: true}
}
