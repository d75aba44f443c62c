package render

import (
	"math/rand/v2"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/regedge/regedge/compiler/internal/plantest"
	"github.com/regedge/regedge/compiler/plan"
)

func TestHAProxyConfig(t *testing.T) {
	p := testPlan()
	p.Edges[plantest.EdgeHAProxy].Listen = []string{"8080", "127.0.0.1:8081", "[::]:8080"}
	cfg := rendered(t, HAProxy, p)["haproxy/haproxy.cfg"]
	wantSnippets(t, "haproxy.cfg", cfg,
		"    bind '0.0.0.0:8080'\n    bind '127.0.0.1:8081'\n    bind '[::]:8080' v6only\n",
		"http-request return status 404 if { var(txn.regedge_path) -m reg '\\x25|//|/\\.\\.?(?:/|$)' }",
		"http-request return status 404 if { var(txn.regedge_path),length gt 405 }",
		"http-request redirect location 'https://example.com/info' code 307 if { var(txn.regedge_path) -m str / }",
		"http-request return status 404 if { var(txn.regedge_kind) -m str tags referrers } { var(txn.regedge_query),length gt 1024 }",
		"http-request set-var-fmt(txn.regedge_xff) %[req.fhdr('X-Forwarded-For',-2)],%[req.fhdr('X-Forwarded-For',-1)]\n",
		`http-request set-var(txn.regedge_client) 'var(txn.regedge_xff),regsub("^(?:(?:.*,)?[[:blank:]]*(`,
		`)[[:blank:]]*(?:,[^,]*){1}|.*)$","\1")'`,
		"http-request set-var(txn.regedge_label) var(txn.regedge_client),map_ip(labels.map,'default')\n",
		"http-request set-var(txn.regedge_label) str('default') unless { var(txn.regedge_label) -m found }\n",
		// Signatures: the default label's upstream, and the one label
		// that differs.
		"http-request set-var-fmt(txn.regedge_upstream) 'https://main.example/v2/proj/images' if { var(txn.regedge_kind) -m str signature }\n"+
			"    http-request set-var-fmt(txn.regedge_upstream) 'http://other.example:5000/v2/mirror' if { var(txn.regedge_kind) -m str signature } { var(txn.regedge_label) -m str 'other' }\n"+
			"    http-request set-var-fmt(txn.regedge_upstream) 'https://main.example/v2/proj/images' if { var(txn.regedge_kind) -m str tags }\n",
		"http-request set-var-fmt(txn.regedge_mirror) 'https://east.example.com/m/b/'%[var(txn.regedge_ref)]'/data' if { var(txn.regedge_label) -m str 'east' }\n",
		"    lua-load regedge.lua\n",
		"    option disable-h2-upgrade\n",
		"\nresolvers regedge\n    parse-resolv-conf\n\ndefaults\n",
		"frontend regedge_mirrors\n    bind 'abns@regedge-mirrors-0.0.0.0:8080'\n    timeout client 1500ms\n",
		"    use_backend regedge_mirror_1 if { req.hdr(regedge-mirror) -m str 1 }\n",
		"# https://east.example.com\nbackend regedge_mirror_1\n    timeout connect 1500ms\n    timeout server 1500ms\n    retries 0\n    http-reuse always\n",
		"    http-request set-header Host 'east.example.com'\n"+
			"    server mirror 'east.example.com:443' ssl verify required ca-file '/etc/ssl/certs/ca-certificates.crt' sni 'str(east.example.com)' resolvers regedge resolve-prefer ipv4 init-addr none"+
			" check inter 90s fastinter 10s downinter 10s rise 1 fall 5 observe layer7 error-limit 5 on-error mark-down check-sni 'east.example.com'\n",
		// The site's health: the probe asks for the site's blob path with a
		// digest no image has, and a server that is down is not asked.
		"    timeout check 1500ms\n    option httpchk\n"+
			"    http-check send meth HEAD uri '/m/b/sha256:0000000000000000000000000000000000000000000000000000000000000000/data' ver HTTP/1.1 hdr Host 'east.example.com'\n"+
			"    http-check expect status 200-499\n",
		"    http-request set-var(txn.regedge_down) bool(1) if { var(txn.regedge_mirror) -m beg 'https://east.example.com/' } !{ srv_is_up(regedge_mirror_1/mirror) }\n",
		"http-request lua.regedge_exists if { var(txn.regedge_mirror) -m found } !{ var(txn.regedge_down) -m found }\n"+
			"    http-request redirect location %[var(txn.regedge_mirror)] code 307 if { var(txn.regedge_present) -m int 1 }\n"+
			"    http-request redirect location %[var(txn.regedge_upstream)]/%[var(txn.regedge_repo)]/blobs/%[var(txn.regedge_ref)] code 307\n")
	// Only label east has a site: no mirror line for another.
	for _, line := range strings.Split(cfg, "\n") {
		if strings.Contains(line, "set-var-fmt(txn.regedge_mirror)") && !strings.HasSuffix(line, "-m str 'east' }") {
			t.Errorf("haproxy.cfg routes a label without a site to a mirror: %s", line)
		}
	}
}

