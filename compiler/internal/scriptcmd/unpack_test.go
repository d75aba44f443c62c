package scriptcmd

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gzipTar is a gzipped tar of the headers, each with content as its body
// when it is a regular file.
func gzipTar(t *testing.T, content string, hdrs ...*tar.Header) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for _, h := range hdrs {
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(content))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			io.WriteString(tw, content)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestExtractLayerRefuses(t *testing.T) {
	for _, tt := range []struct {
		hdr  *tar.Header
		want string
	}{
		{&tar.Header{Name: "../escape", Typeflag: tar.TypeReg, Mode: 0o644}, `entry "../escape" is not a local name`},
		{&tar.Header{Name: "/etc/passwd", Typeflag: tar.TypeReg, Mode: 0o644}, "not a local name"},
		{&tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "/etc"}, "neither a folder nor a file"},
	} {
		dir := t.TempDir()
		l := layoutBlob{"sha256:test", gzipTar(t, "x", tt.hdr)}
		if err := extractLayer(io.Discard, l, dir); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("extracting %q: %v, want an error saying %q", tt.hdr.Name, err, tt.want)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("extracting %q wrote %d entries", tt.hdr.Name, len(entries))
		}
	}
}

func TestExtractLayerLists(t *testing.T) {
	data := gzipTar(t, "hello",
		&tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755},
		&tar.Header{Name: "etc/hello", Typeflag: tar.TypeReg, Mode: 0o640, Uid: 65532, Gid: 65532})
	var out bytes.Buffer
	dir := t.TempDir()
	if err := extractLayer(&out, layoutBlob{"sha256:test", data}, dir); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	want := "layer sha256:" + hex.EncodeToString(sum[:]) + "\n" +
		"drwxr-xr-x 0:0 1970-01-01T00:00:00Z etc/\n" +
		"-rw-r----- 65532:65532 1970-01-01T00:00:00Z etc/hello\n"
	if out.String() != want {
		t.Errorf("extractLayer listed\n%s\nwant\n%s", out.String(), want)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "etc", "hello")); err != nil || string(got) != "hello" {
		t.Errorf("etc/hello holds %q, %v", got, err)
	}
}

func TestReadBlobChecksDigest(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o777); err != nil {
		t.Fatal(err)
	}
	d := digest("hello")
	path := filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(d, "sha256:"))
	if err := os.WriteFile(path, []byte("hello"), 0o666); err != nil {
		t.Fatal(err)
	}
	if b, err := readBlob(dir, d); err != nil || string(b.data) != "hello" {
		t.Errorf("readBlob = %q, %v", b.data, err)
	}
	if err := os.WriteFile(path, []byte("hellO"), 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := readBlob(dir, d); err == nil || !strings.Contains(err.Error(), "does not match its digest") {
		t.Errorf("readBlob of a changed blob: %v", err)
	}
	for _, bad := range []string{"sha256:../../etc/passwd", "md5:abc", "sha256:" + strings.Repeat("A", 64)} {
		if _, err := readBlob(dir, bad); err == nil || !strings.Contains(err.Error(), "is not a sha256 digest") {
			t.Errorf("readBlob(%q) = %v, want not a sha256 digest", bad, err)
		}
	}
}
