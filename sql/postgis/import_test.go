package postgis_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/postgis"
	"github.com/onemap-city/onemap/sql/postgis/postgistest"
)

// The import tests own every row whose ext_id starts with "imp-" and place
// their features around 105.3°E 36.2°N, away from anything the demo city or
// other tests load, so they do not truncate shared tables.

// cleanImports deletes the rows the import tests made, children first.
func cleanImports(t *testing.T, db *postgis.DB) {
	t.Helper()
	ctx := context.Background()
	for _, table := range []string{"hazards", "inspections", "hydrants", "shelters", "fire_stations", "premises", "roads", "grid_cells", "communities", "towns"} {
		if _, err := db.Exec(ctx, "DELETE FROM "+table+" WHERE ext_id LIKE 'imp-%'"); err != nil {
			t.Fatal(err)
		}
	}
	_, err := db.Exec(ctx, `DELETE FROM road_nodes n WHERE ST_Intersects(n.geom, ST_MakeEnvelope(105, 36, 106, 37, 4326))
		AND NOT EXISTS (SELECT 1 FROM roads r WHERE r.source = n.id OR r.target = n.id)`)
	if err != nil {
		t.Fatal(err)
	}
}

// importDB returns the test database, cleaned of import test rows before
// and after the test.
func importDB(t *testing.T) *postgis.DB {
	db := postgistest.DB(t)
	cleanImports(t, db)
	t.Cleanup(func() { cleanImports(t, db) })
	return db
}

func importFile(t *testing.T, db *postgis.DB, opts postgis.ImportOptions) *postgis.ImportReport {
	t.Helper()
	opts.Path = filepath.Join("testdata", "import", opts.Path)
	rep, err := db.ImportFile(context.Background(), opts)
	if err != nil {
		t.Fatalf("import %s: %v", opts.Path, err)
	}
	return rep
}

func importString(t *testing.T, db *postgis.DB, opts postgis.ImportOptions, file string) *postgis.ImportReport {
	t.Helper()
	rep, err := db.Import(context.Background(), opts, strings.NewReader(file))
	if err != nil {
		t.Fatalf("import %s: %v", opts.Layer, err)
	}
	return rep
}

type counts struct{ Read, Inserted, Updated, Unchanged, Rejected, Repaired int }

func expectCounts(t *testing.T, rep *postgis.ImportReport, want counts) {
	t.Helper()
	got := counts{rep.Read, rep.Inserted, rep.Updated, rep.Unchanged, rep.Rejected, rep.Repaired}
	if got != want {
		var buf bytes.Buffer
		rep.Write(&buf)
		t.Fatalf("counts %+v, want %+v\n%s", got, want, buf.String())
	}
}

// rejected returns the rejections of the report by row, "field: reason".
func rejected(rep *postgis.ImportReport) map[int]string {
	m := make(map[int]string)
	for _, r := range rep.Rejections {
		m[r.Row] += r.Field + ": " + r.Reason + "; "
	}
	return m
}

