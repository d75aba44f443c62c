package outdir

import (
	"io/fs"
	"os"
	"path/filepath"
)

// ReplaceFile replaces file with data in one step: it writes a temporary
// file in the same folder, syncs it to disk and renames it over file. Until
// the rename, file is untouched; on any failure the temporary file is
// removed. A new file gets mode 0644, a replaced one keeps its mode.
// feeds update replaces its snapshots with it.
func ReplaceFile(file string, data []byte) (err error) {
	mode := fs.FileMode(0o644)
	if info, err := os.Stat(file); err == nil {
		mode = info.Mode().Perm()
	}
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(file)+".new-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if err := syncClose(tmp, nil); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return err
	}
	// The file is in place; not every system can sync a folder.
	syncDir(dir)
	return nil
}
