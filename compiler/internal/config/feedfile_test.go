package config

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/regedge/regedge/compiler/internal/feeds"
)

// sizedReader serves files of zeros of the given sizes, a size of -1 as a
// file with no end, and counts the reads of each.
type sizedReader struct {
	sizes map[string]int
	reads map[string]int
}

func (r *sizedReader) ReadFile(name string, limit int) ([]byte, error) {
	r.reads[name]++
	n, ok := r.sizes[name]
	switch {
	case !ok:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	case n < 0 || n > limit:
		n = limit + 1 // what a limited read of it gives
	}
	return make([]byte, n), nil
}

func TestReadFeed(t *testing.T) {
	r := &sizedReader{sizes: map[string]int{"small.json": 10, "big.json": 40 << 20, "/dev/zero": -1}, reads: map[string]int{}}
	l := NewLoader(r)
	feed := func(file string, line int) *Feed {
		return &Feed{File: file, DefRange: hcl.Range{Filename: "p.hcl", Start: hcl.Pos{Line: line}}}
	}
	summary := func(diags hcl.Diagnostics) string {
		var s []string
		for _, d := range diags {
			s = append(s, fmt.Sprintf("%s@%s:%d", d.Summary, d.Subject.Filename, d.Subject.Start.Line))
		}
		return strings.Join(s, "; ")
	}
	for _, c := range []struct {
		feed      *Feed
		wantBytes int
		want      string
	}{
		{feed("small.json", 1), 10, ""},
		{feed("/dev/zero", 2), 0, "Feed file too large@p.hcl:2"},
		{feed("missing.json", 3), 0, "Cannot read feed@p.hcl:3"},
		// The same file counts once for each feed and deployment.
		{feed("big.json", 4), 40 << 20, ""},
		{feed("big.json", 5), 40 << 20, ""},
		{feed("big.json", 6), 40 << 20, ""},
		{feed("big.json", 7), 0, "Feed files too large in all@p.hcl:7"},
		// Past the limit, every feed gets the one diagnostic again.
		{feed("small.json", 8), 0, "Feed files too large in all@p.hcl:7"},
	} {
		src, diags := l.ReadFeed(c.feed)
		if len(src) != c.wantBytes || summary(diags) != c.want {
			t.Errorf("%s at line %d: %d bytes, %q; want %d bytes, %q", c.feed.File, c.feed.DefRange.Start.Line, len(src), summary(diags), c.wantBytes, c.want)
		}
	}
	for name, n := range r.reads {
		if n != 1 {
			t.Errorf("%s read %d times, want once", name, n)
		}
	}
	if _, ok := l.Files()["/dev/zero"]; ok {
		t.Error("the file too large is kept for diagnostics")
	}
	if f := l.Files()["small.json"]; f == nil || len(f.Bytes) != 10 {
		t.Error("small.json is not kept for diagnostics")
	}
}

// TestLoadEndlessPolicy refuses a policy file with no end, such as
// /dev/zero, having read no more of it than a policy may hold and a byte.
func TestLoadEndlessPolicy(t *testing.T) {
	r := &sizedReader{sizes: map[string]int{"policy.hcl": -1}, reads: map[string]int{}}
	l := NewLoader(r)
	_, diags := l.Load("policy.hcl", "")
	if len(diags) != 1 || diags[0].Summary != "Policy file too large" || diags[0].Subject.Start.Byte != MaxPolicyBytes {
		t.Errorf("got %v, want one Policy file too large at byte %d", diags, MaxPolicyBytes)
	}
	if n := len(l.Files()["policy.hcl"].Bytes); n != MaxPolicyBytes+1 {
		t.Errorf("kept %d bytes of the policy, want %d", n, MaxPolicyBytes+1)
	}
}

// TestReadLimited reads no more than the limit and one byte.
func TestReadLimited(t *testing.T) {
	got, err := ReadLimited(endless{}, feeds.MaxFileBytes)
	if err != nil || len(got) != feeds.MaxFileBytes+1 {
		t.Errorf("read %d bytes, %v; want %d", len(got), err, feeds.MaxFileBytes+1)
	}
	if _, err := (Disk{}).ReadFile("testdata/no-such-file", 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("reading a missing file: %v", err)
	}
}

// endless reads as zeros without end.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
