package cli

import (
	"fmt"
	"io"

	"github.com/regedge/regedge/compiler/internal/version"
)

// runVersion prints the version, the revision and the Go version.
func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("version", stderr)
	if status, ok := parseFlags(fs, args, 0, stdout); !ok {
		return status
	}
	v := version.Get()
	fmt.Fprintf(stdout, "regedge %s %s\n", v, v.Go)
	return 0
}
