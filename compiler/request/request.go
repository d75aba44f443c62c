// Package request holds the grammar of the requests a registry answers and
// sorts a request into the rule of docs/request-handling.md that handles it.
// Every target is generated from these patterns.
package request

import (
	"regexp"
	"strings"

	"github.com/regedge/regedge/compiler/config"
)

// Grammars from the OCI distribution spec, as regular expressions that both
// Go and PCRE accept.
const (
	// Name is a repository name.
	Name = `[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*`
	// Tag is a manifest tag.
	Tag = `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`
	// Digest is a content digest. Only the algorithms registries use are
	// accepted, each with its exact length.
	Digest = `sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}`
	// Signature is a cosign signature or attestation tag.
	Signature = `sha256-[a-f0-9]{64}\.(?:sig|att)`
	// MaxName is the longest repository name accepted, as most clients
	// limit names to 255 characters.
	MaxName = 255
	// Unsafe matches a raw request target whose path could escape the
	// repository prefix once decoded or normalised: any percent-encoding,
	// an empty segment, or a dot segment.
	Unsafe = `^[^?]*(?:%|//|/\.\.?(?:[/?]|$))`
)

// Patterns for each kind of registry request, with the repository captured
// as regedge_repo and the reference as regedge_ref or regedge_digest.
var (
	SignaturePattern = `^/v2/(?<regedge_repo>` + Name + `)/manifests/(?<regedge_ref>` + Signature + `)$`
	ManifestPattern  = `^/v2/(?<regedge_repo>` + Name + `)/manifests/(?<regedge_ref>` + Tag + `|` + Digest + `)$`
	TagsPattern      = `^/v2/(?<regedge_repo>` + Name + `)/tags/list$`
	ReferrersPattern = `^/v2/(?<regedge_repo>` + Name + `)/referrers/(?<regedge_ref>` + Digest + `)$`
	BlobPattern      = `^/v2/(?<regedge_repo>` + Name + `)/blobs/(?<regedge_digest>` + Digest + `)$`
)

// Rule is the rule of docs/request-handling.md that answers a request.
type Rule int

// The rules, numbered as in docs/request-handling.md.
const (
	RuleMethod     Rule = 1
	RuleUnsafePath Rule = 2
	RuleInfo       Rule = 3
	RulePrivacy    Rule = 4
	RuleVersion    Rule = 5
	RuleSignature  Rule = 6
	RuleManifest   Rule = 7
	RuleTags       Rule = 8
	RuleReferrers  Rule = 9
	RuleBlob       Rule = 10
	RuleHealth     Rule = 11
	RuleNotFound   Rule = 12
)

// Request is a request sorted by rule.
type Request struct {
	Rule Rule
	// Kind is the routing kind for rules 6 to 10.
	Kind config.Kind
	Repo string
	// Ref is the tag or digest, or for blobs the digest.
	Ref string
	// Query is the raw query, kept for tags and referrers.
	Query string
}

var kinds = []struct {
	rule    Rule
	kind    config.Kind
	pattern *regexp.Regexp
}{
	{RuleSignature, config.KindSignature, regexp.MustCompile(SignaturePattern)},
	{RuleManifest, config.KindManifest, regexp.MustCompile(ManifestPattern)},
	{RuleTags, config.KindTags, regexp.MustCompile(TagsPattern)},
	{RuleReferrers, config.KindReferrers, regexp.MustCompile(ReferrersPattern)},
	{RuleBlob, config.KindBlob, regexp.MustCompile(BlobPattern)},
}

var unsafe = regexp.MustCompile(Unsafe)

// Parse sorts a request by its method and raw request target (path and
// query, as sent).
func Parse(method, target string) Request {
	if method != "GET" && method != "HEAD" {
		return Request{Rule: RuleMethod}
	}
	if unsafe.MatchString(target) {
		return Request{Rule: RuleUnsafePath}
	}
	path, query, _ := strings.Cut(target, "?")
	switch path {
	case "/":
		return Request{Rule: RuleInfo}
	case "/privacy":
		return Request{Rule: RulePrivacy}
	case "/v2", "/v2/":
		return Request{Rule: RuleVersion}
	case "/healthz":
		return Request{Rule: RuleHealth}
	}
	for _, k := range kinds {
		m := k.pattern.FindStringSubmatch(path)
		if m == nil {
			continue
		}
		if len(m[1]) > MaxName {
			return Request{Rule: RuleNotFound}
		}
		r := Request{Rule: k.rule, Kind: k.kind, Repo: m[1]}
		if len(m) > 2 {
			r.Ref = m[2]
		}
		if k.rule == RuleTags || k.rule == RuleReferrers {
			r.Query = query
		}
		return r
	}
	return Request{Rule: RuleNotFound}
}
