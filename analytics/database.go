package analytics

import (
	"context"

	"github.com/onemap-city/onemap/geo"
)

// Database is what the analytics read PostGIS through; *postgis.DB
// satisfies it. Failures come back classified (geo EUnavailable, ETimeout).
type Database interface {
	QueryRows(ctx context.Context, sql string, args ...any) (geo.Rows, error)
	ScanRow(ctx context.Context, sql string, args []any, dest ...any) error
}
