package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"slices"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	"golang.org/x/crypto/x509roots/fallback/bundle"
)

var commitTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// standIn is a spec of two small stand-ins for regedge binaries.
func standIn(t *testing.T) Spec {
	t.Helper()
	prov := Provenance{
		Module:   "github.com/regedge/regedge",
		Version:  "v1.2.0",
		Revision: "0123456789abcdef0123456789abcdef01234567",
		Time:     commitTime,
	}
	spec, err := NewSpec([]Binary{
		{Platform: v1.Platform{OS: "linux", Architecture: "arm64"}, Data: []byte("stand-in arm64"), Provenance: prov},
		{Platform: v1.Platform{OS: "linux", Architecture: "amd64"}, Data: []byte("stand-in amd64"), Provenance: prov},
	}, []byte("stand-in certificates\n"))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func build(t *testing.T, s Spec) v1.ImageIndex {
	t.Helper()
	idx, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(idx); err != nil {
		t.Fatalf("the index does not validate: %v", err)
	}
	return idx
}

func digest(t *testing.T, idx v1.ImageIndex) v1.Hash {
	t.Helper()
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestBuildIsReproducible builds the image twice from one spec and gets
// the same digests, and a different one from each changed input.
func TestBuildIsReproducible(t *testing.T) {
	spec := standIn(t)
	first := build(t, spec)
	second := build(t, standIn(t))
	if a, b := digest(t, first), digest(t, second); a != b {
		t.Fatalf("two builds of one spec: index %s, then %s", a, b)
	}
	// Every blob, not just the top digest: the layers' bytes too.
	if a, b := blobs(t, first), blobs(t, second); !slices.Equal(a, b) {
		t.Fatalf("two builds of one spec have different blobs:\n%v\n%v", a, b)
	}

	changes := map[string]func(*Spec){
		"binary":   func(s *Spec) { s.Binaries[0].Data = []byte("another amd64") },
		"revision": func(s *Spec) { s.Provenance.Revision = "f" + s.Provenance.Revision[1:] },
		"version":  func(s *Spec) { s.Provenance.Version = "v1.2.1" },
		"time":     func(s *Spec) { s.Provenance.Time = s.Provenance.Time.Add(time.Second) },
		"certs":    func(s *Spec) { s.CACerts = []byte("other certificates\n") },
	}
	for _, name := range slices.Sorted(maps.Keys(changes)) {
		s := standIn(t)
		s.Binaries = slices.Clone(s.Binaries)
		changes[name](&s)
		if d := digest(t, build(t, s)); d == digest(t, first) {
			t.Errorf("changing the %s left the index digest %s", name, d)
		}
	}
}

// blobs lists the digest of every manifest, config and layer of idx.
func blobs(t *testing.T, idx v1.ImageIndex) []string {
	t.Helper()
	var out []string
	for desc, img := range images(t, idx) {
		cfg, err := img.ConfigName()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, desc.Digest.String(), cfg.String())
		layers, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range layers {
			d, err := l.Digest()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, d.String())
		}
	}
	return out
}

// images yields each manifest of idx's and its image, in order.
func images(t *testing.T, idx v1.ImageIndex) iter.Seq2[v1.Descriptor, v1.Image] {
	t.Helper()
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	return func(yield func(v1.Descriptor, v1.Image) bool) {
		for _, desc := range m.Manifests {
			img, err := idx.Image(desc.Digest)
			if err != nil {
				t.Fatal(err)
			}
			if !yield(desc, img) {
				return
			}
		}
	}
}

