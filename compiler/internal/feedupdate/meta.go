package feedupdate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/regedge/regedge/compiler/internal/outdir"
)

// MetaSuffix ends the name of the sidecar file beside each snapshot that
// keeps the snapshot's HTTP validators.
const MetaSuffix = ".meta"

// meta is the sidecar's content. It holds nothing that changes from run to
// run, such as a fetch time, so it is as deterministic as the snapshot.
type meta struct {
	validators
	// SHA256 is the hash of the snapshot the validators describe. A
	// snapshot changed by other means no longer matches, and its stale
	// validators are not sent.
	SHA256 string `json:"sha256"`
}

func hash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// loadMeta returns the validators saved beside file if they describe data,
// and none otherwise: a missing or broken sidecar costs only a full
// download.
func loadMeta(file string, data []byte) validators {
	raw, err := os.ReadFile(file + MetaSuffix)
	if err != nil {
		return validators{}
	}
	var m meta
	if json.Unmarshal(raw, &m) != nil || m.SHA256 != hash(data) {
		return validators{}
	}
	return m.validators
}

// saveMeta records v as the validators of data, the content of file, or
// removes the sidecar when the server sent none.
func saveMeta(file string, v validators, data []byte) error {
	name := file + MetaSuffix
	if v.empty() {
		if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("cannot remove the stale %s: %w", name, err)
		}
		return nil
	}
	out, err := json.MarshalIndent(meta{validators: v, SHA256: hash(data)}, "", "  ")
	if err != nil {
		return err
	}
	out = append(out, '\n')
	if old, err := os.ReadFile(name); err == nil && bytes.Equal(old, out) {
		return nil
	}
	if err := outdir.ReplaceFile(name, out); err != nil {
		return fmt.Errorf("cannot save the HTTP validators: %w", err)
	}
	return nil
}