func extIDs(t *testing.T, db *postgis.DB, table string) []string {
	t.Helper()
	rows, err := db.Query(context.Background(), "SELECT ext_id FROM "+table+" WHERE ext_id LIKE 'imp-%' ORDER BY ext_id")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

func scalar[T any](t *testing.T, db *postgis.DB, sql string, args ...any) T {
	t.Helper()
	var v T
	if err := db.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// TestImportMixedFile loads a FeatureCollection of good and bad rows: the
// good rows go in, each bad one is reported by its feature number.
func TestImportMixedFile(t *testing.T) {
	db := importDB(t)
	rep := importFile(t, db, postgis.ImportOptions{Layer: "hydrants", Path: "hydrants_mixed.geojson"})
	expectCounts(t, rep, counts{Read: 9, Inserted: 3, Rejected: 6})
	want := map[int]string{
		2: `status: "broken" is not one of`,
		4: `geometry: longitude "abc" is not a number`,
		5: "geometry: latitude 95 is outside [-90, 90]",
		6: "ext_id: missing",
		7: `ext_id: duplicate id "imp-h-1": already on feature 1`,
		9: "geometry: a LineString, but the hydrants layer takes Point",
	}
	got := rejected(rep)
	if len(got) != len(want) {
		t.Errorf("rejected rows %v, want %v", got, want)
	}
	for row, reason := range want {
		if !strings.Contains(got[row], reason) {
			t.Errorf("feature %d: %q, want …%s…", row, got[row], reason)
		}
	}
	if ids := extIDs(t, db, "hydrants"); !reflect.DeepEqual(ids, []string{"imp-h-1", "imp-h-3", "imp-h-8"}) {
		t.Errorf("loaded %v", ids)
	}
	// Unknown properties are kept in props; known ones in their columns.
	var props map[string]any
	var kind, installed string
	err := db.QueryRow(context.Background(), "SELECT props, kind, installed_at::text FROM hydrants WHERE ext_id = 'imp-h-1'").Scan(&props, &kind, &installed)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(props, map[string]any{"pressure_mpa": 0.35, "owner": "water company"}) || kind != "above_ground" || installed != "2019-05-01" {
		t.Errorf("imp-h-1: props %v, kind %q, installed %q", props, kind, installed)
	}
	if err := rep.Err(); geo.ErrorCode(err) != geo.EInvalid || err.Error() != "hydrants: 6 of 9 rows rejected" {
		t.Errorf("report error %v", err)
	}
	var buf bytes.Buffer
	rep.Write(&buf)
	for _, s := range []string{"9 rows read", "inserted  3", "rejected  6", "feature 4  geometry: longitude \"abc\"", "6 rows rejected and not loaded; the others were loaded"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, buf.String())
		}
	}
}

// TestImportAllOrNothing: the same file writes nothing, and neither does
// one whose only fault is found by the database.
func TestImportAllOrNothing(t *testing.T) {
	db := importDB(t)
	before := scalar[int64](t, db, "SELECT version FROM layer_versions WHERE layer = 'hydrants'")
	rep := importFile(t, db, postgis.ImportOptions{Layer: "hydrants", Path: "hydrants_mixed.geojson", AllOrNothing: true})
	if !rep.RolledBack || rep.Rejected != 6 || rep.Inserted != 0 {
		t.Errorf("report %+v", rep)
	}
	if ids := extIDs(t, db, "hydrants"); len(ids) != 0 {
		t.Errorf("all-or-nothing wrote %v", ids)
	}
	if after := scalar[int64](t, db, "SELECT version FROM layer_versions WHERE layer = 'hydrants'"); after != before {
		t.Errorf("layer version moved from %d to %d", before, after)
	}
	var buf bytes.Buffer
	rep.Write(&buf)
	if !strings.Contains(buf.String(), "nothing was written") {
		t.Errorf("report does not say nothing was written:\n%s", buf.String())
	}

	hazards := `{"type":"Feature","properties":{"ext_id":"imp-z-1","category":"hot_work","severity":"general","status":"open","reported_at":"2024-03-01"},"geometry":{"type":"Point","coordinates":[105.3,36.2]}}
{"type":"Feature","properties":{"ext_id":"imp-z-2","premise":"imp-nowhere","category":"hot_work","severity":"general","status":"open","reported_at":"2024-03-01"},"geometry":{"type":"Point","coordinates":[105.3,36.2]}}`
	rep = importString(t, db, postgis.ImportOptions{Layer: "hazards", Format: "ndjson", AllOrNothing: true}, hazards)
	if !rep.RolledBack || rep.Rejected != 1 {
		t.Errorf("report %+v", rep)
	}
	if ids := extIDs(t, db, "hazards"); len(ids) != 0 {
		t.Errorf("all-or-nothing wrote %v after a database rejection", ids)
	}
}

