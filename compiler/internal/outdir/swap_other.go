//go:build !linux

package outdir

// exchange is not available here: swap moves the old output aside.
var exchange = func(a, b string) error { return errNoExchange }

// lock does nothing here: builds into one folder must not overlap, or
// one may delete the other's new folder as a leftover.
func lock(dir string) (unlock func(), err error) { return func() {}, nil }
