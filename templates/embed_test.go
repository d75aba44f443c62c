package templates

import (
	"io/fs"
	"slices"
	"testing"
)

// TestOneFolderPerTarget checks that every target's templates are embedded.
func TestOneFolderPerTarget(t *testing.T) {
	var got []string
	fs.WalkDir(FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			got = append(got, path)
		}
		return err
	})
	for _, want := range []string{
		"nginx/nginx.conf.tmpl", "nginx/regedge.conf.tmpl", "varnish/regedge.vcl.tmpl", "fastly/regedge.vcl.tmpl",
		"haproxy/haproxy.cfg.tmpl", "haproxy/labels.map.tmpl", "haproxy/regedge.lua.tmpl",
		"worker/worker.js.tmpl", "worker/wrangler.toml.tmpl", "worker/workerd.capnp.tmpl",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("%s is not embedded; have %v", want, got)
		}
	}
}
