package proxy

import (
	"errors"
	"log/slog"
	"net"
	"time"
)

// RetryAccept wraps ln so that Accept waits out temporary errors, as
// net/http's server does: fasthttp gives up on any error but a timeout, and
// running out of file descriptors under a flood of connections must not
// stop the proxy. Each retry is logged at warn level, with a delay that
// doubles from 5 ms to 1 s.
func RetryAccept(ln net.Listener, log *slog.Logger) net.Listener {
	return retryListener{ln, log}
}

type retryListener struct {
	net.Listener
	log *slog.Logger
}

func (l retryListener) Accept() (net.Conn, error) {
	delay := 5 * time.Millisecond
	for {
		conn, err := l.Listener.Accept()
		// Temporary is deprecated for being vague, but it is exactly
		// what marks EMFILE and ENFILE, which is all this is for.
		var temp interface{ Temporary() bool }
		if err == nil || !errors.As(err, &temp) || !temp.Temporary() {
			return conn, err
		}
		l.log.Warn("accept failed; retrying", "err", err, "in", delay)
		time.Sleep(delay)
		delay = min(2*delay, time.Second)
	}
}
