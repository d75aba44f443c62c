package render

import (
	"strings"
	"testing"

	"github.com/regedge/regedge/compiler/internal/plantest"
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

// testPlan is plantest.Uneven with its site at https://east.example.com/m.
func testPlan() *plan.Plan { return plantest.Uneven("https://east.example.com/m") }

// rendered renders p with render and returns each file's text by path.
func rendered(t *testing.T, render func(*plan.Plan) ([]File, error), p *plan.Plan) map[string]string {
	t.Helper()
	files, err := render(p)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		out[f.Path] = string(f.Data)
	}
	return out
}

// wantSnippets fails the test for each snippet the file's text lacks.
func wantSnippets(t *testing.T, file, text string, snippets ...string) {
	t.Helper()
	for _, s := range snippets {
		if !strings.Contains(text, s) {
			t.Errorf("%s lacks:\n%s", file, s)
		}
	}
}

func TestNginxGeoSplitsIntervalsIntoPrefixes(t *testing.T) {
	conf := rendered(t, Nginx, testPlan())["nginx/regedge.conf"]
	want := "    default default;\n    10.0.0.1/32 east;\n    10.0.0.2/31 east;\n    10.0.0.4/31 east;\n    10.0.0.6/32 east;\n    10.0.1.0/24 other;\n    2001:db8::/112 east;\n}\n"
	if !strings.Contains(conf, want) {
		t.Errorf("regedge.conf:\n%s\nwant its geo block to end with:\n%s", conf, want)
	}
}

func TestNginxMapsAndClientAddress(t *testing.T) {
	p := testPlan()
	p.Check = nil
	files := rendered(t, Nginx, p)
	wantSnippets(t, "nginx.conf", files["nginx/nginx.conf"],
		"http {\n    # Everything of the registry's is in regedge.conf, which an nginx that\n    # already runs can include on its own.\n    include regedge.conf;\n}\n")
	conf := files["nginx/regedge.conf"]
	wantSnippets(t, "regedge.conf", conf,
		"map $http_x_forwarded_for $regedge_client {\n    \"~(?:^|,)[\\x20\\x09]*(?<regedge_xff>"+request.Address+")[\\x20\\x09]*(?:,[^,]*){1}$\" $regedge_xff;",
		"geo $regedge_client $regedge_label {\n    default default;\n    10.0.0.1/32 east;",
		"map $regedge_label $regedge_blob_mirror {\n    default \"\";\n    east \"https://east.example.com/m/b/\";\n}",
		"map $regedge_label $regedge_blob_mirror_suffix {\n    default \"\";\n    east \"/data\";\n}",
		"map $regedge_label $regedge_manifest_upstream {\n    default \"https://main.example/v2/proj/images\";\n    other \"http://other.example:5000/v2/mirror\";\n}",
		"listen 127.0.0.1:8080;",
		"return 307 $regedge_mirror_url;")
	if strings.Contains(conf, "auth_request") {
		t.Error("a plan without a check renders an existence check")
	}

	// A map every label gives the same value looks nothing up.
	p.Labels[plantest.LabelOther].Actions = p.Labels[plantest.LabelDefault].Actions
	wantSnippets(t, "regedge.conf", rendered(t, Nginx, p)["nginx/regedge.conf"],
		"map \"\" $regedge_manifest_upstream {\n    default \"https://main.example/v2/proj/images\";\n}")
}

func TestNginxCheck(t *testing.T) {
	conf := rendered(t, Nginx, testPlan())["nginx/regedge.conf"]
	wantSnippets(t, "regedge.conf", conf,
		"keys_zone=regedge_exists:3m max_size=12m inactive=3600s",
		"proxy_cache_valid 200 3600s;\n        proxy_cache_valid 403 90s;\n    }",
		"proxy_read_timeout 1500ms;",
		"auth_request /.regedge/exists;",
		"proxy_pass \"http://unix:/var/lib/regedge/nginx/regedge-check.sock:/.regedge/check\";",
		"listen \"unix:/var/lib/regedge/nginx/regedge-check.sock\";",
		"map $http_x_regedge_mirror $regedge_check_url {\n    \"~^https://east\\.example\\.com/m/b/(?:"+request.Digest+")/data$\" $http_x_regedge_mirror;\n    default \"\";\n}",
		"proxy_ignore_headers X-Accel-Redirect X-Accel-Expires X-Accel-Limit-Rate X-Accel-Buffering X-Accel-Charset Expires Cache-Control Set-Cookie Vary;",
		"proxy_ssl_verify on;")
	// Only the hop, which answers 200, 403 or 401, is cached.
	if strings.Count(conf, "proxy_cache_valid") != 2 {
		t.Errorf("regedge.conf caches more than the hop's 200 and 403:\n%s", conf)
	}
}

func TestNginxRefusesAStateDirTooLongForTheCheckSocket(t *testing.T) {
	p := testPlan()
	p.Nginx.StateDir = "/" + strings.Repeat("d", 87)
	if _, err := Nginx(p); err != nil {
		t.Errorf("a socket path of 107 characters: %v", err)
	}
	p.Nginx.StateDir += "d"
	if _, err := Nginx(p); err == nil || !strings.Contains(err.Error(), "state_dir can be at most 88") {
		t.Errorf("err = %v; want a refusal naming the longest state_dir", err)
	}
	p.Check = nil
	if _, err := Nginx(p); err != nil {
		t.Errorf("without a check, no socket: %v", err)
	}
}

func TestNginxRefusesUnquotableValues(t *testing.T) {
	p := testPlan()
	p.Registry.InfoURL = `https://example.com/"; return 200 x; #`
	if _, err := Nginx(p); err == nil || !strings.Contains(err.Error(), "refusing to quote") {
		t.Errorf("err = %v; want a refusal", err)
	}
}
