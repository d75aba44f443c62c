package feeds

import (
	"strconv"
	"strings"
)

// parseAzure reads a ServiceTags_Public file. Every tag lists its prefixes,
// and the broad AzureCloud tags repeat the narrower ones; all are kept.
func parseAzure(p *parser, root value) *Snapshot {
	s := &Snapshot{}
	top, ok := p.fields(root, "changeNumber", "values")
	if !ok {
		return s
	}
	s.SyncToken, _ = p.changeNumber(top[0])
	p.items(top[1], func(el value) {
		tag, ok := p.fields(el, "name", "properties")
		if !ok {
			return
		}
		name, okName := p.str(tag[0])
		props, ok := p.fields(tag[1], "region", "systemService", "addressPrefixes")
		if !ok {
			return
		}
		region, okRegion := p.optional(props[0])
		if region == "" {
			region = "global"
		}
		okRegion = okRegion && p.matches(props[0], region, regionName)
		service, okService := p.optional(props[1])
		from := props[1]
		if service == "" {
			service, _, _ = strings.Cut(name, ".")
			from = tag[0]
		}
		okService = okService && p.matches(from, service, serviceName)
		r := p.rng(el.at)
		p.items(props[2], func(v value) {
			pfx, okPrefix := p.prefix(v, family{})
			if okPrefix && okName && okRegion && okService {
				s.Entries = append(s.Entries, Entry{Prefix: pfx, Region: region, Service: service, Range: r})
			}
		})
	})
	p.requireEntries(s, top[1])
	return s
}

// optional reads a string member that may be absent; absent reads as "".
func (p *parser) optional(v value) (string, bool) {
	if v.raw == nil {
		return "", true
	}
	return p.str(v)
}

// changeNumber reads Azure's integer version number as a decimal string.
func (p *parser) changeNumber(v value) (string, bool) {
	if !p.is(v, "number") {
		return "", false
	}
	if _, err := strconv.ParseUint(string(v.raw), 10, 64); err != nil {
		p.errorf(v.at, "Invalid change number", "Replace %s with a non-negative whole number.", v.raw)
		return "", false
	}
	return string(v.raw), true
}
