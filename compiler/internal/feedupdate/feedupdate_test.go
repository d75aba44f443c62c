package feedupdate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regedge/regedge/compiler/internal/feeds"
)

// awsFeed returns an AWS feed with the given syncToken, creation time and
// n IPv4 prefixes.
func awsFeed(token, created string, n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "{\n  \"syncToken\": %q,\n  \"createDate\": %q,\n  \"prefixes\": [", token, created)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n    {\"ip_prefix\": \"10.%d.0.0/16\", \"region\": \"us-east-1\", \"service\": \"AMAZON\", \"network_border_group\": \"us-east-1\"}", i)
	}
	b.WriteString("\n  ],\n  \"ipv6_prefixes\": []\n}\n")
	return []byte(b.String())
}

// oracleFeed returns an Oracle feed created at the given time.
func oracleFeed(created string) []byte {
	return fmt.Appendf(nil, `{"last_updated_timestamp": %q, "regions": [{"region": "us-phoenix-1", "cidrs": [{"cidr": "129.146.0.0/21", "tags": ["OCI"]}]}]}`, created)
}

// gcpFeed returns a GCP feed with the given syncToken and one prefix.
func gcpFeed(token, created string) []byte {
	return fmt.Appendf(nil, `{"syncToken": %q, "creationTime": %q, "prefixes": [{"ipv4Prefix": "34.1.208.0/20", "service": "Google Cloud", "scope": "africa-south1"}]}`, token, created)
}

// serveBytes answers every request with 200 and body.
func serveBytes(body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
}

// serveStatus answers every request with code.
func serveStatus(code int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) })
}

// serve runs h on 127.0.0.1 for the test and counts its requests.
func serve(t *testing.T, h http.Handler) (string, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/feed.json", &hits
}

// snapshotDir holds one snapshot file, or none when data is nil, and
// returns its path.
func snapshotDir(t *testing.T, data []byte) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "feeds", "feed.json")
	if data != nil {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return file
}

// checkFile fails unless file holds want (nil: does not exist) and no
// temporary file is left beside it.
func checkFile(t *testing.T, file string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(file)
	switch {
	case want == nil && err == nil:
		t.Errorf("%s exists, want none", filepath.Base(file))
	case want != nil && err != nil:
		t.Errorf("reading the snapshot: %v", err)
	case !bytes.Equal(got, want):
		t.Errorf("snapshot:\n%s\nwant:\n%s", got, want)
	}
	entries, _ := os.ReadDir(filepath.Dir(file))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left beside the snapshot: %s", e.Name())
		}
	}
}

