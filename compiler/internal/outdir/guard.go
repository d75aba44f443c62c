package outdir

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// RefusedError says why Replace will not replace a folder.
type RefusedError struct {
	Dir    string // as the caller named it
	Reason string
	// Forcible is true when Options.Force would let Replace go ahead.
	Forcible bool
}

func (e *RefusedError) Error() string {
	return "refusing to replace " + e.Dir + ": " + e.Reason
}

// resolve returns path made absolute, with the symbolic links of its
// longest existing part followed: the folder Replace would really swap.
func resolve(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	rest := ""
	for p := abs; ; p = filepath.Dir(p) {
		real, err := filepath.EvalSymlinks(p)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		if p == filepath.Dir(p) {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(p), rest)
	}
}

// guard refuses a target that holds the current folder, one of the
// build's inputs or a folder to keep, whatever it holds besides.
func guard(dir, target string, inputs, keep []string) error {
	if cwd, err := os.Getwd(); err == nil {
		if real, err := resolve(cwd); err == nil && within(target, real) {
			return &RefusedError{Dir: dir, Reason: "it is or holds the current folder"}
		}
	}
	var held []string
	for _, in := range inputs {
		real, err := resolve(in)
		if err != nil {
			return fmt.Errorf("writing %s: %w", dir, err)
		}
		if within(target, real) {
			held = append(held, in)
		}
	}
	if held != nil {
		return &RefusedError{Dir: dir, Reason: "it holds what this build reads: " + strings.Join(held, ", ")}
	}
	for _, k := range keep {
		// A folder the builder may not look into (nginx's own, say)
		// holds no output of its, so its path as written will do.
		real, err := resolve(k)
		if err != nil {
			real, _ = filepath.Abs(k)
		}
		if within(target, real) {
			return &RefusedError{Dir: dir, Reason: "it holds " + k + ", where nginx keeps its runtime state (the policy's state_dir), which a build must not delete"}
		}
	}
	return nil
}

// within reports whether path is folder or lies under it.
func within(folder, path string) bool {
	rel, err := filepath.Rel(folder, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// checkTarget refuses a target that exists and is not build's to replace.
// Forced or not, it refuses anything but a folder, and a folder that holds,
// at any depth, what build never writes and must never delete: a .git
// entry (a folder under version control, or one that holds such a
// folder), a policy (a .hcl file), or a file named like one this build
// reads (names; a copy of the sources, such as the repository's policy/
// folder when the build reads the binary's embedded copy) unless build
// writes a file of that name itself (written). Unless force is set, it
// also refuses a folder that is not empty and either has no marker or
// holds what its marker does not list. The folder is walked once, and no
// further than maxEntries: a folder that holds more (a mistyped -out such
// as a home folder) is refused, forced or not, without reading it all.
func checkTarget(dir, target string, names, written []string, force bool) error {
	info, err := os.Lstat(target)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	if !info.IsDir() {
		return &RefusedError{Dir: dir, Reason: "it is not a folder"}
	}
	reads := map[string]bool{}
	for _, n := range names {
		reads[n] = true
	}
	for _, n := range written {
		delete(reads, n)
	}
	// owned is a marker's refusal, if it has one; listed, when not nil,
	// is what the marker vouches for.
	var owned *RefusedError
	var listed map[string]bool
	marked := !force && hasMarker(target)
	if marked {
		listed, owned, err = readMarker(dir, target)
		if err != nil {
			return err
		}
	}
	var floor, extra string
	entries := 0
	err = filepath.WalkDir(target, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == target {
			return nil
		}
		if entries++; entries > maxEntries {
			floor = fmt.Sprintf("it holds over %d files and folders, far more than regedge build writes", maxEntries)
			return fs.SkipAll
		}
		name, regular := d.Name(), d.Type().IsRegular()
		rel, err := filepath.Rel(target, p)
		if err != nil {
			return err
		}
		shown := filepath.Join(dir, rel)
		switch {
		case name == ".git":
			floor = "it holds " + shown + ", so it is under version control"
		case regular && strings.HasSuffix(name, ".hcl"):
			floor = "it holds " + shown + ", a policy, which build never writes"
		case regular && reads[name]:
			floor = "it holds " + shown + ", named like a file this build reads"
		case listed != nil && extra == "" && !listed[filepath.ToSlash(rel)]:
			extra = shown
		}
		if floor != "" {
			return fs.SkipAll
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	switch {
	case floor != "":
		return &RefusedError{Dir: dir, Reason: floor}
	case force:
		return nil
	case owned != nil:
		return owned
	case extra != "":
		return &RefusedError{
			Dir:      dir,
			Reason:   "it holds " + extra + ", which regedge build did not write (its " + Marker + " does not list it)",
			Forcible: true,
		}
	case !marked && entries > 0:
		return &RefusedError{
			Dir:      dir,
			Reason:   "it is not empty and has no " + Marker + ": regedge build did not write it",
			Forcible: true,
		}
	}
	return nil
}

// maxEntries is the most files and folders checkTarget looks at: a build
// writes a dozen.
const maxEntries = 10000

// maxMarker is the longest marker readMarker reads.
const maxMarker = 1 << 20

// readMarker returns what target's marker lists, and its parents, or a
// refusal of a marker no build wrote. A marker without a list, from a
// regedge before lists, vouches for the whole folder: it returns neither.
func readMarker(dir, target string) (map[string]bool, *RefusedError, error) {
	f, err := os.Open(filepath.Join(target, Marker))
	if err != nil {
		return nil, nil, fmt.Errorf("writing %s: %w", dir, err)
	}
	defer f.Close()
	// A build's list is a few hundred bytes; a marker far longer is not
	// one build wrote, and is not read whole.
	text, err := io.ReadAll(io.LimitReader(f, maxMarker+1))
	if err != nil {
		return nil, nil, fmt.Errorf("writing %s: %w", dir, err)
	}
	if len(text) > maxMarker {
		return nil, &RefusedError{Dir: dir, Reason: "its " + Marker + " is over 1 MiB, so regedge build did not write it", Forcible: true}, nil
	}
	list, ok := strings.CutPrefix(string(text), markerText)
	if !ok {
		return nil, nil, nil
	}
	listed := map[string]bool{Marker: true}
	for _, name := range strings.Split(list, "\n") {
		for ; name != "." && name != ""; name = path.Dir(name) {
			listed[name] = true
		}
	}
	return listed, nil, nil
}

// hasMarker reports whether dir has build's marker file.
func hasMarker(dir string) bool {
	info, err := os.Lstat(filepath.Join(dir, Marker))
	return err == nil && info.Mode().IsRegular()
}
