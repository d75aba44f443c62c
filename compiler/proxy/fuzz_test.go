package proxy

import (
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"testing"

	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

// FuzzClientAddr checks the proxy's client address against the rule the
// nginx target uses, a regular expression over the header (see
// compiler/render/nginx.go) whose capture nginx then parses: both must find
// the same address, for any header value and any number of trusted hops.
func FuzzClientAddr(f *testing.F) {
	f.Add("203.0.113.7, 130.211.0.1", uint8(1))
	f.Add("2001:db8::1,10.0.0.1", uint8(1))
	f.Add(" ::ffff:1.2.3.4 , x", uint8(1))
	f.Add("1.2.3.4", uint8(0))
	f.Add(",,", uint8(2))
	f.Add("fe80::1%eth0, 1.1.1.1", uint8(1))
	f.Add("001.178.1.5, 9.9.9.9", uint8(1))
	f.Add("::ffff:001.178.1.5, 9.9.9.9", uint8(1))
	f.Add("1.178.1.5\u00a0, 9.9.9.9", uint8(1))
	f.Fuzz(func(t *testing.T, value string, hops uint8) {
		hops %= 4
		r := &http.Request{Header: http.Header{"X-Forwarded-For": {value}}}
		got := clientAddr(plan.ClientIP{Header: "X-Forwarded-For", TrustedHops: int(hops)}, (*netRequest)(r))

		re := regexp.MustCompile(fmt.Sprintf(`(?:^|,)[\x20\x09]*(%s)[\x20\x09]*(?:,[^,]*){%d}$`, request.Address, hops))
		var want netip.Addr
		if m := re.FindStringSubmatch(value); m != nil {
			if a, err := netip.ParseAddr(m[1]); err == nil && a.Zone() == "" {
				want = a
			}
		}
		if got != want {
			t.Fatalf("header %q, %d hops: proxy %v, nginx rule %v", value, hops, got, want)
		}
	})
}