// TestImportIdempotent imports the same file twice: the second time nothing
// changes, not even updated_at or the layer version.
func TestImportIdempotent(t *testing.T) {
	db := importDB(t)
	rep := importFile(t, db, postgis.ImportOptions{Layer: "premises", Path: "premises.ndjson"})
	expectCounts(t, rep, counts{Read: 4, Inserted: 4})
	stamp := scalar[time.Time](t, db, "SELECT max(updated_at) FROM premises WHERE ext_id LIKE 'imp-%'")
	version := scalar[int64](t, db, "SELECT version FROM layer_versions WHERE layer = 'premises'")

	rep = importFile(t, db, postgis.ImportOptions{Layer: "premises", Path: "premises.ndjson"})
	expectCounts(t, rep, counts{Read: 4, Unchanged: 4})
	if n := len(extIDs(t, db, "premises")); n != 4 {
		t.Errorf("%d premises after re-import, want 4", n)
	}
	if s := scalar[time.Time](t, db, "SELECT max(updated_at) FROM premises WHERE ext_id LIKE 'imp-%'"); !s.Equal(stamp) {
		t.Errorf("updated_at moved from %v to %v", stamp, s)
	}
	if v := scalar[int64](t, db, "SELECT version FROM layer_versions WHERE layer = 'premises'"); v != version {
		t.Errorf("layer version moved from %d to %d", version, v)
	}
	// Values came in typed: "12" occupants, China time.
	occupants := scalar[int32](t, db, "SELECT occupants FROM premises WHERE ext_id = 'imp-p-1'")
	at := scalar[time.Time](t, db, "SELECT last_inspected_at FROM premises WHERE ext_id = 'imp-p-1'")
	if occupants != 12 || !at.Equal(time.Date(2024, 3, 1, 1, 30, 0, 0, time.UTC)) {
		t.Errorf("imp-p-1: occupants %d, inspected %v", occupants, at)
	}

	// A changed file: one name, one position, one property changed, one row
	// new, one row the same (and one row of the old file absent: kept).
	changed := `{"type":"Feature","properties":{"ext_id":"imp-p-1","kind":"rental_housing","name":"Lane 3 No. 5A","floors":4,"occupants":"12","tag":"yellow","last_inspected_at":"2024-03-01 09:30:00","landlord":"Chen"},"geometry":{"type":"Point","coordinates":[105.311,36.211]}}
{"type":"Feature","properties":{"ext_id":"imp-p-2","kind":"small_enterprise","name":"Ruifeng Shoes","floors":"2","tag":"red"},"geometry":{"type":"Point","coordinates":[105.3125,36.212]}}
{"type":"Feature","properties":{"ext_id":"imp-p-3","kind":"group_rental","occupants":14,"last_inspected_at":"2024-02-11T10:00:00+08:00","note":"new"},"geometry":{"type":"Point","coordinates":[105.313,36.213]}}
{"type":"Feature","properties":{"ext_id":"imp-p-5","kind":"market"},"geometry":{"type":"Point","coordinates":[105.315,36.215]}}
{"type":"Feature","properties":{"ext_id":"imp-p-4","kind":"basement"},"geometry":{"type":"Point","coordinates":[105.314,36.214]}}`
	rep = importString(t, db, postgis.ImportOptions{Layer: "premises", Format: "ndjson"}, changed)
	expectCounts(t, rep, counts{Read: 5, Inserted: 1, Updated: 3, Unchanged: 1})
	if n := len(extIDs(t, db, "premises")); n != 5 {
		t.Errorf("%d premises, want 5", n)
	}
	if name := scalar[string](t, db, "SELECT name FROM premises WHERE ext_id = 'imp-p-1'"); name != "Lane 3 No. 5A" {
		t.Errorf("name not updated: %q", name)
	}
	if s := scalar[time.Time](t, db, "SELECT updated_at FROM premises WHERE ext_id = 'imp-p-4'"); !s.Equal(stamp) {
		t.Errorf("the unchanged row's updated_at moved")
	}
}

// TestImportCSV loads shelters from a spreadsheet-style CSV: BOM, CRLF,
// capitalised headers, 是 for true, a NOT NULL default filled in.
func TestImportCSV(t *testing.T) {
	db := importDB(t)
	rep := importFile(t, db, postgis.ImportOptions{Layer: "shelters", Path: "shelters.csv"})
	expectCounts(t, rep, counts{Read: 3, Inserted: 2, Rejected: 1})
	if got := rejected(rep)[3]; !strings.Contains(got, `capacity: "abc" is not a whole number`) {
		t.Errorf("line 3: %q", got)
	}
	var std1, std3 bool
	var props map[string]any
	if err := db.QueryRow(context.Background(), `SELECT (SELECT standardised FROM shelters WHERE ext_id = 'imp-s-1'),
		(SELECT standardised FROM shelters WHERE ext_id = 'imp-s-3'), (SELECT props FROM shelters WHERE ext_id = 'imp-s-3')`).Scan(&std1, &std3, &props); err != nil {
		t.Fatal(err)
	}
	if !std1 || std3 || !reflect.DeepEqual(props, map[string]any{"manager": "Wang"}) {
		t.Errorf("standardised %v, %v; props %v", std1, std3, props)
	}
}

