package analytics_test

import (
	"context"
	"math"
	"testing"

	"github.com/onemap-city/onemap/analytics"
	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/postgis/postgistest"
)

// readPoints reads, straight from the tables, the EPSG:4549 positions and
// severity weights of the hazards a SQL condition keeps.
func readPoints(t *testing.T, where string, weighted bool) []analytics.Point {
	t.Helper()
	w := "1"
	if weighted {
		w = "CASE h.severity WHEN 'major' THEN 3 ELSE 1 END"
	}
	rows, err := postgistest.DB(t).Query(context.Background(),
		"SELECT ST_X(h.geom_m), ST_Y(h.geom_m), "+w+" FROM hazards h LEFT JOIN premises p ON p.id = h.premise_id WHERE "+where)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var pts []analytics.Point
	for rows.Next() {
		var p analytics.Point
		if err := rows.Scan(&p.X, &p.Y, &p.W); err != nil {
			t.Fatal(err)
		}
		pts = append(pts, p)
	}
	return pts
}

// checkTile compares a heatmap tile's raw values with brute-force sums
// over pts; it returns how many pixels are non-zero.
func checkTile(t *testing.T, svc *analytics.KDEService, sel analytics.Selection, a geo.TileAddr, r float64, pts []analytics.Point, what string) int {
	t.Helper()
	got, err := svc.TileRaw(context.Background(), sel, a, r)
	if err != nil {
		t.Fatal(err)
	}
	xs, ys := analytics.PixelCentres(a)
	nonzero := 0
	for i := 0; i < len(xs); i += 7 { // every 7th pixel: brute force is slow
		want := bruteRaw(pts, xs[i], ys[i], r)
		if math.Abs(got[i]-want) > 1e-9*math.Max(1, want) {
			t.Fatalf("%s: pixel %d: tile %.12g, brute force over a fresh read %.12g", what, i, got[i], want)
		}
		if want > 0 {
			nonzero++
		}
	}
	return nonzero
}

// TestHeatmapFromMemoryFollowsWrites: tiles computed from the points kept
// in memory equal brute-force sums over a fresh read of the table, for a
// filtered weighted selection; after a hazard moves, and after a premise
// changes kind (a filter read through the reference), the tiles follow.
func TestHeatmapFromMemoryFollowsWrites(t *testing.T) {
	loadDemo(t)
	ctx := context.Background()
	db := postgistest.DB(t)
	svc := analytics.NewKDEService(db, analytics.Limits{})
	all := readPoints(t, "true", false)
	probe := all[len(all)/2]
	lon, lat := geo.FromGK120(probe.X, probe.Y)
	a := geo.TileOf(14, lon, lat)
	const r = 350.0

	sel := hazardSelection(t, "layer=hazards&status=open,rectifying&weight=severity")
	where := "h.status IN ('open', 'rectifying')"
	if checkTile(t, svc, sel, a, r, readPoints(t, where, true), "status filter") == 0 {
		t.Fatal("the probe tile is empty: nothing compared")
	}
	// Move one open hazard of the tile 1 km east.
	var id int64
	if err := db.QueryRow(ctx, "SELECT h.id FROM hazards h WHERE "+where+
		" ORDER BY h.geom_m <-> ST_SetSRID(ST_MakePoint($1, $2), 4549) LIMIT 1", probe.X, probe.Y).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, "UPDATE hazards SET geom = ST_Translate(geom, 0.01, 0) WHERE id = $1", id); err != nil {
		t.Fatal(err)
	}
	defer db.Exec(context.Background(), "UPDATE hazards SET geom = ST_Translate(geom, -0.01, 0) WHERE id = $1", id)
	checkTile(t, svc, sel, a, r, readPoints(t, where, true), "after a hazard moved")

	// A filter on the premise's kind: a premise of the tile changes kind.
	var premise int64
	var kind string
	if err := db.QueryRow(ctx, `SELECT p.id, p.kind FROM hazards h JOIN premises p ON p.id = h.premise_id
		ORDER BY h.geom_m <-> ST_SetSRID(ST_MakePoint($1, $2), 4549) LIMIT 1`, probe.X, probe.Y).Scan(&premise, &kind); err != nil {
		t.Fatal(err)
	}
	other := geo.PremiseKinds[0]
	if other == kind {
		other = geo.PremiseKinds[1]
	}
	kindSel := hazardSelection(t, "layer=hazards&kind="+kind)
	before := checkTile(t, svc, kindSel, a, r, readPoints(t, "p.kind = '"+kind+"'", false), "kind filter")
	if _, err := db.Exec(ctx, "UPDATE premises SET kind = $2 WHERE id = $1", premise, other); err != nil {
		t.Fatal(err)
	}
	defer db.Exec(context.Background(), "UPDATE premises SET kind = $2 WHERE id = $1", premise, kind)
	checkTile(t, svc, kindSel, a, r, readPoints(t, "p.kind = '"+kind+"'", false), "after a premise changed kind")
	if before == 0 {
		t.Error("the kind filter's tile is empty: nothing compared")
	}
}

// TestHexesFromMemoryCountEveryHazard: binning from memory puts every
// hazard of the city in exactly one hexagon, and follows a deletion.
func TestHexesFromMemoryCountEveryHazard(t *testing.T) {
	loadDemo(t)
	ctx := context.Background()
	db := postgistest.DB(t)
	svc := analytics.NewDensityService(db, analytics.Limits{})
	sel := hazardSelection(t, "layer=hazards&severity=major")
	count := func() (n int, cells []analytics.HexStat) {
		if err := db.QueryRow(ctx, "SELECT count(*) FROM hazards WHERE severity = 'major'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		cells, err := svc.Hexes(ctx, sel, [4]float64{-1e9, -1e9, 1e9, 1e9}, 200, false)
		if err != nil {
			t.Fatal(err)
		}
		return n, cells
	}
	check := func(what string) {
		want, cells := count()
		got := 0
		for _, c := range cells {
			got += c.Count
		}
		if got != want || want == 0 {
			t.Errorf("%s: the hexagons hold %d major hazards, the table %d", what, got, want)
		}
	}
	check("before")
	rows, err := db.Query(ctx, `UPDATE hazards SET severity = 'general'
		WHERE id IN (SELECT id FROM hazards WHERE severity = 'major' ORDER BY id LIMIT 5) RETURNING id`)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		_ = rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	defer db.Exec(context.Background(), "UPDATE hazards SET severity = 'major' WHERE id = ANY($1)", ids)
	if len(ids) != 5 {
		t.Fatalf("changed %d hazards, want 5", len(ids))
	}
	check("after 5 major hazards became general")
}
