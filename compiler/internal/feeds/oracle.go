package feeds

import "strings"

// parseOracle reads public_ip_ranges.json, which nests CIDRs under regions.
func parseOracle(p *parser, root value) *Snapshot {
	s := &Snapshot{}
	top, ok := p.fields(root, "last_updated_timestamp", "regions")
	if !ok {
		return s
	}
	s.Created, _ = p.strOf(top[0], versionName)
	p.items(top[1], func(el value) {
		reg, ok := p.fields(el, "region", "cidrs")
		if !ok {
			return
		}
		region, okRegion := p.strOf(reg[0], regionName)
		p.items(reg[1], func(c value) {
			cidr, ok := p.fields(c, "cidr", "tags")
			if !ok {
				return
			}
			pfx, okPrefix := p.prefix(cidr[0], family{})
			var tags []string
			badTag := false
			okTags := p.items(cidr[1], func(t value) {
				tag, ok := p.strOf(t, serviceName)
				tags = append(tags, tag)
				badTag = badTag || !ok
			})
			if okRegion && okPrefix && okTags && !badTag {
				s.Entries = append(s.Entries, Entry{Prefix: pfx, Region: region, Service: strings.Join(tags, ","), Range: p.rng(c.at)})
			}
		})
	})
	p.requireEntries(s, top[1])
	return s
}
