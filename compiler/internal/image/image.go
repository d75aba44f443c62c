// Package image builds the container image that runs regedge serve, with
// no base image and no Docker daemon: one layer of CA certificates, one of
// the static regedge binary, run by a non-root user. The image's bytes are
// a function of its Spec alone (and the Go toolchain that compresses them):
// tar entries are sorted, owned by root and dated by the commit, and the
// config holds no time but the commit's.
package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// What the image runs, and as whom.
const (
	// BinaryPath is where the regedge binary lives in the image.
	BinaryPath = "/usr/local/bin/regedge"
	// CAPath is the CA bundle, where Go's crypto/x509 looks first on Linux.
	CAPath = "/etc/ssl/certs/ca-certificates.crt"
	// User is the numeric user and group the image runs as: distroless's
	// "nonroot", so that Kubernetes' runAsNonRoot can check it without an
	// /etc/passwd.
	User = "65532:65532"
)

// Entrypoint is regedge serve with its ports fixed, so that arguments
// given to the container (-policy, -override, -deployment) add to it; a
// later -listen or -metrics still overrides these.
var Entrypoint = []string{BinaryPath, "serve", "-listen", ":8080", "-metrics", ":9090"}

// ExposedPorts are the registry's and the metrics' ports.
var ExposedPorts = []string{"8080/tcp", "9090/tcp"}

// The OCI annotation keys the image's labels use.
const (
	LabelSource   = "org.opencontainers.image.source"
	LabelRevision = "org.opencontainers.image.revision"
	LabelVersion  = "org.opencontainers.image.version"
	LabelCreated  = "org.opencontainers.image.created"
)

// Spec is everything an image is made of.
type Spec struct {
	// Binaries holds one static linux binary per platform, sorted by
	// platform.
	Binaries []Binary
	// Provenance is what the binaries were built from; they all agree.
	Provenance Provenance
	// CACerts is the PEM bundle written to CAPath.
	CACerts []byte
}

// Labels are the image's OCI labels, also set as the index's annotations
// (where registries such as GHCR look for a multi-platform image's source).
func (s Spec) Labels() map[string]string {
	p := s.Provenance
	return map[string]string{
		LabelSource:   p.Source(),
		LabelRevision: p.Revision,
		LabelVersion:  p.Version,
		LabelCreated:  p.Time.UTC().Format(time.RFC3339),
	}
}

// Build returns the image index of one image per binary.
func Build(s Spec) (v1.ImageIndex, error) {
	if len(s.Binaries) == 0 {
		return nil, fmt.Errorf("no binaries to build an image of")
	}
	ca, err := layer(s.Provenance.Time, CAPath, 0o644, s.CACerts)
	if err != nil {
		return nil, err
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	var adds []mutate.IndexAddendum
	for _, b := range s.Binaries {
		img, err := platformImage(s, ca, b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Platform, err)
		}
		p := b.Platform
		adds = append(adds, mutate.IndexAddendum{Add: plainImage{img}, Descriptor: v1.Descriptor{Platform: &p}})
	}
	idx = mutate.AppendManifests(idx, adds...)
	return mutate.Annotations(idx, s.Labels()).(v1.ImageIndex), nil
}

// plainImage is an image whose descriptor in the index has no
// artifactType, as in the indexes docker and ko push: go-containerregistry
// would fill in the config's media type, which older clients do not know.
type plainImage struct{ v1.Image }

// ArtifactType tells partial.Descriptor the image has none.
func (plainImage) ArtifactType() (string, error) { return "", nil }

// platformImage is the CA layer, b's layer and the config that runs it.
func platformImage(s Spec, ca v1.Layer, b Binary) (v1.Image, error) {
	bin, err := layer(s.Provenance.Time, BinaryPath, 0o755, b.Data)
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: s.Provenance.Time.UTC()}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: ca, MediaType: types.OCILayer, History: v1.History{
			Created: created, CreatedBy: "regedge mkimage: " + CAPath,
			Comment: "the roots of golang.org/x/crypto/x509roots/fallback/bundle (Mozilla's NSS store)"}},
		mutate.Addendum{Layer: bin, MediaType: types.OCILayer, History: v1.History{
			Created: created, CreatedBy: "regedge mkimage: " + BinaryPath,
			Comment: "regedge " + s.Provenance.Version}},
	)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = b.Platform.OS, b.Platform.Architecture, b.Platform.Variant
	cf.Created = created
	ports := map[string]struct{}{}
	for _, p := range ExposedPorts {
		ports[p] = struct{}{}
	}
	cf.Config = v1.Config{
		Entrypoint:   slices.Clone(Entrypoint),
		User:         User,
		ExposedPorts: ports,
		Env:          []string{"PATH=" + path.Dir(BinaryPath)},
		WorkingDir:   "/",
		Labels:       s.Labels(),
	}
	return mutate.ConfigFile(img, cf)
}

// layer is a gzipped tar holding one file, owned by root, at name (an
// absolute path), with its parent folders; every entry is dated mtime.
func layer(mtime time.Time, name string, mode int64, data []byte) (*memLayer, error) {
	mtime = mtime.UTC().Truncate(time.Second)
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	rel := strings.TrimPrefix(name, "/")
	parts := strings.Split(rel, "/")
	// Folders first, each before what it holds: the entries are sorted.
	for i := 1; i < len(parts); i++ {
		hdr := header(strings.Join(parts[:i], "/")+"/", tar.TypeDir, 0o755, mtime)
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
	}
	hdr := header(rel, tar.TypeReg, mode, mtime)
	hdr.Size = int64(len(data))
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	// Compressed here, once, with fixed settings: gzip's header carries
	// no name and no time.
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return newMemLayer(raw.Bytes(), gz.Bytes())
}

// memLayer is a layer held in memory in both forms.
type memLayer struct {
	uncompressed, compressed []byte
	digest, diffID           v1.Hash
}

func newMemLayer(uncompressed, compressed []byte) (*memLayer, error) {
	digest, _, err := v1.SHA256(bytes.NewReader(compressed))
	if err != nil {
		return nil, err
	}
	diffID, _, err := v1.SHA256(bytes.NewReader(uncompressed))
	if err != nil {
		return nil, err
	}
	return &memLayer{uncompressed, compressed, digest, diffID}, nil
}

func (l *memLayer) Digest() (v1.Hash, error) { return l.digest, nil }
func (l *memLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }
func (l *memLayer) Size() (int64, error)     { return int64(len(l.compressed)), nil }
func (l *memLayer) MediaType() (types.MediaType, error) {
	return types.OCILayer, nil
}
func (l *memLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.compressed)), nil
}
func (l *memLayer) Uncompressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.uncompressed)), nil
}

// header is a USTAR entry owned by root, with no user or group names.
func header(name string, typ byte, mode int64, mtime time.Time) *tar.Header {
	return &tar.Header{
		Typeflag: typ,
		Name:     name,
		Mode:     mode,
		ModTime:  mtime,
		Format:   tar.FormatUSTAR,
	}
}
