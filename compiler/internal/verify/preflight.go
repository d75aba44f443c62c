package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/regedge/regedge/compiler/internal/answer"
	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

// digestPattern is the whole-string form of the digest grammar.
var digestPattern = regexp.MustCompile(`^(?:` + request.Digest + `)$`)

// IsDigest reports whether s is a digest in the grammar of
// docs/request-handling.md, as Probes needs its blob to be: sha256: and
// 64 lower-case hex digits, or sha512: and 128.
func IsDigest(s string) bool { return digestPattern.MatchString(s) }

// ParseEndpoint checks that s is a target's base URL, http:// or https://
// with a host, an optional port and nothing after the host but "/", and
// returns it as scheme://host[:port]. Verify appends each probe's target
// to it, so a path, a query or a fragment would change every request.
func ParseEndpoint(s string) (string, error) {
	const want = "; want an http:// or https:// URL such as http://127.0.0.1:8080"
	if !strings.Contains(s, "://") {
		return "", fmt.Errorf("%q has no scheme%s", s, want)
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("%q is not a URL (%v)%s", s, err, want)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("%q is not http:// or https://%s", s, want)
	case u.Hostname() == "":
		return "", fmt.Errorf("%q has no host%s", s, want)
	case u.User != nil:
		return "", fmt.Errorf("%q holds a user name%s", s, want)
	case u.Path != "" && u.Path != "/":
		return "", fmt.Errorf("%q has a path (verify adds its own)%s", s, want)
	case u.RawQuery != "" || u.ForceQuery:
		return "", fmt.Errorf("%q has a query%s", s, want)
	case strings.Contains(s, "#"):
		return "", fmt.Errorf("%q has a fragment%s", s, want)
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("%q has port %s; want a port from 1 to 65535", s, port)
		}
	}
	// The host as written: u.Host has a zone's escape decoded.
	_, host, _ := strings.Cut(s, "://")
	return u.Scheme + "://" + strings.TrimSuffix(host, "/"), nil
}

// healthTimeout bounds CheckHealth: a target that cannot answer /healthz
// in this time would not answer the probes either.
const healthTimeout = 10 * time.Second

// CheckHealth sends GET /healthz to endpoint and returns an error unless it
// answers as rule 11 says every regedge target does. Verify asks it first,
// so that an endpoint that is down, or is no regedge target, gives one
// error rather than a mismatch for each of thousands of probes.
func CheckHealth(ctx context.Context, p *plan.Plan, endpoint string) error {
	want := answer.For(p, request.Parse(http.MethodGet, "/healthz"), p.Default, nil)
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	req, err := NewRawRequest(ctx, http.MethodGet, strings.TrimRight(endpoint, "/")+"/healthz")
	if err != nil {
		return err
	}
	client := &http.Client{
		Transport:     &http.Transport{Proxy: nil, MaxResponseHeaderBytes: maxAnswerHeaderBytes},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("GET /healthz: %w", err)
	}
	defer resp.Body.Close()
	// 64 bytes tell "ok\n" from anything else, and are enough to quote.
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64))
	if err != nil {
		return fmt.Errorf("GET /healthz: %w", err)
	}
	if resp.StatusCode != want.Status || string(body) != want.Body {
		return fmt.Errorf("GET /healthz answered %d %q, where a regedge target answers %d %q (rule 11)",
			resp.StatusCode, body, want.Status, want.Body)
	}
	return nil
}
