package render

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

func TestQuote(t *testing.T) {
	for _, s := range []string{"https://example.com/a(b)*c+d,e=f:g@h!i&j~k", "registry/2.0"} {
		if got, err := quote(s); err != nil || got != `"`+s+`"` {
			t.Errorf("quote(%q) = %q, %v", s, got, err)
		}
	}
	for _, s := range []string{`a"b`, "a b", "a;b", "a$b", `a\b`, "a{b", "a}b", "a#b", "a'b", "a\nb", "é"} {
		if got, err := quote(s); err == nil {
			t.Errorf("quote(%q) = %q; want an error", s, got)
		}
	}
}

func TestQuoteRegex(t *testing.T) {
	if got, err := quoteRegex(`^/v2/(?<x>[a-z]+)\.sig$`); err != nil || got != `"^/v2/(?<x>[a-z]+)\.sig$"` {
		t.Errorf("quoteRegex = %q, %v", got, err)
	}
	for _, s := range []string{`a"b`, `a\\b`, `a\nb`, `a\`, "a b", "a'b"} {
		if got, err := quoteRegex(s); err == nil {
			t.Errorf("quoteRegex(%q) = %q; want an error", s, got)
		}
	}
}

// testPlan routes blobs of label 1 to a site and everything else upstream.
func testPlan() *plan.Plan {
	actions := func(site string) []plan.Action {
		var a []plan.Action
		for _, k := range request.Kinds {
			act := plan.Action{Kind: k, Route: "r", Upstream: "main"}
			if k == request.KindBlob {
				act.Site = site
			}
			a = append(a, act)
		}
		return a
	}
	return &plan.Plan{
		Registry:  plan.Registry{InfoURL: "https://example.com/info", PrivacyURL: "https://example.com/privacy"},
		ClientIP:  plan.ClientIP{Header: "X-Forwarded-For", TrustedHops: 2},
		Upstreams: []plan.Upstream{{Name: "main", Endpoint: "https://registry.example.com", Prefix: "images"}},
		Sites:     []plan.Site{{Name: "east", URL: "https://east.example.com/m", BlobPath: "/b/{digest}/data"}},
		Labels: []plan.Label{
			{Name: "upstream-main", Actions: actions("")},
			{Name: "east", Actions: actions("east")},
		},
		Default: 0,
		V4: []plan.Interval{
			{First: netip.MustParseAddr("10.0.0.1"), Last: netip.MustParseAddr("10.0.0.6"), Label: 1},
		},
		V6: []plan.Interval{
			{First: netip.MustParseAddr("2001:db8::"), Last: netip.MustParseAddr("2001:db8::ffff"), Label: 1},
		},
		Nginx: plan.Nginx{Listen: []string{"127.0.0.1:8080"}, WorkerProcesses: "1"},
	}
}

func TestNginxGeoSplitsIntervalsIntoPrefixes(t *testing.T) {
	files, err := Nginx(testPlan())
	if err != nil {
		t.Fatal(err)
	}
	conf := string(files[1].Data)
	want := "    default upstream-main;\n    10.0.0.1/32 east;\n    10.0.0.2/31 east;\n    10.0.0.4/31 east;\n    10.0.0.6/32 east;\n    2001:db8::/112 east;\n}\n"
	if !strings.Contains(conf, want) {
		t.Errorf("regedge.conf:\n%s\nwant its geo block to end with:\n%s", conf, want)
	}
}

func TestNginxMapsAndClientAddress(t *testing.T) {
	files, err := Nginx(testPlan())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(files[0].Data), "http {\n    # Everything of the registry's is in regedge.conf, which an nginx that\n    # already runs can include on its own.\n    include regedge.conf;\n}\n") {
		t.Errorf("nginx.conf does not include regedge.conf:\n%s", files[0].Data)
	}
	conf := string(files[1].Data)
	for _, want := range []string{
		"map $http_x_forwarded_for $regedge_client {\n    \"~(?:^|,)[\\x20\\x09]*(?<regedge_xff>" + request.Address + ")[\\x20\\x09]*(?:,[^,]*){2}$\" $regedge_xff;",
		"geo $regedge_client $regedge_label {\n    default upstream-main;\n    10.0.0.1/32 east;",
		"map $regedge_label $regedge_blob_mirror {\n    default \"\";\n    east \"https://east.example.com/m/b/\";\n}",
		"map $regedge_label $regedge_blob_mirror_suffix {\n    default \"\";\n    east \"/data\";\n}",
		"map \"\" $regedge_manifest_upstream {\n    default \"https://registry.example.com/v2/images\";\n}",
		"listen 127.0.0.1:8080;",
		"return 307 $regedge_mirror_url;",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("regedge.conf lacks:\n%s", want)
		}
	}
	if strings.Contains(conf, "auth_request") {
		t.Error("a plan without a check renders an existence check")
	}
}

func TestNginxCheck(t *testing.T) {
	p := testPlan()
	p.Check = &plan.Check{PositiveTTL: plan.Duration(3600e9), NegativeTTL: plan.Duration(90e9), Timeout: plan.Duration(1500e6), CacheSize: 20000}
	files, err := Nginx(p)
	if err != nil {
		t.Fatal(err)
	}
	conf := string(files[1].Data)
	for _, want := range []string{
		"keys_zone=regedge_exists:3m max_size=12m inactive=3600s",
		"proxy_cache_valid 200 3600s;",
		"proxy_cache_valid any 90s;",
		"proxy_read_timeout 1500ms;",
		"auth_request /.regedge/exists;",
		"proxy_ssl_verify on;",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("regedge.conf lacks %q", want)
		}
	}
}

func TestNginxRefusesUnquotableValues(t *testing.T) {
	p := testPlan()
	p.Registry.InfoURL = `https://example.com/"; return 200 x; #`
	if _, err := Nginx(p); err == nil || !strings.Contains(err.Error(), "refusing to quote") {
		t.Errorf("err = %v; want a refusal", err)
	}
}
