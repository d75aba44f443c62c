package scriptcmd

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

const halfcloseUsage = "usage: halfclose [-H 'Name: value']... URL"

// cmdHalfClose sends GET URL with the -H headers on a connection of its
// own and closes the connection's sending half as soon as the request is
// written, as some clients and load balancers do. It prints the answer as
// httpget does: the client still wants it.
func cmdHalfClose(ts *testscript.TestScript, neg bool, args []string) {
	headers := http.Header{}
	fs := flag.NewFlagSet("halfclose", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Func("H", "", headerFlag(headers))
	if neg || fs.Parse(args) != nil || fs.NArg() != 1 {
		ts.Fatalf(halfcloseUsage)
	}
	out, err := halfClose(fs.Arg(0), headers)
	if err != nil {
		ts.Fatalf("halfclose: %v", err)
	}
	fmt.Fprint(ts.Stdout(), out)
}

func halfClose(rawURL string, headers http.Header) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" {
		return "", fmt.Errorf("%q is not an http URL", rawURL)
	}
	conn, err := net.DialTimeout("tcp", u.Host, client.Timeout)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(client.Timeout))
	var req strings.Builder
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\n", u.RequestURI(), u.Host)
	headers.Write(&req)
	req.WriteString("Connection: close\r\n\r\n")
	if _, err := io.WriteString(conn, req.String()); err != nil {
		return "", err
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return "", fmt.Errorf("GET %s, then the end of the request stream: no answer (%w)", rawURL, err)
	}
	resp.Body.Close()
	out := fmt.Sprintf("STATUS %d\n", resp.StatusCode)
	for _, v := range resp.Header.Values("Location") {
		out += "Location: " + v + "\n"
	}
	return out, nil
}
