// Package policy holds the shipped default policy and the feed snapshots it
// reads.
package policy

import "embed"

// Default is the name of the shipped policy inside FS.
const Default = "registry.k8s.io.hcl"

// FS holds the shipped policy and its feeds.
//
//go:embed registry.k8s.io.hcl feeds
var FS embed.FS
