// Package outdir replaces a folder of generated files as one step, so that
// a failed build leaves the previous output exactly as it was.
package outdir

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/regedge/regedge/compiler/render"
)

// Replace writes files into a new folder beside dir and then swaps it in
// place of dir. Until the swap, dir is untouched; if writing fails, the new
// folder is removed and dir keeps its old contents.
func Replace(dir string, files []render.File) (err error) {
	dir = filepath.Clean(dir)
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".new-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		path := filepath.Join(tmp, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			return err
		}
	}
	old := tmp + ".old"
	if err := os.Rename(dir, old); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("moving the old %s aside: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Put the old output back rather than leave none.
		os.Rename(old, dir)
		return fmt.Errorf("moving the new output into place: %w", err)
	}
	// The new output is in place: a leftover old copy is not a failure.
	os.RemoveAll(old)
	return nil
}
