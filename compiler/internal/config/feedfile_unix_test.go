//go:build unix

package config

import (
	"path/filepath"
	"syscall"
	"testing"
)

// TestReadFIFO reads a FIFO that no one writes to as empty: opening it
// for reading would otherwise wait for a writer for ever.
func TestReadFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "feed.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := (Disk{}).ReadFile(fifo, 10); len(got) != 0 || err != nil {
		t.Errorf("read %q, %v; want nothing", got, err)
	}
}
