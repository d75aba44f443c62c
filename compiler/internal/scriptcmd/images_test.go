package scriptcmd

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/validate"
)

func TestImageSet(t *testing.T) {
	s, err := newImageSet()
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(s.index); err != nil {
		t.Errorf("index: %v", err)
	}
	im, err := s.index.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range im.Manifests {
		if d.Platform == nil || !d.Platform.Equals(platforms[i]) || d.ArtifactType != "" {
			t.Errorf("manifest %d: platform %v, artifactType %q", i, d.Platform, d.ArtifactType)
		}
		if want := s.vars[strings.ToUpper(platforms[i].Architecture)+"_DIGEST"]; d.Digest.String() != want {
			t.Errorf("manifest %d: digest %s, want %s", i, d.Digest, want)
		}
	}
	index := s.vars["INDEX_DIGEST"]
	if want := "sha256-" + strings.TrimPrefix(index, "sha256:") + ".sig"; s.vars["SIG_TAG"] != want {
		t.Errorf("SIG_TAG %q, want %q", s.vars["SIG_TAG"], want)
	}
	sig := s.images[2]
	if err := validate.Image(sig); err != nil {
		t.Errorf("signature: %v", err)
	}
	layers, err := sig.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("signature layers %d, %v", len(layers), err)
	}
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	payload, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !strings.Contains(string(payload), `"docker-manifest-digest":"`+index+`"`) {
		t.Errorf("signature payload %s does not name %s", payload, index)
	}
	seen := map[string]bool{}
	for _, b := range s.blobs {
		seen[b.digest] = true
	}
	if len(s.blobs) != 8 || len(seen) != 8 {
		t.Errorf("%d blobs, %d distinct; want 8", len(s.blobs), len(seen))
	}
}

func TestCopyBlobsNamesByDigestAndSkips(t *testing.T) {
	s, err := newImageSet()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "containers", "images")
	skip := s.vars["AMD64_LAYER1"]
	if err := s.copyBlobs(dir, skip); err != nil {
		t.Fatal(err)
	}
	for _, b := range s.blobs {
		d := b.digest
		data, err := os.ReadFile(filepath.Join(dir, d))
		if d == skip {
			if !os.IsNotExist(err) {
				t.Errorf("skipped blob %s: %v", d, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(data); "sha256:"+hex.EncodeToString(sum[:]) != d {
			t.Errorf("blob %s holds content of another digest", d)
		}
	}
}
