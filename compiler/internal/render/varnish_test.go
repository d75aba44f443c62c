package render

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

func renderVarnish(t *testing.T, p *plan.Plan) string {
	t.Helper()
	files, err := Varnish(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Path != "varnish/regedge.vcl" {
		t.Fatalf("Varnish rendered %d files, the first %q; want varnish/regedge.vcl alone", len(files), files[0].Path)
	}
	return string(files[0].Data)
}

// setBlobSite sends the blobs of a label's clients to a site.
func setBlobSite(p *plan.Plan, label int, site string) {
	for i, a := range p.Labels[label].Actions {
		if a.Kind == request.KindBlob {
			p.Labels[label].Actions[i].Site = site
		}
	}
}

func TestVarnishACLSplitsIntervalsIntoPrefixes(t *testing.T) {
	files, err := Varnish(testPlan())
	if err != nil {
		t.Fatal(err)
	}
	if files[0].Entries != 6 {
		t.Errorf("Entries = %d; want 6", files[0].Entries)
	}
	wantSnippets(t, "regedge.vcl", string(files[0].Data), `# Label "east".
acl regedge_label_1 +table {
    "10.0.0.1"/32;
    "10.0.0.2"/31;
    "10.0.0.4"/31;
    "10.0.0.6"/32;
    "2001:db8::"/112;
}`)
	// The default label has no addresses, so no ACL.
	if strings.Contains(string(files[0].Data), "acl regedge_label_0 ") {
		t.Error("regedge.vcl has an ACL for the default label")
	}
}

func TestVarnishClientFromForwardedFor(t *testing.T) {
	vcl := renderVarnish(t, testPlan())
	wantSnippets(t, "regedge.vcl", vcl,
		// Only Host and the client header survive vcl_recv's first lines.
		`    header.regsub(req, "^(?!(?i:Host|X-Forwarded-For):)(?s:.*)$", "X-Regedge-Drop: 1");
    unset req.http.X-Regedge-Drop;`,
		// The last 2 KiB, less the entry cut in two.
		`    set req.http.X-Regedge-List = str.take(req.http.X-Forwarded-For, -2048);
    if (str.count(req.http.X-Forwarded-For) > 2048) {`,
		`        set req.http.X-Regedge-List = regsub(req.http.X-Regedge-List, "^[^,]*", "");`,
		// The entry one place from the right, before varnishd's own.
		`if (req.http.X-Regedge-List ~ "^(?:.*,)?[[:blank:]]*([0-9A-Fa-f:.]+)[[:blank:]]*(?:,[^,]*){2}$") {`,
		`std.ip(req.http.X-Regedge-Client, "0.0.0.0", false) != std.ip(req.http.X-Regedge-Client, "::", false)`,
		`    if (!req.http.X-Regedge-Client) {
        set req.http.X-Regedge-Label = "default";
    } elsif (std.ip(req.http.X-Regedge-Client, "0.0.0.0", false) ~ regedge_label_1) {
        set req.http.X-Regedge-Label = "east";
    } elsif (std.ip(req.http.X-Regedge-Client, "0.0.0.0", false) ~ regedge_label_2) {
        set req.http.X-Regedge-Label = "other";
    } else {
        set req.http.X-Regedge-Label = "default";
    }`)
}

func TestVarnishClientFromOtherHeaderOrPeer(t *testing.T) {
	p := testPlan()
	p.ClientIP = plan.ClientIP{Header: "CF-Connecting-IP"}
	vcl := renderVarnish(t, p)
	wantSnippets(t, "regedge.vcl", vcl,
		`header.regsub(req, "^(?!(?i:Host|CF-Connecting-IP):)(?s:.*)$", "X-Regedge-Drop: 1");`,
		`    std.collect(req.http.CF-Connecting-IP);
    set req.http.X-Regedge-List = str.take(req.http.CF-Connecting-IP, -2048);`,
		`(?:,[^,]*){0}$"`)
	if strings.Contains(vcl, "req.http.X-Forwarded-For,") {
		t.Error("regedge.vcl reads X-Forwarded-For though the client is in CF-Connecting-IP")
	}

	p.ClientIP = plan.ClientIP{}
	vcl = renderVarnish(t, p)
	wantSnippets(t, "regedge.vcl", vcl,
		`header.regsub(req, "^(?!(?i:Host):)(?s:.*)$", "X-Regedge-Drop: 1");`,
		`set req.http.X-Regedge-Client = client.ip;`)
	if strings.Contains(vcl, "req.http.X-Regedge-List =") {
		t.Error("regedge.vcl reads a header though the client is the peer")
	}
}

// The address grammar takes the addresses netip.ParseAddr takes, less
// zones, and none of the other forms getaddrinfo accepts. (std.ip then
// refuses what only looks like an address, such as "1:2".)
func TestVarnishAddrRegex(t *testing.T) {
	re := regexp.MustCompile(varnishAddr)
	for _, s := range []string{"0.0.0.0", "52.216.0.5", "255.255.255.255", "::", "::1", "2600:1f18::1", "::ffff:52.216.0.5", "::FFFF:34D8:5", "1:2:3:4:5:6:7:8"} {
		if _, err := netip.ParseAddr(s); err != nil || !re.MatchString(s) {
			t.Errorf("%q: ParseAddr error %v, regex match %t", s, err, re.MatchString(s))
		}
	}
	for _, s := range []string{"", "052.216.0.5", "52.216.5", "256.1.1.1", "1.2.3.4:80", "[::1]", "fe80::1%eth0", "::1 ", "a:b", "localhost", "0x7f.0.0.1"} {
		if a, err := netip.ParseAddr(s); (err == nil && a.Zone() == "") || re.MatchString(s) {
			t.Errorf("%q: ParseAddr error %v, regex match %t", s, err, re.MatchString(s))
		}
	}
}

func TestVarnishWithoutCheck(t *testing.T) {
	p := testPlan()
	p.Check = nil
	vcl := renderVarnish(t, p)
	wantSnippets(t, "regedge.vcl", vcl,
		`    if (req.http.X-Regedge-Site == "east") {
        set req.http.X-Regedge-Location = "https://east.example.com/m/b/" + req.http.X-Regedge-Ref + "/data";
    }`,
		`        if (!req.http.X-Regedge-Location) {
            set req.http.X-Regedge-Location = req.http.X-Regedge-Fallback;
            return (synth(307));
        }
        return (synth(307));`)
	for _, s := range []string{"sub vcl_hash", "sub vcl_backend_fetch", "regedge_mirror_", "regedge_check", "-s malloc"} {
		if strings.Contains(vcl, s) {
			t.Errorf("regedge.vcl without a check holds %q", s)
		}
	}
}

func TestVarnishCheck(t *testing.T) {
	p := testPlan()
	p.Sites = append(p.Sites, plan.Site{Name: "west", URL: "http://[::1]:8081/w", BlobPath: "/{digest}"})
	setBlobSite(p, 0, "west")
	vcl := renderVarnish(t, p)
	wantSnippets(t, "regedge.vcl", vcl,
		`-s malloc,40m`,
		`# "https://east.example.com:443"
backend regedge_mirror_0 {
    .path = "/run/regedge/tls/east.sock";
    .connect_timeout = 1500ms;
    .first_byte_timeout = 1500ms;
    .between_bytes_timeout = 1500ms;
}`,
		`# "http://[::1]:8081"
backend regedge_mirror_1 {
    .host = "::1";
    .port = "8081";`,
		`        set req.http.X-Regedge-Location = "https://east.example.com/m/b/" + req.http.X-Regedge-Ref + "/data";
        set req.backend_hint = regedge_mirror_0;
        set req.http.Host = "east.example.com";
        set req.url = "/m/b/" + req.http.X-Regedge-Ref + "/data";`,
		`        set req.http.X-Regedge-Location = "http://[::1]:8081/w/" + req.http.X-Regedge-Ref;
        set req.backend_hint = regedge_mirror_1;
        set req.http.Host = "[::1]:8081";
        set req.url = "/w/" + req.http.X-Regedge-Ref;`,
		`        return (hash);`,
		`    hash_data(req.http.X-Regedge-Location);`,
		`    set bereq.method = "HEAD";`,
		`#   varnishd -F -n /var/lib/varnish/regedge -a :80 -a regedge_check=/var/lib/varnish/regedge/regedge-check.sock -f /absolute/path/to/regedge.vcl -p workspace_client=128k -s malloc,40m`,
		`backend regedge_check {
    .path = "/proc/self/cwd/regedge-check.sock";
    .connect_timeout = 1500ms;
    .first_byte_timeout = 1500ms;
    .between_bytes_timeout = 1500ms;
}`,
		`sub vcl_recv {
    if (local.socket == "regedge_check") {
        if (req.http.X-Regedge-Mirror == "regedge_mirror_0") {
            set req.backend_hint = regedge_mirror_0;
        } elsif (req.http.X-Regedge-Mirror == "regedge_mirror_1") {
            set req.backend_hint = regedge_mirror_1;
        } else {
            return (synth(503));
        }
        return (pass);
    }
}`,
		// A check request is built from nothing: Host, and regedge's own
		// between the hops. The second hop never reuses a connection to
		// a mirror; the first keeps its connection to the check socket.
		`    header.regsub(bereq, "^(?!(?i:Host|X-Regedge-Mirror|X-Regedge-Site|X-Regedge-Trial):)(?s:.*)$", "X-Regedge-Drop: 1");
    unset bereq.http.X-Regedge-Drop;`,
		`        unset bereq.http.X-Regedge-Site;
        unset bereq.http.X-Regedge-Trial;`,
		`        unset bereq.http.X-Regedge-Mirror;
        set bereq.http.Connection = "close";
    } else {`,
		`        set bereq.http.X-Regedge-Mirror = bereq.backend;
        set bereq.backend = regedge_check;`,
		`    if (!bereq.http.X-Regedge-Mirror) {
        if (beresp.status >= 200 && beresp.status < 300) {
            set beresp.http.X-Regedge-Check = "present";
        } elsif (beresp.status >= 300 && beresp.status < 500) {
            set beresp.http.X-Regedge-Check = "absent";
        } else {
            return (error(503, "No answer"));
        }`,
		`        set beresp.status = 200;
        header.regsub(beresp, "^(?!(?i:X-Regedge-Check):)(?s:.*)$", "X-Regedge-Drop: 1");
        unset beresp.http.X-Regedge-Drop;
        return (deliver);
    }
    if (beresp.status != 200) {
        return (error(503, "No answer"));
    } elsif (beresp.http.X-Regedge-Check == "present") {
        set beresp.ttl = 3600s;
    } elsif (beresp.http.X-Regedge-Check == "absent") {
        set beresp.ttl = 90s;
    } else {
        return (error(503, "No answer"));
    }`,
		`    call regedge_unanswered;
    }
    set beresp.ttl = 0.001ms;`,
		`    if (local.socket == "regedge_check") {
        return (deliver);
    }
    if (resp.http.X-Regedge-Check != "present") {
        set req.http.X-Regedge-Location = req.http.X-Regedge-Fallback;
    }`,
		`    if (resp.status >= 500 && req.http.X-Regedge-Fallback) {
        set resp.status = 307;`)
}

// TestVarnishHealth reads the health rule's state machine as rendered;
// testscripts/varnish_site_health.txtar runs it.
func TestVarnishHealth(t *testing.T) {
	vcl := renderVarnish(t, testPlan())
	wantSnippets(t, "regedge.vcl", vcl,
		"import var;\nimport vsthrottle;\n",
		// Each site's state, read by a constant name.
		`        set req.http.X-Regedge-Down = var.global_get("regedge.east.until");
    }`,
		`        call regedge_health;
        # Look the mirror's answer up, or ask the mirror.
        return (hash);`,
		// Down, for at most down_for_max from now: the fallback. Over:
		// one trial per 3s (the timeout, rounded up, and a second), which
		// ignores the cache.
		`    if (req.http.X-Regedge-Down ~ ".") {
        if ((std.time(req.http.X-Regedge-Down, now) > now &&
             std.time(req.http.X-Regedge-Down, now) <= now + 90s) ||
            vsthrottle.is_denied("regedge." + req.http.X-Regedge-Site + ".trial", 1, 3s)) {
            set req.http.X-Regedge-Location = req.http.X-Regedge-Fallback;
            return (synth(307));
        }
        set req.hash_always_miss = true;
        set req.http.X-Regedge-Trial = "1";
    }`,
		// The trial's client does not wait; the second hop keeps the
		// health, with a check's start for its time bound.
		`        if (bereq.http.X-Regedge-Trial) {
            # A trial's client does not wait for a site that is down: it
            # gets the fallback, and the second hop asks the site on its
            # own.
            set bereq.first_byte_timeout = 0.001s;
        }`,
		`        var.set("site", bereq.http.X-Regedge-Site);
        var.set("trial", bereq.http.X-Regedge-Trial);
        var.set_real("started", std.real(time=now));`,
		`        if (std.real(time=now) - var.get_real("started") > 1.500) {
            return (error(503, "No answer"));
        }
        call regedge_answered;`,
		`    if (!bereq.http.X-Regedge-Mirror) {
        call regedge_unanswered;
    }`,
		// 5 in a row: down for 10s; a failed trial doubles it, up to 90s.
		`        var.set_int("period", 2 * std.integer(var.get("last"), 10));
        if (var.get_int("period") > 90) {
            var.set_int("period", 90);
        }
    } elsif (var.get_int("failures") >= 5 &&`,
		`        var.set_int("period", 10);`,
		`        var.global_set("regedge." + var.get("site") + ".until", "" + std.real(time=now + std.duration(integer=var.get_int("period"))));`)

	// A plan whose sites are never down, or with no check, has none of it.
	never := testPlan()
	never.Check.DownAfter = 0
	noCheck := testPlan()
	noCheck.Check = nil
	for name, p := range map[string]*plan.Plan{"down_after 0": never, "no check": noCheck} {
		vcl := renderVarnish(t, p)
		for _, s := range []string{"import var", "vsthrottle", "regedge_health", "X-Regedge-Down", "X-Regedge-Site|", "first_byte_timeout = 0.001s"} {
			if strings.Contains(vcl, s) {
				t.Errorf("%s: regedge.vcl holds %q", name, s)
			}
		}
	}
}

func TestVarnishRoutes(t *testing.T) {
	vcl := renderVarnish(t, testPlan())
	wantSnippets(t, "regedge.vcl", vcl,
		`    if (req.method != "GET" && req.method != "HEAD") {
        return (synth(405));
    }`,
		`    if (req.http.X-Regedge-Path ~ "%|//|/\.\.?(?:/|$)") {
        return (synth(404));
    }`,
		`    if (req.url ~ "^[^?]{406}") {
        return (synth(404));
    }`,
		`set req.http.X-Regedge-Location = "https://example.com/info";`,
		`set req.http.X-Regedge-Location = "https://example.com/privacy";`,
		`regsub(req.http.X-Regedge-Path, "^/v2/(?<regedge_repo>`,
		`, "\1") ~ "^.{256}") {
            return (synth(404));`,
		`"/\1/tags/list") + req.http.X-Regedge-Query;`,
		`    if (req.url ~ "^[^?]*\?.{1025}") {
        return (synth(404));
    }`,
		`sub regedge_blob_upstream {
    set req.http.X-Regedge-Upstream = "https://main.example/v2/proj/images";
    if (req.http.X-Regedge-Label == "other") {
        set req.http.X-Regedge-Upstream = "http://other.example:5000/v2/mirror";
    }
}`,
		`sub regedge_blob_site {
    set req.http.X-Regedge-Site = "";
    if (req.http.X-Regedge-Label == "east") {
        set req.http.X-Regedge-Site = "east";
    }
}`,
		`    # Rule 12: everything else, /v2/_catalog included.
    return (synth(404));`,
		`        set resp.http.Docker-Distribution-Api-Version = "registry/2.0";
        set resp.body = "{}";`)
}

func TestVarnishRefusesHostileValues(t *testing.T) {
	for name, spoil := range map[string]func(*plan.Plan){
		"info URL":      func(p *plan.Plan) { p.Registry.InfoURL = `https://x/"; } sub vcl_recv { return (pipe); } #` },
		"upstream":      func(p *plan.Plan) { p.Upstreams[0].Endpoint = "https://r.example.com\n}" },
		"site URL":      func(p *plan.Plan) { p.Sites[0].URL = "https://east.example.com/{m}" },
		"client header": func(p *plan.Plan) { p.ClientIP.Header = "X-Client; unset req.http.a" },
		"label":         func(p *plan.Plan) { p.Labels[1].Name = `east" + "x` },
		"site name": func(p *plan.Plan) {
			p.Sites[0].Name = "../../etc/x"
			setBlobSite(p, 1, p.Sites[0].Name)
		},
	} {
		p := testPlan()
		spoil(p)
		files, err := Varnish(p)
		if err == nil {
			t.Errorf("%s: rendered without error:\n%s", name, files[0].Data)
			continue
		}
		t.Logf("%s: %v", name, err)
	}
	// A deployment name only reaches the header comment, quoted.
	p := testPlan()
	p.Deployment = "a\nvcl 4.0;"
	files, err := Varnish(p)
	if err != nil {
		t.Fatal(err)
	}
	if vcl := string(files[0].Data); strings.Count(vcl, "\nvcl ") != 1 || !strings.Contains(vcl, `deployment "a\nvcl 4.0;"`) {
		t.Errorf("a hostile deployment name was not quoted:\n%s", vcl[:300])
	}
}

// TestVarnishCompiles has varnishd compile the VCL of each variant, when
// varnishd is installed; the testscripts run it for real.
func TestVarnishCompiles(t *testing.T) {
	varnishd, err := exec.LookPath("varnishd")
	if err != nil {
		if varnishd, err = exec.LookPath("/usr/sbin/varnishd"); err != nil {
			t.Skip("varnishd is not installed")
		}
	}
	noCheck := testPlan()
	noCheck.Check = nil
	check := testPlan()
	check.Sites = append(check.Sites, plan.Site{Name: "west", URL: "http://[::1]:8081", BlobPath: "/{digest}"})
	setBlobSite(check, 0, "west")
	peer := testPlan()
	peer.ClientIP = plan.ClientIP{}
	noSites := testPlan()
	setBlobSite(noSites, 1, "")
	noSites.Sites = nil
	noSites.Check = check.Check
	neverDown := testPlan()
	neverDown.Check.DownAfter = 0
	for name, p := range map[string]*plan.Plan{"forwarded-for": noCheck, "check": check, "peer": peer, "no sites": noSites, "never down": neverDown} {
		dir := t.TempDir()
		path := filepath.Join(dir, "regedge.vcl")
		if err := os.WriteFile(path, []byte(renderVarnish(t, p)), 0o666); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(varnishd, "-C", "-j", "none", "-n", filepath.Join(dir, "n"), "-f", path).CombinedOutput()
		if err != nil {
			t.Errorf("%s: varnishd -C: %v\n%s", name, err, lastLines(string(out), 20))
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
