package scriptcmd

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

const slowheaderUsage = "usage: slowheader [-c N] [-every DURATION] [-within DURATION] URL"

// cmdSlowHeader opens N connections to URL's server, each of which sends
// URL's request line and then a header one byte every DURATION, never
// ending it. While they trickle, it asks for URL once on a connection of
// its own and prints the answer as httpget does. It then waits for the
// server to close every slow connection, which must happen within
// -within of its start, and prints how many it closed.
func cmdSlowHeader(ts *testscript.TestScript, neg bool, args []string) {
	s, err := parseSlowHeader(args)
	if neg || err != nil {
		ts.Fatalf("%s: %v", slowheaderUsage, err)
	}
	out, err := s.run()
	if err != nil {
		ts.Fatalf("slowheader: %v", err)
	}
	fmt.Fprint(ts.Stdout(), out)
}

// slowHeader is one parsed slowheader command line.
type slowHeader struct {
	conns         int
	every, within time.Duration
	url           string
}

func parseSlowHeader(args []string) (*slowHeader, error) {
	s := &slowHeader{}
	fs := flag.NewFlagSet("slowheader", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.IntVar(&s.conns, "c", 10, "")
	fs.DurationVar(&s.every, "every", time.Second, "")
	fs.DurationVar(&s.within, "within", 15*time.Second, "")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() != 1:
		return nil, errors.New("want exactly one URL")
	case s.conns < 1 || s.conns > 1000:
		return nil, fmt.Errorf("-c %d is not between 1 and 1000", s.conns)
	case s.every <= 0 || s.within <= 0:
		return nil, errors.New("-every and -within must be positive")
	}
	s.url = fs.Arg(0)
	return s, nil
}

// run trickles the slow connections, asks for the URL meanwhile, and
// returns the answer and the count of slow connections the server closed.
func (s *slowHeader) run() (string, error) {
	u, err := url.Parse(s.url)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return "", fmt.Errorf("%q is not an http:// URL", s.url)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	head := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nX-Slow: "
	var wg sync.WaitGroup
	cut := make([]bool, s.conns)
	for i := range s.conns {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return "", err
		}
		if !write(conn, head) {
			conn.Close()
			return "", fmt.Errorf("the server closed slow connection %d at once", i+1)
		}
		wg.Go(func() {
			defer conn.Close()
			cut[i] = s.trickle(conn)
		})
	}
	// Ask while every slow connection is part-way through its header.
	time.Sleep(2 * s.every)
	answer, err := (&httpGet{method: http.MethodGet, headers: http.Header{}, url: s.url}).do()
	wg.Wait()
	if err != nil {
		return "", fmt.Errorf("while %d connections trickled: %v", s.conns, err)
	}
	n := 0
	for _, c := range cut {
		if c {
			n++
		}
	}
	if n < s.conns {
		return "", fmt.Errorf("%d of %d slow connections were still open after %v", s.conns-n, s.conns, s.within)
	}
	return fmt.Sprintf("%s%d slow connections closed\n", answer, n), nil
}

// trickle sends one header byte every s.every until the server closes
// the connection, and reports whether it did so within s.within.
func (s *slowHeader) trickle(conn net.Conn) bool {
	deadline := time.Now().Add(s.within)
	buf := make([]byte, 512)
	for time.Now().Before(deadline) {
		conn.SetReadDeadline(time.Now().Add(s.every))
		_, err := conn.Read(buf)
		var ne net.Error
		switch {
		case err == nil:
			// An answer (such as a 408) before the server closes.
		case errors.As(err, &ne) && ne.Timeout():
			if !write(conn, "a") {
				return true
			}
		default:
			return true
		}
	}
	return false
}
