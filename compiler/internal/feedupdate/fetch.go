package feedupdate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/regedge/regedge/compiler/internal/config"
	"github.com/regedge/regedge/compiler/internal/feeds"
)

// validators are the HTTP validators of a snapshot, sent back so the
// server can answer 304 when the feed has not changed.
type validators struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
}

func (v validators) empty() bool { return v == validators{} }

// download is the answer to one fetch.
type download struct {
	notModified bool
	body        []byte
	validators  validators
}

// fetch GETs rawURL, conditionally when v is not empty. The whole exchange,
// body included, must finish within the updater's timeout, so a server that
// stalls before or during the response fails rather than hangs.
func (u *Updater) fetch(ctx context.Context, rawURL string, v validators) (*download, error) {
	timeout := u.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot fetch: %w", err)
	}
	req.Header.Set("User-Agent", "regedge-feeds-update")
	if v.ETag != "" {
		req.Header.Set("If-None-Match", v.ETag)
	}
	if v.LastModified != "" {
		req.Header.Set("If-Modified-Since", v.LastModified)
	}
	client := u.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("no response within %s", timeout)
		}
		return nil, fmt.Errorf("cannot fetch: %w", withoutURL(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && !v.empty():
		return &download{notModified: true}, nil
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("the server answered %s", resp.Status)
	}
	body, err := config.ReadLimited(resp.Body, feeds.MaxFileBytes)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("the response stalled: the body was not complete within %s", timeout)
		}
		return nil, fmt.Errorf("the response broke off: %w", withoutURL(err))
	}
	if len(body) > feeds.MaxFileBytes {
		return nil, fmt.Errorf("the response is larger than %d MiB", feeds.MaxFileBytes>>20)
	}
	return &download{
		body:       body,
		validators: validators{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")},
	}, nil
}

// withoutURL drops the method and URL net/http puts around an error: the
// result line already names the feed.
func withoutURL(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}