func TestUpdate(t *testing.T) {
	old := awsFeed("100", "2026-04-01-00-00-00", 20)
	tests := []struct {
		name      string
		format    string
		current   []byte       // nil: no snapshot yet
		handler   http.Handler // nil: nothing listens
		maxShrink float64
		want      string
		wantFile  []byte // nil: the current snapshot
		outcome   Outcome
	}{
		{
			name:    "newer",
			current: old, handler: serveBytes(awsFeed("200", "2026-07-01-00-00-00", 21)),
			want:     "aws: updated 100 → 200 (21 prefixes)",
			wantFile: awsFeed("200", "2026-07-01-00-00-00", 21),
			outcome:  Updated,
		},
		{
			name:    "first download",
			handler: serveBytes(awsFeed("200", "2026-07-01-00-00-00", 1)),
			want:    "aws: added 200 (1 prefix)", wantFile: awsFeed("200", "2026-07-01-00-00-00", 1),
			outcome: Updated,
		},
		{
			name:    "tokens compare as numbers",
			current: awsFeed("99", "2026-04-01-00-00-00", 1), handler: serveBytes(awsFeed("100", "2026-04-01-00-00-00", 1)),
			want: "aws: updated 99 → 100 (1 prefix)", wantFile: awsFeed("100", "2026-04-01-00-00-00", 1),
			outcome: Updated,
		},
		{
			name:    "same version is not rewritten",
			current: old, handler: serveBytes(bytes.ReplaceAll(old, []byte("\n"), nil)),
			want: "aws: unchanged (syncToken 100)", outcome: Unchanged,
		},
		{
			name:    "truncated",
			current: old, handler: serveBytes(awsFeed("200", "2026-07-01-00-00-00", 21)[:200]),
			want:    "aws: kept: the download is not a valid aws feed: Truncated JSON at line 6, column 7",
			outcome: Kept,
		},
		{
			name:    "empty body",
			current: old, handler: serveBytes(nil),
			want:    "aws: kept: the download is not a valid aws feed: Truncated JSON at line 1, column 1",
			outcome: Kept,
		},
		{
			name:    "empty prefix list",
			current: old, handler: serveBytes(awsFeed("200", "2026-07-01-00-00-00", 0)),
			want:    "aws: kept: the download is not a valid aws feed: Feed has no prefixes at line 4, column 15",
			outcome: Kept,
		},
		{
			name:    "bad prefixes",
			current: old, handler: serveBytes(bytes.ReplaceAll(awsFeed("200", "2026-07-01-00-00-00", 21), []byte(".0.0/16"), []byte(".0.1/16"))),
			want:    `aws: kept: the download is not a valid aws feed: Prefix has host bits set at line 5, column 19 (and 20 more problems)`,
			outcome: Kept,
		},
		{
			name:    "older syncToken",
			current: old, handler: serveBytes(awsFeed("50", "2026-07-01-00-00-00", 20)),
			want:    "aws: kept: the download's syncToken 50 is older than the snapshot's 100",
			outcome: Kept,
		},
		{
			name:    "older creation time",
			current: old, handler: serveBytes(awsFeed("100", "2026-03-01-00-00-00", 20)),
			want:    "aws: kept: the download's creation time 2026-03-01-00-00-00 is older than the snapshot's 2026-04-01-00-00-00",
			outcome: Kept,
		},
		{
			name:    "server error",
			current: old, handler: serveStatus(http.StatusInternalServerError),
			want: "aws: kept: the server answered 500 Internal Server Error", outcome: Kept,
		},
		{
			name:    "not found",
			current: old, handler: serveStatus(http.StatusNotFound),
			want: "aws: kept: the server answered 404 Not Found", outcome: Kept,
		},
		{
			name:    "304 to an unconditional request",
			current: old, handler: serveStatus(http.StatusNotModified),
			want: "aws: kept: the server answered 304 Not Modified", outcome: Kept,
		},
		{
			name:    "shrink beyond the limit",
			current: old, handler: serveBytes(awsFeed("200", "2026-07-01-00-00-00", 18)),
			maxShrink: 0.05,
			want:      "aws: kept: the download lists 18 prefixes, 10.0% fewer than the snapshot's 20 (at most 5% may go)",
			outcome:   Kept,
		},
		{
			name:    "shrink at the limit",
			current: old, handler: serveBytes(awsFeed("200", "2026-07-01-00-00-00", 19)),
			maxShrink: 0.05,
			want:      "aws: updated 100 → 200 (19 prefixes)", wantFile: awsFeed("200", "2026-07-01-00-00-00", 19),
			outcome: Updated,
		},
		{
			name:    "shrink within a larger limit",
			current: old, handler: serveBytes(awsFeed("200", "2026-07-01-00-00-00", 18)),
			maxShrink: 0.1,
			want:      "aws: updated 100 → 200 (18 prefixes)", wantFile: awsFeed("200", "2026-07-01-00-00-00", 18),
			outcome: Updated,
		},
		{
			name:    "no shrink allowed",
			current: old, handler: serveBytes(awsFeed("200", "2026-07-01-00-00-00", 19)),
			want:    "aws: kept: the download lists 19 prefixes, 5.0% fewer than the snapshot's 20 (at most 0% may go)",
			outcome: Kept,
		},
		{
			name:    "body shorter than its length",
			current: old,
			handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "1000")
				w.Write(old[:100])
			}),
			want: "aws: kept: the response broke off: unexpected EOF", outcome: Kept,
		},
		{
			name:    "broken snapshot",
			current: old[:50], handler: serveBytes(awsFeed("200", "2026-07-01-00-00-00", 20)),
			want:    "aws: kept: the snapshot FILE does not parse (Truncated JSON at line 3, column 27); fix it, or delete it to download the feed afresh",
			outcome: Kept,
		},
		{
			name:    "oracle: newer creation time",
			format:  "oracle",
			current: oracleFeed("2026-07-28T22:08:53.541087"), handler: serveBytes(oracleFeed("2026-07-29T01:00:00.000001")),
			want:     "aws: updated 2026-07-28T22:08:53.541087 → 2026-07-29T01:00:00.000001 (1 prefix)",
			wantFile: oracleFeed("2026-07-29T01:00:00.000001"),
			outcome:  Updated,
		},
		{
			name:    "oracle: older creation time",
			format:  "oracle",
			current: oracleFeed("2026-07-28T22:08:53.541087"), handler: serveBytes(oracleFeed("2026-06-30T23:59:59.999999")),
			want:    "aws: kept: the download's creation time 2026-06-30T23:59:59.999999 is older than the snapshot's 2026-07-28T22:08:53.541087",
			outcome: Kept,
		},
		{
			name:    "oracle: same creation time",
			format:  "oracle",
			current: oracleFeed("2026-07-28T22:08:53.541087"), handler: serveBytes(oracleFeed("2026-07-28T22:08:53.541087")),
			want: "aws: unchanged (created 2026-07-28T22:08:53.541087)", outcome: Unchanged,
		},
		{
			name:    "gcp: millisecond tokens",
			format:  "gcp",
			current: gcpFeed("1777428430858", "2026-04-28T19:07:10.85862"), handler: serveBytes(gcpFeed("1785333953849", "2026-07-29T07:05:53.849365")),
			want:     "aws: updated 1777428430858 → 1785333953849 (1 prefix)",
			wantFile: gcpFeed("1785333953849", "2026-07-29T07:05:53.849365"),
			outcome:  Updated,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			format := tt.format
			if format == "" {
				format = "aws"
			}
			file := snapshotDir(t, tt.current)
			url, hits := serve(t, tt.handler)
			f := Feed{Name: "aws", Format: format, File: file, URL: url, MaxShrink: tt.maxShrink}
			r := (&Updater{Timeout: 5 * time.Second}).Update(context.Background(), f)
			if got := strings.ReplaceAll(r.String(), file, "FILE"); got != tt.want {
				t.Errorf("result:\n%s\nwant:\n%s", got, tt.want)
			}
			if r.Outcome != tt.outcome {
				t.Errorf("outcome %d, want %d", r.Outcome, tt.outcome)
			}
			if (r.Diags != nil) != strings.Contains(tt.want, "not a valid") {
				t.Errorf("diagnostics %v", r.Diags)
			}
			if r.Diags != nil && r.Diags[0].Subject.Filename != url {
				t.Errorf("diagnostics name %q, want the URL", r.Diags[0].Subject.Filename)
			}
			if r.Warning != nil {
				t.Errorf("warning: %v", r.Warning)
			}
			want := tt.wantFile
			if want == nil {
				want = tt.current
			}
			checkFile(t, file, want)
			if tt.name == "broken snapshot" && hits.Load() != 0 {
				t.Errorf("fetched %d times with a broken snapshot, want none", hits.Load())
			}
		})
	}
}

func TestUpdateRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/feed.json"
	srv.Close()
	old := awsFeed("1", "2026-01-01-00-00-00", 1)
	file := snapshotDir(t, old)
	r := (&Updater{}).Update(context.Background(), Feed{Name: "aws", Format: "aws", File: file, URL: url})
	if want := "aws: kept: cannot fetch: dial tcp " + strings.TrimPrefix(srv.URL, "http://") + ": connect: connection refused"; r.String() != want {
		t.Errorf("result:\n%s\nwant:\n%s", r, want)
	}
	checkFile(t, file, old)
}

func TestUpdateTimeouts(t *testing.T) {
	body := awsFeed("2", "2026-07-01-00-00-00", 5)
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{
			name:    "no headers",
			handler: func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
			want:    "aws: kept: no response within 200ms",
		},
		{
			name: "headers, then no body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", fmt.Sprint(len(body)))
				w.WriteHeader(http.StatusOK)
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			},
			want: "aws: kept: the response stalled: the body was not complete within 200ms",
		},
		{
			name: "half the body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write(body[:len(body)/2])
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			},
			want: "aws: kept: the response stalled: the body was not complete within 200ms",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := awsFeed("1", "2026-01-01-00-00-00", 5)
			file := snapshotDir(t, old)
			url, _ := serve(t, tt.handler)
			start := time.Now()
			r := (&Updater{Timeout: 200 * time.Millisecond}).Update(context.Background(), Feed{Name: "aws", Format: "aws", File: file, URL: url})
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %s with a 200ms timeout", took)
			}
			if r.String() != tt.want {
				t.Errorf("result:\n%s\nwant:\n%s", r, tt.want)
			}
			checkFile(t, file, old)
		})
	}
}

