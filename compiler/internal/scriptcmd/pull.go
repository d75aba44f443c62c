package scriptcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	"github.com/rogpeppe/go-internal/testscript"
)

const cranepullUsage = "usage: cranepull [-xff CLIENT] [-H 'Name: value']... [-platform OS/ARCH] REF OUTDIR"

// pullTimeout bounds one cranepull.
const pullTimeout = 30 * time.Second

// cmdCranePull pulls REF over plain HTTP with go-containerregistry's
// remote package, as crane does, into a new OCI layout at OUTDIR, then
// reads the layout back and validates every manifest and blob against its
// digest. An index is pulled whole, unless -platform picks one image.
// -xff CLIENT sends "X-Forwarded-For: CLIENT, 127.0.0.1" and -H another
// header, on every request, redirected ones included. Nothing is retried.
// It prints "pulled index DIGEST" or "pulled image DIGEST [OS/ARCH]" for
// each manifest, then the number of blobs verified.
func cmdCranePull(ts *testscript.TestScript, neg bool, args []string) {
	p, err := parseCranePull(args)
	if neg || err != nil {
		ts.Fatalf("%s: %v", cranepullUsage, err)
	}
	out, err := p.pull(ts.MkAbs(p.outDir))
	if err != nil {
		ts.Fatalf("cranepull: %v", pathless(err))
	}
	fmt.Fprint(ts.Stdout(), out)
}

// cranePull is one parsed cranepull command line.
type cranePull struct {
	headers  http.Header
	platform *v1.Platform
	ref      string
	outDir   string
}

func parseCranePull(args []string) (*cranePull, error) {
	p := &cranePull{headers: http.Header{}}
	fs := flag.NewFlagSet("cranepull", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Func("xff", "", func(s string) error {
		p.headers.Add("X-Forwarded-For", s+", 127.0.0.1")
		return nil
	})
	fs.Func("H", "", headerFlag(p.headers))
	fs.Func("platform", "", func(s string) error {
		pl, err := v1.ParsePlatform(s)
		if err != nil {
			return err
		}
		if pl.OS == "" || pl.Architecture == "" {
			return fmt.Errorf("platform %q is not OS/ARCH", s)
		}
		p.platform = pl
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 2 {
		return nil, errors.New("want REF and OUTDIR")
	}
	p.ref, p.outDir = fs.Arg(0), fs.Arg(1)
	return p, nil
}

// pull fetches the image or index into the layout at dir, validates it
// there and returns what cranepull prints.
func (p *cranePull) pull(dir string) (string, error) {
	ref, err := name.ParseReference(p.ref, name.Insecure)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), pullTimeout)
	defer cancel()
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(&headerTransport{base: loopbackTransport(), headers: p.headers}),
		remote.WithRetryBackoff(remote.Backoff{Duration: time.Millisecond, Steps: 1}),
		remote.WithRetryStatusCodes(),
		remote.WithRetryPredicate(func(error) bool { return false }),
	}
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		return "", err
	}
	if err := p.fetch(lp, ref, opts); err != nil {
		return "", err
	}
	return verifyLayout(lp)
}

// fetch appends the image or index ref names to the layout lp: the image
// for p's platform when it has one.
func (p *cranePull) fetch(lp layout.Path, ref name.Reference, opts []remote.Option) error {
	if p.platform != nil {
		img, err := remote.Image(ref, append(opts, remote.WithPlatform(*p.platform))...)
		if err != nil {
			return err
		}
		return lp.AppendImage(img)
	}
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return err
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return err
		}
		return lp.AppendIndex(idx)
	}
	img, err := desc.Image()
	if err != nil {
		return err
	}
	return lp.AppendImage(img)
}

// cmdLayoutCheck validates the one manifest of the OCI layout DIR, as
// another client wrote it, the same way cranepull validates its own, and
// prints the same lines.
func cmdLayoutCheck(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: layoutcheck DIR")
	}
	lp, err := layout.FromPath(ts.MkAbs(args[0]))
	if err != nil {
		ts.Fatalf("layoutcheck: %s: %v", args[0], pathless(err))
	}
	out, err := verifyLayout(lp)
	if err != nil {
		ts.Fatalf("layoutcheck: %s: %v", args[0], pathless(err))
	}
	fmt.Fprint(ts.Stdout(), out)
}

// verifyLayout validates the one manifest in the layout lp, as read back
// from disk, and describes it.
func verifyLayout(lp layout.Path) (string, error) {
	top, err := lp.ImageIndex()
	if err != nil {
		return "", err
	}
	im, err := top.IndexManifest()
	if err != nil {
		return "", err
	}
	if len(im.Manifests) != 1 {
		return "", fmt.Errorf("layout lists %d manifests, want 1", len(im.Manifests))
	}
	d := im.Manifests[0]
	var b strings.Builder
	blobs := 0
	if d.MediaType.IsIndex() {
		idx, err := top.ImageIndex(d.Digest)
		if err != nil {
			return "", err
		}
		if err := validate.Index(idx); err != nil {
			return "", fmt.Errorf("index %s: %w", d.Digest, err)
		}
		fmt.Fprintf(&b, "pulled index %s\n", d.Digest)
		children, err := idx.IndexManifest()
		if err != nil {
			return "", err
		}
		for _, c := range children.Manifests {
			img, err := idx.Image(c.Digest)
			if err != nil {
				return "", err
			}
			n, err := describeImage(&b, c.Digest, img)
			if err != nil {
				return "", err
			}
			blobs += n
		}
	} else {
		img, err := top.Image(d.Digest)
		if err != nil {
			return "", err
		}
		if err := validate.Image(img); err != nil {
			return "", fmt.Errorf("image %s: %w", d.Digest, err)
		}
		if blobs, err = describeImage(&b, d.Digest, img); err != nil {
			return "", err
		}
	}
	fmt.Fprintf(&b, "verified %d blobs\n", blobs)
	return b.String(), nil
}

// describeImage writes the "pulled image" line of img, validated already,
// and returns how many blobs it has: its config and its layers.
func describeImage(w io.Writer, d v1.Hash, img v1.Image) (int, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return 0, err
	}
	m, err := img.Manifest()
	if err != nil {
		return 0, err
	}
	platform := ""
	if cf.OS != "" {
		platform = " " + cf.OS + "/" + cf.Architecture
	}
	fmt.Fprintf(w, "pulled image %s%s\n", d, platform)
	return 1 + len(m.Layers), nil
}

// loopbackTransport sends plain HTTP only, ignoring proxy settings, so
// that requests to loopback servers go straight to them. It refuses https
// at once: go-containerregistry tries https before http, and a server
// that leaves a TLS handshake unanswered would delay every pull.
func loopbackTransport() http.RoundTripper {
	return plainHTTP{&http.Transport{Proxy: nil, ResponseHeaderTimeout: 10 * time.Second}}
}

// plainHTTP is a transport that refuses every scheme but http.
type plainHTTP struct{ base *http.Transport }

func (t plainHTTP) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" {
		return nil, fmt.Errorf("%s: only plain http is allowed", req.URL.Redacted())
	}
	return t.base.RoundTrip(req)
}

// headerTransport adds headers to every request it sends.
type headerTransport struct {
	base    http.RoundTripper
	headers http.Header
}

func (t *headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if len(t.headers) > 0 {
		req = req.Clone(req.Context())
		for name, values := range t.headers {
			req.Header[name] = values
		}
	}
	return t.base.RoundTrip(req)
}
