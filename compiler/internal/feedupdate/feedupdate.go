// Package feedupdate refreshes a policy's feed snapshots from their
// publishers. Each feed is fetched with a conditional GET, checked against
// the snapshot it would replace (it must parse, be no older and not lose too
// many prefixes) and only then swapped in atomically, so a bad download
// leaves the old snapshot byte for byte as it was.
package feedupdate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/regedge/regedge/compiler/internal/config"
	"github.com/regedge/regedge/compiler/internal/feeds"
	"github.com/regedge/regedge/compiler/internal/outdir"
)

// DefaultTimeout bounds one fetch, headers and body together.
const DefaultTimeout = 30 * time.Second

// Feed is one snapshot to refresh.
type Feed struct {
	Name   string // how results name the feed
	Format string // one of feeds.Formats()
	File   string // the snapshot on disk
	URL    string // where the publisher serves it
	// MaxShrink is the largest fraction of the snapshot's prefixes the
	// download may lack, from 0 to 1.
	MaxShrink float64
}

// Outcome says what an update did.
type Outcome int

// The outcomes of an update. Only Updated writes the snapshot.
const (
	// Updated: the snapshot was replaced, or created where there was none.
	Updated Outcome = iota
	// Unchanged: the download has the snapshot's version.
	Unchanged
	// NotModified: the server answered the conditional GET with 304.
	NotModified
	// Kept: the update failed, and Err says why.
	Kept
)

// Result is what happened to one feed.
type Result struct {
	Feed    Feed
	Outcome Outcome
	// Old and New are the versions of the snapshot and the download: the
	// syncToken, or the creation time for a format without one. Old is ""
	// when there was no snapshot.
	Old, New string
	Prefixes int   // entries in the download
	Err      error // why the snapshot was kept
	// Diags and Source are the parse problems of a download that did not
	// parse and the download itself, for printing with source lines; the
	// diagnostics name the feed's URL as their file.
	Diags  hcl.Diagnostics
	Source []byte
	// Warning reports a failure to save the HTTP validators, which costs
	// only a full download next time.
	Warning error
	// versionKind names what Old and New are: "syncToken" or "created".
	versionKind string
}

// String returns the result as one line, such as
// "aws: updated 1777433824 → 1785313625 (16424 prefixes)".
func (r Result) String() string {
	switch r.Outcome {
	case Updated:
		if r.Old == "" {
			return fmt.Sprintf("%s: added %s (%s)", r.Feed.Name, r.New, prefixes(r.Prefixes))
		}
		return fmt.Sprintf("%s: updated %s → %s (%s)", r.Feed.Name, r.Old, r.New, prefixes(r.Prefixes))
	case Unchanged:
		return fmt.Sprintf("%s: unchanged (%s %s)", r.Feed.Name, r.versionKind, r.New)
	case NotModified:
		return fmt.Sprintf("%s: unchanged (304)", r.Feed.Name)
	}
	return fmt.Sprintf("%s: kept: %v", r.Feed.Name, r.Err)
}

func prefixes(n int) string {
	if n == 1 {
		return "1 prefix"
	}
	return fmt.Sprintf("%d prefixes", n)
}

// Updater fetches feeds over HTTP.
type Updater struct {
	// Client makes the requests; nil means http.DefaultClient.
	Client *http.Client
	// Timeout bounds each fetch, from the request to the last byte of the
	// body; 0 means DefaultTimeout.
	Timeout time.Duration
}

// UpdateAll updates every feed at once and returns their results in the
// order of fs. Feeds are independent: one failing does not stop the others.
func (u *Updater) UpdateAll(ctx context.Context, fs []Feed) []Result {
	results := make([]Result, len(fs))
	var wg sync.WaitGroup
	for i, f := range fs {
		wg.Go(func() { results[i] = u.Update(ctx, f) })
	}
	wg.Wait()
	return results
}

// Update fetches one feed and replaces its snapshot if the download is a
// valid, newer version that keeps enough of the snapshot's prefixes.
func (u *Updater) Update(ctx context.Context, f Feed) Result {
	r := Result{Feed: f, Outcome: Kept}
	cur, err := readCurrent(f)
	if err != nil {
		r.Err = err
		return r
	}
	var sent validators
	if cur != nil {
		_, r.Old = version(cur.snap)
		sent = cur.validators
	}
	dl, err := u.fetch(ctx, f.URL, sent)
	if err != nil {
		r.Err = err
		return r
	}
	if dl.notModified {
		r.Outcome = NotModified
		return r
	}
	snap, diags := feeds.Parse(f.Format, f.URL, dl.body)
	if diags.HasErrors() {
		r.Err = fmt.Errorf("the download is not a valid %s feed: %s", f.Format, summarize(diags))
		r.Diags, r.Source = diags, dl.body
		return r
	}
	r.versionKind, r.New = version(snap)
	r.Prefixes = len(snap.Entries)
	if cur != nil {
		newer, err := compareVersions(cur.snap, snap)
		if err != nil {
			r.Err = err
			return r
		}
		if !newer {
			// The snapshot stays, but the validators now describe it.
			r.Outcome = Unchanged
			r.Warning = saveMeta(f.File, dl.validators, cur.data)
			return r
		}
		if err := checkShrink(len(cur.snap.Entries), len(snap.Entries), f.MaxShrink); err != nil {
			r.Err = err
			return r
		}
	}
	if err := outdir.ReplaceFile(f.File, dl.body); err != nil {
		r.Err = fmt.Errorf("cannot replace the snapshot: %w", err)
		return r
	}
	r.Outcome = Updated
	r.Warning = saveMeta(f.File, dl.validators, dl.body)
	return r
}

// current is the snapshot on disk.
type current struct {
	data       []byte
	snap       *feeds.Snapshot
	validators validators // from the sidecar, if it describes data
}

// readCurrent reads and parses f's snapshot, or returns nil if there is
// none yet.
func readCurrent(f Feed) (*current, error) {
	data, err := config.Disk{}.ReadFile(f.File, feeds.MaxFileBytes)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the snapshot: %w", err)
	}
	if len(data) > feeds.MaxFileBytes {
		return nil, fmt.Errorf("the snapshot %s is larger than %d MiB, the most a feed file may hold; replace it, or delete it to download the feed afresh", f.File, feeds.MaxFileBytes>>20)
	}
	snap, diags := feeds.Parse(f.Format, f.File, data)
	if diags.HasErrors() {
		return nil, fmt.Errorf("the snapshot %s does not parse (%s); fix it, or delete it to download the feed afresh", f.File, summarize(diags))
	}
	return &current{data: data, snap: snap, validators: loadMeta(f.File, data)}, nil
}
