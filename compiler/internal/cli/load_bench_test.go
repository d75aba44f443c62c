package cli

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Load benchmark settings: wrk runs one thread with a fixed number of
// connections. Each server is first loaded for loadWarmUp (discarded: it
// also fills the existence caches), then measured in loadRounds rounds of
// loadRound, the servers taking turns, so that a ratio compares runs made
// within a second of each other: on a shared machine, other work comes and
// goes on that scale. A request unanswered after loadTimeout is a socket
// error; it is well above wrk's default of 2s because the shared machine
// can stall every process for that long.
const (
	loadConnections = "32"
	loadWarmUp      = "1s"
	loadRound       = "1s"
	loadRounds      = 3
	loadTimeout     = "10s"
	loadDigest      = "sha256:6210c0bf05396716df932f0729df69de0533933e5ad9871fd07b61811c4c28df"
	// loadUpstream is never contacted: requests are only redirected to it.
	loadUpstream = "http://127.0.0.1:9"
	// ceilingLocation is where the ceiling server sends every request.
	ceilingLocation = "http://127.0.0.1:9/x"
)

// loadRequest is one request a load class sends, and the Location the
// generated config and the proxy must answer it with.
type loadRequest struct {
	path, client string
	location     func(mirror string) string
}

// The three kinds of request: a manifest from an unknown client, a blob
// from a GCP client (redirected with no existence check) and a blob from an
// AWS us-east-1 client (checked once, then answered from the cache).
var (
	manifestRequest = loadRequest{"/v2/pause/manifests/3.10", "192.0.2.1", func(string) string {
		return loadUpstream + "/v2/k8s-artifacts-prod/images/pause/manifests/3.10"
	}}
	gcpBlobRequest = loadRequest{"/v2/pause/blobs/" + loadDigest, "34.1.208.5", func(string) string {
		return loadUpstream + "/v2/k8s-artifacts-prod/images/pause/blobs/" + loadDigest
	}}
	cachedBlobRequest = loadRequest{"/v2/pause/blobs/" + loadDigest, "52.216.0.5", func(mirror string) string {
		return mirror + "/us-east-1/containers/images/" + loadDigest
	}}
	allRequests = []loadRequest{manifestRequest, gcpBlobRequest, cachedBlobRequest}
)

// loadClasses are the request classes BenchmarkLoad measures; wrk sends a
// class's requests round-robin.
var loadClasses = []struct {
	name     string
	requests []loadRequest
}{
	{"manifest", []loadRequest{manifestRequest}},
	{"blob-gcp", []loadRequest{gcpBlobRequest}},
	{"blob-cached", []loadRequest{cachedBlobRequest}},
	{"mix", allRequests},
}