// TestImportGCJ02 imports hydrants whose positions were taken from a GCJ-02
// map and finds them within 1 m of the WGS84 truth.
func TestImportGCJ02(t *testing.T) {
	db := importDB(t)
	truth := [][2]float64{{105.3001, 36.2001}, {105.3501, 36.2502}}
	var b strings.Builder
	b.WriteString("ext_id,status,lng,lat\n")
	for i, p := range truth {
		x, y := geo.WGS84ToGCJ02(p[0], p[1])
		fmt.Fprintf(&b, "imp-g-%d,in_service,%.9f,%.9f\n", i, x, y)
	}
	expectCounts(t, importString(t, db, postgis.ImportOptions{Layer: "hydrants", Format: "csv", CRS: "gcj02"}, b.String()), counts{Read: 2, Inserted: 2})
	for i, p := range truth {
		d := scalar[float64](t, db, "SELECT ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography) FROM hydrants WHERE ext_id = $3", p[0], p[1], fmt.Sprintf("imp-g-%d", i))
		if d > 1 {
			t.Errorf("imp-g-%d lands %.2f m from the truth", i, d)
		}
	}
}

// TestImportRepairsPolygons: a bow-tie is repaired and reported, a polygon
// with no area is rejected, and re-importing the repaired one changes nothing.
func TestImportRepairsPolygons(t *testing.T) {
	db := importDB(t)
	rep := importFile(t, db, postgis.ImportOptions{Layer: "towns", Path: "towns_invalid.geojson"})
	expectCounts(t, rep, counts{Read: 3, Inserted: 2, Rejected: 1, Repaired: 1})
	if len(rep.Repairs) != 1 || rep.Repairs[0].Row != 1 || !strings.Contains(rep.Repairs[0].What, "Self-intersection") {
		t.Errorf("repairs %+v", rep.Repairs)
	}
	if got := rejected(rep)[2]; !strings.Contains(got, "geometry: invalid polygon") {
		t.Errorf("feature 2: %q", got)
	}
	var valid bool
	var parts int
	var area float64
	err := db.QueryRow(context.Background(), "SELECT ST_IsValid(geom), ST_NumGeometries(geom), ST_Area(geom) FROM towns WHERE ext_id = 'imp-t-bowtie'").Scan(&valid, &parts, &area)
	if err != nil {
		t.Fatal(err)
	}
	if !valid || parts != 2 || area < 0.0049 || area > 0.0051 {
		t.Errorf("repaired bow-tie: valid %v, %d parts, area %v", valid, parts, area)
	}
	var buf bytes.Buffer
	rep.Write(&buf)
	if !strings.Contains(buf.String(), "feature 1  geometry: invalid polygon (Self-intersection") {
		t.Errorf("report does not list the repair:\n%s", buf.String())
	}
	rep = importFile(t, db, postgis.ImportOptions{Layer: "towns", Path: "towns_invalid.geojson"})
	expectCounts(t, rep, counts{Read: 3, Unchanged: 2, Rejected: 1, Repaired: 1})
}

