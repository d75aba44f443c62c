package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Limits on what verify reads of a target's answer. A rule's answer is a
// status line, a few headers and a body of a few bytes; a target that
// sends more cannot make verify hold more than this per request.
const (
	maxAnswerHeaderBytes = 64 << 10
	maxAnswerBodyBytes   = 64 << 10
)

// errHeaderTooLarge ends the reading of an answer whose status line and
// headers go on past maxAnswerHeaderBytes.
var errHeaderTooLarge = fmt.Errorf("the status line and headers go on past %d bytes", maxAnswerHeaderBytes)

// capReader reads at most n bytes from r, then fails with
// errHeaderTooLarge.
type capReader struct {
	r io.Reader
	n int
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, errHeaderTooLarge
	}
	if len(p) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= n
	return n, err
}

// stopError says why a run stopped before it sent every request.
type stopError struct{ reason string }

func (e *stopError) Error() string { return e.reason }

// errorRun counts the requests in a row that got no answer, and stops the
// run, through cancel, when they reach max (0: never).
type errorRun struct {
	mu     sync.Mutex
	n, max int
	cancel context.CancelCauseFunc
}

// answered records a request's answer; what names the request.
func (e *errorRun) answered(what string, a Answer) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if a.Err == "" {
		e.n = 0
		return
	}
	e.n++
	if e.max > 0 && e.n == e.max {
		e.cancel(&stopError{fmt.Sprintf("%d requests in a row got no answer; the last, %s, got: %s", e.n, what, a.Err)})
	}
}

// stopped returns why ctx's run stopped early, or "" when it did not.
func stopped(ctx context.Context) string {
	if ctx.Err() == nil {
		return ""
	}
	if s, ok := errors.AsType[*stopError](context.Cause(ctx)); ok {
		return s.reason
	}
	return context.Cause(ctx).Error()
}
