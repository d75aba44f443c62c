package verify

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

// Case is one raw request of the conformance corpus: a hostile or odd
// request that every target must answer as the rules do.
type Case struct {
	Name string
	// Method, Target and Headers are the request as the rules read it.
	// Headers are "Name: value" lines in order; the client header the
	// plan reads is among them when the case sets it, else the corpus adds
	// the usual one.
	Method, Target string
	Headers        []string
	// Proto is the request line's version, HTTP/1.1 unless set.
	Proto string
	Body  string
	// Raw, when set, is sent instead of the lines above: a request no
	// well-behaved client could form from them.
	Raw string
	// Refusable marks a request that HTTP/1.1 forbids: a server may refuse
	// it with any 4xx before the rules run, or answer it by the rules.
	Refusable bool
	// Refused lists the targets whose HTTP parser refuses this request
	// before the rules run, each with the status it answers. Only a 4xx
	// can be recorded here (see knownRefusals), except for the runtime
	// answers documented in runtimeAnswers.
	Refused map[string]int
}

// wire returns the bytes sent for the case: its Raw, or its request line,
// headers and body. Every request asks the server to close the connection
// after answering.
func (c Case) wire() string {
	if c.Raw != "" {
		return c.Raw
	}
	proto := c.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s\r\n", c.Method, c.Target, proto)
	for _, h := range c.Headers {
		b.WriteString(h + "\r\n")
	}
	if c.Body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(c.Body))
	}
	b.WriteString("Connection: close\r\n\r\n" + c.Body)
	return b.String()
}

// corpus builds the conformance corpus for a plan: fixed cases for every
// kind of trick, and generated ones over lengths and byte values. blob is
// a digest the mirrors hold; client is an address the plan routes blobs to
// a site for, which the cases send as their client.
func corpus(p *plan.Plan, blob string, client netip.Addr) []Case {
	g := &generator{plan: p, blob: blob, client: client}
	g.paths()
	g.lengths()
	g.methods()
	g.targetForms()
	g.fragments()
	g.hosts()
	g.bytes()
	g.clients()
	g.framing()
	g.headerLimits()
	g.edgeParsers()
	// i10-ops: targets that only look absolute-form, and bodies around
	// the proxy's limit.
	g.lookalikeSchemes()
	g.largeBodies()
	// corpus10: single header lines around 8 KiB, and request lines of
	// HTTP/0.9 and HTTP/2's preface.
	g.longLines()
	g.otherProtocols()
	record(g.cases)
	return g.cases
}

type generator struct {
	plan   *plan.Plan
	blob   string
	client netip.Addr
	cases  []Case
}

const corpusRepo = "regedge/corpus"

// add appends a GET-like case with the Host header and the plan's usual
// client header.
func (g *generator) add(c Case) {
	if c.Method == "" {
		c.Method = "GET"
	}
	if !hasHeader(c.Headers, "Host") && c.Raw == "" {
		c.Headers = append([]string{"Host: registry.test"}, c.Headers...)
	}
	if h := g.plan.ClientIP.Header; h != "" && !hasHeader(c.Headers, h) && c.Raw == "" {
		for _, v := range header(g.plan, g.client)[h] {
			c.Headers = append(c.Headers, h+": "+v)
		}
	}
	c.Refusable = c.Refusable || forbidden(c)
	g.cases = append(g.cases, c)
}

