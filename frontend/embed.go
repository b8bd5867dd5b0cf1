// Package frontend embeds the planners' web map, so that the onemap binary
// serves it without Node or a CDN.
package frontend

import "embed"

// FS holds the web map's files, served at /: the page, our ES modules in
// app/, and the vendored MapLibre GL JS in lib/maplibre-gl-<version>/ (see
// package.json's "vendor" script). node_modules, scripts and tests stay out.
//
//go:embed index.html app lib
var FS embed.FS
