package scriptcmd

import "github.com/rogpeppe/go-internal/testscript"

// cmdHealthMode switches the mirror healthsites started to MODE, a
// faultmirror mode or "refuse", which closes its port until the next
// mode: a script takes a site through the health rule's states one
// request at a time, where healthcheck runs a whole outage.
func cmdHealthMode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: healthmode MODE")
	}
	m, ok := healthMirrors.Load(ts)
	if !ok {
		ts.Fatalf("healthmode: run healthsites first")
	}
	if err := m.(*switchMirror).set(args[0]); err != nil {
		ts.Fatalf("healthmode: %v", err)
	}
}
