package outdir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
)

// recoverLeftovers undoes what a killed Replace left beside target. If
// target is missing while the old output is still moved aside, it is put
// back. Then every leftover folder named as Replace names its own is
// deleted if it has the marker or is empty; anything else is kept.
func recoverLeftovers(target string) error {
	parent, base := filepath.Dir(target), filepath.Base(target)
	ours := regexp.MustCompile(`^\.` + regexp.QuoteMeta(base) + `\.new-[0-9]+(\.old)?$`)
	entries, err := os.ReadDir(parent)
	if err != nil {
		return err
	}
	var leftovers, movedAside []string
	for _, e := range entries {
		m := ours.FindStringSubmatch(e.Name())
		if m == nil || !e.IsDir() {
			continue
		}
		leftovers = append(leftovers, e.Name())
		if m[1] != "" {
			movedAside = append(movedAside, e.Name())
		}
	}
	if _, err := os.Lstat(target); errors.Is(err, fs.ErrNotExist) && len(movedAside) > 0 {
		// Replaces take turns (see lock), so at most one old output is
		// moved aside when the target goes missing.
		restored := movedAside[0]
		if err := os.Rename(filepath.Join(parent, restored), target); err != nil {
			return err
		}
		testHook("restored")
		leftovers = slices.DeleteFunc(leftovers, func(name string) bool { return name == restored })
	}
	for _, name := range leftovers {
		path := filepath.Join(parent, name)
		if hasMarker(path) {
			removeTree(path)
		} else {
			// Deletes only an empty folder.
			os.Remove(path)
		}
	}
	return nil
}
