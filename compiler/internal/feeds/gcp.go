package feeds

import "net/netip"

// parseGCP reads cloud.json, whose entries carry exactly one of two prefix keys.
func parseGCP(p *parser, root value) *Snapshot {
	s := &Snapshot{}
	top, ok := p.fields(root, "syncToken", "creationTime", "prefixes")
	if !ok {
		return s
	}
	s.SyncToken, _ = p.strOf(top[0], versionName)
	s.Created, _ = p.strOf(top[1], versionName)
	p.items(top[2], func(el value) {
		f, ok := p.fields(el, "ipv4Prefix", "ipv6Prefix", "service", "scope")
		if !ok {
			return
		}
		v4, v6 := f[0], f[1]
		var pfx netip.Prefix
		okPrefix := false
		switch {
		case v4.raw != nil && v6.raw != nil:
			p.errorf(el.at, "Entry has two prefixes", "Split this entry into one with ipv4Prefix and one with ipv6Prefix.")
		case v4.raw != nil:
			pfx, okPrefix = p.prefix(v4, family{4, "ipv6Prefix"})
		case v6.raw != nil:
			pfx, okPrefix = p.prefix(v6, family{6, "ipv4Prefix"})
		default:
			p.errorf(el.at, "Entry has no prefix", "Add an ipv4Prefix or ipv6Prefix to this entry.")
		}
		service, okService := p.strOf(f[2], serviceName)
		region, okRegion := p.strOf(f[3], regionName)
		if okPrefix && okService && okRegion {
			s.Entries = append(s.Entries, Entry{Prefix: pfx, Region: region, Service: service, Range: p.rng(el.at)})
		}
	})
	p.requireEntries(s, top[2])
	return s
}
