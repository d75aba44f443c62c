// Package request holds the grammar of the requests a registry answers and
// sorts a request into the rule of docs/request-handling.md that handles it.
// Every target is generated from these patterns.
package request

import (
	"strings"
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
	// Address matches exactly the client addresses the rules accept, as
	// Go's netip.ParseAddr does without a zone: a dotted quad without
	// leading zeros, or IPv6 in RFC 3986's grammar (groups of one to four
	// hex digits, one "::", an optional dotted quad in the last 32 bits).
	Address = `(?:` + ipv4 + `|` + ipv6 + `)`
	octet   = `(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])`
	ipv4    = octet + `(?:\.` + octet + `){3}`
	h16     = `[0-9A-Fa-f]{1,4}`
	ls32    = `(?:` + h16 + `:` + h16 + `|` + ipv4 + `)`
	ipv6    = `(?:(?:` + h16 + `:){6}` + ls32 +
		`|::(?:` + h16 + `:){5}` + ls32 +
		`|(?:` + h16 + `)?::(?:` + h16 + `:){4}` + ls32 +
		`|(?:(?:` + h16 + `:){0,1}` + h16 + `)?::(?:` + h16 + `:){3}` + ls32 +
		`|(?:(?:` + h16 + `:){0,2}` + h16 + `)?::(?:` + h16 + `:){2}` + ls32 +
		`|(?:(?:` + h16 + `:){0,3}` + h16 + `)?::` + h16 + `:` + ls32 +
		`|(?:(?:` + h16 + `:){0,4}` + h16 + `)?::` + ls32 +
		`|(?:(?:` + h16 + `:){0,5}` + h16 + `)?::` + h16 +
		`|(?:(?:` + h16 + `:){0,6}` + h16 + `)?::)`
	// MaxName is the longest repository name accepted, as most clients
	// limit names to 255 characters.
	MaxName = 255
	// MaxPath is the longest path rules 6 to 10 can match: the longest
	// name followed by /manifests/ or /referrers/ and a sha512 digest.
	// Targets refuse a longer path before trying the patterns, which
	// bounds the work a backtracking engine can be made to do.
	MaxPath = len("/v2/") + MaxName + len("/referrers/") + len("sha512:") + 128
	// MaxQuery is the longest query rules 8 and 9 copy into a Location.
	MaxQuery = 1024
	// BadQuery matches a query that rules 8 and 9 must not copy into a
	// Location: a byte outside RFC 3986's query characters (letters,
	// digits, -._~!$&'()*+,;=:@/?), or a "%" not followed by two hex
	// digits. It is a search, not an anchored match, so that no engine
	// backtracks over a long query.
	BadQuery = `[^A-Za-z0-9._~!$&\x27()*+,;=:@/?%-]|%(?:[^0-9A-Fa-f]|.[^0-9A-Fa-f]|.?$)`
	// Unsafe matches a raw request target whose path could escape the
	// repository prefix once decoded or normalised: any percent-encoding,
	// an empty segment, or a dot segment.
	Unsafe = `^[^?]*(?:%|//|/\.\.?(?:[/?]|$))`
	// UnsafeInPath matches the path alone (the target up to its first
	// '?') exactly when Unsafe matches the whole target. Unanchored, it
	// lets a backtracking engine skip to the characters it starts with
	// instead of trying every position of a long path.
	UnsafeInPath = `%|//|/\.\.?(?:/|$)`
	// SafeTarget, for nginx's PCRE, matches a raw request target whose
	// path (up to its first '?' or '#') is empty or starts with '/', and
	// which UnsafeInPath does not match: segments that are not empty,
	// "." or "..", and no '%'. It reads the path once, left to right:
	// each run stops only at a character it cannot hold, so its
	// possessive quantifiers give back nothing a match could need, and
	// the engine never backtracks. nginx tests it with one `if` on
	// $request_uri, which costs a blob request a fifth of what cutting
	// the path out with a map and searching it did.
	SafeTarget = `^(?:/(?:[^?#%/.][^?#%/]*+|\.[^?#%/.][^?#%/]*+|\.\.[^?#%/]++))*+/?(?:[?#]|$)`
	// AbsoluteForm matches the start of an absolute-form request target:
	// a URI scheme in RFC 3986's grammar (a letter, then letters, digits,
	// "+", "-" or "."), then "://", at the very start of the target. A
	// target such as /v2/a://b, ://x or 1http://x is not absolute-form.
	AbsoluteForm = `^[A-Za-z][A-Za-z0-9+.-]*://`
)