// zeros reads as endless NUL bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestUpdateTooLarge keeps the snapshot when the download or the snapshot
// holds more than a feed file may, reading no more of either than that.
func TestUpdateTooLarge(t *testing.T) {
	old := awsFeed("1", "2026-01-01-00-00-00", 1)
	file := snapshotDir(t, old)
	url, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, zeros{}) // until the client hangs up
	}))
	r := (&Updater{}).Update(context.Background(), Feed{Name: "aws", Format: "aws", File: file, URL: url})
	if want := "aws: kept: the response is larger than 64 MiB"; r.String() != want {
		t.Errorf("result:\n%s\nwant:\n%s", r, want)
	}
	checkFile(t, file, old)

	huge := snapshotDir(t, nil)
	os.MkdirAll(filepath.Dir(huge), 0o755)
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(feeds.MaxFileBytes + 1) // sparse: nothing written
	f.Close()
	url, hits := serve(t, serveBytes(awsFeed("2", "2026-07-01-00-00-00", 1)))
	r = (&Updater{}).Update(context.Background(), Feed{Name: "aws", Format: "aws", File: huge, URL: url})
	if want := "aws: kept: the snapshot " + huge + " is larger than 64 MiB, the most a feed file may hold; replace it, or delete it to download the feed afresh"; r.String() != want {
		t.Errorf("result:\n%s\nwant:\n%s", r, want)
	}
	if hits.Load() != 0 {
		t.Errorf("fetched %d times with a snapshot too large, want none", hits.Load())
	}
	if info, err := os.Stat(huge); err != nil || info.Size() != feeds.MaxFileBytes+1 {
		t.Errorf("the snapshot changed: %v %v", info, err)
	}
}

// validatorServer serves body with an ETag and a Last-Modified time,
// answering conditional requests with 304, and records each request's
// conditional headers.
type validatorServer struct {
	body []byte
	etag string
	seen []string
}

