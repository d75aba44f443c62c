package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serveTimeout bounds each wait for serve: loading the shipped policy takes
// a fraction of a second, more on a busy machine.
const serveTimeout = 60 * time.Second

// serveProcess is `regedge serve` running as a child process (the test
// binary, which testscript.Main put on PATH as regedge), its stderr read
// line by line. Every line must be a JSON object.
type serveProcess struct {
	t      *testing.T
	cmd    *exec.Cmd
	lines  chan string // stderr's lines; closed when serve closes stderr
	seen   []string
	exited bool
}

// startServe starts serve with the policy's external endpoints on
// loopback (the blob mirror of unknown clients at cdn) and args, and
// kills it when the test ends.
func startServe(t *testing.T, cdn string, args ...string) *serveProcess {
	t.Helper()
	override := filepath.Join(t.TempDir(), "override.hcl")
	if err := os.WriteFile(override, []byte(loopbackOverride(cdn)), 0o666); err != nil {
		t.Fatal(err)
	}
	return startServeWith(t, override, args...)
}

// loopbackOverride points the shipped policy's external endpoints at
// loopback, the blob mirror of unknown clients at cdn.
func loopbackOverride(cdn string) string {
	return `upstream "artifact-registry" {
  endpoint = "http://127.0.0.1:9"
}
site "s3" {
  url = "http://127.0.0.1:9/${each.key}"
}
site "cloudfront" {
  url = "` + cdn + `"
}
`
}

// startServeWith starts serve with the override file override and args,
// and kills it when the test ends.
func startServeWith(t *testing.T, override string, args ...string) *serveProcess {
	t.Helper()
	args = append([]string{"serve", "-override", override, "-listen", "127.0.0.1:0"}, args...)
	cmd := exec.Command("regedge", args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &serveProcess{t: t, cmd: cmd, lines: make(chan string)}
	go func() {
		defer close(s.lines)
		scanner := bufio.NewScanner(stderr)
		scanner.Buffer(nil, 1<<20)
		for scanner.Scan() {
			s.lines <- scanner.Text()
		}
	}()
	t.Cleanup(func() {
		if !s.exited {
			cmd.Process.Kill()
			for range s.lines {
			}
			cmd.Wait()
		}
	})
	return s
}

// next returns serve's next stderr line, parsed, or false at its end.
func (s *serveProcess) next(deadline <-chan time.Time) (map[string]any, bool) {
	s.t.Helper()
	select {
	case line, ok := <-s.lines:
		if !ok {
			return nil, false
		}
		s.seen = append(s.seen, line)
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			s.t.Fatalf("serve wrote a line that is not JSON (%v):\n%s", err, line)
		}
		return entry, true
	case <-deadline:
		s.t.Fatalf("serve said nothing for %v; its log so far:\n%s", serveTimeout, strings.Join(s.seen, "\n"))
	}
	return nil, false
}

// waitFor reads serve's log until a line whose msg starts with prefix, and
// returns that line. It fails the test if serve ends first.
func (s *serveProcess) waitFor(prefix string) map[string]any {
	s.t.Helper()
	deadline := time.After(serveTimeout)
	for {
		entry, ok := s.next(deadline)
		if !ok {
			s.t.Fatalf("serve ended (%v) before logging %q; its log:\n%s", s.cmd.Wait(), prefix, strings.Join(s.seen, "\n"))
		}
		if msg, _ := entry["msg"].(string); strings.HasPrefix(msg, prefix) {
			return entry
		}
	}
}

// stop sends SIGTERM, reads the rest of the log and fails the test unless
// serve exits 0.
func (s *serveProcess) stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	deadline := time.After(serveTimeout)
	for {
		if _, ok := s.next(deadline); !ok {
			break
		}
	}
	s.exited = true
	if err := s.cmd.Wait(); err != nil {
		s.t.Fatalf("serve: %v; its log:\n%s", err, strings.Join(s.seen, "\n"))
	}
}

// TestServeSIGHUPWhileStarting sends SIGHUP every few milliseconds from
// the moment serve starts loading its policy until it listens: serve
// neither dies (SIGHUP's default action) nor loses the reload, which
// happens once it listens.
func TestServeSIGHUPWhileStarting(t *testing.T) {
	for range 3 {
		s := startServe(t, "http://127.0.0.1:9")
		s.waitFor("loading policy")
		listening := make(chan struct{})
		hups := make(chan int, 1)
		go func() {
			n := 0
			defer func() { hups <- n }()
			for {
				select {
				case <-listening:
					return
				default:
				}
				if s.cmd.Process.Signal(syscall.SIGHUP) != nil {
					return
				}
				n++
				time.Sleep(5 * time.Millisecond)
			}
		}()
		addr := s.waitFor("listening")["addr"].(string)
		close(listening)
		if n := <-hups; n == 0 {
			t.Fatal("no SIGHUP was sent before serve listened")
		}
		s.waitFor("reloaded")
		checkHealthz(t, addr)
		s.stop()
	}
}

