package scriptcmd

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") != "",
		Cmds:                Commands(),
		Setup:               Setup,
	})
}

func TestExpand(t *testing.T) {
	env := map[string]string{"PORT": "8080", "HOST": "127.0.0.1"}
	getenv := func(k string) string { return env[k] }
	for in, want := range map[string]string{
		"listen $HOST:$PORT;":        "listen 127.0.0.1:8080;",
		"url = \"http://${HOST}/\"":  "url = \"http://127.0.0.1/\"",
		"return 307 $$scheme://$$h;": "return 307 $scheme://$h;",
		"no references":              "no references",
	} {
		got, err := expand(in, getenv)
		if err != nil || got != want {
			t.Errorf("expand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := expand("$host $PORT ${uri} $host", getenv); err == nil ||
		err.Error() != "$host, $uri is not set (write $$ for a literal $)" {
		t.Errorf("expand with unset variables: %v", err)
	}
}

func TestDigest(t *testing.T) {
	const want = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	if got := digest("hello"); got != want {
		t.Errorf("digest(hello) = %s, want %s", got, want)
	}
}

func TestLookProgram(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "prog")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := lookProgram("prog", "relative:"+dir); err != nil || got != prog {
		t.Errorf("lookProgram(prog) = %q, %v; want %q", got, err, prog)
	}
	for _, name := range []string{"no-such-program-regedge", "a/prog", ""} {
		if got, err := lookProgram(name, dir); err == nil {
			t.Errorf("lookProgram(%q) = %q, want an error", name, got)
		}
	}
}
