package exists

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/regedge/regedge/compiler/plan"
)

// health is one site's state by docs/request-handling.md's health rule:
// down after DownAfter checks in a row got no answer, for DownFor, doubled
// each time a trial check fails, up to DownForMax. While a site is down no
// check is made, but for one trial once the period is over.
type health struct {
	// downFlag mirrors down, so that a site that is up costs no lock.
	downFlag  atomic.Bool
	mu        sync.Mutex
	failures  int           // checks in a row that got no answer
	down      bool          // the site is down
	until     time.Time     // end of the current down period
	period    time.Duration // length of the current down period
	trialOpen bool          // a trial check is under way
}

// A Change is a site going down or coming back up.
type Change struct {
	Site string
	Up   bool
	// Failures is the checks in a row that got no answer.
	Failures int
	// For is how long the site is down before the next trial; 0 when Up.
	For time.Duration
}

func (h *health) isDown() bool { return h.downFlag.Load() }

// allow says whether a check may ask the site now, and whether that check
// is the trial of a site that is down.
func (h *health) allow(now time.Time) (ok, trial bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case !h.down:
		return true, false
	case h.trialOpen || now.Before(h.until):
		return false, false
	}
	h.trialOpen = true
	return true, true
}

// record notes a check's outcome, answered or not, and returns the change
// it makes, if any: a failed trial keeps the site down, longer, and is no
// change. config holds the thresholds.
func (h *health) record(now time.Time, answered, trial bool, config plan.Check) (Change, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	defer func() { h.downFlag.Store(h.down) }()
	if trial {
		h.trialOpen = false
	}
	if answered {
		wasDown := h.down
		h.failures, h.down, h.period = 0, false, 0
		return Change{Up: true}, wasDown
	}
	h.failures++
	switch {
	case h.down && trial:
		h.period = min(2*h.period, time.Duration(config.DownForMax))
		h.until = now.Add(h.period)
		return Change{}, false
	case h.down:
		// A check that started before the site went down.
		return Change{}, false
	case config.DownAfter > 0 && h.failures >= config.DownAfter:
		h.down, h.period = true, time.Duration(config.DownFor)
		h.until = now.Add(h.period)
		return Change{Failures: h.failures, For: h.period}, true
	}
	return Change{}, false
}
