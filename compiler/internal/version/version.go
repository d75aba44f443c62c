// Package version says which regedge is running: its module version and
// the source revision it was built from, as the Go toolchain recorded them.
package version

import (
	"runtime/debug"
)

// Info is what the build recorded.
type Info struct {
	// Version is the module version: v1.2.0 for a release or a build of a
	// tagged commit, a Go pseudo-version for a build from a clone at
	// another commit, "devel" when the build recorded none (make build,
	// or a build with -buildvcs=false).
	Version string
	// Revision is the VCS revision built from, and Modified whether the
	// checkout held changes; "" when the build recorded none.
	Revision string
	Modified bool
	// Go is the Go version that built it.
	Go string
}

// Get returns what the running binary's build recorded.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: "devel"}
	}
	return fromBuild(bi)
}

func fromBuild(bi *debug.BuildInfo) Info {
	info := Info{Version: bi.Main.Version, Go: bi.GoVersion}
	if info.Version == "" || info.Version == "(devel)" {
		info.Version = "devel"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// String is the version, then the revision when there is one: "devel
// 0123abcd... (modified)".
func (i Info) String() string {
	s := i.Version
	if i.Revision != "" {
		s += " " + i.Revision
		if i.Modified {
			s += " (modified)"
		}
	}
	return s
}
