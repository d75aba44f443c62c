// Package config reads a regedge policy. It parses the HCL, applies an
// override file and each deployment's changes, evaluates expressions and
// checks every value against a strict grammar.
//
// It exposes the policy as written, with source ranges for every value, rather
// than the result of evaluating it against the feeds: that is the plan's job.
package config

import (
	"io"
	"os"
	"path"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/regedge/regedge/compiler/internal/diag"
)

// Reader reads the files a policy names: the policy itself, its override and
// the feed snapshots.
type Reader interface {
	// ReadFile returns a file's contents, or only its first limit+1 bytes
	// if it is longer: the caller refuses it as too large, without reading
	// all of a huge file, a device such as /dev/zero or a FIFO.
	ReadFile(name string, limit int) ([]byte, error)
}

// Disk reads files from the file system.
type Disk struct{}

// ReadFile implements Reader. A FIFO is read as any other file, waiting
// for its writer: reading one that no one writes as empty would silently
// load an empty override. serve reloads apart from its signals, so such a
// wait never keeps it from stopping.
func (Disk) ReadFile(name string, limit int) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadLimited(f, limit)
}

// ReadLimited reads r to its end, or only its first limit+1 bytes.
func ReadLimited(r io.Reader, limit int) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, int64(limit)+1))
}

// Loader parses policy files and keeps their sources so diagnostics can quote
// them.
type Loader struct {
	Reader Reader
	Parser *hclparse.Parser
	// feeds holds each feed file read, or why it could not be;
	// feedBytes counts what ReadFeed has handed out, and tooMuchFeed says
	// that it passed MaxFeedBytes.
	feeds       map[string]feedFile
	feedBytes   int
	tooMuchFeed hcl.Diagnostics
}

// NewLoader returns a Loader that reads through r.
func NewLoader(r Reader) *Loader {
	return &Loader{Reader: r, Parser: hclparse.NewParser(), feeds: map[string]feedFile{}}
}

// Files returns every file read so far, by name, for rendering diagnostics.
func (l *Loader) Files() map[string]*hcl.File { return l.Parser.Files() }

// AddSource registers a non-HCL file (a feed) so that diagnostics pointing
// into it can show the offending line.
func (l *Loader) AddSource(name string, src []byte) {
	l.Parser.AddFile(name, &hcl.File{Bytes: src})
}

// Load reads the policy file and, if overridePath is not empty, the override
// file, and returns one decoded policy per deployment.
func (l *Loader) Load(policyPath, overridePath string) ([]*Policy, hcl.Diagnostics) {
	base, diags := l.parse(policyPath, "policy")
	if base == nil {
		return nil, diags
	}
	if overridePath != "" {
		over, d := l.parse(overridePath, "override")
		diags = append(diags, d...)
		if over != nil {
			diags = append(diags, mergeBody(base, over, "override")...)
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	variants, d := splitDeployments(base)
	diags = append(diags, d...)
	var policies []*Policy
	budget := float64(MaxWork)
	for _, v := range variants {
		p, d := decode(v.body, l.Reader, &budget)
		p.Deployment = v.name
		diags = diag.AppendNew(diags, d...)
		policies = append(policies, p)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return policies, diags
}

// parse reads and parses one file; what names it ("policy" or "override")
// for the error when it cannot be read.
func (l *Loader) parse(name, what string) (*hclsyntax.Body, hcl.Diagnostics) {
	src, err := l.Reader.ReadFile(name, MaxPolicyBytes)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read " + what + " file",
			Detail:   err.Error() + "; check the -" + what + " flag.",
		}}
	}
	if diags := checkSource(name, src); diags.HasErrors() {
		l.AddSource(name, src) // for the diagnostic's source line
		return nil, diags
	}
	f, diags := l.Parser.ParseHCL(src, name)
	if f == nil {
		return nil, diags
	}
	if diags.HasErrors() {
		return nil, diags
	}
	body := f.Body.(*hclsyntax.Body)
	if diags := countBlocks(body); diags.HasErrors() {
		return nil, diags
	}
	return body, diags
}

// Resolve returns name relative to the directory of the file that mentions it.
func Resolve(from hcl.Range, name string) string {
	if path.IsAbs(name) {
		return name
	}
	return path.Join(path.Dir(from.Filename), name)
}

// sortedKeys returns the keys of m in order, for deterministic iteration.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
