package config

import (
	"testing"
	"testing/fstest"
)

// FuzzLoad feeds arbitrary policy text (and an override) to the loader: it
// must never panic, and every diagnostic that points into a file must
// point at a real line of it.
func FuzzLoad(f *testing.F) {
	f.Fuzz(func(t *testing.T, policy, override string) {
		fs := memReader{
			"policy.hcl":   &fstest.MapFile{Data: []byte(policy)},
			"override.hcl": &fstest.MapFile{Data: []byte(override)},
		}
		_, diags := NewLoader(fs).Load("policy.hcl", "override.hcl")
		for _, d := range diags {
			if d.Subject != nil && d.Subject.Start.Line < 1 && d.Subject.Filename != "" {
				t.Fatalf("diagnostic %q points at line %d", d.Summary, d.Subject.Start.Line)
			}
		}
	})
}
