// Package templates holds one text/template per generated file.
package templates

import "embed"

// FS holds the templates, by target: nginx/nginx.conf.tmpl and so on.
//
//go:embed nginx
var FS embed.FS