func TestHAProxyPeerWithoutCheck(t *testing.T) {
	p := testPlan()
	p.Edges[plantest.EdgeHAProxy] = plan.Edge{Name: "haproxy", Listen: []string{"127.0.0.1:8080"}}
	files := rendered(t, HAProxy, p.For("haproxy"))
	cfg := files["haproxy/haproxy.cfg"]
	if _, ok := files["haproxy/regedge.lua"]; ok {
		t.Error("a target without the check renders regedge.lua")
	}
	wantSnippets(t, "haproxy.cfg", cfg,
		"http-request set-var(txn.regedge_label) src,map_ip(labels.map,'default')\n",
		"http-request redirect location %[var(txn.regedge_mirror)] code 307 if { var(txn.regedge_mirror) -m found }\n")
	for _, unwanted := range []string{"lua", "httpclient", "req.fhdr", "regedge_present"} {
		if strings.Contains(cfg, unwanted) {
			t.Errorf("haproxy.cfg holds %q", unwanted)
		}
	}
}

// TestHAProxyWithoutHealth checks that a plan whose sites are never down
// gets servers without checks, and refuses periods HAProxy cannot state.
func TestHAProxyWithoutHealth(t *testing.T) {
	p := testPlan()
	p.Check.DownAfter = 0
	cfg := rendered(t, HAProxy, p)["haproxy/haproxy.cfg"]
	wantSnippets(t, "haproxy.cfg", cfg,
		"http-request lua.regedge_exists if { var(txn.regedge_mirror) -m found }\n",
		"init-addr none\n")
	for _, unwanted := range []string{"regedge_down", "srv_is_up", "httpchk", "http-check", "timeout check", " check inter", "observe"} {
		if strings.Contains(cfg, unwanted) {
			t.Errorf("haproxy.cfg holds %q", unwanted)
		}
	}
	for name, spoil := range map[string]func(c *plan.Check){
		"no period":         func(c *plan.Check) { c.DownFor = 0 },
		"part of a second":  func(c *plan.Check) { c.DownFor = plan.Duration(1500 * time.Millisecond) },
		"shrinking periods": func(c *plan.Check) { c.DownForMax = plan.Duration(time.Second) },
	} {
		p := testPlan()
		spoil(p.Check)
		if _, err := HAProxy(p); err == nil || !strings.Contains(err.Error(), "refusing down periods") {
			t.Errorf("%s: err = %v; want a refusal", name, err)
		}
	}
}

func TestHAProxyLua(t *testing.T) {
	wantSnippets(t, "regedge.lua", rendered(t, HAProxy, testPlan())["haproxy/regedge.lua"],
		"local timeout_ms = 1500\n",
		"local positive_ms = 3600000\n",
		"local negative_ms = 90000\n",
		"local cache_size = 20000\n",
		"local mirror_socket = \"abns@regedge-mirrors-127.0.0.1:8081\"\n",
		"local origins = {\n  [\"https://east.example.com\"] = \"1\",\n}\n",
		`core.register_action("regedge_exists", {"http-req"}, function(txn)`)
}

