package plandiff

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
	"unicode"

	"go4.org/netipx"

	"github.com/regedge/regedge/compiler/internal/report"
	"github.com/regedge/regedge/compiler/plan"
)

// maxPrefixes is how many prefixes each label lists per direction.
const maxPrefixes = 20

// write lays the diff out as Markdown: a summary line, then a section for
// each kind of change there is.
func write(b *strings.Builder, d *diff) {
	feeds, feedsChanged := feedSummary(d.feeds)
	if d.empty() {
		b.WriteString("No routing changes.")
		if feedsChanged {
			fmt.Fprintf(b, " Feeds: %s.", feeds)
		}
		b.WriteString("\n")
		return
	}
	b.WriteString("## Routing changes")
	if d.deployment != "" {
		fmt.Fprintf(b, " in deployment %s", code(d.deployment))
	}
	fmt.Fprintf(b, "\n\nFeeds: %s. %s.\n", feeds, summary(d))
	writeAddresses(b, d.labels)
	writeRegions(b, d.newRegions, d.goneRegion)
	if len(d.routes) > 0 {
		b.WriteString("\n### Routes\n\n")
		for _, r := range d.routes {
			fmt.Fprintf(b, "- %s %s: %s → %s\n", code(r.class), r.kind, code(r.old), code(r.new))
		}
	}
	if len(d.endpoints) > 0 {
		b.WriteString("\n### Upstreams and sites\n\n")
		for _, e := range d.endpoints {
			fmt.Fprintf(b, "- %s\n", endpointItem(e))
		}
	}
}

// endpointItem writes an upstream or site change as a list item.
func endpointItem(e endpointChange) string {
	switch e.field {
	case "added":
		if e.what == "upstream" {
			return fmt.Sprintf("upstream %s added: %s, prefix %s", code(e.name), code(e.new), code(e.prefix))
		}
		return fmt.Sprintf("site %s added: %s", code(e.name), code(e.new))
	case "removed":
		return fmt.Sprintf("%s %s removed", e.what, code(e.name))
	}
	return fmt.Sprintf("%s %s %s: %s → %s", e.what, code(e.name), e.field, code(e.old), code(e.new))
}

// feedSummary describes each feed's snapshot change and reports whether
// any feed changed.
func feedSummary(feeds []pair[plan.Feed]) (string, bool) {
	if len(feeds) == 0 {
		return "none", false
	}
	changed := false
	parts := make([]string, len(feeds))
	for i, f := range feeds {
		switch {
		case f.old == nil:
			parts[i] = fmt.Sprintf("%s added (%s, created %s)", code(f.new.Name), code(f.new.SyncToken), code(f.new.Created))
		case f.new == nil:
			parts[i] = fmt.Sprintf("%s removed (was %s, created %s)", code(f.old.Name), code(f.old.SyncToken), code(f.old.Created))
		case f.old.SyncToken == f.new.SyncToken && f.old.Created == f.new.Created:
			parts[i] = fmt.Sprintf("%s unchanged (%s, created %s)", code(f.new.Name), code(f.new.SyncToken), code(f.new.Created))
			continue
		default:
			parts[i] = fmt.Sprintf("%s %s → %s (created %s → %s)", code(f.new.Name),
				code(f.old.SyncToken), code(f.new.SyncToken), code(f.old.Created), code(f.new.Created))
		}
		changed = true
	}
	return strings.Join(parts, ", "), changed
}

// summary counts the changes of each kind.
func summary(d *diff) string {
	var parts []string
	if len(d.labels) > 0 {
		parts = append(parts, report.Plural(len(d.labels), "label", "labels")+" with address changes")
	}
	if n := len(d.newRegions) + len(d.goneRegion); n > 0 {
		parts = append(parts, report.Plural(n, "region", "regions")+" new or gone")
	}
	if len(d.routes) > 0 {
		parts = append(parts, report.Plural(len(d.routes), "route change", "route changes"))
	}
	if len(d.endpoints) > 0 {
		parts = append(parts, report.Plural(len(d.endpoints), "upstream or site change", "upstream or site changes"))
	}
	return strings.Join(parts, ", ")
}

