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
	if strings.Contains(conf, "auth_request") || strings.Contains(conf, "lua") || strings.Contains(files["nginx/nginx.conf"], "load_module") {
		t.Error("a plan without a check renders an existence check")
	}

	// A map every label gives the same value looks nothing up.
	p.Labels[plantest.LabelOther].Actions = p.Labels[plantest.LabelDefault].Actions
	wantSnippets(t, "regedge.conf", rendered(t, Nginx, p)["nginx/regedge.conf"],
		"map \"\" $regedge_manifest_upstream {\n    default \"https://main.example/v2/proj/images\";\n}")
}

func TestNginxCheck(t *testing.T) {
	files := rendered(t, Nginx, testPlan())
	wantSnippets(t, "nginx.conf", files["nginx/nginx.conf"],
		"load_module /usr/lib/nginx/modules/ndk_http_module.so;\nload_module /usr/lib/nginx/modules/ngx_http_lua_module.so;\n")
	conf := files["nginx/regedge.conf"]
	// Answers and site health in memory: 20,000 answers of 256 bytes (the
	// longest blob URL with a sha512 digest is 169 bytes), the policy's
	// thresholds, and each label's site.
	wantSnippets(t, "regedge.conf", conf,
		"lua_shared_dict regedge_answers 5m;",
		"map $regedge_label $regedge_blob_site {\n    default \"\";\n    east \"east\";\n}",
		"local timeout = 1500\n",
		"local positive_ttl, negative_ttl = 3600, 90\n",
		"local down_after, down_for, down_for_max = 5, 10, 90\n",
		"local hop = \"unix:/var/lib/regedge/nginx/regedge-check.sock\"\n",
		"auth_request_set $regedge_checked $upstream_http_x_regedge_checked;",
		"add_header X-Regedge-Checked $msec always;")
	wantSnippets(t, "regedge.conf", conf,
		"keys_zone=regedge_exists:3m max_size=12m inactive=3600s",
		"proxy_cache_valid 200 3600s;\n        proxy_cache_valid 403 90s;\n    }",
		"proxy_read_timeout 1500ms;",
		"auth_request /.regedge/exists;",
		"proxy_pass \"http://unix:/var/lib/regedge/nginx/regedge-check.sock:/.regedge/check\";",
		"listen \"unix:/var/lib/regedge/nginx/regedge-check.sock\";",
		"map $http_x_regedge_mirror $regedge_check_url {\n    \"~^https://east\\.example\\.com/m/b/(?:"+request.Digest+")/data$\" $http_x_regedge_mirror;\n    default \"\";\n}",
		// The hop asks with HEAD, the path and Host only, on kept
		// connections, verifying https sites.
		`local request = "HEAD " .. path .. " HTTP/1.1\r\nHost: " .. authority .. "\r\n\r\n"`,
		"sock:setkeepalive(idle_ms, pool_size)",
		"lua_ssl_trusted_certificate \"/etc/ssl/certs/ca-certificates.crt\";",
		"sock:sslhandshake(nil, host, true)",
		"lua_check_client_abort on;")
	// Only the hop, which answers 200, 403 or 401, is cached.
	if strings.Count(conf, "proxy_cache_valid") != 2 {
		t.Errorf("regedge.conf caches more than the hop's 200 and 403:\n%s", conf)
	}
}

// TestNginxSiteFromCopy: a worker's copy of an answer tells the request's
// site only while no site's blob URLs start with another's; otherwise the
// site is read from the request.
func TestNginxSiteFromCopy(t *testing.T) {
	const fromCopy = "local site = copy and copy[2] or var.regedge_blob_site\n"
	const fromRequest = "local site = var.regedge_blob_site\n                    local down_until"
	p := testPlan()
	conf := rendered(t, Nginx, p)["nginx/regedge.conf"]
	wantSnippets(t, "regedge.conf", conf, fromCopy)

	// Site west's blob URLs start with east's: a URL could be at either.
	p.Sites = append(p.Sites, plan.Site{Name: "west", URL: p.Sites[0].URL + "/b", BlobPath: "/{digest}"})
	p.Labels[plantest.LabelOther].Actions = plantest.Actions("other", "other", "west")
	conf = rendered(t, Nginx, p)["nginx/regedge.conf"]
	wantSnippets(t, "regedge.conf", conf, fromRequest)
	if strings.Contains(conf, fromCopy) {
		t.Errorf("regedge.conf takes the site from a copy of an answer, though west's URLs start with east's")
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
