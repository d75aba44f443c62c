package proxy

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/regedge/regedge/compiler/internal/answer"
	"github.com/regedge/regedge/compiler/request"
)

// ServeHTTP implements http.Handler, for embedding the proxy in a Go
// server; `regedge serve` answers through HandleFastHTTP.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	writeAnswer(w, h.decide(r.Context(), (*netRequest)(r)))
}

// netRequest reads a net/http request for the rules.
type netRequest http.Request

func (r *netRequest) method() string { return r.Method }

func (r *netRequest) target() string { return request.OriginForm(r.RequestURI) }

func (r *netRequest) header(name string) string {
	return strings.Join(r.Header.Values(name), ",")
}

func (r *netRequest) peer() netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	addr, _ := netip.ParseAddr(host)
	return addr
}

func writeAnswer(w http.ResponseWriter, res answer.Response) {
	hdr := w.Header()
	switch res.Status {
	case http.StatusTemporaryRedirect:
		hdr["Location"] = []string{res.Location}
		w.WriteHeader(res.Status)
	case http.StatusOK:
		for name, value := range res.Headers {
			hdr.Set(name, value)
		}
		w.WriteHeader(res.Status)
		w.Write([]byte(res.Body))
	default:
		http.Error(w, http.StatusText(res.Status), res.Status)
	}
}
