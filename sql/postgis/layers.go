package postgis

import (
	"context"
	"embed"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/onemap-city/onemap/geo"
)

//go:embed queries/*.sql
var queries embed.FS

// query returns an embedded SQL file, with {{table}} replaced by the quoted
// table name when one is given. Table names come from the catalogue only.
func query(name, table string) string {
	b, err := queries.ReadFile("queries/" + name)
	if err != nil {
		panic("postgis: missing embedded query " + name) // a build error, not a runtime one
	}
	s := string(b)
	if table != "" {
		s = strings.ReplaceAll(s, "{{table}}", pgx.Identifier{table}.Sanitize())
	}
	return s
}

// LayerSummary is what the database holds for one catalogue layer.
type LayerSummary struct {
	Layer    *geo.Layer
	Features int64
	Bounds   *[4]float64 // minLon, minLat, maxLon, maxLat; nil when empty
	Version  int64       // bumped on every write to the layer
}

// LayerSummaries returns a summary of every catalogue layer, in id order.
// A table is counted again only after its data changed.
func (db *DB) LayerSummaries(ctx context.Context) ([]LayerSummary, error) {
	rows, err := db.Query(ctx, query("layer_versions.sql", ""))
	if err != nil {
		return nil, Classify(err)
	}
	versions := map[string]int64{}
	var table string
	var version int64
	if _, err := pgx.ForEachRow(rows, []any{&table, &version}, func() error {
		versions[table] = version
		return nil
	}); err != nil {
		return nil, Classify(err)
	}
	var out []LayerSummary
	for _, id := range geo.LayerIDs() {
		l := geo.Catalogue[id]
		s, err := db.tableSummary(ctx, l.Table, versions[l.Table])
		if err != nil {
			return nil, fmt.Errorf("postgis: summary of layer %s: %w", id, err)
		}
		out = append(out, LayerSummary{Layer: l, Features: s.features, Bounds: s.bounds, Version: versions[l.Table]})
	}
	return out, nil
}

// Versions returns PostGIS's, pgRouting's and the schema's versions.
func (db *DB) Versions(ctx context.Context) (postgisVersion, pgroutingVersion string, schema int64, err error) {
	err = db.QueryRow(ctx, `SELECT postgis_lib_version(), pgr_version(),
		(SELECT COALESCE(max(version_id), 0) FROM goose_db_version WHERE is_applied)`).
		Scan(&postgisVersion, &pgroutingVersion, &schema)
	if err != nil {
		return "", "", 0, Classify(err)
	}
	return postgisVersion, pgroutingVersion, schema, nil
}
