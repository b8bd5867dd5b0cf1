package analytics_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"github.com/onemap-city/onemap/analytics"
	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/postgis/postgistest"
)

// txDB runs the analytics' statements in a transaction, so that a test's
// hand-made rows vanish with its rollback and never meet the demo's tests.
type txDB struct{ tx pgx.Tx }

func (d txDB) QueryRows(ctx context.Context, sql string, args ...any) (geo.Rows, error) {
	return d.tx.Query(ctx, sql, args...)
}

func (d txDB) ScanRow(ctx context.Context, sql string, args []any, dest ...any) error {
	return d.tx.QueryRow(ctx, sql, args...).Scan(dest...)
}

// The hand-made town lies 220 km north of the demo city, in EPSG:4549
// metres relative to (spacingX0, spacingY0); a box around it keeps the
// demo's roads out of its answers.
const spacingX0, spacingY0 = 560000.0, 3300000.0

// spacingTown is the hand-made case, local x, y in metres:
//
//	测试路 (10 m) y = 0, x 0–1000, three rows (the last drawn east to west);
//	  hydrants alternately 6.5 m north and south at x = 0, 100, 200, 300,
//	  500, 600, 680 (out of service), 760, 860, 960, and one at (400, 40),
//	  35 m beyond the kerb.
//	宽路 (70 m) y = 1000, x 0–1000, two rows; hydrants 36.5 m north at
//	  x = 0, 100, …, 1000 and 36.5 m south at x = 0, 100, …, 500 and 800.
//	单侧路 (64 m) x = 2000, y 0–500, drawn north to south; hydrants 33.5 m
//	  east at y = 0, 100, …, 500.
//	无栓路 (10 m) y = −500, x 0–300, no hydrant.
//	two unnamed rows (8 m) y = −1000, x 0–200 and 200–400; hydrants 5 m
//	  north at x = 0, 190 (on the first) and 350 (on the second).
type spacingTown struct {
	roads    map[string]int64 // by label
	hydrants map[string]int64 // by label
}

func buildSpacingTown(t *testing.T, ctx context.Context, tx pgx.Tx) spacingTown {
	t.Helper()
	town := spacingTown{roads: map[string]int64{}, hydrants: map[string]int64{}}
	road := func(label string, name any, width float64, pts ...[2]float64) {
		wkt := "LINESTRING("
		for i, p := range pts {
			if i > 0 {
				wkt += ","
			}
			wkt += fmt.Sprintf("%.3f %.3f", spacingX0+p[0], spacingY0+p[1])
		}
		wkt += ")"
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO roads (ext_id, name, class, width_m, geom)
			VALUES ($1, $2, 'local', $3, ST_Transform(ST_GeomFromText($4, 4549), 4326)) RETURNING id`,
			"spacing-test-"+label, name, width, wkt).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		town.roads[label] = id
	}
	hydrant := func(label, status string, x, y float64) {
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO hydrants (ext_id, status, geom)
			VALUES ($1, $2, ST_Transform(ST_SetSRID(ST_MakePoint($3, $4), 4549), 4326)) RETURNING id`,
			"spacing-test-"+label, status, spacingX0+x, spacingY0+y).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		town.hydrants[label] = id
	}

	road("t1", "测试路", 10, [2]float64{0, 0}, [2]float64{300, 0})
	road("t2", "测试路", 10, [2]float64{300, 0}, [2]float64{650, 0})
	road("t3", "测试路", 10, [2]float64{1000, 0}, [2]float64{650, 0})
	side := 6.5
	for _, x := range []float64{0, 100, 200, 300, 500, 600, 680, 760, 860, 960} {
		status := "in_service"
		if x == 680 {
			status = "out_of_service"
		}
		hydrant(fmt.Sprintf("t@%g", x), status, x, side)
		side = -side
	}
	hydrant("t-far", "in_service", 400, 40)

	road("w1", "宽路", 70, [2]float64{0, 1000}, [2]float64{500, 1000})
	road("w2", "宽路", 70, [2]float64{500, 1000}, [2]float64{1000, 1000})
	for x := 0.0; x <= 1000; x += 100 {
		hydrant(fmt.Sprintf("wN@%g", x), "in_service", x, 1036.5)
		if x <= 500 || x == 800 {
			hydrant(fmt.Sprintf("wS@%g", x), "in_service", x, 963.5)
		}
	}

	road("s", "单侧路", 64, [2]float64{2000, 500}, [2]float64{2000, 0})
	for y := 0.0; y <= 500; y += 100 {
		hydrant(fmt.Sprintf("sE@%g", y), "in_service", 2033.5, y)
	}

	road("none", "无栓路", 10, [2]float64{0, -500}, [2]float64{300, -500})

	road("u1", nil, 8, [2]float64{0, -1000}, [2]float64{200, -1000})
	road("u2", nil, 8, [2]float64{200, -1000}, [2]float64{400, -1000})
	hydrant("u@0", "in_service", 0, -995)
	hydrant("u@190", "in_service", 190, -995)
	hydrant("u@350", "in_service", 350, -995)
	return town
}

