package postgis_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/postgis"
	"github.com/onemap-city/onemap/sql/postgis/postgistest"
)

// The demo tests load the small demo city (it replaces every layer table)
// and check it with PostGIS itself: the hierarchy tiles the territory, every
// point lies in its grid cell, the road network routes, and the same seed
// gives the same rows. They empty the layer tables when done.

var demoLayerTables = []string{"towns", "communities", "grid_cells", "road_nodes", "roads", "hydrants",
	"shelters", "fire_stations", "premises", "hazards", "inspections"}

// demoDigest is an md5 over every row of every layer table in id order, of
// every column but updated_at (the time of loading) and the generated ones.
func demoDigest(t *testing.T, db *postgis.DB) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, table := range demoLayerTables {
		var cols, d string
		err := db.QueryRow(ctx, `SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)
			FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1 AND column_name <> 'updated_at' AND is_generated = 'NEVER'`, table).Scan(&cols)
		if err == nil {
			err = db.QueryRow(ctx, `SELECT coalesce(md5(string_agg(ROW(`+cols+`)::text, E'\n' ORDER BY id)), '') FROM `+table).Scan(&d)
		}
		if err != nil {
			t.Fatalf("digest %s: %v", table, err)
		}
		out[table] = d
	}
	return out
}

func loadDemo(t *testing.T, db *postgis.DB, scale string, seed int64) *postgis.DemoReport {
	t.Helper()
	start := time.Now()
	rep, err := db.LoadDemo(context.Background(), scale, seed, nil)
	if err != nil {
		t.Fatalf("LoadDemo(%s, %d): %v", scale, seed, err)
	}
	t.Logf("LoadDemo(%s, %d) took %v: %v", scale, seed, time.Since(start).Round(time.Millisecond), rep.Rows)
	return rep
}

// zero fails the test unless the query counts no rows.
func zero(t *testing.T, db *postgis.DB, what, sql string, args ...any) {
	t.Helper()
	var n int64
	if err := db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if n != 0 {
		t.Errorf("%s: %d rows", what, n)
	}
}

