package scriptcmd

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/regedge/regedge/compiler/rawhttp"
)

func TestMirrorServesFilesAndLogs(t *testing.T) {
	dir := t.TempDir()
	blobs := filepath.Join(dir, "files", "v2", "lib", "blobs")
	if err := os.MkdirAll(blobs, 0o777); err != nil {
		t.Fatal(err)
	}
	d := digest("hello")
	if err := os.WriteFile(filepath.Join(blobs, d), []byte("hello"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("no"), 0o666); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(filepath.Join(dir, "files"))
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	logFile, err := os.Create(filepath.Join(dir, "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	srv := httptest.NewServer(accessLog(fileHandler(root), logFile))
	defer srv.Close()

	blob := "/v2/lib/blobs/" + d
	for _, tc := range []struct {
		method, target string
		status         int
		body           string
	}{
		{"GET", blob, 200, "hello"},
		{"HEAD", blob, 200, ""},
		{"GET", "/v2/lib/blobs/sha256:0", 404, "404 page not found\n"},
		{"GET", "/v2/lib/blobs/", 404, "404 page not found\n"},
		{"GET", "/../secret", 404, "404 page not found\n"},
		{"POST", blob, 405, "method not allowed\n"},
	} {
		req, err := rawhttp.NewRequest(t.Context(), tc.method, srv.URL+tc.target)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tc.status || string(body) != tc.body {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.target, resp.StatusCode, body, tc.status, tc.body)
		}
	}
	logged, err := os.ReadFile(logFile.Name())
	if err != nil {
		t.Fatal(err)
	}
	want := "GET " + blob + " 200\n" +
		"HEAD " + blob + " 200\n" +
		"GET /v2/lib/blobs/sha256:0 404\n" +
		"GET /v2/lib/blobs/ 404\n" +
		"GET /../secret 404\n" +
		"POST " + blob + " 405\n"
	if string(logged) != want {
		t.Errorf("access log:\n%s\nwant:\n%s", logged, want)
	}
}

func TestAccessLogImplicitOK(t *testing.T) {
	logFile, err := os.Create(filepath.Join(t.TempDir(), "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	srv := httptest.NewServer(accessLog(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), logFile))
	defer srv.Close()
	g := &httpGet{method: http.MethodGet, headers: http.Header{}, url: srv.URL + "/x?y"}
	if _, err := g.do(); err != nil {
		t.Fatal(err)
	}
	if logged, _ := os.ReadFile(logFile.Name()); string(logged) != "GET /x?y 200\n" {
		t.Errorf("access log %q, want %q", logged, "GET /x?y 200\n")
	}
}