// localBox is the lon/lat box of the local rectangle x0, y0 – x1, y1.
func localBox(x0, y0, x1, y1 float64) *[4]float64 {
	minLon, minLat := geo.FromGK120(spacingX0+x0, spacingY0+y0)
	maxLon, maxLat := geo.FromGK120(spacingX0+x1, spacingY0+y1)
	// The GK grid is turned a little against the meridians off the
	// central one: pad by a few metres' worth of degrees.
	pad := 5e-5
	return &[4]float64{minLon - pad, minLat - pad, maxLon + pad, maxLat + pad}
}

// wantStretch is an expected violation, positions in local metres.
type wantStretch struct {
	kind, road, side string
	roads            []string // labels
	from, to         float64
	fromH, toH       string // labels; "" for none
	// The stretch's ends in local coordinates (on the centreline).
	start, end [2]float64
}

func checkStretches(t *testing.T, name string, town spacingTown, got []analytics.SpacingViolation, want []wantStretch) {
	t.Helper()
	if len(got) != len(want) {
		for _, v := range got {
			t.Logf("got %s %q %s %.2f–%.2f hydrants %d–%d roads %v", v.Kind, v.Road, v.Side, v.From, v.To, v.FromHydrant, v.ToHydrant, v.RoadIDs)
		}
		t.Fatalf("%s: %d violations, want %d", name, len(got), len(want))
	}
	const tol = 0.01 // metres
	for i, w := range want {
		v := got[i]
		var roads []int64
		for _, l := range w.roads {
			roads = append(roads, town.roads[l])
		}
		if v.Kind != w.kind || v.Road != w.road || v.Side != w.side || !slices.Equal(v.RoadIDs, roads) ||
			v.FromHydrant != town.hydrants[w.fromH] || v.ToHydrant != town.hydrants[w.toH] {
			t.Fatalf("%s: violation %d is %s %q %q roads %v hydrants %d–%d, want %s %q %q roads %v hydrants %d–%d (%s–%s)",
				name, i, v.Kind, v.Road, v.Side, v.RoadIDs, v.FromHydrant, v.ToHydrant,
				w.kind, w.road, w.side, roads, town.hydrants[w.fromH], town.hydrants[w.toH], w.fromH, w.toH)
		}
		if math.Abs(v.From-w.from) > tol || math.Abs(v.To-w.to) > tol || math.Abs(v.Length-(w.to-w.from)) > tol {
			t.Fatalf("%s: violation %d (%s %q %s) spans %.4f–%.4f (%.4f m), want %g–%g", name, i, v.Kind, v.Road, v.Side, v.From, v.To, v.Length, w.from, w.to)
		}
		// The geometry is the stretch of centreline, in lon/lat.
		if len(v.Geometry) < 2 {
			t.Fatalf("%s: violation %d has geometry %v", name, i, v.Geometry)
		}
		for k, p := range []orb.Point{v.Geometry[0], v.Geometry[len(v.Geometry)-1]} {
			x, y := geo.ToGK120(p[0], p[1])
			end := []([2]float64){w.start, w.end}[k]
			if d := math.Hypot(x-spacingX0-end[0], y-spacingY0-end[1]); d > tol {
				t.Fatalf("%s: violation %d's geometry ends at local (%.3f, %.3f), want %v", name, i, x-spacingX0, y-spacingY0, end)
			}
		}
		if l := spacingGKLength(v.Geometry); math.Abs(l-v.Length) > tol {
			t.Fatalf("%s: violation %d's geometry is %.4f m long, its length %.4f m", name, i, l, v.Length)
		}
	}
}

// spacingGKLength is the length of a lon/lat line in EPSG:4549 metres.
func spacingGKLength(ls orb.LineString) float64 {
	l := 0.0
	for i := 1; i < len(ls); i++ {
		x0, y0 := geo.ToGK120(ls[i-1][0], ls[i-1][1])
		x1, y1 := geo.ToGK120(ls[i][0], ls[i][1])
		l += math.Hypot(x1-x0, y1-y0)
	}
	return l
}

