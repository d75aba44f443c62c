package proxy

import (
	"net"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/regedge/regedge/compiler/internal/plantest"
)

// BenchmarkHandleFastHTTP measures the handler's own work per request of
// the load benchmark's mix, as `regedge serve` runs it, metrics included,
// outside the server: a manifest, a blob for a client with no site and a
// blob whose existence answer is cached.
func BenchmarkHandleFastHTTP(b *testing.B) {
	m := newMirror(b)
	h := New(plantest.Plan(m.URL), WithMetrics(NewMetrics()))
	peer := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	var ctxs []*fasthttp.RequestCtx
	for _, r := range []struct{ target, client string }{
		{"/v2/pause/manifests/3.10", clientDefault},
		{"/v2/pause/blobs/" + presentDigest, clientOther},
		{"/v2/pause/blobs/" + presentDigest, clientEast},
	} {
		var req fasthttp.Request
		req.Header.SetMethod("GET")
		req.SetRequestURI(r.target)
		req.Header.Set("X-Forwarded-For", xff(r.client))
		ctx := new(fasthttp.RequestCtx)
		ctx.Init(&req, peer, nil)
		ctxs = append(ctxs, ctx)
	}
	serve := func(i int) {
		ctx := ctxs[i%len(ctxs)]
		ctx.Response.Reset()
		h.HandleFastHTTP(ctx)
		if ctx.Response.StatusCode() != 307 {
			b.Fatalf("status %d", ctx.Response.StatusCode())
		}
	}
	for i := range ctxs {
		serve(i) // fills the existence cache
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		serve(i)
		i++
	}
}
