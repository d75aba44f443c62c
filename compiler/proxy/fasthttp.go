package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/regedge/regedge/compiler/internal/answer"
	"github.com/regedge/regedge/compiler/request"
)

// Server limits. A request, body included, must arrive within readTimeout;
// its answer must be sent within writeTimeout once decided. No rule reads a
// body: one larger than maxBodyBytes is refused with 413 before the rules.
const (
	readTimeout    = 5 * time.Second
	writeTimeout   = 10 * time.Second
	idleTimeout    = 2 * time.Minute
	maxHeaderBytes = 32 << 10
	maxBodyBytes   = 64 << 10
)

// NewServer returns the server `regedge serve` answers with: h's answers
// and nothing more (no Server or default Content-Type header), fasthttp's
// own lines about malformed requests and broken connections logged at
// debug level, without the request's bytes (they may hold credentials).
// Idle connections give their buffers back: each holds maxHeaderBytes to
// read with, which would add up over many idle keep-alive connections.
func NewServer(h *Handler) *fasthttp.Server {
	return &fasthttp.Server{
		Handler:                      h.HandleFastHTTP,
		ErrorHandler:                 refuse,
		ReadTimeout:                  readTimeout,
		WriteTimeout:                 writeTimeout,
		IdleTimeout:                  idleTimeout,
		ReadBufferSize:               maxHeaderBytes,
		MaxRequestBodySize:           maxBodyBytes,
		DisablePreParseMultipartForm: true,
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		CloseOnShutdown:              true,
		ReduceMemoryUsage:            true,
		SecureErrorLogMessage:        true,
		Logger:                       debugLog{h.log},
	}
}

// refuse answers a request fasthttp could not read, as fasthttp does
// itself except for a body over the limit, which gets 413 rather than 400.
func refuse(ctx *fasthttp.RequestCtx, err error) {
	var small *fasthttp.ErrSmallBuffer
	var timeout net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		ctx.Error("Request Entity Too Large\n", http.StatusRequestEntityTooLarge)
	case errors.As(err, &small):
		ctx.Error("Request Header Fields Too Large\n", http.StatusRequestHeaderFieldsTooLarge)
	case errors.As(err, &timeout) && timeout.Timeout():
		ctx.Error("Request Timeout\n", http.StatusRequestTimeout)
	default:
		ctx.Error("Bad Request\n", http.StatusBadRequest)
	}
}

// debugLog is a fasthttp.Logger writing to an slog.Logger at debug level.
type debugLog struct{ log *slog.Logger }

func (l debugLog) Printf(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...), "server", "fasthttp")
}

// HandleFastHTTP is a fasthttp.RequestHandler. `regedge serve` answers
// through it: fasthttp reuses its request and response objects, so a
// request costs about two thirds of what it does through net/http, whose
// per-request allocations dominate an answer this small.
//
// The check is not tied to ctx, which is done as soon as the server starts
// to shut down: a request in flight then still gets its answer. The
// policy's timeout bounds the check.
//
// A panic is logged, answers 500 and closes the connection: like
// net/http, it ends only that connection, where fasthttp itself would let
// it stop the whole server.
func (h *Handler) HandleFastHTTP(ctx *fasthttp.RequestCtx) {
	defer func() {
		if v := recover(); v != nil {
			h.log.Error("panic answering a request", "target", string(ctx.Request.Header.RequestURI()),
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			ctx.Error("Internal Server Error\n", http.StatusInternalServerError)
			ctx.SetConnectionClose()
		}
	}()
	writeFastAnswer(ctx, h.decide(context.Background(), (*fastRequest)(ctx)))
}

// fastRequest reads a fasthttp request for the rules. Its strings are
// copies: nothing may keep fasthttp's buffers past the handler.
type fastRequest fasthttp.RequestCtx

func (r *fastRequest) ctx() *fasthttp.RequestCtx { return (*fasthttp.RequestCtx)(r) }

func (r *fastRequest) method() string {
	switch c := r.ctx(); {
	case c.IsGet():
		return http.MethodGet
	case c.IsHead():
		return http.MethodHead
	}
	return string(r.ctx().Method())
}

func (r *fastRequest) target() string {
	return request.OriginForm(string(r.ctx().Request.Header.RequestURI()))
}

func (r *fastRequest) header(name string) string {
	lines := r.ctx().Request.Header.PeekAll(name)
	if len(lines) == 1 {
		return string(lines[0])
	}
	return string(bytes.Join(lines, []byte(",")))
}

func (r *fastRequest) peer() netip.Addr {
	tcp, ok := r.ctx().RemoteAddr().(*net.TCPAddr)
	if !ok {
		return netip.Addr{}
	}
	// As net/http's RemoteAddr reads it: an IPv4 client of a dual-stack
	// listener is plain IPv4.
	return tcp.AddrPort().Addr().Unmap()
}

// writeFastAnswer writes res as writeAnswer does through net/http.
func writeFastAnswer(ctx *fasthttp.RequestCtx, res answer.Response) {
	switch res.Status {
	case http.StatusTemporaryRedirect:
		ctx.Response.Header.Set("Location", res.Location)
		ctx.SetStatusCode(res.Status)
	case http.StatusOK:
		for name, value := range res.Headers {
			ctx.Response.Header.Set(name, value)
		}
		ctx.SetStatusCode(res.Status)
		ctx.SetBodyString(res.Body)
	default:
		// What http.Error sends.
		ctx.Error(http.StatusText(res.Status)+"\n", res.Status)
		ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
	}
}
