// Package migrations holds OneMap's schema as numbered goose migrations,
// embedded so the binary carries them.
package migrations

import "embed"

// FS holds the migration files, named NNNNN_what.sql.
//
//go:embed *.sql
var FS embed.FS
