package exists

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestExistsUnresolvable checks that a mirror whose name does not resolve
// counts as absent, is not cached, and answers within the timeout. The
// resolver asks a loopback port where no DNS server listens, so the test
// never leaves the machine.
func TestExistsUnresolvable(t *testing.T) {
	resolver := &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, refusedAddr(t))
		},
	}
	client := &http.Client{
		Transport: &http.Transport{DialContext: (&net.Dialer{Resolver: resolver}).DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	c := New(testConfig, Options{Client: client})
	start := time.Now()
	got := c.Exists(context.Background(), "east", "http://mirror.regedge.test/containers/images/blob")
	if took := time.Since(start); took > time.Duration(testConfig.Timeout)+time.Second {
		t.Errorf("the check took %v", took)
	}
	var dnsErr *net.DNSError
	if got.Present || got.Cached || !errors.As(got.Err, &dnsErr) {
		t.Errorf("Exists = %+v, want absent with a DNS error", got)
	}
	if c.Len() != 0 {
		t.Errorf("Len = %d: a name that did not resolve was cached", c.Len())
	}
}

// refusedAddr returns a loopback TCP address nothing listens on.
func refusedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
