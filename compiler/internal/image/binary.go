package image

import (
	"bytes"
	"cmp"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Binary is a static linux regedge binary for one platform.
type Binary struct {
	Platform   v1.Platform
	Data       []byte
	Provenance Provenance
}

// Provenance is what the Go toolchain recorded of a binary's source.
type Provenance struct {
	// Module is the main module's path, such as github.com/regedge/regedge.
	Module string
	// Version is the main module's version: the tag of a release, or the
	// pseudo-version Go derives from the commit.
	Version string
	// Revision is the commit, and Time its commit time.
	Revision string
	Time     time.Time
}

// Source is the repository's URL, from the module path.
func (p Provenance) Source() string { return "https://" + p.Module }

// ReadBinary reads the regedge binary at path and what its build recorded.
// It refuses a binary the image could not run or could not describe: one
// for another OS, one linked against a C library, and one without the
// commit it was built from (as a build from a git worktree or with
// -buildvcs=false has), or with uncommitted changes.
func ReadBinary(path string) (Binary, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Binary{}, err
	}
	bi, err := buildinfo.Read(bytes.NewReader(data))
	if err != nil {
		return Binary{}, fmt.Errorf("%s: not a Go binary: %w", path, err)
	}
	b, err := fromBuild(bi)
	if err != nil {
		return Binary{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := checkStatic(data); err != nil {
		return Binary{}, fmt.Errorf("%s: %w", path, err)
	}
	b.Data = data
	return b, nil
}

// fromBuild checks what a binary's build recorded and keeps what the image
// needs of it.
func fromBuild(bi *debug.BuildInfo) (Binary, error) {
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	b := Binary{
		Platform: v1.Platform{OS: settings["GOOS"], Architecture: settings["GOARCH"]},
		Provenance: Provenance{
			Module:   bi.Main.Path,
			Version:  bi.Main.Version,
			Revision: settings["vcs.revision"],
		},
	}
	if b.Platform.OS != "linux" {
		return Binary{}, fmt.Errorf("built for %s/%s; the image runs linux binaries", b.Platform.OS, b.Platform.Architecture)
	}
	if settings["CGO_ENABLED"] != "0" {
		return Binary{}, errors.New("built with cgo; build it with CGO_ENABLED=0 (make release does)")
	}
	if b.Provenance.Revision == "" {
		return Binary{}, errors.New("records no VCS revision; build it with make release, which builds a clean clone with -buildvcs=true (go records none in a git worktree)")
	}
	if settings["vcs.modified"] != "false" {
		return Binary{}, errors.New("built from a checkout with uncommitted changes, so its revision does not name its source; build it with make release")
	}
	t, err := time.Parse(time.RFC3339, settings["vcs.time"])
	if err != nil {
		return Binary{}, fmt.Errorf("records no valid commit time (vcs.time %q)", settings["vcs.time"])
	}
	b.Provenance.Time = t.UTC()
	return b, nil
}

// checkStatic refuses an ELF file that needs a dynamic loader or a shared
// library: the image holds nothing but the binary.
func checkStatic(data []byte) error {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not an ELF file: %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return errors.New("dynamically linked; build it with CGO_ENABLED=0 (make release does)")
		}
	}
	if libs, err := f.ImportedLibraries(); err == nil && len(libs) > 0 {
		return fmt.Errorf("needs shared libraries %v; build it with CGO_ENABLED=0", libs)
	}
	return nil
}

// NewSpec is the Spec of an image of binaries, with the CA bundle. The
// binaries must come from one commit and be for different platforms.
func NewSpec(binaries []Binary, caCerts []byte) (Spec, error) {
	if len(binaries) == 0 {
		return Spec{}, errors.New("no binaries")
	}
	bins := slices.Clone(binaries)
	slices.SortFunc(bins, func(a, b Binary) int { return comparePlatforms(a.Platform, b.Platform) })
	for i, b := range bins {
		if b.Provenance != bins[0].Provenance {
			return Spec{}, fmt.Errorf("the binaries come from different builds: %s is %s %s, %s is %s %s",
				bins[0].Platform, bins[0].Provenance.Version, bins[0].Provenance.Revision,
				b.Platform, b.Provenance.Version, b.Provenance.Revision)
		}
		if i > 0 && comparePlatforms(bins[i-1].Platform, b.Platform) == 0 {
			return Spec{}, fmt.Errorf("two binaries for %s", b.Platform)
		}
	}
	return Spec{Binaries: bins, Provenance: bins[0].Provenance, CACerts: caCerts}, nil
}

func comparePlatforms(a, b v1.Platform) int {
	return cmp.Or(cmp.Compare(a.OS, b.OS), cmp.Compare(a.Architecture, b.Architecture), cmp.Compare(a.Variant, b.Variant))
}