// Patterns for each kind of registry request, with the repository captured
// as regedge_repo and the reference as regedge_ref or regedge_digest.
var (
	SignaturePattern = `^/v2/(?<regedge_repo>` + Name + `)/manifests/(?<regedge_ref>` + Signature + `)$`
	ManifestPattern  = `^/v2/(?<regedge_repo>` + Name + `)/manifests/(?<regedge_ref>` + Tag + `|` + Digest + `)$`
	TagsPattern      = `^/v2/(?<regedge_repo>` + Name + `)/tags/list$`
	ReferrersPattern = `^/v2/(?<regedge_repo>` + Name + `)/referrers/(?<regedge_ref>` + Digest + `)$`
	BlobPattern      = `^/v2/(?<regedge_repo>` + Name + `)/blobs/(?<regedge_digest>` + Digest + `)$`
	// BlobPatternPCRE matches what BlobPattern matches, for PCRE, without
	// backing up: a name's runs and separators cannot run into each other,
	// so its quantifiers are possessive, and its segments stop at the
	// slash followed by "blobs/sha256:" or "blobs/sha512:", which only the
	// digest's colon can end, as a name holds none. nginx tries it first
	// on every request; it takes half of BlobPattern's time there.
	BlobPatternPCRE = `^/v2/(?<regedge_repo>` + possessiveComponent + `(?:/(?!blobs/sha(?:256|512):)` + possessiveComponent + `)*+)/blobs/(?<regedge_digest>` + Digest + `)$`
	// possessiveComponent is one segment of Name, possessive.
	possessiveComponent = `[a-z0-9]++(?:(?:\.|__?|-++)[a-z0-9]++)*+`
)

// Kind is what a routed request (rules 6 to 10) asks for; a policy's
// routes choose by it.
type Kind string

// The request kinds.
const (
	KindBlob      Kind = "blob"
	KindManifest  Kind = "manifest"
	KindSignature Kind = "signature"
	KindTags      Kind = "tags"
	KindReferrers Kind = "referrers"
)

// Kinds lists every request kind, in the one order plans and targets list
// them in.
var Kinds = []Kind{KindBlob, KindManifest, KindReferrers, KindSignature, KindTags}

// APIVersionHeader is the header and value rule 5 answers with.
const (
	APIVersionHeader = "Docker-Distribution-Api-Version"
	APIVersion       = "registry/2.0"
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
	Kind Kind
	Repo string
	// Ref is the tag or digest, or for blobs the digest.
	Ref string
	// Query is the raw query, kept for tags and referrers.
	Query string
}

// Parse sorts a request by its method and raw request target in origin
// form (path and query, as sent; see OriginForm). It matches exactly what
// the patterns above match, but by hand: it is on the proxy's hot path,
// where Go's regular expressions would cost microseconds a request.
// FuzzParseMatchesPatterns holds the two to each other.
func Parse(method, target string) Request {
	// Methods are case-sensitive: "get" is not GET.
	if method != "GET" && method != "HEAD" {
		return Request{Rule: RuleMethod}
	}
	// A fragment is not part of the target: nginx and workerd drop it.
	target, _, _ = strings.Cut(target, "#")
	path, query, _ := strings.Cut(target, "?")
	if unsafePath(path) {
		return Request{Rule: RuleUnsafePath}
	}
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
	if len(path) > MaxPath {
		return Request{Rule: RuleNotFound}
	}
	r := routed(path)
	if r.Rule == RuleTags || r.Rule == RuleReferrers {
		if !validQuery(query) {
			return Request{Rule: RuleUnsafePath}
		}
		r.Query = query
	}
	return r
}

// OriginForm returns the path and query of a request target as the rules
// read it. An origin-form target (/path?query) is returned as it is. An
// absolute-form target (http://host/path?query; see AbsoluteForm) gives
// what follows its authority, and "/" when that is empty or starts with a
// query or a fragment. Anything else (the asterisk form, the authority
// form of CONNECT, an empty target, a scheme outside RFC 3986's grammar)
// is returned as it is, for the rules to answer 404: it names no path.
func OriginForm(target string) string {
	if strings.HasPrefix(target, "/") {
		return target
	}
	n := absolutePrefix(target)
	if n == 0 {
		return target
	}
	rest := target[n:]
	// The authority ends at the path, the query or the fragment.
	i := strings.IndexAny(rest, "/?#")
	switch {
	case i < 0:
		return "/"
	case rest[i] == '/':
		return rest[i:]
	}
	return "/" + rest[i:]
}

