package scriptcmd

import (
	"maps"
	"os"
	"path/filepath"
	"testing"
)

func TestLinesFromSkipsReadAndPartialLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	if err := os.WriteFile(path, []byte("GET /a 200\nGET /a 200\nHEAD /b 404\nGET /c"), 0o666); err != nil {
		t.Fatal(err)
	}
	counts, off, err := linesFrom(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"GET /a 200": 2, "HEAD /b 404": 1}; !maps.Equal(counts, want) || off != 34 {
		t.Errorf("linesFrom(0) = %v, %d; want %v, 34", counts, off, want)
	}
	counts, off, err = linesFrom(path, off)
	if err != nil || len(counts) != 0 || off != 34 {
		t.Errorf("linesFrom(34) = %v, %d, %v; want nothing new", counts, off, err)
	}
	if _, _, err := linesFrom(path, 100); err == nil {
		t.Error("linesFrom past the end succeeded")
	}
}

func TestCounts(t *testing.T) {
	want, err := parseCounts("2 GET /a 200\n\n1 HEAD /b 404\n1 GET /a 200\n")
	if err != nil {
		t.Fatal(err)
	}
	if w := map[string]int{"GET /a 200": 3, "HEAD /b 404": 1}; !maps.Equal(want, w) {
		t.Errorf("parseCounts = %v, want %v", want, w)
	}
	for _, bad := range []string{"GET /a 200", "0 GET /a 200", "x GET", "3"} {
		if _, err := parseCounts(bad); err == nil {
			t.Errorf("parseCounts(%q) succeeded", bad)
		}
	}
	got := map[string]int{"GET /a 200": 3, "GET /c 200": 1}
	if s := formatCounts(got); s != "3 GET /a 200\n1 GET /c 200\n" {
		t.Errorf("formatCounts = %q", s)
	}
	if d := diffCounts(want, got); d != "\twant 0, got 1: GET /c 200\n\twant 1, got 0: HEAD /b 404\n" {
		t.Errorf("diffCounts = %q", d)
	}
	if d := diffCounts(got, got); d != "" {
		t.Errorf("diffCounts of equal counts = %q", d)
	}
}