// forbidden reports whether HTTP/1.1 (RFC 9112) forbids a request, so that
// a server may refuse it before any rule runs: a method that is not a
// token, a version other than 1.0 or 1.1, a target byte outside RFC 3986's
// characters (a "#" aside: the rules drop a fragment, and a target whose
// parser refuses one has that recorded), a control character in a header,
// or a Host header missing from HTTP/1.1, repeated or not a host.
func forbidden(c Case) bool {
	if c.Method == "" || strings.IndexFunc(c.Method, func(r rune) bool { return !isTokenChar(r) }) >= 0 {
		return true
	}
	if c.Proto != "" && c.Proto != "HTTP/1.1" && c.Proto != "HTTP/1.0" {
		return true
	}
	for i := 0; i < len(c.Target); i++ {
		if !isURIChar(c.Target[i]) && c.Target[i] != '#' {
			return true
		}
	}
	switch t := c.Target; {
	case strings.HasPrefix(t, "/"):
	case absoluteForm.MatchString(t):
		// An http or https URI names a host (RFC 9110, 4.2.1).
		if absoluteHost(t) == "" {
			return true
		}
	case t == "*" && c.Method == "OPTIONS":
	case c.Method == "CONNECT":
	default:
		// The asterisk and authority forms belong to OPTIONS and CONNECT
		// alone, and a target has no other form.
		return true
	}
	hosts := 0
	for _, h := range c.Headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || name == "" || strings.IndexFunc(name, func(r rune) bool { return !isTokenChar(r) }) >= 0 {
			return true
		}
		for i := 0; i < len(value); i++ {
			if b := value[i]; b < 0x20 && b != '\t' || b == 0x7f {
				return true
			}
		}
		if strings.EqualFold(name, "Host") {
			hosts++
			if !validHost(strings.Trim(value, " \t")) {
				return true
			}
		}
	}
	return hosts > 1 || hosts == 0 && c.Proto != "HTTP/1.0"
}

// absoluteForm matches the scheme and "://" that start an absolute-form
// target, as the rules read one.
var absoluteForm = regexp.MustCompile(request.AbsoluteForm)

// absoluteHost returns the host an absolute-form target names: its
// authority without userinfo and port.
func absoluteHost(target string) string {
	authority := target[len(absoluteForm.FindString(target)):]
	if i := strings.IndexAny(authority, "/?#"); i >= 0 {
		authority = authority[:i]
	}
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:]
	}
	if i := strings.LastIndexByte(authority, ':'); i >= 0 && !strings.HasSuffix(authority, "]") {
		authority = authority[:i]
	}
	return authority
}

// isTokenChar reports whether r may appear in an HTTP token (tchar).
func isTokenChar(r rune) bool {
	return r < 0x7f && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r))
}

// isURIChar reports whether b may appear in a URI (RFC 3986).
func isURIChar(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("-._~:/?#[]@!$&'()*+,;=%", b) >= 0
}

// validHost reports whether a Host header's value is uri-host [":" port]
// with a host name, an IPv4 address or a bracketed IPv6 address, or empty.
func validHost(h string) bool {
	host, port := h, ""
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
		host, port = h[:i], h[i+1:]
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return false
		}
	}
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		_, err := netip.ParseAddr(host[1 : len(host)-1])
		return err == nil
	}
	for i := 0; i < len(host); i++ {
		if b := host[i]; !isURIChar(b) || strings.IndexByte(":/?#[]@", b) >= 0 {
			return false
		}
	}
	return true
}

