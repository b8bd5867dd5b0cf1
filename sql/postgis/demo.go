package postgis

import (
	"context"
	_ "embed" // the SQL of the demo loader
	"fmt"
	"io"
	"iter"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/twpayne/go-geom"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/geo/democity"
)

// The demo loader's statements.
var (
	//go:embed demo/settings.sql
	demoSettings string
	//go:embed demo/truncate.sql
	demoTruncate string
	//go:embed demo/indexes.sql
	demoIndexes string
	//go:embed demo/foreign_keys.sql
	demoForeignKeys string
	//go:embed demo/set_identity.sql
	demoSetIdentity string
	//go:embed demo/analyze.sql
	demoAnalyze string
)

// demoTables are the tables the demo city fills, in load order.
var demoTables = []string{"towns", "communities", "grid_cells", "road_nodes", "roads", "hydrants",
	"shelters", "fire_stations", "premises", "hazards", "inspections"}

// DemoReport says what LoadDemo loaded.
type DemoReport struct {
	Scale string
	Seed  int64
	Rows  map[string]int64 // rows per table
	Took  time.Duration
}

// LoadDemo (re)generates the deterministic demo city at scale ("small",
// "city" or "large") from seed, replacing everything in the layer tables.
// The load is one transaction: on any failure the previous data are left
// as they were, and readers of the layer tables wait until it commits.
// An unknown scale is a geo.EInvalid error naming "scale".
func (db *DB) LoadDemo(ctx context.Context, scale string, seed int64, log *slog.Logger) (*DemoReport, error) {
	sc, ok := democity.LookupScale(scale)
	if !ok {
		return nil, geo.Invalid("scale", "unknown demo scale %q (want one of %s)", scale, strings.Join(democity.ScaleNames(), ", "))
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	start := time.Now()
	c, err := democity.New(sc, seed)
	if err != nil {
		return nil, fmt.Errorf("postgis: generate demo city: %w", err)
	}
	log.Info("demo city generated", "scale", scale, "seed", seed, "took", time.Since(start))
	rep := &DemoReport{Scale: scale, Seed: seed, Rows: map[string]int64{}}
	if err := db.loadDemo(ctx, c, rep, log); err != nil {
		return nil, fmt.Errorf("postgis: load demo city (%s, seed %d): %w", scale, seed, Classify(err))
	}
	// Outside the transaction (VACUUM cannot run in one): set the visibility
	// map, so statistics can read hazards and premises from their covering
	// indexes alone.
	vstart := time.Now()
	if _, err := db.Exec(ctx, "VACUUM hazards, premises"); err != nil {
		return nil, fmt.Errorf("postgis: vacuum the demo city: %w", Classify(err))
	}
	log.Info("demo tables vacuumed", "took", time.Since(vstart))
	rep.Took = time.Since(start)
	log.Info("demo city loaded", "scale", scale, "seed", seed, "took", rep.Took)
	return rep, nil
}

func (db *DB) loadDemo(ctx context.Context, c *democity.City, rep *DemoReport, log *slog.Logger) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // a no-op after Commit
	if _, err := tx.Exec(ctx, demoSettings); err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	if _, err := tx.Exec(ctx, demoTruncate); err != nil {
		return fmt.Errorf("truncate: %w", err)
	}
	// Indexes and foreign keys are dropped for the COPY and rebuilt after:
	// one sorted build and one join each instead of work on every row.
	var indexes, fkeys [][]string
	if indexes, err = demoTextRows(ctx, tx, demoIndexes, demoTables); err != nil {
		return fmt.Errorf("list indexes: %w", err)
	}
	if fkeys, err = demoTextRows(ctx, tx, demoForeignKeys, demoTables); err != nil {
		return fmt.Errorf("list foreign keys: %w", err)
	}
	for _, fk := range fkeys {
		if _, err := tx.Exec(ctx, "ALTER TABLE "+demoIdent(fk[0])+" DROP CONSTRAINT "+demoIdent(fk[1])); err != nil {
			return fmt.Errorf("drop foreign key %s: %w", fk[1], err)
		}
	}
	for _, ix := range indexes {
		if _, err := tx.Exec(ctx, "DROP INDEX "+demoIdent(ix[0])); err != nil {
			return fmt.Errorf("drop index %s: %w", ix[0], err)
		}
	}
	for _, t := range demoCopies(c) {
		start := time.Now()
		src, done := t.rows()
		n, err := tx.CopyFrom(ctx, pgx.Identifier{t.table}, t.columns, src)
		done()
		if err != nil {
			return fmt.Errorf("copy %s: %w", t.table, err)
		}
		rep.Rows[t.table] = n
		log.Info("demo table copied", "table", t.table, "rows", n, "took", time.Since(start))
		if t.identity {
			if _, err := tx.Exec(ctx, demoSetIdentity, t.table, n); err != nil {
				return fmt.Errorf("identity of %s: %w", t.table, err)
			}
		}
	}
	start := time.Now()
	for _, ix := range indexes {
		if _, err := tx.Exec(ctx, ix[1]); err != nil {
			return fmt.Errorf("rebuild index %s: %w", ix[0], err)
		}
	}
	log.Info("demo indexes rebuilt", "indexes", len(indexes), "took", time.Since(start))
	start = time.Now()
	for _, fk := range fkeys {
		if _, err := tx.Exec(ctx, "ALTER TABLE "+demoIdent(fk[0])+" ADD CONSTRAINT "+demoIdent(fk[1])+" "+fk[2]); err != nil {
			return fmt.Errorf("restore foreign key %s: %w", fk[1], err)
		}
	}
	log.Info("demo foreign keys checked", "keys", len(fkeys), "took", time.Since(start))
	start = time.Now()
	if _, err := tx.Exec(ctx, demoAnalyze); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	log.Info("demo tables analysed", "took", time.Since(start))
	return tx.Commit(ctx)
}