func (s *validatorServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.seen = append(s.seen, fmt.Sprintf("If-None-Match=%s If-Modified-Since=%s", r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")))
	if s.etag != "" {
		w.Header().Set("ETag", s.etag)
	}
	modified := time.Date(2026, 7, 29, 8, 27, 5, 0, time.UTC)
	http.ServeContent(w, r, "", modified, bytes.NewReader(s.body))
}

func TestUpdateConditional(t *testing.T) {
	old := awsFeed("100", "2026-04-01-00-00-00", 3)
	next := awsFeed("200", "2026-07-01-00-00-00", 3)
	file := snapshotDir(t, old)
	srv := &validatorServer{body: next, etag: `"v200"`}
	url, _ := serve(t, srv)
	u := &Updater{Timeout: 5 * time.Second}
	f := Feed{Name: "aws", Format: "aws", File: file, URL: url}
	update := func(want string) {
		t.Helper()
		if r := u.Update(context.Background(), f); r.String() != want || r.Warning != nil {
			t.Errorf("result:\n%s (warning %v)\nwant:\n%s", r, r.Warning, want)
		}
	}

	// The first fetch has no validators to send, and saves the answer's.
	update("aws: updated 100 → 200 (3 prefixes)")
	checkFile(t, file, next)
	wantMeta := fmt.Sprintf("{\n  \"etag\": \"\\\"v200\\\"\",\n  \"last_modified\": \"Wed, 29 Jul 2026 08:27:05 GMT\",\n  \"sha256\": %q\n}\n", hash(next))
	if got, _ := os.ReadFile(file + MetaSuffix); string(got) != wantMeta {
		t.Errorf("sidecar:\n%s\nwant:\n%s", got, wantMeta)
	}

	// The second sends them and gets 304; nothing is written.
	before, _ := os.Stat(file)
	update("aws: unchanged (304)")
	after, _ := os.Stat(file)
	if !after.ModTime().Equal(before.ModTime()) {
		t.Error("the snapshot was rewritten after a 304")
	}
	checkFile(t, file, next)

	// A snapshot changed by hand no longer matches its validators, so they
	// are not sent, and the full download replaces it.
	if err := os.WriteFile(file, old, 0o644); err != nil {
		t.Fatal(err)
	}
	update("aws: updated 100 → 200 (3 prefixes)")
	checkFile(t, file, next)

	// A snapshot with the download's version keeps its bytes but gains the
	// validators, so the next fetch can be conditional.
	sameVersion := bytes.ReplaceAll(next, []byte("\n"), nil)
	if err := os.WriteFile(file, sameVersion, 0o644); err != nil {
		t.Fatal(err)
	}
	update("aws: unchanged (syncToken 200)")
	checkFile(t, file, sameVersion)
	update("aws: unchanged (304)")

	// A server that stops sending validators leaves no stale sidecar.
	srv.etag = ""
	srv.body = awsFeed("300", "2026-08-01-00-00-00", 3)
	update("aws: updated 200 → 300 (3 prefixes)")
	wantMeta = fmt.Sprintf("{\n  \"last_modified\": \"Wed, 29 Jul 2026 08:27:05 GMT\",\n  \"sha256\": %q\n}\n", hash(srv.body))
	if got, _ := os.ReadFile(file + MetaSuffix); string(got) != wantMeta {
		t.Errorf("sidecar:\n%s\nwant:\n%s", got, wantMeta)
	}

	lm := "Wed, 29 Jul 2026 08:27:05 GMT"
	wantSeen := []string{
		"If-None-Match= If-Modified-Since=",
		`If-None-Match="v200" If-Modified-Since=` + lm,
		"If-None-Match= If-Modified-Since=",
		"If-None-Match= If-Modified-Since=",
		`If-None-Match="v200" If-Modified-Since=` + lm,
		`If-None-Match="v200" If-Modified-Since=` + lm,
	}
	if !slices.Equal(srv.seen, wantSeen) {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(srv.seen, "\n"), strings.Join(wantSeen, "\n"))
	}
}

func TestUpdateDropsSidecar(t *testing.T) {
	old := awsFeed("100", "2026-04-01-00-00-00", 3)
	file := snapshotDir(t, old)
	if err := os.WriteFile(file+MetaSuffix, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	url, _ := serve(t, serveBytes(awsFeed("200", "2026-07-01-00-00-00", 3)))
	r := (&Updater{}).Update(context.Background(), Feed{Name: "aws", Format: "aws", File: file, URL: url})
	if r.Outcome != Updated || r.Warning != nil {
		t.Fatalf("result %s, warning %v", r, r.Warning)
	}
	if _, err := os.Stat(file + MetaSuffix); !os.IsNotExist(err) {
		t.Errorf("the sidecar is still there (%v)", err)
	}
}

func TestUpdateAll(t *testing.T) {
	good := serveBytes(awsFeed("200", "2026-07-01-00-00-00", 3))
	goodURL, _ := serve(t, good)
	badURL, _ := serve(t, serveStatus(http.StatusBadGateway))
	hangURL, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	old := awsFeed("100", "2026-04-01-00-00-00", 3)
	fs := []Feed{
		{Name: "hang", Format: "aws", File: snapshotDir(t, old), URL: hangURL},
		{Name: "bad", Format: "aws", File: snapshotDir(t, old), URL: badURL},
		{Name: "good", Format: "aws", File: snapshotDir(t, old), URL: goodURL},
	}
	var got []string
	for _, r := range (&Updater{Timeout: 2 * time.Second}).UpdateAll(context.Background(), fs) {
		got = append(got, r.String())
	}
	want := []string{
		"hang: kept: no response within 2s",
		"bad: kept: the server answered 502 Bad Gateway",
		"good: updated 100 → 200 (3 prefixes)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("results:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	checkFile(t, fs[0].File, old)
	checkFile(t, fs[1].File, old)
	checkFile(t, fs[2].File, awsFeed("200", "2026-07-01-00-00-00", 3))
}
