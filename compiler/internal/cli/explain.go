package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/regedge/regedge/compiler/internal/answer"
	"github.com/regedge/regedge/compiler/plan"
	"github.com/regedge/regedge/compiler/request"
)

// explanation is what explain prints. Fields that do not apply are empty.
// Client is the address classified, empty for an unknown client.
type explanation struct {
	Status   int    `json:"status"`
	Location string `json:"location"`
	Rule     int    `json:"rule"`
	Route    string `json:"route"`
	Label    string `json:"label"`
	Site     string `json:"site"`
	// Fallback is the Location when the site is not used: the blob is not
	// there, the site gave no answer, or it is down.
	Fallback string `json:"fallback"`
	Prefix   string `json:"prefix"`
	Feed     string `json:"feed"`
	Cloud    string `json:"cloud"`
	Region   string `json:"region"`
	Client   string `json:"client"`
}

func runExplain(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("explain", stderr)
	var pf policyFlags
	pf.register(fs)
	asJSON := fs.Bool("json", false, "print one JSON object")
	method := fs.String("method", "GET", "request `METHOD`, case-sensitive as in HTTP")
	deployment := fs.String("deployment", "", "deployment `NAME`, for policies with deployments")
	if status, ok := parseFlags(fs, args, 2, stdout); !ok {
		return status
	}
	p, status := pf.plan(stderr, *deployment)
	if p == nil {
		return status
	}
	e := explain(p, clientAddr(fs.Arg(0)), *method, fs.Arg(1))
	if *asJSON {
		out, _ := json.Marshal(e)
		fmt.Fprintf(stdout, "%s\n", out)
		return 0
	}
	switch {
	case e.Client == "":
		fmt.Fprintln(stdout, "client   unknown: not a plain IP address")
	case e.Prefix != "":
		fmt.Fprintf(stdout, "client   %s\nprefix   %s, feed %s, %s:%s\n", e.Client, e.Prefix, e.Feed, e.Cloud, e.Region)
	default:
		fmt.Fprintf(stdout, "client   %s\nprefix   none: no feed lists this address\n", e.Client)
	}
	fmt.Fprintf(stdout, "label    %s\n", e.Label)
	fmt.Fprintf(stdout, "rule     %d (docs/request-handling.md)\n", e.Rule)
	if e.Route != "" {
		fmt.Fprintf(stdout, "route    %s\n", e.Route)
	}
	if e.Site != "" && e.Fallback != "" {
		fmt.Fprintf(stdout, "site     %s (if the blob is there and the site is up)\n", e.Site)
	} else if e.Site != "" {
		fmt.Fprintf(stdout, "site     %s\n", e.Site)
	}
	fmt.Fprintf(stdout, "status   %d\n", e.Status)
	if e.Location != "" {
		fmt.Fprintf(stdout, "location %s\n", e.Location)
	}
	if e.Fallback != "" {
		c := p.Check
		fmt.Fprintf(stdout, "fallback %s\n         when the blob is not at the site, the site gives no answer, or the site is down\n"+
			"         (%d checks in a row without an answer make it down for %s, up to %s)\n",
			e.Fallback, c.DownAfter, time.Duration(c.DownFor), time.Duration(c.DownForMax))
	}
	return 0
}

// clientAddr reads explain's CLIENT_IP as every target reads an entry of
// the client header: anything but a plain IP address (a zone, leading
// zeros, a port, brackets) makes the client unknown, the zero Addr.
func clientAddr(s string) netip.Addr {
	addr, err := netip.ParseAddr(s)
	if err != nil || addr.Zone() != "" {
		return netip.Addr{}
	}
	return addr
}

// explain answers a request as the policy would, assuming the blob is at
// the mirror, and says which prefix and feed decided. The target is read
// as a request line's: an absolute-form one by what follows its
// authority. An invalid addr is an unknown client.
func explain(p *plan.Plan, addr netip.Addr, method, target string) explanation {
	label := p.Lookup(addr)
	r := request.Parse(method, request.OriginForm(target))
	res := answer.For(p, r, label, func(string, string) bool { return true })
	e := explanation{Status: res.Status, Location: res.Location, Rule: int(r.Rule), Route: res.Route, Label: p.Labels[label].Name, Site: res.Site}
	if res.Site != "" && p.Check != nil {
		e.Fallback = answer.For(p, r, label, func(string, string) bool { return false }).Location
	}
	if !addr.IsValid() {
		return e
	}
	addr = addr.Unmap()
	e.Client = addr.String()
	table := p.Trace.V6
	if addr.Is4() {
		table = p.Trace.V4
	}
	if i := plan.Find(table, addr); i >= 0 {
		entry := p.Trace.Entries[table[i].Source]
		class := p.Trace.Classes[entry.Class]
		e.Prefix, e.Feed, e.Cloud, e.Region = entry.Prefix.String(), entry.Feed, class.Cloud, class.Region
	}
	return e
}