// TestServeSIGTERMWhileStarting stops serve while it loads its policy,
// from an override that is a FIFO no one writes, so that the load never
// ends: serve exits 0 without waiting for it.
func TestServeSIGTERMWhileStarting(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "override.hcl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServeWith(t, fifo)
	s.waitFor("loading policy")
	s.stop()
	log := strings.Join(s.seen, "\n")
	for _, want := range []string{`"msg":"shutting down"`, `"msg":"stopped"`} {
		if !strings.Contains(log, want) {
			t.Errorf("no %s in serve's log:\n%s", want, log)
		}
	}
	if strings.Contains(log, `"msg":"listening"`) {
		t.Errorf("serve listened, though its policy never loaded:\n%s", log)
	}
}

// TestServeReloadThatNeverEnds reloads from an override that has become a
// FIFO no one writes: the old policy keeps serving, further SIGHUPs queue
// one reload behind the stuck one, and SIGTERM still stops serve with 0.
func TestServeReloadThatNeverEnds(t *testing.T) {
	override := filepath.Join(t.TempDir(), "override.hcl")
	if err := os.WriteFile(override, []byte(loopbackOverride("http://127.0.0.1:9")), 0o666); err != nil {
		t.Fatal(err)
	}
	s := startServeWith(t, override)
	addr := s.waitFor("listening")["addr"].(string)
	if err := os.Remove(override); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(override, 0o600); err != nil {
		t.Fatal(err)
	}
	// The first SIGHUP's reload blocks, the next is queued behind it, and
	// any after that find one queued.
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	s.waitFor("reloading")
	queued := make(chan struct{})
	go func() {
		for {
			select {
			case <-queued:
				return
			case <-time.After(20 * time.Millisecond):
				s.cmd.Process.Signal(syscall.SIGHUP)
			}
		}
	}()
	s.waitFor("a reload is already queued")
	close(queued)
	if strings.Count(strings.Join(s.seen, "\n"), `"msg":"reloading"`) != 1 {
		t.Errorf("a reload began while the first was stuck:\n%s", strings.Join(s.seen, "\n"))
	}
	checkHealthz(t, addr)
	s.stop()
}

// checkHealthz fails the test unless serve at addr answers /healthz 200.
func checkHealthz(t *testing.T, addr string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %d", resp.StatusCode)
	}
}

// TestServeLogsOnlyJSON has serve check a blob at a mirror that answers
// the HEAD with a body. net/http's transport then complains, through the
// standard logger, of an unsolicited response on an idle connection: that
// line, like every other, must be JSON.
func TestServeLogsOnlyJSON(t *testing.T) {
	mirror, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mirror.Close()
	go func() {
		for {
			conn, err := mirror.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				// Read the HEAD, answer it with a body, and keep the
				// connection open so that the body reaches the idle pool.
				r := bufio.NewReader(conn)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if line == "\r\n" {
						conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
					}
				}
			}()
		}
	}()

	s := startServe(t, "http://"+mirror.Addr().String(), "-log-level", "debug")
	addr := s.waitFor("listening")["addr"].(string)
	req, _ := http.NewRequest("GET", "http://"+addr+"/v2/pause/blobs/sha256:"+strings.Repeat("0", 64), nil)
	req.Header.Set("X-Forwarded-For", "192.0.2.1, 127.0.0.1")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("blob: %d", resp.StatusCode)
	}
	entry := s.waitFor("Unsolicited response received on idle HTTP channel")
	if entry["level"] != "WARN" {
		t.Errorf("net/http's line is logged at %v, want WARN", entry["level"])
	}
	s.stop()
}

// TestServeLogEscapesWhatTerminalsActOn sends targets with U+202E, which
// turns a line around on a terminal, and a byte that is not UTF-8: the
// decision lines show both escaped, as Go quotes them.
func TestServeLogEscapesWhatTerminalsActOn(t *testing.T) {
	s := startServe(t, "http://127.0.0.1:9", "-log-level", "debug")
	addr := s.waitFor("listening")["addr"].(string)
	for target, want := range map[string]string{
		"/v2/\u202epause/tags/list": `/v2/\u202epause/tags/list`,
		"/v2/\xffpause/tags/list":   `/v2/\xffpause/tags/list`,
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", target)
		io.Copy(io.Discard, conn)
		conn.Close()
		if got := s.waitFor("decision")["target"]; got != want {
			t.Errorf("target %q is logged as %q, want %q", target, got, want)
		}
	}
	s.stop()
}
