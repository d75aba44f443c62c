package scriptcmd

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdUnpack extracts the layers of the one image in the OCI layout LAYOUT
// (as skopeo copy writes one platform) into DIR, in order, and prints each
// layer's diff ID ("layer sha256:...") and then its entries, one a line:
// mode, uid:gid, time (RFC 3339, UTC) and name. It reads the layout with
// nothing but JSON and tar, and checks every blob's digest. Only folders
// and regular files with local names are accepted.
func cmdUnpack(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: unpack LAYOUT DIR")
	}
	layers, err := imageLayers(ts.MkAbs(args[0]))
	if err != nil {
		ts.Fatalf("unpack: %s: %v", args[0], pathless(err))
	}
	dir := ts.MkAbs(args[1])
	for _, l := range layers {
		if err := extractLayer(ts.Stdout(), l, dir); err != nil {
			ts.Fatalf("unpack: %s: layer %s: %v", args[0], l.digest, pathless(err))
		}
	}
}

// ociDescriptor is the part of an OCI descriptor unpack reads.
type ociDescriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
}

// layoutBlob is a blob of an OCI layout, its digest checked.
type layoutBlob struct {
	digest string
	data   []byte
}

// imageLayers returns the layers of the one image manifest in the layout
// at dir.
func imageLayers(dir string) ([]layoutBlob, error) {
	var index struct{ Manifests []ociDescriptor }
	if err := readJSON(filepath.Join(dir, "index.json"), &index); err != nil {
		return nil, err
	}
	if len(index.Manifests) != 1 || index.Manifests[0].MediaType != "application/vnd.oci.image.manifest.v1+json" {
		return nil, fmt.Errorf("index.json lists %d manifests; want one OCI image manifest", len(index.Manifests))
	}
	m, err := readBlob(dir, index.Manifests[0].Digest)
	if err != nil {
		return nil, err
	}
	var manifest struct{ Layers []ociDescriptor }
	if err := json.Unmarshal(m.data, &manifest); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	var layers []layoutBlob
	for _, d := range manifest.Layers {
		if d.MediaType != "application/vnd.oci.image.layer.v1.tar+gzip" {
			return nil, fmt.Errorf("layer %s is %s, not a gzipped tar", d.Digest, d.MediaType)
		}
		l, err := readBlob(dir, d.Digest)
		if err != nil {
			return nil, err
		}
		layers = append(layers, l)
	}
	return layers, nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// readBlob reads the blob digest names and checks its content against it.
func readBlob(dir, digest string) (layoutBlob, error) {
	hexSum, ok := strings.CutPrefix(digest, "sha256:")
	if !ok || len(hexSum) != 64 || strings.Trim(hexSum, "0123456789abcdef") != "" {
		return layoutBlob{}, fmt.Errorf("%q is not a sha256 digest", digest)
	}
	data, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", hexSum))
	if err != nil {
		return layoutBlob{}, err
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != hexSum {
		return layoutBlob{}, fmt.Errorf("blob %s does not match its digest", digest)
	}
	return layoutBlob{digest, data}, nil
}

// extractLayer writes l's folders and files under dir and lists them to
// w after its diff ID, the SHA-256 of the uncompressed tar.
func extractLayer(w io.Writer, l layoutBlob, dir string) error {
	zr, err := gzip.NewReader(bytes.NewReader(l.data))
	if err != nil {
		return err
	}
	diffID := sha256.New()
	tr := tar.NewReader(io.TeeReader(zr, diffID))
	var list strings.Builder
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if !filepath.IsLocal(hdr.Name) {
			return fmt.Errorf("entry %q is not a local name", hdr.Name)
		}
		fmt.Fprintf(&list, "%s %d:%d %s %s\n", hdr.FileInfo().Mode(), hdr.Uid, hdr.Gid, hdr.ModTime.UTC().Format("2006-01-02T15:04:05Z"), hdr.Name)
		path := filepath.Join(dir, hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(path, 0o777)
		case tar.TypeReg:
			err = writeEntry(path, tr, os.FileMode(hdr.Mode).Perm())
		default:
			err = fmt.Errorf("entry %q is of type %q, neither a folder nor a file", hdr.Name, hdr.Typeflag)
		}
		if err != nil {
			return err
		}
	}
	// The gzip stream's end, which the tar reader need not reach.
	if _, err := io.Copy(diffID, zr); err != nil {
		return err
	}
	fmt.Fprintf(w, "layer sha256:%s\n%s", hex.EncodeToString(diffID.Sum(nil)), list.String())
	return nil
}

func writeEntry(path string, r io.Reader, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
