package verify

import (
	"strconv"
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

	// Varnish (issue 10): varnishd's HTTP/1 parser refuses with 400 more
	// header lines than its table holds (http_max_hdr, 64 fields less the
	// request line's five), a HEAD with a body, and a Connection header
	// naming a header it knows and would pass to a backend; it closes the
	// connection on a header section over http_req_size (32 KiB).
	{target: targetVarnish, status: 400, applies: func(c Case) bool {
		return c.Raw == "" && (headerLines(c) > varnishMaxLines || c.Method == "HEAD" && c.Body != "" || connectionNamesKnown(c))
	}},
	{target: targetVarnish, status: statusClosed, runtime: "varnishd closes the connection, without an answer, on a request whose header section is over http_req_size (32 KiB)",
		applies: func(c Case) bool { return len(c.wire())-len(c.Body) > 32<<10 }},
	// Found by the HAProxy and Worker review (issue 10). HAProxy's parser
	// refuses a request of more than 101 header lines (tune.http.maxhdr).
	{target: targetHAProxy, status: 400, applies: func(c Case) bool { return headerLines(c) > 101 }},
	// A "%" in an absolute-form target's authority, even one that encodes
	// a letter: workerd answers "invalid URI" before any Worker code runs,
	// nginx's parser refuses it (its 400, which the config answers as
	// 404), and so do fasthttp and net/http (which reads requests for
	// falco's interpreter).
	{target: targetWorker, status: 400, applies: percentAuthority},
	{target: targetNginx, status: 404, applies: percentAuthority},
	{target: targetProxy, status: 400, applies: percentAuthority},
	{target: targetFastly, status: 400, applies: percentAuthority},
	// Fastly: verified under falco's interpreter, which reads requests
	// with Go's net/http server (scriptcmd's falcosim). In production
	// Fastly's own front end reads them; these are net/http's answers.
	// net/http refuses a "%" without two hex digits in the path and a "#"
	// in an absolute-form target's authority.
	{target: targetFastly, status: 400, applies: func(c Case) bool {
		path, _, _ := strings.Cut(c.Target, "?")
		return badEscape(path) || strings.Contains(absolute(c.Target).authority, "#")
	}},
	// net/http keeps only the path and query of an absolute-form target,
	// so one with no path reaches the VCL as a target of no form at all
	// (an empty req.url, or one that starts with "?"), which rule 12
	// answers.
	{target: targetFastly, status: 404, applies: func(c Case) bool {
		a := absolute(c.Target)
		return a.ok && !a.slash && !strings.Contains(a.authority, "#")
	}},
	{target: targetFastly, status: 505, runtime: "net/http, which reads requests for falco's interpreter, answers a major version other than 1 with 505 before any VCL runs; in production Fastly's front end reads the request line, not the VCL",
		applies: func(c Case) bool {
			return len(c.Proto) == len("HTTP/1.1") && strings.HasPrefix(c.Proto, "HTTP/") && c.Proto[5] != '1'
		}},
	{target: targetFastly, status: 501, runtime: "net/http, which reads requests for falco's interpreter, answers a transfer coding other than chunked with 501 before any VCL runs; in production Fastly's front end reads the request's framing, not the VCL",
		applies: func(c Case) bool {
			for _, h := range c.Headers {
				if name, value, ok := strings.Cut(h, ":"); ok && strings.EqualFold(name, "Transfer-Encoding") && !strings.EqualFold(strings.TrimSpace(value), "chunked") {
					return true
				}
			}
			return false
		}},
	// i10-ops: no rule reads a body, and the proxy refuses one over 64 KiB
	// (maxBodyBytes in compiler/proxy/fasthttp.go) with 413. nginx reads
	// any size (client_max_body_size 0) and answers by the rules.
	{target: targetProxy, status: 413, applies: func(c Case) bool { return len(c.Body) > proxyMaxBody }},
}

// proxyMaxBody is the largest body the proxy reads.
const proxyMaxBody = 64 << 10

// varnishMaxLines is the most header lines varnishd reads.
const varnishMaxLines = 59

// connectionNamesKnown reports whether a Connection header of the case
// names a header varnishd refuses to drop as hop-by-hop: one of its
// well-known headers that it passes to a backend.
func connectionNamesKnown(c Case) bool {
	for _, h := range c.Headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || !strings.EqualFold(name, "Connection") {
			continue
		}
		for token := range strings.SplitSeq(value, ",") {
			if varnishKnown[strings.ToLower(strings.TrimSpace(token))] {
				return true
			}
		}
	}
	return false
}

// varnishKnown are the headers of Varnish 7.1's tbl/http_headers.h that
// it would pass to a backend, in lower case.
var varnishKnown = map[string]bool{}

func init() {
	for _, h := range strings.Fields("accept accept-charset accept-encoding accept-language age allow authorization cache-control content-encoding content-language content-length content-location content-md5 content-range content-type cookie date etag expect expires from host if-match if-modified-since if-none-match if-range if-unmodified-since last-modified location max-forwards pragma proxy-authenticate proxy-authorization range referer retry-after server set-cookie user-agent vary via warning www-authenticate x-forwarded-for") {
		varnishKnown[h] = true
	}
}

// headerLines counts the header lines the case sends, Host and
// Connection: close among them.
func headerLines(c Case) int {
	head, _, _ := strings.Cut(c.wire(), "\r\n\r\n")
	return strings.Count(head, "\r\n")
}

// percentAuthority reports whether the case's target is in absolute form
// with a "%" in its authority.
func percentAuthority(c Case) bool { return strings.Contains(absolute(c.Target).authority, "%") }

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

// targetFastly is the Fastly VCL, as verify -target names it.
const targetFastly = "fastly"

// badEscape reports whether s holds a "%" not followed by two hex digits.
func badEscape(s string) bool {
	for i := range len(s) {
		if s[i] != '%' {
			continue
		}
		if i+2 >= len(s) {
			return true
		}
		if _, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err != nil {
			return true
		}
	}
	return false
}
