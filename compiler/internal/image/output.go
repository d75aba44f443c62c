package image

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// refNameKey names an image in an OCI layout's index.json, as in
// "skopeo copy oci:DIR:REF".
const refNameKey = "org.opencontainers.image.ref.name"

// WriteLayout writes idx as the one image of an OCI layout at dir, named
// ref. A dir that exists must be empty or an OCI layout (it is replaced):
// anything else is refused, so that a mistyped path loses nothing.
func WriteLayout(dir string, idx v1.ImageIndex, ref string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
			return fmt.Errorf("%s is not empty and holds no OCI layout; remove it or choose another folder", dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{refNameKey: ref}))
}

// Push writes idx to the registry reference r (parsed with
// name.ParseReference from, say, registry.example.com/regedge:v1.2.0)
// with the credentials docker login stored, and returns its digest
// reference. Loopback and private registries are spoken to over plain
// HTTP, as go-containerregistry does.
func Push(ctx context.Context, r name.Reference, idx v1.ImageIndex) (string, error) {
	if err := remote.WriteIndex(r, idx, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return "", err
	}
	d, err := idx.Digest()
	if err != nil {
		return "", err
	}
	return r.Context().Digest(d.String()).String(), nil
}