func TestDemoSmall(t *testing.T) {
	db := postgistest.DB(t)
	ctx := context.Background()
	t.Cleanup(func() { postgistest.Truncate(t) })
	rep := loadDemo(t, db, "small", 1)

	t.Run("counts", func(t *testing.T) {
		ranges := map[string][2]int64{
			"towns": {23, 23}, "communities": {400, 500}, "grid_cells": {1600, 2000},
			"road_nodes": {2000, 10000}, "roads": {3000, 15000}, "hydrants": {3500, 4500},
			"shelters": {430, 530}, "fire_stations": {100, 115}, "premises": {3000, 3000},
			"hazards": {4000, 9000}, "inspections": {5000, 11000},
		}
		for table, r := range ranges {
			var n int64
			if err := db.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != rep.Rows[table] {
				t.Errorf("%s: %d rows, report says %d", table, n, rep.Rows[table])
			}
			if n < r[0] || n > r[1] {
				t.Errorf("%s: %d rows, want %d..%d", table, n, r[0], r[1])
			}
		}
		var fullTime, standard int
		if err := db.QueryRow(ctx, `SELECT (SELECT count(*) FROM fire_stations WHERE kind = 'full_time'),
			(SELECT count(*) FROM shelters WHERE standardised)`).Scan(&fullTime, &standard); err != nil {
			t.Fatal(err)
		}
		if fullTime != 17 || standard != 105 {
			t.Errorf("%d full-time stations, %d standardised shelters; want 17 and 105", fullTime, standard)
		}
	})

	t.Run("towns", func(t *testing.T) {
		rows, _ := db.Query(ctx, "SELECT name FROM towns ORDER BY id")
		var names []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			names = append(names, n)
		}
		want := []string{"安阳街道", "玉海街道", "锦湖街道", "东山街道", "上望街道", "莘塍街道", "汀田街道", "飞云街道",
			"仙降街道", "南滨街道", "云周街道", "潘岱街道", "塘下镇", "马屿镇", "陶山镇", "湖岭镇", "高楼镇", "曹村镇",
			"桐浦镇", "林川镇", "平阳坑镇", "芳庄乡", "北麂乡"}
		if !slices.Equal(names, want) {
			t.Errorf("towns %v, want %v", names, want)
		}
		var largest string
		if err := db.QueryRow(ctx, "SELECT name FROM towns ORDER BY population DESC LIMIT 1").Scan(&largest); err != nil || largest != "塘下镇" {
			t.Errorf("largest town %q (%v), want 塘下镇", largest, err)
		}
	})

	t.Run("population", func(t *testing.T) {
		for _, table := range []string{"towns", "communities", "grid_cells"} {
			var pop, hh int64
			if err := db.QueryRow(ctx, "SELECT sum(population), sum(households) FROM "+table).Scan(&pop, &hh); err != nil {
				t.Fatal(err)
			}
			if pop != 1_500_000 {
				t.Errorf("%s: population %d, want 1,500,000", table, pop)
			}
			if size := float64(pop) / float64(hh); size < 2.4 || size > 2.8 {
				t.Errorf("%s: %.2f persons per household", table, size)
			}
		}
		// Every level rolls up exactly.
		zero(t, db, "communities whose population is not their cells'", `SELECT count(*) FROM communities m
			WHERE population <> (SELECT sum(population) FROM grid_cells g WHERE g.community_id = m.id)`)
		zero(t, db, "towns whose population is not their communities'", `SELECT count(*) FROM towns w
			WHERE population <> (SELECT sum(population) FROM communities m WHERE m.town_id = w.id)`)
		var km2 float64
		if err := db.QueryRow(ctx, "SELECT sum(ST_Area(geom::geography)) / 1e6 FROM towns").Scan(&km2); err != nil {
			t.Fatal(err)
		}
		if km2 < 1150 || km2 > 1400 {
			t.Errorf("territory %.0f km², want about 1,271", km2)
		}
	})

	t.Run("hierarchy tiles the territory", func(t *testing.T) {
		for _, table := range []string{"grid_cells", "communities", "towns"} {
			var sum, union float64
			if err := db.QueryRow(ctx, "SELECT sum(ST_Area(geom)), ST_Area(ST_Union(geom)) FROM "+table).Scan(&sum, &union); err != nil {
				t.Fatal(err)
			}
			if d := (sum - union) / union; d > 0.001 || d < -0.001 {
				t.Errorf("%s: areas sum to %g, their union is %g (%.4f%% apart)", table, sum, union, 100*d)
			}
		}
		for _, q := range []struct{ child, parent, key string }{
			{"grid_cells", "communities", "community_id"}, {"communities", "towns", "town_id"},
		} {
			zero(t, db, q.child+" not covered by their parent", `SELECT count(*) FROM `+q.child+` c JOIN `+q.parent+` p ON p.id = c.`+q.key+`
				WHERE ST_Area(ST_Difference(c.geom, p.geom)) > 1e-6 * ST_Area(c.geom)`)
			zero(t, db, q.parent+" not filled by their children", `SELECT count(*) FROM `+q.parent+` p
				WHERE abs(ST_Area(p.geom) - (SELECT sum(ST_Area(c.geom)) FROM `+q.child+` c WHERE c.`+q.key+` = p.id)) > 1e-6 * ST_Area(p.geom)`)
		}
	})

	t.Run("geometries valid", func(t *testing.T) {
		for _, table := range demoLayerTables {
			zero(t, db, table+" invalid", "SELECT count(*) FROM "+table+" WHERE NOT ST_IsValid(geom) OR ST_SRID(geom) <> 4326")
		}
	})

	t.Run("points in exactly their grid cell", func(t *testing.T) {
		for _, table := range []string{"premises", "hazards", "inspections", "hydrants", "shelters", "fire_stations"} {
			zero(t, db, table+" outside their cell", `SELECT count(*) FROM `+table+` x
				WHERE (SELECT count(*) FROM grid_cells g WHERE ST_Intersects(g.geom, x.geom)) <> 1
				   OR NOT EXISTS (SELECT 1 FROM grid_cells g WHERE g.id = x.grid_cell_id AND ST_Contains(g.geom, x.geom))`)
		}
		zero(t, db, "hazards away from their premise", `SELECT count(*) FROM hazards h JOIN premises p ON p.id = h.premise_id
			WHERE NOT ST_Equals(h.geom, p.geom) OR h.grid_cell_id <> p.grid_cell_id`)
	})

	t.Run("road network routes", func(t *testing.T) {
		zero(t, db, "roads whose source/target are not their ends", `SELECT count(*) FROM roads r
			JOIN road_nodes s ON s.id = r.source JOIN road_nodes e ON e.id = r.target
			WHERE NOT ST_Equals(ST_StartPoint(r.geom), s.geom) OR NOT ST_Equals(ST_EndPoint(r.geom), e.geom) OR r.source = r.target`)
		zero(t, db, "nodes on no road", `SELECT count(*) FROM road_nodes n
			WHERE NOT EXISTS (SELECT 1 FROM roads r WHERE r.source = n.id OR r.target = n.id)`)
		var comps, nodes, nodeCount int64
		err := db.QueryRow(ctx, `SELECT count(DISTINCT component), count(*), (SELECT count(*) FROM road_nodes)
			FROM pgr_connectedComponents('SELECT id, source, target, cost_s AS cost, reverse_cost_s AS reverse_cost FROM roads')`).Scan(&comps, &nodes, &nodeCount)
		if err != nil {
			t.Fatal(err)
		}
		if comps != 1 || nodes != nodeCount {
			t.Errorf("%d connected components over %d of %d nodes, want 1 over all", comps, nodes, nodeCount)
		}
		// One-way streets never trap a fire engine.
		if err := db.QueryRow(ctx, `SELECT count(DISTINCT component) FROM pgr_strongComponents(
			'SELECT id, source, target, cost_s AS cost, reverse_cost_s AS reverse_cost FROM roads')`).Scan(&comps); err != nil {
			t.Fatal(err)
		}
		if comps != 1 {
			t.Errorf("%d strongly connected components, want 1", comps)
		}
		var oneway, wide int
		if err := db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE oneway), count(*) FILTER (WHERE width_m > 60) FROM roads`).Scan(&oneway, &wide); err != nil {
			t.Fatal(err)
		}
		if oneway == 0 || wide == 0 {
			t.Errorf("%d one-way roads and %d wider than 60 m, want some of each", oneway, wide)
		}
		zero(t, db, "roads without the class speed", `SELECT count(*) FROM roads
			WHERE speed_kmh <> CASE class WHEN 'arterial' THEN $1::float8 WHEN 'secondary' THEN $2 ELSE $3 END`,
			geo.DefaultRoadSpeed["arterial"], geo.DefaultRoadSpeed["secondary"], geo.DefaultRoadSpeed["local"])
	})

	t.Run("premises", func(t *testing.T) {
		rental := "('rental_housing', 'group_rental', 'detached_house', 'mixed_use', 'basement')"
		zero(t, db, "tags outside rental kinds", "SELECT count(*) FROM premises WHERE tag IS NOT NULL AND kind NOT IN "+rental)
		zero(t, db, "rental premises without a tag", "SELECT count(*) FROM premises WHERE tag IS NULL AND kind IN "+rental)
		zero(t, db, "group rentals under 10 occupants", "SELECT count(*) FROM premises WHERE kind = 'group_rental' AND occupants < 10")
		zero(t, db, "detached houses under 3 floors", "SELECT count(*) FROM premises WHERE kind = 'detached_house' AND floors < 3")
		var rentalShare, red, green float64
		err := db.QueryRow(ctx, `SELECT avg((kind IN `+rental+`)::int),
			avg((tag = 'red')::int) FILTER (WHERE kind IN `+rental+`),
			avg((tag = 'green')::int) FILTER (WHERE kind IN `+rental+`) FROM premises`).Scan(&rentalShare, &red, &green)
		if err != nil {
			t.Fatal(err)
		}
		if rentalShare < 0.6 || red < 0.05 || red > 0.13 || green < 0.6 || green > 0.78 {
			t.Errorf("rental share %.2f, red %.3f, green %.3f of rentals", rentalShare, red, green)
		}
		// last_inspected_at is the last inspection where it falls in the
		// inspections' year.
		zero(t, db, "premises whose last inspection disagrees", `SELECT count(*) FROM premises p
			WHERE p.last_inspected_at IS DISTINCT FROM (SELECT max(inspected_at) FROM inspections i WHERE i.premise_id = p.id)
			  AND (p.last_inspected_at >= (SELECT min(inspected_at) FROM inspections) OR EXISTS (SELECT 1 FROM inspections i WHERE i.premise_id = p.id))`)
		var never, stale int
		if err := db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE last_inspected_at IS NULL),
			count(*) FILTER (WHERE last_inspected_at < TIMESTAMPTZ '2026-11-01 00:00+08' - interval '90 days') FROM premises`).Scan(&never, &stale); err != nil {
			t.Fatal(err)
		}
		if never == 0 || stale == 0 {
			t.Errorf("%d premises never inspected, %d not for 90 days; want some of each", never, stale)
		}
	})

	t.Run("hazards", func(t *testing.T) {
		zero(t, db, "hazards closed inconsistently", `SELECT count(*) FROM hazards
			WHERE (status = 'closed') <> (closed_at IS NOT NULL) OR closed_at < reported_at OR deadline < reported_at::date - 1
			   OR premise_id IS NULL OR (listed AND severity <> 'major')`)
		zero(t, db, "hazards outside the two years", `SELECT count(*) FROM hazards
			WHERE reported_at < TIMESTAMPTZ '2024-11-01 00:00+08' OR reported_at >= TIMESTAMPTZ '2026-11-01 00:00+08' OR closed_at >= TIMESTAMPTZ '2026-11-01 00:00+08'`)
		var major, closedOld, closedRecent float64
		err := db.QueryRow(ctx, `SELECT avg((severity = 'major')::int),
			avg((status = 'closed')::int) FILTER (WHERE reported_at < TIMESTAMPTZ '2026-05-01 00:00+08'),
			avg((status = 'closed')::int) FILTER (WHERE reported_at >= TIMESTAMPTZ '2026-10-15 00:00+08') FROM hazards`).Scan(&major, &closedOld, &closedRecent)
		if err != nil {
			t.Fatal(err)
		}
		if major < 0.03 || major > 0.08 || closedOld < 0.9 || closedRecent > 0.6 {
			t.Errorf("major %.3f, closed among old %.2f, among recent %.2f", major, closedOld, closedRecent)
		}
		zero(t, db, "inspections whose hazard count disagrees", `SELECT count(*) FROM inspections i
			WHERE i.hazards_found <> (SELECT count(*) FROM hazards h WHERE h.premise_id = i.premise_id AND h.reported_at = i.inspected_at)
			   OR (i.result = 'hazards_found') <> (i.hazards_found > 0)`)
	})

	t.Run("unknown scale", func(t *testing.T) {
		_, err := db.LoadDemo(ctx, "huge", 1, nil)
		var ge *geo.Error
		if !errors.As(err, &ge) || ge.Code != geo.EInvalid || ge.Detail != "scale" {
			t.Fatalf("LoadDemo(huge): %v, want an EInvalid error on scale", err)
		}
	})

	t.Run("deterministic", func(t *testing.T) {
		first := demoDigest(t, db)
		loadDemo(t, db, "small", 2)
		other := demoDigest(t, db)
		for _, table := range []string{"grid_cells", "roads", "premises", "hazards"} {
			if other[table] == first[table] {
				t.Errorf("%s: seed 2 gives the same rows as seed 1", table)
			}
		}
		loadDemo(t, db, "small", 1)
		if again := demoDigest(t, db); !mapsEqual(again, first) {
			for _, table := range demoLayerTables {
				if again[table] != first[table] {
					t.Errorf("%s: seed 1 loaded twice differs", table)
				}
			}
		}
	})

	t.Run("failed load keeps the data", func(t *testing.T) {
		before := demoDigest(t, db)
		// Cancel the load as soon as it has copied the premises.
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		log := slog.New(cancelOn{slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}), "premises", cancel})
		if _, err := db.LoadDemo(cctx, "small", 3, log); err == nil {
			t.Fatal("a cancelled load succeeded")
		}
		if after := demoDigest(t, db); !mapsEqual(after, before) {
			t.Error("a failed load changed the data")
		}
	})
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// cancelOn is a log handler that cancels a context when a table is reported
// copied: a way to fail a load half-way without hooks in the loader.
type cancelOn struct {
	slog.Handler
	table  string
	cancel context.CancelFunc
}