// TestImportHierarchyAndGridCells builds a town, a community and two grid
// cells by import (refs by ext_id), then places hydrants and hazards in them.
func TestImportHierarchyAndGridCells(t *testing.T) {
	db := importDB(t)
	square := func(x0, y0, x1, y1 float64) string {
		return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%v,%v],[%v,%v],[%v,%v],[%v,%v],[%v,%v]]]}`, x0, y0, x1, y0, x1, y1, x0, y1, x0, y0)
	}
	feature := func(props, geom string) string {
		return `{"type":"Feature","properties":` + props + `,"geometry":` + geom + "}\n"
	}
	expectCounts(t, importString(t, db, postgis.ImportOptions{Layer: "towns", Format: "ndjson"},
		feature(`{"ext_id":"imp-town","code":"imp-1","name":"Test town","class":"a"}`, square(105.2, 36.1, 105.4, 36.3))),
		counts{Read: 1, Inserted: 1})
	rep := importString(t, db, postgis.ImportOptions{Layer: "communities", Format: "ndjson"},
		feature(`{"ext_id":"imp-com","code":"imp-11","name":"Test village","town":"imp-town","kind":"village"}`, square(105.2, 36.1, 105.4, 36.3))+
			feature(`{"ext_id":"imp-com-2","code":"imp-12","name":"Lost village","town":"imp-atlantis"}`, square(105.2, 36.1, 105.4, 36.3)))
	expectCounts(t, rep, counts{Read: 2, Inserted: 1, Rejected: 1})
	if got := rejected(rep)[2]; !strings.Contains(got, `town: no towns with ext_id 'imp-atlantis'`) {
		t.Errorf("unknown town: %q", got)
	}
	expectCounts(t, importString(t, db, postgis.ImportOptions{Layer: "grid_cells", Format: "ndjson"},
		feature(`{"ext_id":"imp-cell-w","code":"imp-111","name":"West","community":"imp-com"}`, square(105.2, 36.1, 105.3, 36.3))+
			feature(`{"ext_id":"imp-cell-e","code":"imp-112","name":"East","community":"imp-com"}`, square(105.3, 36.1, 105.4, 36.3))),
		counts{Read: 2, Inserted: 2})

	point := func(x, y float64) string { return fmt.Sprintf(`{"type":"Point","coordinates":[%v,%v]}`, x, y) }
	expectCounts(t, importString(t, db, postgis.ImportOptions{Layer: "hydrants", Format: "ndjson"},
		feature(`{"ext_id":"imp-gh-w","status":"in_service"}`, point(105.25, 36.2))+
			feature(`{"ext_id":"imp-gh-e","status":"in_service"}`, point(105.35, 36.2))+
			feature(`{"ext_id":"imp-gh-edge","status":"in_service"}`, point(105.3, 36.2))+
			feature(`{"ext_id":"imp-gh-out","status":"in_service"}`, point(105.5, 36.2))),
		counts{Read: 4, Inserted: 4})
	cell := func(ext string) string {
		return scalar[string](t, db, "SELECT COALESCE(g.ext_id, '(none)') FROM hydrants h LEFT JOIN grid_cells g ON g.id = h.grid_cell_id WHERE h.ext_id = $1", ext)
	}
	westFirst := scalar[bool](t, db, "SELECT (SELECT id FROM grid_cells WHERE ext_id = 'imp-cell-w') < (SELECT id FROM grid_cells WHERE ext_id = 'imp-cell-e')")
	edge := map[bool]string{true: "imp-cell-w", false: "imp-cell-e"}[westFirst]
	for ext, want := range map[string]string{"imp-gh-w": "imp-cell-w", "imp-gh-e": "imp-cell-e", "imp-gh-edge": edge, "imp-gh-out": "(none)"} {
		if got := cell(ext); got != want {
			t.Errorf("%s in %s, want %s", ext, got, want)
		}
	}

	// Hazards: a known premise resolves to its id, an unknown one is refused,
	// and the table's own rules (closed needs closed_at) reject by row.
	expectCounts(t, importString(t, db, postgis.ImportOptions{Layer: "premises", Format: "ndjson"},
		feature(`{"ext_id":"imp-gp","kind":"restaurant"}`, point(105.26, 36.2))), counts{Read: 1, Inserted: 1})
	rep = importString(t, db, postgis.ImportOptions{Layer: "hazards", Format: "ndjson"},
		feature(`{"ext_id":"imp-z-ok","premise":"imp-gp","category":"e_bike_charging","severity":"major","status":"open","listed":"是","reported_at":"2024-03-01 10:00:00"}`, point(105.26, 36.2))+
			feature(`{"ext_id":"imp-z-ghost","premise":"imp-nowhere","category":"hot_work","severity":"general","status":"open","reported_at":"2024-03-01"}`, point(105.26, 36.2))+
			feature(`{"ext_id":"imp-z-closed","category":"hot_work","severity":"general","status":"closed","reported_at":"2024-03-01"}`, point(105.26, 36.2))+
			feature(`{"ext_id":"imp-z-early","category":"hot_work","severity":"general","status":"closed","reported_at":"2024-03-01","closed_at":"2024-02-01"}`, point(105.26, 36.2))+
			feature(`{"ext_id":"imp-z-done","category":"locked_exit","severity":"general","status":"closed","reported_at":"2024-03-01","closed_at":"2024-03-05 16:00:00"}`, point(105.36, 36.2)))
	expectCounts(t, rep, counts{Read: 5, Inserted: 2, Rejected: 3})
	got := rejected(rep)
	for row, want := range map[int]string{2: `premise: no premises with ext_id 'imp-nowhere'`, 3: "status,closed_at: breaks the rule hazards_check", 4: "breaks the rule hazards_check1"} {
		if !strings.Contains(got[row], want) {
			t.Errorf("line %d: %q, want …%s…", row, got[row], want)
		}
	}
	var premise, gridCell string
	var listed bool
	err := db.QueryRow(context.Background(), `SELECT p.ext_id, g.ext_id, z.listed FROM hazards z JOIN premises p ON p.id = z.premise_id
		JOIN grid_cells g ON g.id = z.grid_cell_id WHERE z.ext_id = 'imp-z-ok'`).Scan(&premise, &gridCell, &listed)
	if err != nil || premise != "imp-gp" || gridCell != "imp-cell-w" || !listed {
		t.Errorf("imp-z-ok: premise %q, cell %q, listed %v, %v", premise, gridCell, listed, err)
	}
}

// TestImportUniqueCode: a town code repeated in the file, or already taken
// by another town, is a rejected row, not a failed import.
func TestImportUniqueCode(t *testing.T) {
	db := importDB(t)
	poly := `{"type":"Polygon","coordinates":[[[105.2,36.1],[105.3,36.1],[105.3,36.2],[105.2,36.1]]]}`
	f := func(ext, code string) string {
		return `{"type":"Feature","properties":{"ext_id":"` + ext + `","code":"` + code + `","name":"n"},"geometry":` + poly + "}\n"
	}
	expectCounts(t, importString(t, db, postgis.ImportOptions{Layer: "towns", Format: "ndjson"}, f("imp-u-1", "imp-c1")), counts{Read: 1, Inserted: 1})
	rep := importString(t, db, postgis.ImportOptions{Layer: "towns", Format: "ndjson"}, f("imp-u-2", "imp-c2")+f("imp-u-3", "imp-c2")+f("imp-u-4", "imp-c1")+f("imp-u-1", "imp-c1"))
	expectCounts(t, rep, counts{Read: 4, Inserted: 1, Unchanged: 1, Rejected: 2})
	got := rejected(rep)
	if !strings.Contains(got[2], "code: duplicate code 'imp-c2': already on line 1") || !strings.Contains(got[3], "code: code 'imp-c1' already belongs to ext_id 'imp-u-1'") {
		t.Errorf("rejections %v", got)
	}
}

// TestImportRoads builds the routing topology: shared end points share a
// node, re-importing changes nothing, moving a road moves its node and drops
// the one left behind.
func TestImportRoads(t *testing.T) {
	db := importDB(t)
	line := func(ext string, pts ...float64) string {
		var c []string
		for i := 0; i < len(pts); i += 2 {
			c = append(c, fmt.Sprintf("[%v,%v]", pts[i], pts[i+1]))
		}
		return `{"type":"Feature","properties":{"ext_id":"` + ext + `","class":"local"},"geometry":{"type":"LineString","coordinates":[` + strings.Join(c, ",") + "]}}\n"
	}
	// b ends a hair (3e-8°) from where a starts: the same node after snapping.
	file := line("imp-r-a", 105.30, 36.20, 105.31, 36.20) + line("imp-r-b", 105.31, 36.21, 105.30000003, 36.20) + line("imp-r-c", 105.31, 36.20, 105.31, 36.21)
	expectCounts(t, importString(t, db, postgis.ImportOptions{Layer: "roads", Format: "ndjson"}, file), counts{Read: 3, Inserted: 3})
	nodes := func() int {
		return scalar[int](t, db, "SELECT count(DISTINCT n) FROM roads, LATERAL (VALUES (source), (target)) v(n) WHERE ext_id LIKE 'imp-r-%'")
	}
	if n := nodes(); n != 3 {
		t.Errorf("%d nodes for a triangle, want 3", n)
	}
	if !scalar[bool](t, db, "SELECT a.source = b.target AND a.target = c.source AND c.target = b.source FROM roads a, roads b, roads c WHERE a.ext_id = 'imp-r-a' AND b.ext_id = 'imp-r-b' AND c.ext_id = 'imp-r-c'") {
		t.Errorf("the triangle is not closed")
	}
	// The network routes: from a's start to c's end the shortest way is b,
	// driven against its drawing direction (it is two-way).
	hops := scalar[int](t, db, `SELECT count(*) FROM pgr_dijkstra('SELECT id, source, target, cost_s AS cost, reverse_cost_s AS reverse_cost FROM roads WHERE ext_id LIKE ''imp-r-%''',
		(SELECT source FROM roads WHERE ext_id = 'imp-r-a'), (SELECT target FROM roads WHERE ext_id = 'imp-r-c'), true) WHERE edge > 0`)
	if hops != 1 {
		t.Errorf("route of %d edges, want 1 (road b)", hops)
	}
	allNodes := scalar[int](t, db, "SELECT count(*) FROM road_nodes")

	expectCounts(t, importString(t, db, postgis.ImportOptions{Layer: "roads", Format: "ndjson"}, file), counts{Read: 3, Unchanged: 3})
	if n := scalar[int](t, db, "SELECT count(*) FROM road_nodes"); n != allNodes {
		t.Errorf("re-import changed road_nodes from %d to %d", allNodes, n)
	}

	// c now ends elsewhere: a new node, and b's start (c's old end) is still used by b.
	moved := line("imp-r-c", 105.31, 36.20, 105.32, 36.21)
	expectCounts(t, importString(t, db, postgis.ImportOptions{Layer: "roads", Format: "ndjson"}, moved), counts{Read: 1, Updated: 1})
	if n := nodes(); n != 4 {
		t.Errorf("%d nodes after moving c, want 4", n)
	}
	// Moving it again leaves its previous end unused: dropped.
	moved = line("imp-r-c", 105.31, 36.20, 105.33, 36.21)
	expectCounts(t, importString(t, db, postgis.ImportOptions{Layer: "roads", Format: "ndjson"}, moved), counts{Read: 1, Updated: 1})
	if n := scalar[int](t, db, "SELECT count(*) FROM road_nodes WHERE ST_Equals(geom, ST_SetSRID(ST_MakePoint(105.32, 36.21), 4326))"); n != 0 {
		t.Errorf("the abandoned node was kept")
	}
	if n := scalar[int](t, db, "SELECT count(*) FROM road_nodes"); n != allNodes+1 {
		t.Errorf("%d road nodes, want %d", n, allNodes+1)
	}
}

// TestImportFailures: bad options and unreadable files are errors, and
// nothing is written.
func TestImportFailures(t *testing.T) {
	db := importDB(t)
	ctx := context.Background()
	good := `{"type":"Feature","properties":{"ext_id":"imp-f-1","status":"faulty"},"geometry":{"type":"Point","coordinates":[105.3,36.2]}}` + "\n"
	for name, c := range map[string]struct {
		opts postgis.ImportOptions
		file string
	}{
		"unknown layer":    {postgis.ImportOptions{Layer: "volcanoes", Format: "ndjson"}, good},
		"unknown crs":      {postgis.ImportOptions{Layer: "hydrants", Format: "ndjson", CRS: "utm"}, good},
		"unknown format":   {postgis.ImportOptions{Layer: "hydrants", Path: "h.shp"}, good},
		"no format":        {postgis.ImportOptions{Layer: "hydrants"}, good},
		"bad header":       {postgis.ImportOptions{Layer: "hydrants", Format: "csv"}, "ext_id,status\nimp-f-1,faulty\n"},
		"not a collection": {postgis.ImportOptions{Layer: "hydrants", Format: "geojson"}, good},
		"projected crs": {postgis.ImportOptions{Layer: "hydrants", Format: "geojson"},
			`{"type":"FeatureCollection","features":[` + strings.TrimSpace(good) + `],"crs":{"type":"name","properties":{"name":"EPSG:3857"}}}`},
	} {
		rep, err := db.Import(ctx, c.opts, strings.NewReader(c.file))
		if geo.ErrorCode(err) != geo.EInvalid || rep != nil {
			t.Errorf("%s: %v, %v; want an EInvalid error", name, rep, err)
		}
	}
	if _, err := db.ImportFile(ctx, postgis.ImportOptions{Layer: "hydrants", Path: filepath.Join(t.TempDir(), "missing.csv")}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if ids := extIDs(t, db, "hydrants"); len(ids) != 0 {
		t.Errorf("a failed import wrote %v", ids)
	}
	// A cancelled import writes nothing either.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.Import(cctx, postgis.ImportOptions{Layer: "hydrants", Format: "ndjson"}, strings.NewReader(good)); err == nil {
		t.Errorf("cancelled import succeeded")
	}
}
