// Command mkimage builds the container image of regedge serve from static
// regedge binaries (make release's), writes it as an OCI layout and can
// push it to a registry. make image runs it.
//
//	mkimage -out DIR [-push REF] BINARY...
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/regedge/regedge/compiler/internal/image"
)

func main() {
	out := flag.String("out", "", "`DIR` to write the image to, as an OCI layout")
	push := flag.String("push", "", "registry `REF` to push the image to, such as registry.example.com/regedge:v1.2.0")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: mkimage -out DIR [-push REF] BINARY...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*out, *push, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func run(out, push string, paths []string) error {
	// A mistyped reference stops mkimage before it writes anything.
	var ref name.Reference
	if push != "" {
		var err error
		if ref, err = name.ParseReference(push); err != nil {
			return fmt.Errorf("-push: %w", err)
		}
	}
	var bins []image.Binary
	for _, p := range paths {
		b, err := image.ReadBinary(p)
		if err != nil {
			return err
		}
		bins = append(bins, b)
	}
	spec, err := image.NewSpec(bins, image.CACerts())
	if err != nil {
		return err
	}
	idx, err := image.Build(spec)
	if err != nil {
		return err
	}
	if err := image.WriteLayout(out, idx, spec.Provenance.Version); err != nil {
		return err
	}
	d, err := idx.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s: regedge %s %s, index %s\n", out, spec.Provenance.Version, spec.Provenance.Revision, d)
	m, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, desc := range m.Manifests {
		fmt.Printf("  %s %s\n", desc.Platform, desc.Digest)
	}
	if ref != nil {
		pushed, err := image.Push(context.Background(), ref, idx)
		if err != nil {
			return fmt.Errorf("push %s: %w", push, err)
		}
		fmt.Printf("pushed %s (%s)\n", push, pushed)
	}
	return nil
}