// absolutePrefix returns the length of the scheme and "://" that start an
// absolute-form target (the AbsoluteForm pattern), or 0 when the target
// does not start with them.
func absolutePrefix(target string) int {
	for i := 0; i < len(target); i++ {
		switch c := target[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':' && strings.HasPrefix(target[i:], "://"):
			return i + len("://")
		default:
			return 0
		}
	}
	return 0
}

// validQuery reports whether rules 8 and 9 may copy a query into a
// Location: at most MaxQuery bytes, none of which BadQuery matches.
func validQuery(q string) bool {
	if len(q) > MaxQuery {
		return false
	}
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-._~!$&'()*+,;=:@/?", c) >= 0:
		case c == '%' && i+2 < len(q) && isHex(q[i+1]) && isHex(q[i+2]):
			i += 2
		default:
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// unsafePath reports whether a raw path holds a percent-encoding, an empty
// segment or a dot segment (the Unsafe pattern).
func unsafePath(path string) bool {
	if strings.Contains(path, "%") || strings.Contains(path, "//") {
		return true
	}
	for i := 0; i < len(path); i++ {
		if path[i] != '/' {
			continue
		}
		seg := path[i+1:]
		if j := strings.IndexByte(seg, '/'); j >= 0 {
			seg = seg[:j]
		}
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// routed sorts a /v2/<name>/... path into rules 6 to 10, or 12.
func routed(path string) Request {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return Request{Rule: RuleNotFound}
	}
	// The reference never holds a slash, so the last two segments decide.
	last := strings.LastIndexByte(rest, '/')
	if last < 0 {
		return Request{Rule: RuleNotFound}
	}
	head, ref := rest[:last], rest[last+1:]
	prev := strings.LastIndexByte(head, '/')
	if prev < 0 {
		return Request{Rule: RuleNotFound}
	}
	repo, verb := head[:prev], head[prev+1:]
	if !validName(repo) {
		return Request{Rule: RuleNotFound}
	}
	r := Request{Repo: repo, Ref: ref}
	switch {
	case verb == "manifests" && isSignature(ref):
		r.Rule, r.Kind = RuleSignature, KindSignature
	case verb == "manifests" && (isTag(ref) || isDigest(ref)):
		r.Rule, r.Kind = RuleManifest, KindManifest
	case verb == "tags" && ref == "list":
		r.Rule, r.Kind, r.Ref = RuleTags, KindTags, ""
	case verb == "referrers" && isDigest(ref):
		r.Rule, r.Kind = RuleReferrers, KindReferrers
	case verb == "blobs" && isDigest(ref):
		r.Rule, r.Kind = RuleBlob, KindBlob
	default:
		return Request{Rule: RuleNotFound}
	}
	return r
}

// validName reports whether s is a repository name (the Name grammar) of at
// most MaxName characters.
func validName(s string) bool {
	if s == "" || len(s) > MaxName {
		return false
	}
	for comp := range strings.SplitSeq(s, "/") {
		if !validComponent(comp) {
			return false
		}
	}
	return true
}

// validComponent reports whether s is runs of [a-z0-9] joined by ".", "_",
// "__" or one or more "-".
func validComponent(s string) bool {
	i := alnumRun(s, 0)
	if i == 0 {
		return false
	}
	for i < len(s) {
		switch s[i] {
		case '.':
			i++
		case '_':
			i++
			if i < len(s) && s[i] == '_' {
				i++
			}
		case '-':
			for i < len(s) && s[i] == '-' {
				i++
			}
		default:
			return false
		}
		j := alnumRun(s, i)
		if j == i {
			return false
		}
		i = j
	}
	return true
}

func alnumRun(s string, i int) int {
	for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= '0' && s[i] <= '9') {
		i++
	}
	return i
}

// isTag reports whether s is a tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
func isTag(s string) bool {
	if s == "" || len(s) > 128 || s[0] == '.' || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// isDigest reports whether s is sha256:<64 hex> or sha512:<128 hex>.
func isDigest(s string) bool {
	if hex, ok := strings.CutPrefix(s, "sha256:"); ok {
		return len(hex) == 64 && lowerHex(hex)
	}
	if hex, ok := strings.CutPrefix(s, "sha512:"); ok {
		return len(hex) == 128 && lowerHex(hex)
	}
	return false
}

// isSignature reports whether s is a cosign sha256-<64 hex>.sig or .att tag.
func isSignature(s string) bool {
	hex, ok := strings.CutPrefix(s, "sha256-")
	if !ok || len(hex) != 68 {
		return false
	}
	hex, suffix := hex[:64], hex[64:]
	return lowerHex(hex) && (suffix == ".sig" || suffix == ".att")
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f') {
			return false
		}
	}
	return true
}