func hasHeader(lines []string, name string) bool {
	for _, l := range lines {
		if n, _, ok := strings.Cut(l, ":"); ok && strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

func (g *generator) manifest(tag string) string { return "/v2/" + corpusRepo + "/manifests/" + tag }
func (g *generator) blobPath() string           { return "/v2/" + corpusRepo + "/blobs/" + g.blob }
func (g *generator) tags(query string) string   { return "/v2/" + corpusRepo + "/tags/list" + query }

// paths: escapes and encodings in the path.
func (g *generator) paths() {
	hex := strings.TrimPrefix(g.blob, "sha256:")
	targets := append(HostilePaths(g.blob),
		"/v2/%252e%252e/x/manifests/latest",
		"/v2/%c0%ae%c0%ae/x/manifests/latest",
		"/v2/..%2fx/manifests/latest",
		"/v2/"+corpusRepo+"/manifests/latest%23x",
		"/v2/"+corpusRepo+"/manifests/latest%3Fx",
		"/v2/"+corpusRepo+"/manifests/..;/x",
		"/v2/"+corpusRepo+";x=1/manifests/latest",
		"/v2/"+corpusRepo+"/manifests/latest;",
		"/v2/"+corpusRepo+"/manifests/latest/.",
		"/v2/"+corpusRepo+"/./manifests/latest",
		"/v2/"+corpusRepo+"/blobs/"+g.blob+"/.",
		"/v2/"+corpusRepo+"/blobs/"+g.blob+"/",
		"/v2/"+corpusRepo+"/blobs/sha256:"+hex+"%00",
		"/v2\\..\\x/manifests/latest",
		"/v2/"+corpusRepo+"\\manifests\\latest",
		"/./v2/",
		"/v2/./",
		"/v2/..",
		"/v2//",
		"//v2/",
		"///",
		"/.",
		"/..",
		"/privacy/",
		"/privacy/..",
		"/healthz/.",
		"/healthz?x=1",
		"/privacy?x=1",
		"/?x=1",
		"/v2?x=1",
		"/V2/",
		"/v2/_catalog?n=1",
		"/v2/"+corpusRepo+"/tags/list/",
		"/v2/"+corpusRepo+"/tags/LIST",
		"/v2/"+corpusRepo+"/TAGS/list",
		"/v2/"+corpusRepo+"/manifests",
		"/v2/"+corpusRepo+"/manifests/",
		"/v2/"+corpusRepo+"/blobs/uploads/",
		"/v2/"+corpusRepo+"/referrers/"+g.blob+"/",
		"/v2/"+corpusRepo+"/manifests/sha256-"+hex+".sig.att",
		"/v2/"+corpusRepo+"/manifests/sha256-"+hex+".SIG",
		"/v2/a__b/manifests/latest",
		"/v2/a___b/manifests/latest",
		"/v2/a.-b/manifests/latest",
		"/v2/a/manifests/b/manifests/latest",
		"/v2/a/blobs/b/blobs/"+g.blob,
		"/v2/a/blobs/sha256/blobs/"+g.blob,
		"/v2/blobs/blobs/"+g.blob,
		"/v2/a__b.c-d--e/blobs/"+g.blob,
		"/v2/a___b/blobs/"+g.blob,
		"/v2/a_/blobs/"+g.blob,
		"/v2/a/blobs/"+g.blob+"/blobs/"+g.blob,
		"/v2/"+corpusRepo+"/manifests/"+g.blob+"?ns=registry.k8s.io",
		"/v2/"+corpusRepo+"/blobs/"+g.blob+"?ns=registry.k8s.io",
		"/v2/"+corpusRepo+"/tags/list?ns=registry.k8s.io&n=5",
		"/v2/"+corpusRepo+"/tags/list?",
		"/v2/"+corpusRepo+"/tags/list??",
		"/v2/"+corpusRepo+"/tags/list?n=1?last=a/b:c@d",
		"/v2/"+corpusRepo+"/referrers/"+g.blob+"?artifactType=application%2Fvnd.dev.sigstore.bundle%2Bjson",
		"/v2/"+corpusRepo+"/referrers/"+g.blob+"?",
		"/v2/"+corpusRepo+"/tags/list?last=%",
		"/v2/"+corpusRepo+"/tags/list?last=%2",
		"/v2/"+corpusRepo+"/tags/list?last=%zz",
		"/v2/"+corpusRepo+"/tags/list?last=%2f%2F%00",
		"/v2/"+corpusRepo+"/tags/list?a=<script>",
		"/v2/"+corpusRepo+"/tags/list?a=\"x\"",
		"/v2/"+corpusRepo+"/tags/list?a={x}|y^z`",
		"/v2/"+corpusRepo+"/referrers/"+g.blob+"?a=[x]",
	)
	for _, t := range targets {
		g.add(Case{Name: "path " + t, Target: t})
	}
}

// lengths: names, tags, paths and queries around every limit, and far
// beyond them.
func (g *generator) lengths() {
	for _, n := range []int{1, 254, 255, 256, 300} {
		name := strings.Repeat("a", n)
		g.add(Case{Name: fmt.Sprintf("name of %d characters", n), Target: "/v2/" + name + "/manifests/latest"})
		g.add(Case{Name: fmt.Sprintf("blob name of %d characters", n), Target: "/v2/" + name + "/blobs/" + g.blob})
	}
	for _, n := range []int{253, 255, 257} {
		// Components of two characters joined by slashes.
		name := strings.Repeat("ab/", (n-1)/3)
		name += strings.Repeat("c", n-len(name))
		g.add(Case{Name: fmt.Sprintf("nested name of %d characters", len(name)), Target: "/v2/" + name + "/tags/list"})
	}
	for _, n := range []int{127, 128, 129} {
		g.add(Case{Name: fmt.Sprintf("tag of %d characters", n), Target: g.manifest("t" + strings.Repeat("0", n-1))})
	}
	longest := "/v2/" + strings.Repeat("a", request.MaxName) + "/referrers/sha512:" + strings.Repeat("0", 128)
	g.add(Case{Name: "path of the longest request", Target: longest})
	for _, n := range []int{1, 2, 50} {
		g.add(Case{Name: fmt.Sprintf("path %d over the longest request", n), Target: longest[:4] + strings.Repeat("a", n) + longest[4:]})
	}
	// Many short segments: the shape that makes a backtracking engine
	// recurse deepest.
	for _, n := range []int{406, 1000, 1650, 4000, 7000} {
		segs := strings.Repeat("a/", (n-len("/v2/manifests/latest"))/2)
		g.add(Case{Name: fmt.Sprintf("path of %d short segments", len(segs)/2), Target: "/v2/" + segs + "manifests/latest"})
		g.add(Case{Name: fmt.Sprintf("blob path of %d short segments", len(segs)/2), Target: "/v2/" + segs + "blobs/" + g.blob})
		g.add(Case{Name: fmt.Sprintf("path of %d separators", n), Target: "/v2/a" + strings.Repeat("-a", n/2) + "/manifests/latest"})
	}
	g.add(Case{Name: "path of 10,000 characters", Target: "/v2/" + strings.Repeat("a", 10000) + "/manifests/latest"})
	// The longest paths the patterns are tried on, shaped to fail late.
	for _, verb := range []string{"manifests/latest", "manifestz/latest", "blobs/" + g.blob, "blobs/sha256:x", "tags/list", "tags/lisT"} {
		segs := strings.Repeat("a/", (request.MaxPath-len("/v2/"+verb))/2)
		g.add(Case{Name: "longest path of short segments before " + verb, Target: "/v2/" + segs + verb})
		seps := "a" + strings.Repeat("-a", (request.MaxPath-len("/v2/a/"+verb))/2)
		g.add(Case{Name: "longest path of separators before " + verb, Target: "/v2/" + seps + "/" + verb})
	}
	for _, n := range []int{1023, 1024, 1025, 4000, 7000} {
		q := "?n=1&last=" + strings.Repeat("a", n-len("n=1&last="))
		g.add(Case{Name: fmt.Sprintf("tags query of %d bytes", n), Target: g.tags(q)})
		g.add(Case{Name: fmt.Sprintf("referrers query of %d bytes", n), Target: "/v2/" + corpusRepo + "/referrers/" + g.blob + q})
		g.add(Case{Name: fmt.Sprintf("blob query of %d bytes", n), Target: g.blobPath() + q})
	}
	g.add(Case{Name: "tags query of 19,000 bytes", Target: g.tags("?last=" + strings.Repeat("a", 19000))})
	g.add(Case{Name: "client header of 6,000 bytes", Target: g.blobPath(),
		Headers: []string{g.plan.ClientIP.Header + ": " + strings.Repeat("192.0.2.1, ", 540) + g.client.String() + strings.Repeat(", 127.0.0.1", g.plan.ClientIP.TrustedHops)}})
}

// methods: case, unknown and forbidden methods.
func (g *generator) methods() {
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE",
		"get", "Get", "head", "GETS", "PROPFIND", "M-SEARCH", "BREW", strings.Repeat("G", 100)} {
		g.add(Case{Name: "method " + m, Method: m, Target: g.manifest("latest")})
		g.add(Case{Name: "method " + m + " blob", Method: m, Target: g.blobPath()})
	}
	g.add(Case{Name: "method CONNECT", Method: "CONNECT", Target: "registry.test:443"})
	g.add(Case{Name: "method OPTIONS *", Method: "OPTIONS", Target: "*"})
}

// targetForms: absolute, asterisk and authority forms.
func (g *generator) targetForms() {
	for _, t := range []string{
		"http://registry.test" + g.manifest("latest"),
		"https://registry.test" + g.manifest("latest"),
		"HTTP://REGISTRY.TEST" + g.manifest("latest"),
		"http://user@registry.test" + g.manifest("latest"),
		"http://registry.test:8080" + g.tags("?n=1"),
		"http://registry.test" + g.blobPath(),
		"http://registry.test/v2/../x/manifests/latest",
		"http://registry.test/v2/%2e%2e/x/manifests/latest",
		"http://registry.test",
		"http://registry.test?x=1",
		"http://registry.test/",
		"http://registry.test/v2/",
		"*",
		"registry.test:443",
		"v2/" + corpusRepo + "/manifests/latest",
	} {
		g.add(Case{Name: "target " + t, Target: t})
	}
	// A HEAD whose request line a parser refuses gets the refusal
	// recorded for a GET, not rule 1's 405 (nginx's error page keeps a
	// HEAD's method, with no method name).
	g.add(Case{Name: "target HEAD with userinfo", Method: "HEAD", Target: "http://user@registry.test" + g.manifest("latest")})
}

// fragments: a #fragment is no part of the target and is dropped.
func (g *generator) fragments() {
	for _, t := range []string{
		g.manifest("latest") + "#x",
		g.manifest("latest") + "#/../x",
		g.manifest("latest") + "#",
		g.tags("?n=1#/../x"),
		g.tags("#?n=1"),
		g.blobPath() + "#x",
		"/#",
		"/v2/#",
		"#",
		"/v2/../x#y",
		"/v2/" + corpusRepo + "#/manifests/latest",
		"http://registry.test#" + g.manifest("latest"),
	} {
		g.add(Case{Name: "fragment " + t, Target: t})
	}
}

// hosts: the Host header never becomes part of the target.
func (g *generator) hosts() {
	for _, h := range []string{
		"x/v2/" + corpusRepo + "/tags/list?a=<script>",
		"x/v2/?",
		"x/v2/_catalog#",
		"x?y",
		"x#y",
		"user@x",
		"x:99999",
		"REGISTRY.TEST",
		"[::1]:80",
		"x y",
	} {
		g.add(Case{Name: "host " + h, Target: "/z", Headers: []string{"Host: " + h}})
		g.add(Case{Name: "host " + h + " manifest", Target: g.manifest("latest"), Headers: []string{"Host: " + h}})
	}
	g.add(Case{Name: "empty host", Target: g.manifest("latest"), Headers: []string{"Host: "}, Refused: map[string]int{"proxy": 400}})
	g.add(Case{Name: "two hosts", Target: g.manifest("latest"), Headers: []string{"Host: a", "Host: b"}})
	g.add(Case{Name: "no host, HTTP/1.0", Proto: "HTTP/1.0", Target: g.manifest("latest"), Headers: []string{"X-No-Host: 1"}})
	g.add(Case{Name: "absolute form with another host", Target: "http://a.test" + g.manifest("latest"), Headers: []string{"Host: b.test/v2/_catalog?"}})
}

// bytes: every byte value in a name and in a query.
func (g *generator) bytes() {
	for b := 0; b < 256; b++ {
		c := string([]byte{byte(b)})
		g.add(Case{Name: fmt.Sprintf("path byte %#02x", b), Target: "/v2/re" + c + "gedge/manifests/latest"})
		g.add(Case{Name: fmt.Sprintf("query byte %#02x", b), Target: g.tags("?last=a" + c + "b")})
	}
}

// clients: forms of the client header entry, which only a plain address
// passes.
func (g *generator) clients() {
	h := g.plan.ClientIP.Header
	if h == "" {
		h = "X-Forwarded-For"
	}
	a := g.client.String()
	trail := strings.Repeat(", 127.0.0.1", g.plan.ClientIP.TrustedHops)
	entries := []string{
		a, " " + a + " ", "\t" + a + "\t", "\v" + a, "\f" + a, a + "\v",
		"0" + a, a + "%eth0", "[" + a + "]", a + ":80", a + ".", "." + a,
		"::ffff:" + a, "::FFFF:" + a, "::" + a,
		"", "unknown", "_hidden", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.04",
		"2600:1f18::1", ":2600:1f18::1", "2600:1f18::1:", ":2600:1f18:0:0:0:0:0:1",
		"2600:1f18::1::", "2600:1f18:::1", "12345::1", "2600:1f18::g", "2600:1f18:0:0:0:0:0:1:2",
		"2600:1F18::1", "2600:1f18::1.2.3.4", "2600:1f18::1%eth0", "fe80::1%25eth0",
		"2600:1f18:0000:0000:0000:0000:0000:0001", "2600:01f18::1",
	}
	for _, e := range entries {
		g.add(Case{Name: fmt.Sprintf("client entry %q", e), Target: g.blobPath(), Headers: []string{h + ": " + e + trail}})
	}
	g.add(Case{Name: "client in a line of its own", Target: g.blobPath(), Headers: []string{h + ": " + a, h + ": " + strings.TrimPrefix(trail, ", ")}})
	g.add(Case{Name: "client after a forged line", Target: g.blobPath(), Headers: []string{h + ": 192.0.2.1", h + ": " + a + trail}})
	g.add(Case{Name: "client header in lower case", Target: g.blobPath(), Headers: []string{strings.ToLower(h) + ": " + a + trail}})
	g.add(Case{Name: "client header empty", Target: g.blobPath(), Headers: []string{h + ":"}})
	g.add(Case{Name: "client header of commas", Target: g.blobPath(), Headers: []string{h + ": ,,,"}})
	g.add(Case{Name: "client header without the trusted hops", Target: g.blobPath(), Headers: []string{h + ": " + a}})
	g.add(Case{Name: "client entry of non-ASCII", Target: g.blobPath(), Headers: []string{h + ": \u00a0" + a + trail}})
}

// framing: bodies, versions and line endings.
func (g *generator) framing() {
	target := g.manifest("latest")
	g.add(Case{Name: "GET with a body", Target: target, Body: "hello"})
	g.add(Case{Name: "GET with a chunked body", Method: "GET", Target: target,
		Raw: "GET " + target + " HTTP/1.1\r\nHost: registry.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n"})
	g.add(Case{Name: "unknown transfer coding", Target: target, Headers: []string{"Transfer-Encoding: gzip"}, Refusable: true})
	g.add(Case{Name: "expect 100-continue", Target: target, Headers: []string{"Expect: 100-continue"}})
	g.add(Case{Name: "unknown expectation", Target: target, Headers: []string{"Expect: tea"}, Refusable: true})
	g.add(Case{Name: "HTTP/1.0", Proto: "HTTP/1.0", Target: target})
	g.add(Case{Name: "HTTP/1.0 blob", Proto: "HTTP/1.0", Target: g.blobPath()})
	g.add(Case{Name: "HTTP/2.0 in the request line", Proto: "HTTP/2.0", Target: target, Refusable: true})
	g.add(Case{Name: "HTTP/1.2", Proto: "HTTP/1.2", Target: target, Refusable: true})
	g.add(Case{Name: "lower-case version", Proto: "http/1.1", Target: target, Refusable: true})
	g.add(Case{Name: "header without a colon", Target: target, Headers: []string{"X-Odd"}, Refusable: true})
	g.add(Case{Name: "space before a header's colon", Target: target, Headers: []string{"X-Odd : 1"}, Refusable: true})
	g.add(Case{Name: "folded header", Target: target, Headers: []string{"X-Odd: a", " b"}, Refusable: true})
	g.add(Case{Name: "two content lengths", Target: target, Headers: []string{"Content-Length: 0", "Content-Length: 1"}, Body: "", Refusable: true})
	g.add(Case{Name: "content length and chunked", Target: target, Headers: []string{"Content-Length: 3", "Transfer-Encoding: chunked"}, Refusable: true,
		Raw: "GET " + target + " HTTP/1.1\r\nHost: registry.test\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n"})
	g.add(Case{Name: "two spaces in the request line", Method: "GET", Target: target, Refusable: true,
		Raw: "GET  " + target + " HTTP/1.1\r\nHost: registry.test\r\nConnection: close\r\n\r\n"})
	g.add(Case{Name: "a tab in the request line", Method: "GET", Target: target, Refusable: true,
		Raw: "GET\t" + target + " HTTP/1.1\r\nHost: registry.test\r\nConnection: close\r\n\r\n"})
	g.add(Case{Name: "bare LF line ends", Method: "GET", Target: target, Refusable: true,
		Raw: "GET " + target + " HTTP/1.1\nHost: registry.test\nConnection: close\n\n"})
	g.add(Case{Name: "request line of garbage", Method: "GET", Target: "/", Refusable: true,
		Raw: "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 HTTP/1.1\r\n\r\n"})
	g.cases[len(g.cases)-1].Method = "\x16"
}

// edgeParsers: what HAProxy's and the Worker's parsers were found to
// answer first (issue 10): the number of header lines around HAProxy's
// limit, and percent-encoding in an absolute-form target's authority.
func (g *generator) edgeParsers() {
	for _, n := range []int{101, 102} {
		// The Host line, the client's lines and Connection: close are
		// header lines too.
		var fill []string
		for i := range n - 2 - len(header(g.plan, g.client)[g.plan.ClientIP.Header]) {
			fill = append(fill, fmt.Sprintf("X-Line-%d: %d", i, i))
		}
		g.add(Case{Name: fmt.Sprintf("%d header lines", n), Target: g.blobPath(), Headers: fill})
	}
	for _, t := range []string{
		"http://x%40y" + g.manifest("latest"),
		"http://%72egistry.test" + g.manifest("latest"),
	} {
		g.add(Case{Name: "target " + t, Target: t})
	}
}

// corpusClient picks the address the corpus sends as its client: one
// inside the first interval whose label sends blobs to a site, so that
// blob requests reach the existence check; else one no feed lists.
func corpusClient(p *plan.Plan) netip.Addr {
	for _, table := range [][]plan.Interval{p.V4, p.V6} {
		for _, iv := range table {
			if p.Action(iv.Label, request.KindBlob).Site != "" {
				return Mid(iv.First, iv.Last)
			}
		}
	}
	return netip.MustParseAddr("192.0.2.1")
}

// headerLimits (added for Varnish, issue 10): long client headers, in one
// line and over several, many header lines, and the requests varnishd's
// parser refuses around them. A header section of up to 16 KiB (HAProxy's
// buffer, the smallest) must be answered by the rules; a larger one is
// larger than some server wishes to process, which may answer it with a
// 4xx (RFC 9110, section 5.4).
func (g *generator) headerLimits() {
	h := g.plan.ClientIP.Header
	if h == "" {
		h = "X-Forwarded-For"
	}
	last := g.client.String() + strings.Repeat(", 127.0.0.1", g.plan.ClientIP.TrustedHops)
	// entries is n bytes of other clients' entries, each followed by ", ".
	entries := func(n int) string { return strings.Repeat("192.0.2.1, ", n/11) }
	g.add(Case{Name: "client header of 7,900 bytes", Target: g.blobPath(), Headers: []string{h + ": " + entries(7900) + last}})
	for _, n := range []int{2, 3, 4} {
		var lines []string
		for range n - 1 {
			lines = append(lines, h+": "+strings.TrimSuffix(entries(7500), ", "))
		}
		g.add(Case{Name: fmt.Sprintf("client header of %d lines of 7,500 bytes", n), Target: g.blobPath(),
			Headers: append(lines, h+": "+entries(7500)+last), Refusable: n*7500 > 16<<10})
	}
	var many []string
	for range 40 {
		many = append(many, h+": "+strings.TrimSuffix(entries(200), ", "))
	}
	g.add(Case{Name: "client header of 41 lines", Target: g.blobPath(), Headers: append(many, h+": "+last)})
	// Header lines up to varnishd's table of 64 fields, less the request
	// line's, and one more; Connection: close is the last line.
	for _, n := range []int{40, 59, 60} {
		c := Case{Name: fmt.Sprintf("%d header lines", n), Target: g.blobPath()}
		g.add(c)
		c = g.cases[len(g.cases)-1]
		for i := len(c.Headers); i < n-1; i++ {
			c.Headers = append(c.Headers, fmt.Sprintf("X-Line-%d: %d", i, i))
		}
		g.cases[len(g.cases)-1] = c
	}
	var big []string
	for i := range 5 {
		big = append(big, fmt.Sprintf("X-Big-%d: %s", i, strings.Repeat("b", 8000)))
	}
	g.add(Case{Name: "header of 40,000 bytes", Target: g.blobPath(), Headers: big, Refusable: true})
	g.add(Case{Name: "HEAD with a body", Method: "HEAD", Target: g.blobPath(), Body: "hello"})
	g.add(Case{Name: "Connection naming the client header", Target: g.blobPath(), Headers: []string{"Connection: " + h}})
	g.add(Case{Name: "Connection naming Host", Target: g.manifest("latest"), Headers: []string{"Connection: Host"}})
	g.add(Case{Name: "Connection naming a header nobody reads", Target: g.blobPath(), Headers: []string{"Connection: X-Other", "X-Other: 1"}})
}

// lookalikeSchemes (i10-ops): only a scheme in RFC 3986's grammar at the
// very start of the target makes it absolute-form. Each lookalike here
// ends in a path that would be routed if the text before its "://" were
// taken for a scheme and authority.
func (g *generator) lookalikeSchemes() {
	path := "registry.test" + g.manifest("latest")
	for _, t := range []string{
		"/v2/a://" + path,
		"/x://" + path,
		"://" + path,
		"1http://" + path,
		"+http://" + path,
		"-http://" + path,
		"ht_tp://" + path,
		"ht%74p://" + path,
		"v2/a://" + path,
		"x?y://" + path,
		"http:/" + path,
		"http:" + path,
		"http//" + path,
		"ftp://" + path,
		"h://" + path,
		"a+b-c.9://" + path,
		"hTTpS://" + path,
		"http:///v2/" + corpusRepo + "/manifests/latest",
		"http://registry.test://" + g.manifest("latest"),
	} {
		g.add(Case{Name: "scheme lookalike " + t, Target: t})
	}
}

// largeBodies (i10-ops): a GET's body is never read by the rules; the
// proxy refuses one over its 64 KiB limit (see refusals).
func (g *generator) largeBodies() {
	for _, n := range []int{64 << 10, 64<<10 + 1, 1 << 20, 2 << 20} {
		g.add(Case{Name: fmt.Sprintf("GET with a body of %d bytes", n), Target: g.manifest("latest"), Body: strings.Repeat("a", n)})
	}
}

// longLines (corpus10): single header lines around 8 KiB, where varnishd
// (http_req_hdr_len) and nginx (its large header buffer) stop reading a
// line, in header sections well under 16 KiB, which every target must read.
// A plain header no rule reads, and the client header, whose last entries
// are the client and the trusted hops, the rest other clients' entries.
func (g *generator) longLines() {
	h := g.plan.ClientIP.Header
	if h == "" {
		h = "X-Forwarded-For"
	}
	last := g.client.String() + strings.Repeat(", 127.0.0.1", g.plan.ClientIP.TrustedHops)
	for _, n := range []int{8000, 8190, 8191, 8192, 8193, 9000, 12000} {
		// n bytes in all, the line end aside.
		g.add(Case{Name: fmt.Sprintf("header line of %d bytes", n), Target: g.blobPath(),
			Headers: []string{"X-Pad: " + strings.Repeat("a", n-len("X-Pad: "))}})
		// Leading spaces, which no reader keeps, make up the bytes that
		// whole entries leave over.
		fill := n - len(h+": ") - len(last)
		pad := strings.Repeat(" ", fill%11)
		g.add(Case{Name: fmt.Sprintf("client header line of %d bytes", n), Target: g.blobPath(),
			Headers: []string{h + ": " + pad + strings.Repeat("192.0.2.1, ", fill/11) + last}})
	}
}

// otherProtocols (corpus10): a request line without a version (HTTP/0.9)
// and HTTP/2's prior-knowledge preface. HTTP/1.1 forbids both: neither
// names version 1.0 or 1.1.
func (g *generator) otherProtocols() {
	target := g.manifest("latest")
	g.add(Case{Name: "HTTP/0.9 request line", Method: "GET", Target: target, Refusable: true,
		Raw: "GET " + target + "\r\n"})
	g.add(Case{Name: "HTTP/2 preface", Method: "PRI", Target: "*", Refusable: true,
		Raw: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"})
}