func (h cancelOn) Enabled(context.Context, slog.Level) bool { return true }

func (h cancelOn) Handle(ctx context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "table" && a.Value.String() == h.table {
			h.cancel()
		}
		return true
	})
	return nil
}

// TestDemoMeasure times LoadDemo at the scale in ONEMAP_DEMO_MEASURE (city
// or large; skipped when unset) ONEMAP_DEMO_RUNS times (default 3) and
// reports the median and the database size after each load:
//
//	ONEMAP_DEMO_MEASURE=city go test ./sql/postgis/ -run TestDemoMeasure -v -timeout 60m
func TestDemoMeasure(t *testing.T) {
	scale := os.Getenv("ONEMAP_DEMO_MEASURE")
	if scale == "" {
		t.Skip("set ONEMAP_DEMO_MEASURE=city|large to measure LoadDemo")
	}
	runs := 3
	if s := os.Getenv("ONEMAP_DEMO_RUNS"); s != "" {
		runs, _ = strconv.Atoi(s)
	}
	db := postgistest.DB(t)
	ctx := context.Background()
	t.Cleanup(func() { postgistest.Truncate(t) })
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	var took []time.Duration
	for i := range runs {
		rep, err := db.LoadDemo(ctx, scale, 1, log)
		if err != nil {
			t.Fatal(err)
		}
		var size int64
		if err := db.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&size); err != nil {
			t.Fatal(err)
		}
		took = append(took, rep.Took)
		t.Logf("run %d: %s loaded in %v, database %d MB, rows %v", i+1, scale, rep.Took.Round(time.Millisecond), size>>20, rep.Rows)
	}
	slices.Sort(took)
	t.Logf("%s: median %v over %d runs (min %v, max %v)", scale, took[len(took)/2].Round(time.Millisecond), runs, took[0].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
}
