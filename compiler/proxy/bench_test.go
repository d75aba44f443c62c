package proxy

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// discard is a ResponseWriter that keeps only its header map, which it
// clears for the next request, as net/http's server allocates a new one.
type discard struct{ header http.Header }

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             { clear(d.header) }

// BenchmarkServeHTTP measures the handler's own work per request of the
// load benchmark's mix, metrics included, outside net/http: a manifest, a
// blob for a client with no site and a blob whose existence answer is
// cached.
func BenchmarkServeHTTP(b *testing.B) {
	m := newMirror(b)
	h := New(testPlan(m.URL), WithMetrics(NewMetrics()))
	var requests []*http.Request
	for _, r := range []struct{ target, client string }{
		{"/v2/pause/manifests/3.10", clientDefault},
		{"/v2/pause/blobs/" + presentDigest, clientOther},
		{"/v2/pause/blobs/" + presentDigest, clientEast},
	} {
		req := httptest.NewRequest(http.MethodGet, r.target, nil)
		req.Header.Set("X-Forwarded-For", xff(r.client))
		requests = append(requests, req)
	}
	w := &discard{header: make(http.Header)}
	for _, r := range requests {
		h.ServeHTTP(w, r) // fills the existence cache
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		h.ServeHTTP(w, requests[i%len(requests)])
		i++
	}
}
