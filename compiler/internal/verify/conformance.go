package verify

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/regedge/regedge/compiler/internal/answer"
	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

// statusHTTP09 stands for an answer without a status line: what a server
// sends to a request line it reads as HTTP/0.9 (one without a version).
const statusHTTP09 = 9

// statusClosed stands for no answer at all: the server closed or reset
// the connection before sending a byte of one.
const statusClosed = -1

// caseTimeout bounds one corpus request, answer included. A target that
// waits for more of a malformed request gives up well within it.
const caseTimeout = 15 * time.Second

// CaseMismatch is a corpus request whose answer the rules do not allow.
type CaseMismatch struct {
	Case string `json:"case"`
	// Request is the request as sent, quoted, and cut short if long.
	Request string `json:"request"`
	Want    Answer `json:"want"`
	// Refusable is true when any 4xx would also have done.
	Refusable bool   `json:"refusable,omitempty"`
	Got       Answer `json:"got"`
}

// runCorpus sends every corpus case to the endpoint, each on a connection
// of its own, and returns how many were answered and the cases answered
// otherwise than the rules say, allowing for the refusals the corpus
// records for target (for every target when target is ""). It stops
// sending when ctx is done; errs counts the cases that got no answer.
func runCorpus(ctx context.Context, cfg Config, mirrors *mirrorState, errs *errorRun) (int, []CaseMismatch) {
	cases := corpus(cfg.Plan, cfg.Blob, corpusClient(cfg.Plan))
	var mu sync.Mutex
	var out []CaseMismatch
	answered := 0
	work := make(chan Case)
	var wg sync.WaitGroup
	for range max(cfg.Concurrency, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				want := c.answer(ctx, cfg.Plan, mirrors)
				got := sendRaw(ctx, cfg.Endpoint, c, want)
				if ctx.Err() != nil {
					continue
				}
				errs.answered("corpus case "+strconv.Quote(c.Name), got)
				mu.Lock()
				answered++
				if !allowed(c, cfg.Target, want, got) {
					out = append(out, CaseMismatch{Case: c.Name, Request: clip(strconv.Quote(c.wire()), 300), Want: want, Refusable: c.Refusable, Got: got})
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, c := range cases {
		select {
		case work <- c:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	sortCaseMismatches(out)
	return answered, out
}

// allowed reports whether got is an answer the rules allow for the case
// from target: the rules' own answer, any 4xx for a request HTTP/1.1
// forbids, or the refusal the corpus records for the target's parser.
func allowed(c Case, target string, want, got Answer) bool {
	if same(want, got) {
		return true
	}
	if got.Err != "" {
		return false
	}
	if c.Refusable && got.Status >= 400 && got.Status < 500 {
		return true
	}
	for t, status := range c.Refused {
		if (target == "" || t == target) && got.Status == status {
			return true
		}
	}
	return false
}

// answer is the rules' answer to the case: the target read from the
// request line alone, the client from the case's own header lines.
func (c Case) answer(ctx context.Context, p *plan.Plan, mirrors *mirrorState) Answer {
	r := request.Parse(c.Method, request.OriginForm(c.Target))
	res := answer.For(p, r, c.label(p), func(_, url string) bool { return mirrors.exists(ctx, url) })
	return Answer{Status: res.Status, Location: res.Location, Headers: res.Headers}
}

// label is the label of the case's client: verify's own loopback address
// when the plan takes the TCP peer, else the entry of the client header's
// lines, read as every target reads them.
func (c Case) label(p *plan.Plan) int {
	if p.ClientIP.Header == "" {
		return p.Lookup(netip.MustParseAddr("127.0.0.1"))
	}
	var lines []string
	for _, h := range c.Headers {
		if name, value, ok := strings.Cut(h, ":"); ok && strings.EqualFold(name, p.ClientIP.Header) {
			lines = append(lines, value)
		}
	}
	if lines == nil {
		return p.Default
	}
	addr := answer.HeaderClient(strings.Join(lines, ","), p.ClientIP.TrustedHops)
	if !addr.IsValid() {
		return p.Default
	}
	return p.Lookup(addr)
}

// sendRaw writes the case's bytes to a new connection to the endpoint and
// reads the answer's status and Location, and the headers want requires.
func sendRaw(ctx context.Context, endpoint string, c Case, want Answer) Answer {
	u, err := url.Parse(endpoint)
	if err != nil {
		return Answer{Err: err.Error()}
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	ctx, cancel := context.WithTimeout(ctx, caseTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return Answer{Err: err.Error()}
	}
	defer conn.Close()
	if u.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{ServerName: u.Hostname()})
		if err := tc.HandshakeContext(ctx); err != nil {
			return Answer{Err: err.Error()}
		}
		conn = tc
	}
	// The case's deadline, or the run's end, cuts a read or write short.
	defer context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })()
	// A server may answer before it has read the whole request (a body it
	// does not want, say), and then close the connection or stop reading:
	// the answer is read while the request is written, and it counts.
	written := make(chan error, 1)
	go func() {
		_, err := io.WriteString(conn, c.wire())
		written <- err
	}()
	a := readRaw(conn, c.Method, want)
	if a.Err != "" {
		if err := <-written; err != nil {
			if closed(err) {
				return Answer{Status: statusClosed}
			}
			return Answer{Err: err.Error()}
		}
	}
	return a
}

// readRaw reads the answer to a corpus request from conn: its status and
// Location, and the headers want requires.
func readRaw(conn net.Conn, method string, want Answer) Answer {
	// Interim answers and the final one's headers share the limit; the
	// final answer's body is not read.
	capped := &capReader{r: conn, n: maxAnswerHeaderBytes}
	br := bufio.NewReader(capped)
	start, err := br.Peek(5)
	if len(start) == 0 && closed(err) {
		return Answer{Status: statusClosed}
	}
	if err == nil && string(start) != "HTTP/" {
		return Answer{Status: statusHTTP09}
	}
	for {
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			// Cut short by the limit, the last line may read as malformed.
			if capped.n <= 0 {
				err = errHeaderTooLarge
			}
			return Answer{Err: "no answer: " + err.Error()}
		}
		// An interim answer (100 Continue) comes before the final one.
		if resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			continue
		}
		return answerFrom(resp, want)
	}
}

// closed reports whether err says the server closed or reset the
// connection.
func closed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func sortCaseMismatches(ms []CaseMismatch) {
	slices.SortFunc(ms, func(a, b CaseMismatch) int { return strings.Compare(a.Case, b.Case) })
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("... (%d bytes)", len(s))
}
