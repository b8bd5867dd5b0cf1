// Package tilesql holds the SQL templates of vector tiles, embedded. The
// tiles package fills their {{placeholders}} with identifiers from the layer
// catalogue only; every value is a $n bind parameter.
package tilesql

import "embed"

// FS holds one template per kind of tile layer.
//
//go:embed *.sql
var FS embed.FS
