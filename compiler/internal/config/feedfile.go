package config

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/regedge/regedge/compiler/internal/feeds"
)

// feedFile is a feed file as read: its contents, or why it cannot be used.
type feedFile struct {
	src      []byte
	err      error
	tooLarge bool
}

// ReadFeed returns the snapshot of feed f, registered so that diagnostics
// can quote it, or diagnostics saying why it cannot be used: the file
// cannot be read, holds more than feeds.MaxFileBytes, or would bring the
// feed files the policy reads past MaxFeedBytes. Each call counts the file
// again, as each deployment classifies its feeds anew, but a file is read
// only once, and past MaxFeedBytes every call returns the one diagnostic
// that says so.
func (l *Loader) ReadFeed(f *Feed) ([]byte, hcl.Diagnostics) {
	ff, ok := l.feeds[f.File]
	if !ok {
		src, err := l.Reader.ReadFile(f.File, feeds.MaxFileBytes)
		ff = feedFile{src: src, err: err}
		if len(src) > feeds.MaxFileBytes {
			ff = feedFile{tooLarge: true}
		} else if err == nil {
			l.AddSource(f.File, src)
		}
		l.feeds[f.File] = ff
	}
	fail := func(summary, detail string) hcl.Diagnostics {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: f.DefRange.Ptr()}}
	}
	switch {
	case ff.err != nil:
		return nil, fail("Cannot read feed", ff.err.Error()+"; check the feed's file attribute.")
	case ff.tooLarge:
		return nil, fail("Feed file too large", fmt.Sprintf("The file %s is larger than %d MiB, the most a feed file may hold "+
			"(the largest real feed, Azure's, is about 5 MB); check the feed's file attribute.", f.File, feeds.MaxFileBytes>>20))
	case l.tooMuchFeed != nil:
		return nil, l.tooMuchFeed
	}
	if l.feedBytes += len(ff.src); l.feedBytes > MaxFeedBytes {
		l.tooMuchFeed = fail("Feed files too large in all", fmt.Sprintf("With this one, the feed files the policy reads hold more than %d MiB, "+
			"counting a file once for each feed and deployment that reads it; read fewer or smaller feeds, or split the deployments into policies of their own.", MaxFeedBytes>>20))
		return nil, l.tooMuchFeed
	}
	return ff.src, nil
}
