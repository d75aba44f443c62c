package cli

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/regedge/regedge/compiler/internal/scriptcmd"
)

// TestMain lets scripts run the regedge command in-process with
// "exec regedge".
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"regedge": func() { os.Exit(Main()) }})
}

// TestScripts runs the end-to-end scripts in testscripts/. Set
// UPDATE_SCRIPTS=1 to rewrite their golden files from the actual output.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "../../../testscripts",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") != "",
		Cmds:                scriptcmd.Commands(),
		Setup:               scriptcmd.Setup,
	})
}