// BenchmarkLoad measures requests per second and p50/p99 latency under wrk
// at fixed concurrency for three servers on loopback: nginx running the
// config generated from the shipped policy, a one-line nginx that answers
// every request with a 307 (the ceiling), and `regedge serve` with
// GOMAXPROCS=1. Every answer must be a 307. Metrics are means over the
// iterations (each itself a mean over its rounds), except proxy-peak-MiB,
// the proxy's peak RSS at the end. Besides throughput, each server's CPU
// time per request (its process and its children's, over the rounds) is
// reported, and its ratio to the ceiling's: on a shared machine it is the
// steadier measure of a server's own cost.
//
// The three servers take turns within each class, round by round, so that
// each x-ceiling ratio compares runs of the same requests made close
// together on a noisy machine.
func BenchmarkLoad(b *testing.B) {
	bin := builtBinary(b)
	nginx := requireRuntime(b, "nginx")
	wrk := requireRuntime(b, "wrk")
	dir := b.TempDir()

	mirror := httptest.NewServer(http.HandlerFunc(serveMirror))
	b.Cleanup(mirror.Close)

	nginxPort := freePort(b)
	state := filepath.Join(dir, "nginx-state")
	if err := os.Mkdir(state, 0o755); err != nil {
		b.Fatal(err)
	}
	override := filepath.Join(dir, "override.hcl")
	writeFile(b, override, fmt.Sprintf(`upstream "artifact-registry" {
  endpoint = %q
}
site "s3" {
  url = "%s/${each.key}"
}
site "cloudfront" {
  url = "%s/cf"
}
nginx {
  listen           = ["127.0.0.1:%s"]
  worker_processes = "1"
  resolver         = []
  state_dir        = %q
}
`, loadUpstream, mirror.URL, mirror.URL, nginxPort, state))
	out := filepath.Join(dir, "out")
	if msg, err := exec.Command(bin, "build", "-override", override, "-out", out).CombinedOutput(); err != nil {
		b.Fatalf("regedge build: %v\n%s", err, msg)
	}

	ceilingPort := freePort(b)
	ceilingPrefix := filepath.Join(dir, "ceiling")
	if err := os.Mkdir(ceilingPrefix, 0o755); err != nil {
		b.Fatal(err)
	}
	writeFile(b, filepath.Join(ceilingPrefix, "nginx.conf"), fmt.Sprintf(ceilingConf, ceilingPort, ceilingLocation))

	proxyPort := freePort(b)
	nginxArgs := func(conf ...string) []string {
		return append(conf, "-e", "stderr", "-g", "daemon off; user root;")
	}
	generated := startServer(b, "nginx-generated", nginxPort, nil, nginx, nginxArgs("-c", filepath.Join(out, "nginx", "nginx.conf"))...)
	ceiling := startServer(b, "nginx-ceiling", ceilingPort, nil, nginx, nginxArgs("-p", ceilingPrefix, "-c", "nginx.conf")...)
	proxy := startServer(b, "proxy", proxyPort, []string{"GOMAXPROCS=1"},
		bin, "serve", "-override", override, "-listen", "127.0.0.1:"+proxyPort)

	// One request of each kind to each server checks the setup (a blob sent
	// to the fallback would also be a 307) and warms the existence caches.
	for _, r := range allRequests {
		checkRedirect(b, ceiling, r, ceilingLocation)
		checkRedirect(b, generated, r, r.location(mirror.URL))
		checkRedirect(b, proxy, r, r.location(mirror.URL))
	}

	scripts := make(map[string]string)
	for _, c := range loadClasses {
		scripts[c.name] = filepath.Join(dir, c.name+".lua")
		writeFile(b, scripts[c.name], wrkScript(c.requests))
	}

	sums := make(map[string]float64)
	servers := []*loadServer{ceiling, generated, proxy}
	for b.Loop() {
		for _, c := range loadClasses {
			for _, s := range servers {
				runWrk(b, wrk, scripts[c.name], s, loadWarmUp)
			}
			// Each server's means over the rounds, and its CPU time and
			// requests summed over them.
			rps := make(map[*loadServer]float64)
			cpu := make(map[*loadServer]time.Duration)
			requests := make(map[*loadServer]float64)
			for round := range loadRounds {
				// Each round starts with the next server, so that none
				// is always measured first.
				for i := range servers {
					s := servers[(round+i)%len(servers)]
					before := cpuTime(b, s)
					r := runWrk(b, wrk, scripts[c.name], s, loadRound)
					cpu[s] += cpuTime(b, s) - before
					requests[s] += r.requests
					key := s.name + "-" + c.name
					rps[s] += r.rps / loadRounds
					sums[key+"-p50-ms"] += r.p50.Seconds() * 1e3 / loadRounds
					sums[key+"-p99-ms"] += r.p99.Seconds() * 1e3 / loadRounds
				}
			}
			perRequest := make(map[*loadServer]float64)
			for _, s := range servers {
				sums[s.name+"-"+c.name+"-req/s"] += rps[s]
				perRequest[s] = cpu[s].Seconds() * 1e6 / requests[s]
				sums[s.name+"-"+c.name+"-cpu-µs/req"] += perRequest[s]
			}
			sums["nginx-"+c.name+"-x-ceiling"] += rps[generated] / rps[ceiling]
			sums["proxy-"+c.name+"-x-ceiling"] += rps[proxy] / rps[ceiling]
			// CPU time per request tells the servers' own cost apart
			// from the machine's other work, which wall throughput
			// cannot: the ceiling's over the server's.
			sums["nginx-"+c.name+"-cpu-x-ceiling"] += perRequest[ceiling] / perRequest[generated]
			sums["proxy-"+c.name+"-cpu-x-ceiling"] += perRequest[ceiling] / perRequest[proxy]
		}
	}
	for unit, sum := range sums {
		b.ReportMetric(sum/float64(b.N), unit)
	}
	b.ReportMetric(peakMiB(b, proxy.cmd.Process.Pid), "proxy-peak-MiB")
}

