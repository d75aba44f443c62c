package verify

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// NewRawRequest builds a request for rawURL whose path and query go on the
// wire exactly as written. Probing a registry for path escapes needs paths
// such as /v2/../x and /v2/foo%2fbar, which Go would otherwise clean or
// re-encode.
func NewRawRequest(ctx context.Context, method, rawURL string) (*http.Request, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok || (scheme != "http" && scheme != "https") {
		return nil, fmt.Errorf("%q is not an http:// or https:// URL", rawURL)
	}
	host, target := rest, "/"
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		host, target = rest[:i], rest[i:]
		if target[0] == '?' {
			target = "/" + target
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, scheme+"://"+host, nil)
	if err != nil {
		return nil, err
	}
	path, query, hasQuery := strings.Cut(target, "?")
	req.URL.RawQuery, req.URL.ForceQuery = query, hasQuery && query == ""
	if !strings.HasPrefix(path, "//") {
		req.URL.Opaque = path
		return req, nil
	}
	// URL.RequestURI turns an Opaque starting with // into an absolute
	// URL, so send such a path through Path and RawPath instead.
	req.URL.Path, err = url.PathUnescape(path)
	req.URL.RawPath = path
	if err != nil || req.URL.EscapedPath() != path {
		return nil, fmt.Errorf("cannot send path %q verbatim", path)
	}
	return req, nil
}