func TestSpacingHandMade(t *testing.T) {
	ctx := context.Background()
	tx, err := postgistest.DB(t).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	town := buildSpacingTown(t, ctx, tx)
	svc := &analytics.SpacingService{DB: txDB{tx}}
	all := localBox(-100, -1100, 2100, 1100)

	q := analytics.DefaultSpacingQuery()
	q.BBox = all
	got, err := svc.Violations(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	// Lines come in the order of their names' bytes (unnamed rows first;
	// 无栓路 has nothing to show), each along its direction.
	want := []wantStretch{
		// Unnamed rows are roads alone: the 160 m from x = 190 to 350
		// crosses from one to the other and is no gap.
		{kind: "spacing", road: "", roads: []string{"u1"}, from: 0, to: 190, fromH: "u@0", toH: "u@190",
			start: [2]float64{0, -1000}, end: [2]float64{190, -1000}},
		// 单侧路 is drawn north to south but runs south to north: the
		// hydrants stand on its right; the left has none.
		{kind: "one_side", road: "单侧路", side: "left", roads: []string{"s"}, from: 0, to: 500,
			start: [2]float64{2000, 0}, end: [2]float64{2000, 500}},
		// 宽路: the south (right) side lacks hydrants from x = 500 to 800,
		// and after 800, up to the last hydrant (north, at 1000).
		{kind: "one_side", road: "宽路", side: "right", roads: []string{"w2"}, from: 500, to: 800, fromH: "wS@500", toH: "wS@800",
			start: [2]float64{500, 1000}, end: [2]float64{800, 1000}},
		{kind: "one_side", road: "宽路", side: "right", roads: []string{"w2"}, from: 800, to: 1000, fromH: "wS@800", toH: "wN@1000",
			start: [2]float64{800, 1000}, end: [2]float64{1000, 1000}},
		// 测试路: the 200 m gap, and the 160 m one the out-of-service
		// hydrant at 680 does not bridge; the hydrant at (400, 40) is
		// beyond reach (5 m half width + 15 m).
		{kind: "spacing", road: "测试路", roads: []string{"t2"}, from: 300, to: 500, fromH: "t@300", toH: "t@500",
			start: [2]float64{300, 0}, end: [2]float64{500, 0}},
		{kind: "spacing", road: "测试路", roads: []string{"t2", "t3"}, from: 600, to: 760, fromH: "t@600", toH: "t@760",
			start: [2]float64{600, 0}, end: [2]float64{760, 0}},
	}
	checkStretches(t, "default", town, got, want)
	f := got[0].Feature()
	if _, ok := f.Geometry.(orb.LineString); !ok || f.Properties["kind"] != "spacing" || f.Properties["length_m"] != 190.0 ||
		f.Properties["from_hydrant"] != town.hydrants["u@0"] {
		t.Fatalf("feature %v %v", f.Geometry, f.Properties)
	}

	// Every status: the out-of-service hydrant closes the 160 m gap.
	q.InServiceOnly = false
	got, err = svc.Violations(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	checkStretches(t, "all statuses", town, got, slices.DeleteFunc(slices.Clone(want), func(w wantStretch) bool {
		return w.fromH == "t@600"
	}))

	// A reach of 40 m takes in the hydrant at (400, 40): the 200 m gap
	// becomes two of 100 m.
	q = analytics.DefaultSpacingQuery()
	q.BBox, q.Reach = all, 40
	got, err = svc.Violations(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	checkStretches(t, "reach 40", town, got, slices.DeleteFunc(slices.Clone(want), func(w wantStretch) bool {
		return w.fromH == "t@300"
	}))

	// A box around the middle of the 200 m gap alone: the road is checked
	// whole (its hydrants at 300 and 500 lie outside the box), and only
	// the stretch meeting the box comes back.
	q = analytics.DefaultSpacingQuery()
	q.BBox = localBox(380, -2, 420, 2)
	got, err = svc.Violations(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	checkStretches(t, "small box", town, got, slices.DeleteFunc(slices.Clone(want), func(w wantStretch) bool {
		return w.fromH != "t@300"
	}))

	// A spacing of 250 m: only the wide road's 300 m one-sided stretch and
	// the side with none at all remain.
	q = analytics.DefaultSpacingQuery()
	q.BBox, q.MaxSpacing = all, 250
	got, err = svc.Violations(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	checkStretches(t, "spacing 250", town, got, slices.DeleteFunc(slices.Clone(want), func(w wantStretch) bool {
		return w.to-w.from <= 250
	}))

	// Wide roads from 65 m: 宽路 (70 m) still is one, 单侧路 (64 m) no longer.
	q = analytics.DefaultSpacingQuery()
	q.BBox, q.WideRoad = all, 65
	got, err = svc.Violations(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	checkStretches(t, "wide from 65 m", town, got, slices.DeleteFunc(slices.Clone(want), func(w wantStretch) bool {
		return w.road == "单侧路"
	}))
}

func TestSpacingInvalid(t *testing.T) {
	svc := &analytics.SpacingService{DB: postgistest.DB(t)}
	for name, edit := range map[string]func(*analytics.SpacingQuery){
		"zero spacing":     func(q *analytics.SpacingQuery) { q.MaxSpacing = 0 },
		"NaN spacing":      func(q *analytics.SpacingQuery) { q.MaxSpacing = math.NaN() },
		"infinite spacing": func(q *analytics.SpacingQuery) { q.MaxSpacing = math.Inf(1) },
		"negative wide":    func(q *analytics.SpacingQuery) { q.WideRoad = -1 },
		"negative reach":   func(q *analytics.SpacingQuery) { q.Reach = -1 },
		"bbox inverted":    func(q *analytics.SpacingQuery) { q.BBox = &[4]float64{121, 28, 120, 29} },
		"bbox off earth":   func(q *analytics.SpacingQuery) { q.BBox = &[4]float64{120, 28, 190, 29} },
		"bbox NaN":         func(q *analytics.SpacingQuery) { q.BBox = &[4]float64{120, 28, math.NaN(), 29} },
	} {
		q := analytics.DefaultSpacingQuery()
		edit(&q)
		_, err := svc.Violations(context.Background(), q)
		var ge *geo.Error
		if !errors.As(err, &ge) || ge.Code != geo.EInvalid {
			t.Errorf("%s: got %v, want an EInvalid *geo.Error", name, err)
		}
	}
}

// demoRoad is a row of roads as the brute-force checks read it.
type demoRoad struct {
	id    int64
	name  string
	width float64
	line  orb.LineString // EPSG:4549
}

// demoSpacingRows reads the demo's roads and in-service hydrants (EPSG:4549).
func demoSpacingRows(t *testing.T, ctx context.Context, db analytics.Database) ([]demoRoad, map[int64]orb.Point) {
	t.Helper()
	rows, err := db.QueryRows(ctx, "SELECT id, coalesce(name, ''), coalesce(width_m, 0), ST_AsBinary(geom_m) FROM roads")
	if err != nil {
		t.Fatal(err)
	}
	var roads []demoRoad
	for rows.Next() {
		var r demoRoad
		var b []byte
		if err := rows.Scan(&r.id, &r.name, &r.width, &b); err != nil {
			t.Fatal(err)
		}
		g, err := wkb.Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r.line = g.(orb.LineString)
		roads = append(roads, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows, err = db.QueryRows(ctx, "SELECT id, ST_X(geom_m), ST_Y(geom_m) FROM hydrants WHERE status = 'in_service'")
	if err != nil {
		t.Fatal(err)
	}
	hydrants := map[int64]orb.Point{}
	for rows.Next() {
		var id int64
		var p orb.Point
		if err := rows.Scan(&id, &p[0], &p[1]); err != nil {
			t.Fatal(err)
		}
		hydrants[id] = p
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return roads, hydrants
}

// spacingPointSegment is the distance from p to segment a–b and where along it
// (0–1) the nearest point lies.
func spacingPointSegment(p, a, b orb.Point) (float64, float64) {
	dx, dy := b[0]-a[0], b[1]-a[1]
	f := 0.0
	if l2 := dx*dx + dy*dy; l2 > 0 {
		f = math.Max(0, math.Min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l2))
	}
	return math.Hypot(p[0]-a[0]-f*dx, p[1]-a[1]-f*dy), f
}

// spacingDistanceAlong is the distance from p to line and how far along the line
// (metres) its nearest point lies.
func spacingDistanceAlong(p orb.Point, line orb.LineString) (float64, float64) {
	best, at, walked := math.Inf(1), 0.0, 0.0
	for i := 1; i < len(line); i++ {
		seg := math.Hypot(line[i][0]-line[i-1][0], line[i][1]-line[i-1][1])
		d, f := spacingPointSegment(p, line[i-1], line[i])
		if d < best {
			best, at = d, walked+f*seg
		}
		walked += seg
	}
	return best, at
}

func TestSpacingDemo(t *testing.T) {
	loadDemo(t)
	ctx := context.Background()
	db := postgistest.DB(t)
	svc := &analytics.SpacingService{DB: db}
	q := analytics.DefaultSpacingQuery()
	got, err := svc.Violations(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	roads, hydrants := demoSpacingRows(t, ctx, db)
	byID := map[int64]demoRoad{}
	bounds := make([]orb.Bound, len(roads))
	for k, r := range roads {
		byID[r.id] = r
		bounds[k] = r.line.Bound().Pad(r.width/2 + q.Reach)
	}
	// Each in-service hydrant's road row, by brute force: the nearest row
	// whose centreline is within width/2 + 15 m (ties by id).
	owner := map[int64]int64{}
	for id, h := range hydrants {
		best, bestD := int64(0), math.Inf(1)
		for k, r := range roads {
			if !bounds[k].Contains(h) {
				continue
			}
			d, _ := spacingDistanceAlong(h, r.line)
			if d <= r.width/2+q.Reach && (d < bestD || d == bestD && r.id < best) {
				best, bestD = r.id, d
			}
		}
		if best != 0 {
			owner[id] = best
		}
	}

	counts := map[string]int{}
	long := 0
	for i, v := range got {
		counts[v.Kind]++
		if v.From >= v.To || math.Abs(v.Length-(v.To-v.From)) > 1e-9 {
			t.Fatalf("violation %d spans %v–%v, length %v", i, v.From, v.To, v.Length)
		}
		if len(v.RoadIDs) == 0 || len(v.Geometry) < 2 {
			t.Fatalf("violation %d has roads %v and geometry %v", i, v.RoadIDs, v.Geometry)
		}
		if l := spacingGKLength(v.Geometry); math.Abs(l-v.Length) > 0.5 {
			t.Fatalf("violation %d: geometry %.2f m long, length %.2f m", i, l, v.Length)
		}
		width := 0.0
		for _, id := range v.RoadIDs {
			r, ok := byID[id]
			if !ok || r.name != v.Road {
				t.Fatalf("violation %d on %q names road %d (%q)", i, v.Road, id, r.name)
			}
			width = max(width, r.width)
		}
		whole := v.Kind == analytics.SpacingOneSide && v.FromHydrant == 0
		switch {
		case v.Kind == analytics.SpacingGap && v.Side != "",
			v.Kind == analytics.SpacingOneSide && v.Side != "left" && v.Side != "right",
			v.Kind == analytics.SpacingOneSide && (width <= q.WideRoad || v.Width <= q.WideRoad),
			v.Kind != analytics.SpacingGap && v.Kind != analytics.SpacingOneSide:
			t.Fatalf("violation %d: %s side %q on a %v m road (rows up to %v m)", i, v.Kind, v.Side, v.Width, width)
		}
		if whole {
			if v.ToHydrant != 0 || v.From != 0 {
				t.Fatalf("violation %d: a whole one-sided line from %v with hydrant %d", i, v.From, v.ToHydrant)
			}
			continue
		}
		if v.Length <= q.MaxSpacing {
			t.Fatalf("violation %d (%s) is %.3f m long, not over %v m", i, v.Kind, v.Length, q.MaxSpacing)
		}
		if v.Length > 480 {
			long++
		}
		// Both end hydrants are in service, belong to the road and stand
		// by the stretch's ends.
		stretch := make(orb.LineString, len(v.Geometry))
		for k, p := range v.Geometry {
			stretch[k][0], stretch[k][1] = geo.ToGK120(p[0], p[1])
		}
		for k, h := range []int64{v.FromHydrant, v.ToHydrant} {
			p, ok := hydrants[h]
			if !ok {
				t.Fatalf("violation %d: hydrant %d is not an in-service hydrant", i, h)
			}
			if r := byID[owner[h]]; r.name != v.Road {
				t.Fatalf("violation %d on %q: hydrant %d belongs to road %d (%q)", i, v.Road, h, owner[h], r.name)
			}
			end := []float64{0, v.Length}[k]
			if _, along := spacingDistanceAlong(p, stretch); v.Kind == analytics.SpacingGap && math.Abs(along-end) > 0.5 {
				t.Fatalf("violation %d: hydrant %d stands %.2f m along the stretch, want %v", i, h, along, end)
			}
		}
		// No in-service hydrant of the road stands along a spacing gap.
		if v.Kind != analytics.SpacingGap {
			continue
		}
		for h, p := range hydrants {
			if h == v.FromHydrant || h == v.ToHydrant || !slices.Contains(v.RoadIDs, owner[h]) {
				continue
			}
			r := byID[owner[h]]
			if d, along := spacingDistanceAlong(p, stretch); d <= r.width/2+q.Reach && along > 0.5 && along < v.Length-0.5 {
				t.Fatalf("violation %d on %q (%.1f m): hydrant %d of road %d stands %.1f m along it", i, v.Road, v.Length, h, r.id, along)
			}
		}
	}
	t.Logf("demo: %d spacing gaps (%d over 480 m), %d one-sided stretches", counts[analytics.SpacingGap], long, counts[analytics.SpacingOneSide])
	if counts[analytics.SpacingGap] == 0 || counts[analytics.SpacingOneSide] == 0 {
		t.Fatalf("the demo shows %v", counts)
	}

	// The demo cuts gaps in its hydrants, removing whole clusters of
	// radius 250–550 m (democity's hydrants()). Six of the largest (centre,
	// radius), read off the generator for seed 1: a road runs through each,
	// so a spacing gap longer than the radius passes its centre. (Clusters
	// at the edge of the hydranted streets leave no hydrant on one side of
	// the hole: no gap between hydrants, but a coverage gap.)
	for _, c := range []struct{ lon, lat, r float64 }{
		{120.69331474, 27.82218439, 543.5},
		{120.62963440, 27.77520414, 503.1},
		{120.63565682, 27.78974202, 549.7},
		{120.70990667, 27.73533715, 519.0},
		{120.64827377, 27.84179457, 524.7},
		{120.70088143, 27.85902421, 500.7},
	} {
		x, y := geo.ToGK120(c.lon, c.lat)
		found := false
		for _, v := range got {
			if v.Kind != analytics.SpacingGap || v.Length <= c.r {
				continue
			}
			stretch := make(orb.LineString, len(v.Geometry))
			for k, p := range v.Geometry {
				stretch[k][0], stretch[k][1] = geo.ToGK120(p[0], p[1])
			}
			if d, _ := spacingDistanceAlong(orb.Point{x, y}, stretch); d < c.r/2 {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no spacing gap over %v m passes the removed cluster at %v, %v", c.r, c.lon, c.lat)
		}
	}

	// A box returns exactly the stretches of the whole city that meet it.
	box := [4]float64{120.60, 27.76, 120.68, 27.82}
	q.BBox = &box
	boxed, err := svc.Violations(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	key := func(v analytics.SpacingViolation) string {
		return fmt.Sprintf("%s|%s|%s|%d|%d|%.6f|%.6f", v.Kind, v.Road, v.Side, v.FromHydrant, v.ToHydrant, v.From, v.To)
	}
	var want, gotKeys []string
	for _, v := range got {
		if lineMeetsBox(v.Geometry, box) {
			want = append(want, key(v))
		}
	}
	for _, v := range boxed {
		gotKeys = append(gotKeys, key(v))
	}
	slices.Sort(want)
	slices.Sort(gotKeys)
	if len(want) == 0 || !slices.Equal(gotKeys, want) {
		t.Fatalf("box: %d violations, want the %d of the city's that meet it", len(gotKeys), len(want))
	}
}

// lineMeetsBox reports whether a lon/lat line meets the box: a vertex in
// it, or a segment crossing it (Liang–Barsky clipping).
func lineMeetsBox(ls orb.LineString, b [4]float64) bool {
	for i := 1; i < len(ls); i++ {
		x0, y0 := ls[i-1][0], ls[i-1][1]
		dx, dy := ls[i][0]-x0, ls[i][1]-y0
		t0, t1 := 0.0, 1.0
		ok := true
		for _, c := range [][2]float64{{-dx, x0 - b[0]}, {dx, b[2] - x0}, {-dy, y0 - b[1]}, {dy, b[3] - y0}} {
			p, q := c[0], c[1]
			switch {
			case p == 0 && q < 0:
				ok = false
			case p < 0:
				t0 = max(t0, q/p)
			case p > 0:
				t1 = min(t1, q/p)
			}
		}
		if ok && t0 <= t1 {
			return true
		}
	}
	return false
}