// TestHAProxyMap checks the map's entries: prefixes of the plan's
// intervals, no IPv4-mapped addresses, and the default label wherever
// HAProxy would otherwise read an IPv6 address as IPv4.
func TestHAProxyMap(t *testing.T) {
	p := testPlan()
	p.V6 = []plan.Interval{
		// Straddles ::/96 and ::ffff:0:0/96.
		{First: netip.MustParseAddr("::1:0:0"), Last: netip.MustParseAddr("::ffff:0.0.0.3"), Label: plantest.LabelEast},
		// Inside 6to4's 2002::/16.
		{First: netip.MustParseAddr("2002:a00::"), Last: netip.MustParseAddr("2002:aff:ffff:ffff:ffff:ffff:ffff:ffff"), Label: plantest.LabelEast},
	}
	files, err := HAProxy(p)
	if err != nil {
		t.Fatal(err)
	}
	got := string(files[1].Data)
	want := `# Generated by regedge devel from a policy,
# with the feed snapshots aws 1.
# Do not edit: change the policy or its feeds and run regedge build.
# 45 prefixes for map_ip; addresses not listed get the default label.
10.0.0.1/32 east
10.0.0.2/31 east
10.0.0.4/31 east
10.0.0.6/32 east
10.0.1.0/24 other
::/96 default
::1:0:0/96 east
::2:0:0/95 east
::4:0:0/94 east
::8:0:0/93 east
::10:0:0/92 east
::20:0:0/91 east
::40:0:0/90 east
::80:0:0/89 east
::100:0:0/88 east
::200:0:0/87 east
::400:0:0/86 east
::800:0:0/85 east
::1000:0:0/84 east
::2000:0:0/83 east
::4000:0:0/82 east
::8000:0:0/82 east
::c000:0:0/83 east
::e000:0:0/84 east
::f000:0:0/85 east
::f800:0:0/86 east
::fc00:0:0/87 east
::fe00:0:0/88 east
::ff00:0:0/89 east
::ff80:0:0/90 east
::ffc0:0:0/91 east
::ffe0:0:0/92 east
::fff0:0:0/93 east
::fff8:0:0/94 east
::fffc:0:0/95 east
::fffe:0:0/96 east
2002::/21 default
2002:800::/23 default
2002:a00::/24 east
2002:b00::/24 default
2002:c00::/22 default
2002:1000::/20 default
2002:2000::/19 default
2002:4000::/18 default
2002:8000::/17 default
`
	if got != want {
		t.Errorf("labels.map:\n%s\nwant:\n%s", got, want)
	}
	if files[1].Entries != strings.Count(want, "\n")-4 {
		t.Errorf("Entries = %d", files[1].Entries)
	}
}

func TestHAProxyRefusesHostileValues(t *testing.T) {
	for name, spoil := range map[string]func(p *plan.Plan){
		"quote in a URL":    func(p *plan.Plan) { p.Registry.InfoURL = "https://example.com/' code 200 if TRUE #" },
		"space in a URL":    func(p *plan.Plan) { p.Registry.PrivacyURL = "https://example.com/a b" },
		"log-format in URL": func(p *plan.Plan) { p.Upstreams[0].Endpoint = "https://example.com/%[env(HOME)]" },
		"newline in a site": func(p *plan.Plan) { p.Sites[0].URL = "https://east.example.com\n    lua-load x.lua" },
		"header":            func(p *plan.Plan) { p.ClientIP.Header = "X-A,1),str(1" },
		"label":             func(p *plan.Plan) { p.Labels[plantest.LabelEast].Name = "east\n0.0.0.0/0 east" },
		"listen":            func(p *plan.Plan) { p.Edges[plantest.EdgeHAProxy].Listen = []string{"127.0.0.1:80 ssl crt /x"} },
	} {
		p := testPlan()
		spoil(p)
		if files, err := HAProxy(p); err == nil {
			t.Errorf("%s: rendered without error:\n%s", name, files[0].Data)
		} else if !strings.Contains(err.Error(), "refusing") {
			t.Errorf("%s: err = %v; want a refusal", name, err)
		}
	}
}

func TestHAProxySiteOrigin(t *testing.T) {
	for siteURL, want := range map[string]haproxyOrigin{
		"https://east.example.com/m":     {Origin: "https://east.example.com", Authority: "east.example.com", Server: "east.example.com:443", TLS: true, Name: "east.example.com"},
		"http://mirror.example:8080":     {Origin: "http://mirror.example:8080", Authority: "mirror.example:8080", Server: "mirror.example:8080", Name: "mirror.example"},
		"http://127.0.0.1:9/a/b":         {Origin: "http://127.0.0.1:9", Authority: "127.0.0.1:9", Server: "127.0.0.1:9"},
		"https://[2001:db8::1]/registry": {Origin: "https://[2001:db8::1]", Authority: "[2001:db8::1]", Server: "[2001:db8::1]:443", TLS: true},
	} {
		if got, err := haproxySiteOrigin(siteURL); err != nil || got != want {
			t.Errorf("haproxySiteOrigin(%q) = %+v, %v; want %+v", siteURL, got, err, want)
		}
	}
	for _, siteURL := range []string{"ftp://east.example.com/", "https://user@east.example.com/", "/relative", "https://east.example.com\n/x"} {
		if got, err := haproxySiteOrigin(siteURL); err == nil {
			t.Errorf("haproxySiteOrigin(%q) = %+v; want an error", siteURL, got)
		}
	}
}

