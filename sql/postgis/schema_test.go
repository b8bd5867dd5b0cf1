package postgis_test

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/postgis"
	"github.com/onemap-city/onemap/sql/postgis/postgistest"
)

func TestMigrationsFromEmpty(t *testing.T) {
	db := postgistest.DB(t)
	ctx := context.Background()
	v, err := db.SchemaVersion(ctx)
	if err != nil || v < 2 {
		t.Fatalf("schema version %d, %v", v, err)
	}
	// Migrating again is a no-op.
	if err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	var postgisVersion, pgrVersion string
	if err := db.QueryRow(ctx, "SELECT postgis_lib_version(), pgr_version()").Scan(&postgisVersion, &pgrVersion); err != nil {
		t.Fatalf("extensions: %v", err)
	}
	// Every catalogue layer has its table with geom in EPSG:4326, the tile
	// copy in 3857, and a GiST index on both.
	for _, id := range geo.LayerIDs() {
		l := geo.Catalogue[id]
		for _, col := range []struct {
			name string
			srid int
		}{{"geom", 4326}, {"geom_3857", 3857}} {
			var srid int
			err := db.QueryRow(ctx, "SELECT srid FROM geometry_columns WHERE f_table_name = $1 AND f_geometry_column = $2", l.Table, col.name).Scan(&srid)
			if err != nil || srid != col.srid {
				t.Errorf("%s.%s: srid %d (%v), want %d", l.Table, col.name, srid, err, col.srid)
			}
			var indexed bool
			err = db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE '%USING gist (' || $2 || ')%')`, l.Table, col.name).Scan(&indexed)
			if err != nil || !indexed {
				t.Errorf("%s.%s has no GiST index (%v)", l.Table, col.name, err)
			}
		}
		for _, c := range l.Columns {
			var n int
			if err := db.QueryRow(ctx, "SELECT count(*) FROM information_schema.columns WHERE table_name = $1 AND column_name = $2", l.Table, c.Name).Scan(&n); err != nil || n != 1 {
				t.Errorf("catalogue column %s.%s missing from the schema", l.Table, c.Name)
			}
		}
	}
}

var quoted = regexp.MustCompile(`'([^']*)'::text`)

// TestEnumsMatchCatalogue keeps the schema's CHECK constraints and the
// catalogue's enumerations in step.
func TestEnumsMatchCatalogue(t *testing.T) {
	db := postgistest.DB(t)
	ctx := context.Background()
	for _, id := range geo.LayerIDs() {
		l := geo.Catalogue[id]
		for _, c := range l.Columns {
			if c.Type != geo.Enum {
				continue
			}
			var def string
			err := db.QueryRow(ctx, `SELECT pg_get_constraintdef(oid) FROM pg_constraint
				WHERE conrelid = $1::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%(' || $2 || ' = ANY (ARRAY%'`, l.Table, c.Name).Scan(&def)
			if err != nil {
				t.Errorf("%s.%s: no CHECK constraint (%v)", l.Table, c.Name, err)
				continue
			}
			var got []string
			for _, m := range quoted.FindAllStringSubmatch(def, -1) {
				got = append(got, m[1])
			}
			want := append([]string(nil), c.Enum...)
			sort.Strings(got)
			sort.Strings(want)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s.%s: schema allows %v, catalogue %v", l.Table, c.Name, got, want)
			}
		}
	}
}