// demoIdent quotes a name read from the catalogue (pg_class, pg_constraint).
func demoIdent(name string) string { return pgx.Identifier{name}.Sanitize() }

// demoTextRows runs a query whose columns are all text.
func demoTextRows(ctx context.Context, tx pgx.Tx, sql string, args ...any) ([][]string, error) {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]string, error) {
		vals, err := r.Values()
		if err != nil {
			return nil, err
		}
		out := make([]string, len(vals))
		for i, v := range vals {
			out[i] = fmt.Sprint(v)
		}
		return out, nil
	})
}

// demoCopy is one table's COPY: its columns and a source of rows. identity
// is set for tables whose id is an identity column.
type demoCopy struct {
	table    string
	columns  []string
	identity bool
	rows     func() (src pgx.CopyFromSource, done func())
}

// demoSeq adapts a row sequence to pgx's COPY source; done releases the
// sequence (and its generator goroutines) when the COPY stops early.
func demoSeq[T any](seq iter.Seq[T], row func(T) []any) func() (pgx.CopyFromSource, func()) {
	return func() (pgx.CopyFromSource, func()) {
		next, stop := iter.Pull(seq)
		return pgx.CopyFromFunc(func() ([]any, error) {
			v, ok := next()
			if !ok {
				return nil, nil
			}
			return row(v), nil
		}), stop
	}
}

// demoSlice adapts a slice of rows to pgx's COPY source.
func demoSlice[T any](rows []T, row func(T) []any) func() (pgx.CopyFromSource, func()) {
	return func() (pgx.CopyFromSource, func()) {
		i := 0
		return pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(rows) {
				return nil, nil
			}
			i++
			return row(rows[i-1]), nil
		}), func() {}
	}
}

