// Package frontend embeds the planners' web map, so that the onemap binary
// serves it without Node or a CDN.
package frontend

import "embed"

// FS holds the web map's files, served at /.
//
//go:embed index.html
var FS embed.FS