// ceilingConf is the fastest nginx answer: one worker, the generated
// config's events and keepalive settings, and a 307 for every request. Its
// arguments are the port and the Location.
const ceilingConf = `worker_processes 1;
pid nginx.pid;
error_log stderr;

events {
    worker_connections 4096;
}

http {
    client_body_temp_path client_body_temp;
    proxy_temp_path proxy_temp;
    fastcgi_temp_path fastcgi_temp;
    uwsgi_temp_path uwsgi_temp;
    scgi_temp_path scgi_temp;

    access_log off;
    server_tokens off;
    default_type text/plain;
    keepalive_requests 10000;

    server {
        listen 127.0.0.1:%s;
        location / {
            return 307 %q;
        }
    }
}
`

// wrkScriptBody sends the requests in the table reqs round-robin and prints
// how many answers were not a 307. response runs in wrk's thread and done in
// its main state, so done reads the count from each thread.
const wrkScriptBody = `
local threads = {}
local formatted = {}
local cursor = 0
bad = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for i, r in ipairs(reqs) do
    formatted[i] = wrk.format("GET", r[1], {["X-Forwarded-For"] = r[2]})
  end
end

function request()
  cursor = cursor % #formatted + 1
  return formatted[cursor]
end

function response(status, headers, body)
  if status ~= 307 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do
    n = n + t:get("bad")
  end
  io.write(string.format("non-307 responses: %d\n", n))
end
`

// wrkScript returns a wrk Lua script that sends requests round-robin, each
// with the client second-to-last in X-Forwarded-For, where the shipped
// policy's client_ip block looks.
func wrkScript(requests []loadRequest) string {
	var sb strings.Builder
	sb.WriteString("-- Written by BenchmarkLoad.\nreqs = {\n")
	for _, r := range requests {
		fmt.Fprintf(&sb, "  {%q, %q},\n", r.path, r.client+", 127.0.0.1")
	}
	sb.WriteString("}\n")
	sb.WriteString(wrkScriptBody)
	return sb.String()
}

// loadServer is a server process under load.
type loadServer struct {
	name string
	url  string
	cmd  *exec.Cmd
}

