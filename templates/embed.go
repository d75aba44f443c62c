// Package templates holds one text/template per generated file.
package templates

import "embed"

// FS holds the templates, a folder per target: nginx/nginx.conf.tmpl and
// so on.
//
//go:embed */*.tmpl
var FS embed.FS
