package plandiff

import (
	"go4.org/netipx"

	"github.com/regedge/regedge/compiler/plan"
)

// Report is the diff for tools, as regedge diff -json prints it: the same
// changes as the Markdown, every prefix listed.
type Report struct {
	Deployment     string           `json:"deployment,omitempty"`
	RoutingChanged bool             `json:"routing_changed"`
	Feeds          []FeedChange     `json:"feeds"`
	Labels         []LabelChange    `json:"labels"`
	NewRegions     []NewRegion      `json:"new_regions"`
	GoneRegions    []string         `json:"gone_regions"`
	Routes         []RouteChange    `json:"routes"`
	Endpoints      []EndpointChange `json:"endpoints"`
}

// FeedChange is a feed of either plan, with its snapshot before and after;
// a feed one plan lacks has no snapshot on that side.
type FeedChange struct {
	Name   string    `json:"name"`
	Before *Snapshot `json:"before"`
	After  *Snapshot `json:"after"`
}

// Snapshot identifies a feed's snapshot.
type Snapshot struct {
	SyncToken string `json:"sync_token"`
	Created   string `json:"created"`
}

// LabelChange is a destination whose addresses changed.
type LabelChange struct {
	Label string `json:"label"`
	// Default is true when it is the new plan's default label, and
	// WasDefault when it was the old one's.
	Default    bool          `json:"default,omitempty"`
	WasDefault bool          `json:"was_default,omitempty"`
	Gained     AddressChange `json:"gained"`
	Lost       AddressChange `json:"lost"`
}

// AddressChange is a set of addresses: its prefixes, IPv4 first, and how
// many IPv4 addresses and IPv6 /64s it holds, with thousands separators.
type AddressChange struct {
	Prefixes []string `json:"prefixes"`
	IPv4     string   `json:"ipv4_addresses"`
	IPv6     string   `json:"ipv6_64s"`
}

// NewRegion is a client class only the new plan has, and its label;
// Unserved when no other site serves it and it gets the default label.
type NewRegion struct {
	Class    string `json:"class"`
	Label    string `json:"label"`
	Unserved bool   `json:"unserved,omitempty"`
}

// RouteChange is a request kind routed otherwise for a client class.
type RouteChange struct {
	Class  string `json:"class"`
	Kind   string `json:"kind"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// EndpointChange is an upstream or site added, removed, or with a field
// changed.
type EndpointChange struct {
	What   string `json:"what"`
	Name   string `json:"name"`
	Field  string `json:"field"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	Prefix string `json:"prefix,omitempty"`
}

// Report returns the diff for tools.
func (d *Diff) Report() Report {
	r := Report{Deployment: d.d.deployment, RoutingChanged: !d.d.empty(), Feeds: []FeedChange{}, Labels: []LabelChange{},
		NewRegions: []NewRegion{}, GoneRegions: []string{}, Routes: []RouteChange{}, Endpoints: []EndpointChange{}}
	for _, f := range d.d.feeds {
		r.Feeds = append(r.Feeds, FeedChange{Name: feedName(f), Before: snapshot(f.old), After: snapshot(f.new)})
	}
	for _, l := range d.d.labels {
		r.Labels = append(r.Labels, LabelChange{Label: l.name, Default: l.isDefault, WasDefault: l.wasDefault,
			Gained: addresses(l.gained), Lost: addresses(l.lost)})
	}
	for _, n := range d.d.newRegions {
		r.NewRegions = append(r.NewRegions, NewRegion{Class: n.class, Label: n.label, Unserved: n.unserved})
	}
	r.GoneRegions = append(r.GoneRegions, d.d.goneRegion...)
	for _, c := range d.d.routes {
		r.Routes = append(r.Routes, RouteChange{Class: c.class, Kind: string(c.kind), Before: c.old, After: c.new})
	}
	for _, e := range d.d.endpoints {
		r.Endpoints = append(r.Endpoints, EndpointChange{What: e.what, Name: e.name, Field: e.field, Before: e.old, After: e.new, Prefix: e.prefix})
	}
	return r
}

func feedName(f pair[plan.Feed]) string {
	if f.new != nil {
		return f.new.Name
	}
	return f.old.Name
}

func snapshot(f *plan.Feed) *Snapshot {
	if f == nil {
		return nil
	}
	return &Snapshot{SyncToken: f.SyncToken, Created: f.Created}
}

func addresses(s *netipx.IPSet) AddressChange {
	a := AddressChange{Prefixes: []string{}}
	for _, p := range s.Prefixes() {
		a.Prefixes = append(a.Prefixes, p.String())
	}
	a.IPv4, a.IPv6 = sizes(s)
	return a
}