func TestConstraintsRejectBadRows(t *testing.T) {
	db := postgistest.DB(t)
	ctx := context.Background()
	bad := map[string]string{
		"bad enum":            `INSERT INTO hydrants (ext_id, status, geom) VALUES ('h1', 'broken', ST_SetSRID(ST_MakePoint(120.6, 27.8), 4326))`,
		"wrong geometry":      `INSERT INTO hydrants (ext_id, status, geom) VALUES ('h2', 'in_service', ST_GeomFromText('LINESTRING(120 27, 121 28)', 4326))`,
		"wrong srid":          `INSERT INTO hydrants (ext_id, status, geom) VALUES ('h3', 'in_service', ST_SetSRID(ST_MakePoint(500000, 3000000), 4549))`,
		"self-intersecting":   `INSERT INTO towns (ext_id, code, name, geom) VALUES ('t1', 't1', 'bow', ST_Multi(ST_GeomFromText('POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))', 4326)))`,
		"closed without time": `INSERT INTO hazards (ext_id, category, severity, status, reported_at, geom) VALUES ('z1', 'hot_work', 'major', 'closed', now(), ST_SetSRID(ST_MakePoint(120.6, 27.8), 4326))`,
		"duplicate ext_id":    `INSERT INTO hydrants (ext_id, status, geom) VALUES ('dup', 'in_service', ST_SetSRID(ST_MakePoint(120.6, 27.8), 4326)), ('dup', 'in_service', ST_SetSRID(ST_MakePoint(120.6, 27.8), 4326))`,
	}
	for name, stmt := range bad {
		if _, err := db.Exec(ctx, stmt); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestWritesBumpLayerVersion(t *testing.T) {
	db := postgistest.DB(t)
	ctx := context.Background()
	version := func() int64 {
		var v int64
		if err := db.QueryRow(ctx, "SELECT version FROM layer_versions WHERE layer = 'shelters'").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := version()
	if _, err := db.Exec(ctx, `INSERT INTO shelters (ext_id, level, capacity, geom) VALUES ('s-v', 'village', 60, ST_SetSRID(ST_MakePoint(120.6, 27.8), 4326))`); err != nil {
		t.Fatal(err)
	}
	if after := version(); after != before+1 {
		t.Fatalf("version %d after insert, want %d", after, before+1)
	}
}

// Layer summaries are kept per data version: a write must show in the next
// summary (count and extent), with no stale figures.
func TestLayerSummariesFollowWrites(t *testing.T) {
	db := postgistest.DB(t)
	ctx := context.Background()
	shelters := func() postgis.LayerSummary {
		t.Helper()
		sums, err := db.LayerSummaries(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sums {
			if s.Layer.ID == "shelters" {
				var n int64
				if err := db.QueryRow(ctx, "SELECT count(*) FROM shelters").Scan(&n); err != nil {
					t.Fatal(err)
				}
				if s.Features != n {
					t.Fatalf("summary counts %d shelters, PostGIS %d", s.Features, n)
				}
				return s
			}
		}
		t.Fatal("no shelters layer in the summaries")
		return postgis.LayerSummary{}
	}
	before := shelters()
	if again := shelters(); again.Version != before.Version || again.Features != before.Features {
		t.Fatalf("summary changed without a write: %+v then %+v", before, again)
	}
	// Far east of anything loaded, so the extent must grow to it.
	if _, err := db.Exec(ctx, `INSERT INTO shelters (ext_id, level, capacity, geom) VALUES ('s-far', 'village', 60, ST_SetSRID(ST_MakePoint(123.5, 27.8), 4326))`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = db.Exec(context.Background(), "DELETE FROM shelters WHERE ext_id = 's-far'") })
	after := shelters()
	if after.Features != before.Features+1 || after.Version <= before.Version {
		t.Fatalf("after an insert: %d features at version %d, want %d at a version above %d", after.Features, after.Version, before.Features+1, before.Version)
	}
	ext, err := db.Extent(ctx, "shelters")
	if err != nil {
		t.Fatal(err)
	}
	if after.Bounds == nil || after.Bounds[2] != 123.5 || ext == nil || ext[2] != 123.5 {
		t.Fatalf("extent after the insert: summary %v, Extent %v, want maxLon 123.5", after.Bounds, ext)
	}
	if _, err := db.Exec(ctx, "DELETE FROM shelters WHERE ext_id = 's-far'"); err != nil {
		t.Fatal(err)
	}
	if s := shelters(); s.Features != before.Features {
		t.Fatalf("after the delete: %d features, want %d", s.Features, before.Features)
	}
}