// TestHAProxyOriginsShared checks that sites at one origin share its
// backend, and that the backends follow the origins' order.
func TestHAProxyOriginsShared(t *testing.T) {
	p := testPlan()
	p.Edges[plantest.EdgeHAProxy].Listen = []string{"127.0.0.1:8080"}
	p.Deployment = "blue"
	p.Sites = append(p.Sites, plan.Site{Name: "west", URL: "http://a.example.com/w", BlobPath: "/{digest}"})
	p.Labels[plantest.LabelOther].Actions = plantest.Actions("other", "other", "west")
	cfg := rendered(t, HAProxy, p)["haproxy/haproxy.cfg"]
	wantSnippets(t, "haproxy.cfg", cfg,
		"    bind 'abns@regedge-blue-mirrors-127.0.0.1:8080'\n",
		"# http://a.example.com\nbackend regedge_mirror_1\n",
		"# https://east.example.com\nbackend regedge_mirror_2\n",
		"    server mirror 'a.example.com:80' resolvers regedge resolve-prefer ipv4 init-addr none check inter 90s fastinter 10s downinter 10s rise 1 fall 5 observe layer7 error-limit 5 on-error mark-down\n",
		"    http-check send meth HEAD uri '/w/sha256:0000000000000000000000000000000000000000000000000000000000000000' ver HTTP/1.1 hdr Host 'a.example.com'\n")
	if n := strings.Count(cfg, "\nbackend "); n != 2 {
		t.Errorf("haproxy.cfg has %d backends, want 2", n)
	}
}

func TestQuoteHAProxy(t *testing.T) {
	for _, s := range []string{"https://example.com/a(b)*c+d,e=f:g@h!i&j~k", `^a\.b{1,2}$"`, ""} {
		if got, err := quoteHAProxy(s); err != nil || got != "'"+s+"'" {
			t.Errorf("quoteHAProxy(%q) = %q, %v", s, got, err)
		}
	}
	for _, s := range []string{"a'b", "a b", "a%b", "a\tb", "a\nb", "é"} {
		if got, err := quoteHAProxy(s); err == nil {
			t.Errorf("quoteHAProxy(%q) = %q; want an error", s, got)
		}
	}
}

// referenceClient is the reference rule (compiler/proxy): the entry hops
// places from the right of the lines joined as one list.
func referenceClient(lines []string, hops int) netip.Addr {
	entries := strings.Split(strings.Join(lines, ","), ",")
	i := len(entries) - 1 - hops
	if i < 0 {
		return netip.Addr{}
	}
	entry := strings.TrimSpace(entries[i])
	if strings.ContainsAny(entry, " \t%") {
		return netip.Addr{}
	}
	addr, _ := netip.ParseAddr(entry)
	return addr
}

// haproxyClient is what the generated config computes: the last hops+1
// lines (a missing one reads ""), joined with commas, through the regex,
// then cast to an address (inet_pton, here netip.ParseAddr).
func haproxyClient(re *regexp.Regexp, lines []string, hops int) netip.Addr {
	var last []string
	for occ := hops + 1; occ > 0; occ-- {
		if i := len(lines) - occ; i >= 0 {
			last = append(last, lines[i])
		} else {
			last = append(last, "")
		}
	}
	m := re.FindStringSubmatch(strings.Join(last, ","))
	if m == nil {
		panic("the client regex must match every string")
	}
	addr, _ := netip.ParseAddr(m[1])
	return addr
}

func TestHAProxyClientRegexMatchesReference(t *testing.T) {
	pieces := []string{"52.216.0.5", "052.216.0.5", "52.216.0.256", "1.2.3.4:80", "2600:1f18::1", "::ffff:1.2.3.4",
		"::FFFF:01.2.3.4", "fe80::1%eth0", "[::1]", "1.2.3", "x", "", " ", "\t", ",", ", ", "\"", "1.2.3.4 5", "::", "1::2::3"}
	rng := rand.New(rand.NewPCG(1, 2))
	for hops := range 4 {
		re := regexp.MustCompile(haproxyClientRegex(hops))
		for range 20000 {
			lines := make([]string, 1+rng.IntN(4))
			for i := range lines {
				var b strings.Builder
				for range rng.IntN(5) {
					b.WriteString(pieces[rng.IntN(len(pieces))])
				}
				lines[i] = strings.Trim(b.String(), " \t")
			}
			if got, want := haproxyClient(re, lines, hops), referenceClient(lines, hops); got != want {
				t.Fatalf("hops %d, lines %q: haproxy reads %v, the reference %v", hops, lines, got, want)
			}
		}
	}
}
