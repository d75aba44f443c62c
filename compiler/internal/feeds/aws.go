package feeds

// parseAWS reads ip-ranges.json, which keeps IPv4 and IPv6 in separate lists.
func parseAWS(p *parser, root value) *Snapshot {
	s := &Snapshot{}
	top, ok := p.fields(root, "syncToken", "createDate", "prefixes", "ipv6_prefixes")
	if !ok {
		return s
	}
	s.SyncToken, _ = p.strOf(top[0], versionName)
	s.Created, _ = p.strOf(top[1], versionName)
	for _, list := range []struct {
		v   value
		key string
		fam family
	}{
		{top[2], "ip_prefix", family{4, "ipv6_prefixes"}},
		{top[3], "ipv6_prefix", family{6, "prefixes"}},
	} {
		p.items(list.v, func(el value) {
			f, ok := p.fields(el, list.key, "region", "service")
			if !ok {
				return
			}
			pfx, okPrefix := p.prefix(f[0], list.fam)
			region, okRegion := p.strOf(f[1], regionName)
			service, okService := p.strOf(f[2], serviceName)
			if okPrefix && okRegion && okService {
				s.Entries = append(s.Entries, Entry{Prefix: pfx, Region: region, Service: service, Range: p.rng(el.at)})
			}
		})
	}
	p.requireEntries(s, top[2])
	return s
}