// writeAddresses writes a table of address counts, then each label's
// prefixes.
func writeAddresses(b *strings.Builder, labels []labelChange) {
	if len(labels) == 0 {
		return
	}
	b.WriteString("\n### Addresses\n\n")
	if slices.ContainsFunc(labels, func(l labelChange) bool { return l.isDefault || l.wasDefault }) {
		b.WriteString("The default label holds every address no other label holds: it gains what they lose and loses what they gain.\n\n")
	}
	b.WriteString("| Label | IPv4 gained | IPv4 lost | IPv6 /64s gained | IPv6 /64s lost |\n|---|--:|--:|--:|--:|\n")
	for _, l := range labels {
		g4, g6 := sizes(l.gained)
		l4, l6 := sizes(l.lost)
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", title(l), g4, l4, g6, l6)
	}
	for _, l := range labels {
		fmt.Fprintf(b, "\n#### %s\n\n", title(l))
		if s := prefixList(l.gained); s != "" {
			fmt.Fprintf(b, "- Gained: %s\n", s)
		}
		if s := prefixList(l.lost); s != "" {
			fmt.Fprintf(b, "- Lost: %s\n", s)
		}
	}
}

// title names a label and says whether it is, or was, the default.
func title(l labelChange) string {
	switch {
	case l.isDefault:
		return code(l.name) + " (default)"
	case l.wasDefault:
		return code(l.name) + " (formerly the default)"
	}
	return code(l.name)
}

// sizes returns how many IPv4 addresses and how many IPv6 /64s a set holds,
// with thousands separators. Less than one /64 is "<1".
func sizes(s *netipx.IPSet) (v4, v6 string) {
	n4, n6 := new(big.Int), new(big.Int)
	for _, r := range s.Ranges() {
		n := report.Addresses(r.From(), r.To())
		if r.From().Is4() {
			n4.Add(n4, n)
		} else {
			n6.Add(n6, n)
		}
	}
	v6 = report.Commas(new(big.Int).Rsh(n6, 64))
	if v6 == "0" && n6.Sign() > 0 {
		v6 = "<1"
	}
	return report.Commas(n4), v6
}

// prefixList lists the set's prefixes, IPv4 first, at most maxPrefixes of
// them; "" for an empty set.
func prefixList(s *netipx.IPSet) string {
	prefixes := s.Prefixes()
	var parts []string
	for _, p := range prefixes[:min(len(prefixes), maxPrefixes)] {
		parts = append(parts, code(p.String()))
	}
	list := strings.Join(parts, ", ")
	if n := len(prefixes) - maxPrefixes; n > 0 {
		list += fmt.Sprintf(", and %d more", n)
	}
	return list
}

func writeRegions(b *strings.Builder, added []region, gone []string) {
	if len(added)+len(gone) == 0 {
		return
	}
	b.WriteString("\n### Client regions\n\n")
	for _, r := range added {
		if r.unserved {
			fmt.Fprintf(b, "- New: %s, on the **default label** %s: no other site serves it\n", code(r.class), code(r.label))
		} else {
			fmt.Fprintf(b, "- New: %s, on %s\n", code(r.class), code(r.label))
		}
	}
	for _, c := range gone {
		fmt.Fprintf(b, "- Gone: %s\n", code(c))
	}
}

// code returns s as a Markdown code span. Characters that could end the
// span, split a table cell or break the line are written as Go escapes, so
// no plan or feed string can change the comment's layout.
func code(s string) string {
	if s == "" {
		return "(none)"
	}
	var b strings.Builder
	b.WriteByte('`')
	for _, r := range s {
		switch {
		case r == '`' || r == '|' || r == '\\':
			fmt.Fprintf(&b, `\x%02x`, r)
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('`')
	return b.String()
}
