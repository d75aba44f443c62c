package feedupdate

import (
	"fmt"

	"github.com/regedge/regedge/compiler/internal/config"
)

// FromPolicies lists the feeds of a policy's deployments, each snapshot
// file once, in the order the policy declares them. A deployment that
// points a shared file at another URL or format is an error, since one file
// cannot hold both. Feeds that share a name but not a file are named with
// their file too.
func FromPolicies(policies []*config.Policy) ([]Feed, error) {
	type owner struct {
		feed       *config.Feed
		deployment string
	}
	var out []Feed
	seen := map[string]owner{}
	names := map[string]int{}
	for _, p := range policies {
		for _, f := range p.Feeds {
			if prev, ok := seen[f.File]; ok {
				if prev.feed.URL != f.URL || prev.feed.Format != f.Format {
					return nil, fmt.Errorf("%s fetches %s from %s (format %s), but %s fetches it from %s (format %s); give each its own file",
						describe(f, p.Deployment), f.File, f.URL, f.Format, describe(prev.feed, prev.deployment), prev.feed.URL, prev.feed.Format)
				}
				continue
			}
			seen[f.File] = owner{f, p.Deployment}
			names[f.Name]++
			out = append(out, Feed{
				Name:      f.Name,
				Format:    f.Format,
				File:      f.File,
				URL:       f.URL,
				MaxShrink: f.MaxShrink,
			})
		}
	}
	for i, f := range out {
		if names[f.Name] > 1 {
			out[i].Name = fmt.Sprintf("%s (%s)", f.Name, f.File)
		}
	}
	return out, nil
}

// describe names a feed, and its deployment if it has one.
func describe(f *config.Feed, deployment string) string {
	if deployment == "" {
		return fmt.Sprintf("feed %q", f.Name)
	}
	return fmt.Sprintf("feed %q of deployment %q", f.Name, deployment)
}