// startServer starts a server listening on 127.0.0.1:port, waits until it
// answers, and stops it when the benchmark ends. Its stderr goes to a file,
// printed if it fails to start or exits early.
func startServer(b *testing.B, name, port string, env []string, command string, args ...string) *loadServer {
	b.Helper()
	logPath := filepath.Join(b.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(command, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	b.Cleanup(func() {
		// SIGTERM, not SIGKILL, so that nginx's master stops its worker.
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	s := &loadServer{name: name, url: "http://127.0.0.1:" + port, cmd: cmd}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-exited:
			msg, _ := os.ReadFile(logPath)
			b.Fatalf("%s exited: %v\n%s", name, err, msg)
		default:
		}
		if resp, err := noRedirects.Get(s.url + "/healthz"); err == nil {
			resp.Body.Close()
			return s
		}
		if time.Now().After(deadline) {
			msg, _ := os.ReadFile(logPath)
			b.Fatalf("%s is not answering on %s\n%s", name, s.url, msg)
		}
	}
}

// noRedirects is an HTTP client that returns redirects instead of following
// them.
var noRedirects = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// checkRedirect fails the benchmark unless s answers r with a 307 to want.
func checkRedirect(b *testing.B, s *loadServer, r loadRequest, want string) {
	b.Helper()
	req, err := http.NewRequest("GET", s.url+r.path, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("X-Forwarded-For", r.client+", 127.0.0.1")
	resp, err := noRedirects.Do(req)
	if err != nil {
		b.Fatalf("%s: %v", s.name, err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusTemporaryRedirect || got != want {
		b.Fatalf("%s: %s from %s: got %d %s, want 307 %s", s.name, r.path, r.client, resp.StatusCode, got, want)
	}
}

// serveMirror answers HEAD and GET with 200 for loadDigest at every site's
// blob path, /<site>/containers/images/<digest>, and 404 otherwise.
func serveMirror(w http.ResponseWriter, r *http.Request) {
	site, ok := strings.CutSuffix(r.URL.Path, "/containers/images/"+loadDigest)
	if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) ||
		len(site) < 2 || site[0] != '/' || strings.Contains(site[1:], "/") {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Length", "0")
}

// wrkResult is what one wrk run measured.
type wrkResult struct {
	rps, requests float64
	p50, p99      time.Duration
}

var (
	wrkRPS      = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)$`)
	wrkRequests = regexp.MustCompile(`(?m)^\s+([0-9]+) requests in`)
	wrkLatency  = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)[ \t]*$`)
	wrkBad      = regexp.MustCompile(`(?m)^non-307 responses: ([0-9]+)$`)
)

// runWrk loads s with script for duration and returns what wrk measured.
// It fails the benchmark on a socket error or an answer that is not a 307.
func runWrk(b *testing.B, wrk, script string, s *loadServer, duration string) wrkResult {
	b.Helper()
	cmd := exec.Command(wrk, "-t", "1", "-c", loadConnections, "-d", duration,
		"--timeout", loadTimeout, "--latency", "-s", script, s.url)
	raw, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("wrk %s: %v\n%s", s.name, err, raw)
	}
	out := string(raw)
	m := wrkBad.FindStringSubmatch(out)
	if m == nil || m[1] != "0" || strings.Contains(out, "Socket errors") {
		b.Fatalf("wrk %s %s: answers other than 307, or socket errors:\n%s", s.name, script, out)
	}

	var r wrkResult
	m = wrkRPS.FindStringSubmatch(out)
	if m == nil {
		b.Fatalf("wrk %s: no Requests/sec:\n%s", s.name, out)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	m = wrkRequests.FindStringSubmatch(out)
	if m == nil {
		b.Fatalf("wrk %s: no request count:\n%s", s.name, out)
	}
	r.requests, _ = strconv.ParseFloat(m[1], 64)
	lat := wrkLatency.FindAllStringSubmatch(out, -1)
	if len(lat) != 2 {
		b.Fatalf("wrk %s: no 50%% and 99%% latency:\n%s", s.name, out)
	}
	for _, l := range lat {
		d, err := time.ParseDuration(l[2] + l[3])
		if err != nil {
			b.Fatal(err)
		}
		if l[1] == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	return r
}

// cpuTime is the CPU time, user and system, that s's process and its
// children (nginx's workers) have used so far, in clock ticks of 10 ms.
func cpuTime(b *testing.B, s *loadServer) time.Duration {
	b.Helper()
	pid := s.cmd.Process.Pid
	children, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		b.Fatal(err)
	}
	var ticks int64
	for _, p := range append([]string{strconv.Itoa(pid)}, strings.Fields(string(children))...) {
		stat, err := os.ReadFile("/proc/" + p + "/stat")
		if err != nil {
			continue // a child that has just exited
		}
		// utime and stime, the 14th and 15th fields, counted after the
		// command's name, which may hold blanks.
		st := string(stat)
		fields := strings.Fields(st[strings.LastIndexByte(st, ')')+1:])
		for _, f := range fields[11:13] {
			n, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				b.Fatalf("/proc/%s/stat: %v", p, err)
			}
			ticks += n
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// peakMiB returns the peak resident memory of the running process pid, in
// MiB.
func peakMiB(b *testing.B, pid int) float64 {
	b.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb / 1024
		}
	}
	b.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// requireRuntime returns the path of command, skipping the benchmark when it
// is missing, except under CI=true, where that is a failure.
func requireRuntime(b *testing.B, command string) string {
	b.Helper()
	path, err := exec.LookPath(command)
	if err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatalf("%s is not installed: run make bench as root", command)
		}
		b.Skipf("%s is not installed: run make bench as root", command)
	}
	return path
}

// freePort returns a loopback port that was free a moment ago.
func freePort(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// writeFile writes data to path, failing the benchmark on error.
func writeFile(b *testing.B, path, data string) {
	b.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		b.Fatal(err)
	}
}
