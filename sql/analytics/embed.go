// Package analyticssql holds the SQL of OneMap's analytics, embedded. The
// analytics package fills {{placeholders}} with identifiers from the layer
// catalogue only; every value is a $n bind parameter.
package analyticssql

import "embed"

// FS holds the analytics statements and templates.
//
//go:embed *.sql
var FS embed.FS