func demoCopies(c *democity.City) []demoCopy {
	return []demoCopy{
		{"towns", []string{"id", "ext_id", "code", "name", "class", "population", "households", "geom"}, true,
			demoSlice(c.Towns, func(t democity.Town) []any {
				return []any{t.ID, t.ExtID, t.Code, t.Name, t.Class, t.Population, t.Households, geomMultiPolygon(t.Geom)}
			})},
		{"communities", []string{"id", "ext_id", "code", "name", "kind", "town_id", "population", "households", "geom"}, true,
			demoSlice(c.Communities, func(m democity.Community) []any {
				return []any{m.ID, m.ExtID, m.Code, m.Name, m.Kind, m.TownID, m.Population, m.Households, geomMultiPolygon(m.Geom)}
			})},
		{"grid_cells", []string{"id", "ext_id", "code", "name", "community_id", "population", "households", "geom"}, true,
			demoSlice(c.Cells, func(g democity.Cell) []any {
				return []any{g.ID, g.ExtID, g.Code, g.Name, g.CommunityID, g.Population, g.Households, geomMultiPolygon(g.Geom)}
			})},
		{"road_nodes", []string{"id", "geom"}, false,
			demoSlice(c.Nodes, func(n democity.Node) []any { return []any{n.ID, geomPoint(n.Point)} })},
		{"roads", []string{"id", "ext_id", "name", "class", "speed_kmh", "oneway", "width_m", "source", "target", "geom"}, true,
			demoSlice(c.Roads, func(r democity.Road) []any {
				return []any{r.ID, r.ExtID, orNull(r.Name), r.Class, r.SpeedKmh, r.Oneway, r.WidthM, r.Source, r.Target, geomLineString(r.Line)}
			})},
		{"hydrants", []string{"id", "ext_id", "kind", "status", "installed_at", "grid_cell_id", "geom"}, true,
			demoSlice(c.Hydrants, func(h democity.Hydrant) []any {
				return []any{h.ID, h.ExtID, h.Kind, h.Status, timeOrNull(h.InstalledAt), h.CellID, geomPoint(h.Point)}
			})},
		{"shelters", []string{"id", "ext_id", "name", "level", "capacity", "area_m2", "standardised", "grid_cell_id", "geom"}, true,
			demoSlice(c.Shelters, func(s democity.Shelter) []any {
				return []any{s.ID, s.ExtID, s.Name, s.Level, s.Capacity, s.AreaM2, s.Standardised, s.CellID, geomPoint(s.Point)}
			})},
		{"fire_stations", []string{"id", "ext_id", "name", "kind", "vehicles", "personnel", "grid_cell_id", "geom"}, true,
			demoSlice(c.Stations, func(s democity.Station) []any {
				return []any{s.ID, s.ExtID, s.Name, s.Kind, s.Vehicles, s.Personnel, s.CellID, geomPoint(s.Point)}
			})},
		{"premises", []string{"id", "ext_id", "kind", "name", "address", "floors", "occupants", "tag", "last_inspected_at", "grid_cell_id", "geom"}, true,
			demoSeq(c.Premises(), func(p democity.Premise) []any {
				return []any{p.ID, p.ExtID, p.Kind, p.Name, p.Address, p.Floors, p.Occupants, orNull(p.Tag), timeOrNull(p.LastInspectedAt), p.CellID, geomPoint(p.Point)}
			})},
		{"hazards", []string{"id", "ext_id", "premise_id", "category", "severity", "status", "listed", "reported_at", "deadline", "closed_at", "grid_cell_id", "geom"}, true,
			demoSeq(c.Hazards(), func(h democity.Hazard) []any {
				return []any{h.ID, h.ExtID, h.PremiseID, h.Category, h.Severity, h.Status, h.Listed, h.ReportedAt, timeOrNull(h.Deadline), timeOrNull(h.ClosedAt), h.CellID, geomPoint(h.Point)}
			})},
		{"inspections", []string{"id", "ext_id", "premise_id", "inspected_at", "inspector", "result", "hazards_found", "grid_cell_id", "geom"}, true,
			demoSeq(c.Inspections(), func(in democity.Inspection) []any {
				return []any{in.ID, in.ExtID, in.PremiseID, in.InspectedAt, in.Inspector, in.Result, in.HazardsFound, in.CellID, geomPoint(in.Point)}
			})},
	}
}

func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func timeOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// Geometries go to pgx-geom (registered on every connection) as go-geom
// values in EPSG:4326.
func geomPoint(p orb.Point) *geom.Point {
	return geom.NewPointFlat(geom.XY, []float64{p[0], p[1]}).SetSRID(4326)
}

func geomLineString(ls orb.LineString) *geom.LineString {
	flat := make([]float64, 0, 2*len(ls))
	for _, p := range ls {
		flat = append(flat, p[0], p[1])
	}
	return geom.NewLineStringFlat(geom.XY, flat).SetSRID(4326)
}

func geomMultiPolygon(mp orb.MultiPolygon) *geom.MultiPolygon {
	var flat []float64
	endss := make([][]int, 0, len(mp))
	for _, pg := range mp {
		ends := make([]int, 0, len(pg))
		for _, r := range pg {
			for _, p := range r {
				flat = append(flat, p[0], p[1])
			}
			ends = append(ends, len(flat))
		}
		endss = append(endss, ends)
	}
	return geom.NewMultiPolygonFlat(geom.XY, flat, endss).SetSRID(4326)
}
