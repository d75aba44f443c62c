package config

import (
	"regexp"

	"github.com/hashicorp/hcl/v2"

	"github.com/regedge/regedge/compiler/internal/render"
)

// defaultStateDir is where nginx keeps its runtime state (pid file, temp
// files, the existence cache) unless the policy says otherwise. It lies
// outside the generated output, which every build replaces.
const defaultStateDir = "/var/lib/regedge/nginx"

// stateDirPattern is an absolute path whose segments are letters, digits
// and -._ and do not start with a dot, so none is "." or "..". It is
// rendered quoted, and holds nothing that could end a directive.
var stateDirPattern = regexp.MustCompile(`^(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)+$`)

// maxStateDir leaves room for the existence check's Unix socket, whose
// whole path can be at most 107 bytes.
const maxStateDir = render.NginxMaxStateDir

func (d *decoder) checkStateDir(s string, r hcl.Range) {
	if len(s) > maxStateDir || !stateDirPattern.MatchString(s) {
		d.errorf(r, "Invalid state_dir", "state_dir is an absolute path of at most %d characters, such as %q; its parts hold only letters, digits and -._ and do not start with a dot.", maxStateDir, defaultStateDir)
	}
}
