package plan

import (
	"strings"

	"github.com/regedge/regedge/compiler/request"
)

// DigestPlaceholder marks where a site's blob path puts the digest.
const DigestPlaceholder = "{digest}"

// Base is the upstream's URL up to a repository name: its endpoint, /v2/
// and its repository prefix.
func (u Upstream) Base() string {
	return u.Endpoint + "/v2/" + u.Prefix
}

// URL is where the upstream serves a request of the given kind for
// repository name: Base, the name, then /manifests/<ref>, /blobs/<ref>,
// /tags/list or /referrers/<ref>. A query, kept only for tags and
// referrers, follows a "?" when it is not empty.
func (u Upstream) URL(kind request.Kind, name, ref, query string) string {
	url := u.Base() + "/" + name
	switch kind {
	case request.KindBlob:
		url += "/blobs/" + ref
	case request.KindTags:
		url += "/tags/list"
	case request.KindReferrers:
		url += "/referrers/" + ref
	default:
		url += "/manifests/" + ref
	}
	if query != "" {
		url += "?" + query
	}
	return url
}

// BlobURL is where the site keeps the blob with the given digest: its URL
// followed by its blob path, the digest in place of DigestPlaceholder.
func (s Site) BlobURL(digest string) string {
	before, after := s.BlobURLParts()
	return before + digest + after
}

// BlobURLParts splits the site's blob URL around the digest, for targets
// that put the digest in at run time.
func (s Site) BlobURLParts() (before, after string) {
	before, after, _ = strings.Cut(s.URL+s.BlobPath, DigestPlaceholder)
	return before, after
}