// TestIndexAndConfig checks the index's platforms and annotations and
// each image's config: what it runs, as whom, its ports and labels, and
// no time but the commit's.
func TestIndexAndConfig(t *testing.T) {
	spec := standIn(t)
	idx := build(t, spec)
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	wantLabels := map[string]string{
		"org.opencontainers.image.source":   "https://github.com/regedge/regedge",
		"org.opencontainers.image.revision": "0123456789abcdef0123456789abcdef01234567",
		"org.opencontainers.image.version":  "v1.2.0",
		"org.opencontainers.image.created":  "2026-01-02T03:04:05Z",
	}
	if m.MediaType != types.OCIImageIndex || !maps.Equal(m.Annotations, wantLabels) {
		t.Errorf("index: media type %s, annotations %v; want %s, %v", m.MediaType, m.Annotations, types.OCIImageIndex, wantLabels)
	}
	var platforms []string
	for desc, img := range images(t, idx) {
		platforms = append(platforms, desc.Platform.String())
		if desc.MediaType != types.OCIManifestSchema1 || desc.ArtifactType != "" {
			t.Errorf("%s: media type %s, artifact type %q; want an OCI manifest and none", desc.Platform, desc.MediaType, desc.ArtifactType)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.OS != desc.Platform.OS || cf.Architecture != desc.Platform.Architecture {
			t.Errorf("%s: the config says %s/%s", desc.Platform, cf.OS, cf.Architecture)
		}
		c := cf.Config
		if !slices.Equal(c.Entrypoint, []string{"/usr/local/bin/regedge", "serve", "-listen", ":8080", "-metrics", ":9090"}) ||
			len(c.Cmd) != 0 || c.User != "65532:65532" || c.WorkingDir != "/" ||
			!slices.Equal(slices.Sorted(maps.Keys(c.ExposedPorts)), []string{"8080/tcp", "9090/tcp"}) ||
			!slices.Equal(c.Env, []string{"PATH=/usr/local/bin"}) {
			t.Errorf("%s: config %+v", desc.Platform, c)
		}
		if !maps.Equal(c.Labels, wantLabels) {
			t.Errorf("%s: labels %v, want %v", desc.Platform, c.Labels, wantLabels)
		}
		times := []time.Time{cf.Created.Time}
		for _, h := range cf.History {
			times = append(times, h.Created.Time)
		}
		for _, tm := range times {
			if !tm.Equal(commitTime) {
				t.Errorf("%s: a time in the config is %v, not the commit's %v", desc.Platform, tm, commitTime)
			}
		}
		if len(cf.History) != 2 || len(cf.RootFS.DiffIDs) != 2 {
			t.Errorf("%s: %d history entries and %d layers, want 2 and 2", desc.Platform, len(cf.History), len(cf.RootFS.DiffIDs))
		}
	}
	if want := []string{"linux/amd64", "linux/arm64"}; !slices.Equal(platforms, want) {
		t.Errorf("platforms %v, want %v", platforms, want)
	}
}

// entry is what a test checks of one tar entry.
type entry struct {
	name     string
	typ      byte
	mode     int64
	content  string
	owner    string // uid:gid and user and group names
	modTime  time.Time
	gzipMeta string // the gzip header's name and time, on each layer's first entry
}

// TestLayers reads each image's two layers back: the certificates, then
// the binary, each with its folders first, owned by root, dated by the
// commit, in a gzip stream with no name or time.
func TestLayers(t *testing.T) {
	spec := standIn(t)
	idx := build(t, spec)
	i := 0
	for desc, img := range images(t, idx) {
		b := spec.Binaries[i]
		i++
		if !desc.Platform.Equals(b.Platform) {
			t.Fatalf("image %d is for %s, want %s", i, desc.Platform, b.Platform)
		}
		layers, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		var got []entry
		for _, l := range layers {
			got = append(got, layerEntries(t, l)...)
		}
		dir := func(name string) entry { return entry{name: name, typ: tar.TypeDir, mode: 0o755} }
		want := []entry{
			dir("etc/"), dir("etc/ssl/"), dir("etc/ssl/certs/"),
			{name: "etc/ssl/certs/ca-certificates.crt", typ: tar.TypeReg, mode: 0o644, content: "stand-in certificates\n"},
			dir("usr/"), dir("usr/local/"), dir("usr/local/bin/"),
			{name: "usr/local/bin/regedge", typ: tar.TypeReg, mode: 0o755, content: string(b.Data)},
		}
		for i := range want {
			want[i].owner, want[i].modTime = `0:0 "":""`, commitTime
			if i == 0 || i == 4 {
				want[i].gzipMeta = `name "", time zero true`
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: layers hold\n%v\nwant\n%v", b.Platform, got, want)
		}
	}
}

// layerEntries reads l's compressed bytes as a registry would serve them.
func layerEntries(t *testing.T, l v1.Layer) []entry {
	t.Helper()
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	zr, err := gzip.NewReader(rc)
	if err != nil {
		t.Fatal(err)
	}
	gzipMeta := fmt.Sprintf("name %q, time zero %v", zr.Header.Name, zr.Header.ModTime.IsZero())
	tr := tar.NewReader(zr)
	var out []entry
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		content, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, entry{
			name: hdr.Name, typ: hdr.Typeflag, mode: hdr.Mode, content: string(content),
			owner:    fmt.Sprintf("%d:%d %q:%q", hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname),
			modTime:  hdr.ModTime.UTC(),
			gzipMeta: gzipMeta,
		})
		gzipMeta = ""
	}
}

// TestCACerts checks that the bundle is the pinned roots, each a
// certificate, all but the constrained ones, which include the roots of
// the shipped policy's mirrors (Amazon's for S3 and CloudFront).
func TestCACerts(t *testing.T) {
	data := CACerts()
	var want int
	for r := range bundle.Roots() {
		if r.Constraint == nil {
			want++
		}
	}
	var subjects []string
	for rest := data; len(bytes.TrimSpace(rest)) > 0; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil || block.Type != "CERTIFICATE" {
			t.Fatalf("the bundle holds something that is not a PEM certificate after %d of them", len(subjects))
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatalf("certificate %d: %v", len(subjects)+1, err)
		}
		if !c.IsCA {
			t.Errorf("%s is not a CA", c.Subject)
		}
		subjects = append(subjects, c.Subject.CommonName)
	}
	if len(subjects) != want || want < 100 {
		t.Errorf("the bundle holds %d certificates; the pinned roots have %d without constraints", len(subjects), want)
	}
	for _, cn := range []string{"Amazon Root CA 1", "ISRG Root X1"} {
		if !slices.Contains(subjects, cn) {
			t.Errorf("the bundle lacks %q", cn)
		}
	}
	if !bytes.Equal(data, CACerts()) {
		t.Error("two calls give different bundles")
	}
}
