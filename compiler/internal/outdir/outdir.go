// Package outdir replaces a folder of generated files as one step, so that
// a failed or killed build leaves the previous output as it was, and it
// refuses to replace a folder that build did not write.
package outdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/regedge/regedge/compiler/internal/render"
)

// Marker is the file build writes at the top of every output folder. A
// folder without it is replaced only when empty or forced, and a leftover
// of a killed build is deleted only if it has it.
const Marker = ".regedge-output"

const markerText = `This folder was written by regedge build, which replaces it as a whole
on every build. These are its files; once it holds anything else, build
replaces it only with -force, as the rest would be deleted:
`

// marker is the marker file's text for an output of files: the file
// list lets a later build tell its own output from a folder someone
// copied a marker into.
func marker(files []render.File) []byte {
	var b strings.Builder
	b.WriteString(markerText)
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Path
	}
	slices.Sort(names)
	for _, n := range names {
		b.WriteString(n + "\n")
	}
	return []byte(b.String())
}

// Options say what Replace may replace.
type Options struct {
	// Force replaces a folder that is not empty and has no marker.
	Force bool
	// Inputs are the files the build read from disk (the policy, its
	// override and feeds). A folder holding one is never replaced, even
	// with Force.
	Inputs []string
	// Keep are folders that outlive every build (nginx's state_dir, with
	// its pid file and cache): the output is never one of them nor holds
	// one, even with Force.
	Keep []string
	// InputNames are the base names of every file the build read, from
	// disk or embedded. A folder holding a file of one of these names
	// (other than one Replace writes), at any depth, is never replaced,
	// even with Force; nor is one holding a .git entry or a .hcl file.
	InputNames []string
}

// testHook is called at each step after which a kill would leave
// something behind; tests kill the process there.
var testHook = func(step string) {}

// errNoExchange says the file system cannot exchange two folders.
var errNoExchange = errors.New("exchanging folders is not supported")

// Replace writes files into a new folder beside dir and then swaps it in
// place of dir. Until the swap, dir is untouched; if writing fails, the
// new folder is removed and dir keeps its old contents. A kill at any
// moment leaves dir holding the old output or the new one, and the next
// Replace cleans up what the killed one left beside it.
func Replace(dir string, files []render.File, opts Options) error {
	target, err := resolve(dir)
	if err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	if err := guard(dir, target, opts.Inputs, opts.Keep); err != nil {
		return err
	}
	parent := filepath.Dir(target)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	// Replaces into one folder take turns, so that none mistakes
	// another's new folder for a leftover.
	unlock, err := lock(parent)
	if err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	defer unlock()
	if err := recoverLeftovers(target); err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	written := []string{Marker}
	for _, f := range files {
		written = append(written, path.Base(f.Path))
	}
	if err := checkTarget(dir, target, opts.InputNames, written, opts.Force); err != nil {
		return err
	}
	tmp, err := writeNew(target, files)
	if err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	if err := swap(tmp, target); err != nil {
		removeTree(tmp)
		return fmt.Errorf("writing %s: moving the new output into place: %w", dir, err)
	}
	return nil
}

// writeNew writes the marker and then files into a new folder beside
// target, each synced to disk, and returns the folder.
func writeNew(target string, files []render.File) (_ string, err error) {
	tmp, err := os.MkdirTemp(filepath.Dir(target), "."+filepath.Base(target)+".new-")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			removeTree(tmp)
		}
	}()
	testHook("created")
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	// The marker comes first: whatever a kill leaves of this folder is
	// then known to be build's own.
	if err := writeFile(filepath.Join(tmp, Marker), marker(files)); err != nil {
		return "", err
	}
	testHook("marked")
	dirs := map[string]bool{tmp: true}
	for _, f := range files {
		path := filepath.Join(tmp, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", err
		}
		if err := writeFile(path, f.Data); err != nil {
			return "", err
		}
		for d := filepath.Dir(path); !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
		}
		testHook("writing")
	}
	for d := range dirs {
		if err := syncDir(d); err != nil {
			return "", err
		}
	}
	testHook("written")
	return tmp, nil
}

// swap puts the folder tmp in place of target. Where the system can, it
// exchanges the two in one step; elsewhere target is moved aside first,
// and a kill between the two renames is undone by the next Replace. The
// old output is then deleted.
func swap(tmp, target string) error {
	parent := filepath.Dir(target)
	if _, err := os.Lstat(target); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(tmp, target); err != nil {
			return err
		}
		testHook("swapped")
		syncDir(parent)
		return nil
	}
	err := exchange(tmp, target)
	if err == nil {
		testHook("swapped")
		syncDir(parent)
		// tmp holds the old output now. Failing to delete it fails
		// nothing: the next Replace deletes what is left.
		removeTree(tmp)
		return nil
	}
	if !errors.Is(err, errNoExchange) {
		return err
	}
	old := tmp + ".old"
	if err := os.Rename(target, old); err != nil {
		return err
	}
	testHook("moved aside")
	if err := os.Rename(tmp, target); err != nil {
		os.Rename(old, target)
		return err
	}
	testHook("swapped")
	syncDir(parent)
	// Before its deletion starts, the old output takes a name that
	// recovery never puts back.
	if os.Rename(old, tmp) == nil {
		testHook("renamed old")
		removeTree(tmp)
	}
	return nil
}

// writeFile writes data to a new file and syncs it to disk.
func writeFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	return syncClose(f, err)
}

// syncDir makes the names in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return syncClose(d, nil)
}

// syncClose syncs f to disk unless err is already set, closes it, and
// returns the first error.
func syncClose(f *os.File, err error) error {
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeTree deletes a folder with its marker last, so that what a kill
// leaves of it still carries the marker, or is empty.
func removeTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() == Marker {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
		testHook("removing")
	}
	if err := os.Remove(filepath.Join(dir, Marker)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.Remove(dir)
}
