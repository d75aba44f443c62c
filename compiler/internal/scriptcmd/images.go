package scriptcmd

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/rogpeppe/go-internal/testscript"
)

const imagesUsage = "usage: images [-missing SITEDIR] UPSTREAM_HOST REPO TAG SITEDIR..."

// layerSize is the size of each random layer's one file, in bytes.
const layerSize = 2048

// cmdImages pushes a two-platform OCI index, tagged TAG, and a cosign-style
// signature of it to the registry at UPSTREAM_HOST under REPO, and copies
// every blob of both into each SITEDIR as containers/images/<digest>,
// except that the first layer of the amd64 image is left out of the
// -missing site. It sets INDEX_DIGEST, AMD64_DIGEST, ARM64_DIGEST,
// SIG_DIGEST (the manifests), SIG_TAG, each blob's digest as
// AMD64_CONFIG, AMD64_LAYER1, AMD64_LAYER2, ARM64_CONFIG, ARM64_LAYER1,
// ARM64_LAYER2, SIG_CONFIG and SIG_LAYER, and MISSING_BLOB to the one
// -missing leaves out, and lists the blob digests, in that order, in
// $WORK/blobs.txt.
func cmdImages(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("images", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	missing := fs.String("missing", "", "")
	if err := fs.Parse(args); neg || err != nil || fs.NArg() < 4 {
		ts.Fatalf(imagesUsage)
	}
	host, repo, tag, sites := fs.Arg(0), fs.Arg(1), fs.Arg(2), fs.Args()[3:]
	if *missing != "" && !slices.Contains(sites, *missing) {
		ts.Fatalf("images: -missing %s is not one of the SITEDIRs", *missing)
	}
	set, err := newImageSet()
	if err != nil {
		ts.Fatalf("images: %v", err)
	}
	if err := set.push(host, repo, tag); err != nil {
		ts.Fatalf("images: %v", err)
	}
	for _, site := range sites {
		dir := filepath.Join(ts.MkAbs(site), "containers", "images")
		skip := ""
		if site == *missing {
			skip = set.vars["AMD64_LAYER1"]
		}
		if err := set.copyBlobs(dir, skip); err != nil {
			ts.Fatalf("images: %s: %v", site, pathless(err))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(set.vars)) {
		ts.Setenv(k, set.vars[k])
	}
	ts.Setenv("MISSING_BLOB", set.vars["AMD64_LAYER1"])
	var list strings.Builder
	for _, b := range set.blobs {
		list.WriteString(b.digest + "\n")
	}
	if err := os.WriteFile(filepath.Join(ts.Getenv("WORK"), "blobs.txt"), []byte(list.String()), 0o666); err != nil {
		ts.Fatalf("images: blobs.txt: %v", pathless(err))
	}
}

// imageSet is the index, its two images and its signature, their blobs,
// and the variables cmdImages sets.
type imageSet struct {
	index  v1.ImageIndex
	images []v1.Image // amd64, arm64, then the signature
	sigTag string
	blobs  []blob // each image's config, then its layers
	vars   map[string]string
}

// blob is one config or layer.
type blob struct {
	digest string
	data   []byte
}

// platforms are the index's images, in order.
var platforms = []v1.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64"},
}

func newImageSet() (*imageSet, error) {
	s := &imageSet{vars: map[string]string{}}
	var adds []mutate.IndexAddendum
	for _, p := range platforms {
		img, err := platformImage(p)
		if err != nil {
			return nil, err
		}
		if err := s.add(strings.ToUpper(p.Architecture), img); err != nil {
			return nil, err
		}
		adds = append(adds, mutate.IndexAddendum{Add: plainImage{img}, Descriptor: v1.Descriptor{Platform: &p}})
	}
	s.index = mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
	d, err := s.index.Digest()
	if err != nil {
		return nil, err
	}
	s.vars["INDEX_DIGEST"] = d.String()
	s.sigTag = d.Algorithm + "-" + d.Hex + ".sig"
	s.vars["SIG_TAG"] = s.sigTag
	sig, err := signature(d)
	if err != nil {
		return nil, err
	}
	return s, s.add("SIG", sig)
}

// plainImage is an image whose descriptor in an index has no
// artifactType, as in the indexes docker and crane push for images: the
// field, which go-containerregistry fills in, is unknown to older
// clients, which then cannot copy the index unchanged.
type plainImage struct{ v1.Image }

// ArtifactType tells partial.Descriptor the image has none.
func (plainImage) ArtifactType() (string, error) { return "", nil }

// platformImage is an OCI image for p: a config naming p and two layers
// of random content.
func platformImage(p v1.Platform) (v1.Image, error) {
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	for range 2 {
		l, err := random.Layer(layerSize, types.OCILayer)
		if err != nil {
			return nil, err
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			return nil, err
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = p.OS, p.Architecture
	return mutate.ConfigFile(img, cf)
}

// signature is an image shaped like a cosign signature of the manifest d:
// one simple-signing payload layer carrying a signature annotation. Nothing
// checks the signature; it is there to be pulled.
func signature(d v1.Hash) (v1.Image, error) {
	payload := fmt.Sprintf(`{"critical":{"identity":{"docker-reference":"regedge.test/pause"},"image":{"docker-manifest-digest":%q},"type":"cosign container image signature"},"optional":null}`, d.String())
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(img, mutate.Addendum{
		Layer:       static.NewLayer([]byte(payload), "application/vnd.dev.cosign.simplesigning.v1+json"),
		Annotations: map[string]string{"dev.cosignproject.cosign/signature": "MEUCIQDregedgetestsignature"},
	})
	if err != nil {
		return nil, err
	}
	// The payload is not a filesystem layer, so the config lists no diff
	// ID for it; validate.Image insists on that.
	return mutate.ConfigFile(img, &v1.ConfigFile{RootFS: v1.RootFS{Type: "layers"}})
}

// add appends img and its blobs to s and sets its variables, whose names
// start with prefix: _DIGEST for the manifest, _CONFIG, and _LAYER, or
// _LAYER1, _LAYER2... when there are several.
func (s *imageSet) add(prefix string, img v1.Image) error {
	d, err := img.Digest()
	if err != nil {
		return err
	}
	s.vars[prefix+"_DIGEST"] = d.String()
	c, err := img.ConfigName()
	if err != nil {
		return err
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	s.vars[prefix+"_CONFIG"] = c.String()
	s.blobs = append(s.blobs, blob{c.String(), cfg})
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for i, l := range layers {
		ld, err := l.Digest()
		if err != nil {
			return err
		}
		rc, err := l.Compressed()
		if err != nil {
			return err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		name := prefix + "_LAYER"
		if len(layers) > 1 {
			name += fmt.Sprint(i + 1)
		}
		s.vars[name] = ld.String()
		s.blobs = append(s.blobs, blob{ld.String(), data})
	}
	s.images = append(s.images, img)
	return nil
}

// push writes the index as host/repo:tag and the signature as
// host/repo:<sig tag>, over plain HTTP.
func (s *imageSet) push(host, repo, tag string) error {
	ref, err := name.NewTag(host+"/"+repo+":"+tag, name.Insecure)
	if err != nil {
		return err
	}
	if err := remote.WriteIndex(ref, s.index, remote.WithTransport(loopbackTransport())); err != nil {
		return err
	}
	sigRef := ref.Context().Tag(s.sigTag)
	return remote.Write(sigRef, s.images[len(s.images)-1], remote.WithTransport(loopbackTransport()))
}

// copyBlobs writes every blob but skip into dir, named by its digest.
func (s *imageSet) copyBlobs(dir, skip string) error {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	for _, b := range s.blobs {
		if b.digest == skip {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, b.digest), b.data, 0o666); err != nil {
			return err
		}
	}
	return nil
}
