package analytics_test

import (
	"context"
	"math"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/onemap-city/onemap/analytics"
	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/postgis/postgistest"
)

// The hand-made network lies 300 km north of the demo city (EPSG:4549
// metres from netX0, netY0), unconnected to the demo's roads:
//
//	            E(100,100) ◀── G(200,100)      G→E one-way
//	             │              │
//	A(0,0) ──── B(100,0) ──── C(200,0) ──── D(300,0)
//
// every edge 100 m at 36 km/h (10 m/s, about 10 s); station S1 stands on A,
// S2 on D; a premise stands 20 m north of the middle of C–D.
const netX0, netY0 = 600000.0, 3380000.0

type handNet struct {
	node     map[string]int64
	edge     map[string]int64
	s1, s2   int64
	premise  int64
	cost     map[string]float64 // edge label → cost_s (forward)
	reverse  map[string]float64
	nodeName map[int64]string
}

func buildHandNet(t *testing.T, ctx context.Context, tx pgx.Tx) handNet {
	t.Helper()
	n := handNet{node: map[string]int64{}, edge: map[string]int64{}, cost: map[string]float64{}, reverse: map[string]float64{}, nodeName: map[int64]string{}}
	pos := map[string][2]float64{"A": {0, 0}, "B": {100, 0}, "C": {200, 0}, "D": {300, 0}, "E": {100, 100}, "G": {200, 100}}
	for i, name := range []string{"A", "B", "C", "D", "E", "G"} {
		id := int64(900_000_001 + i)
		p := pos[name]
		if _, err := tx.Exec(ctx, `INSERT INTO road_nodes (id, geom) VALUES ($1, ST_Transform(ST_SetSRID(ST_MakePoint($2, $3), 4549), 4326))`,
			id, netX0+p[0], netY0+p[1]); err != nil {
			t.Fatal(err)
		}
		n.node[name], n.nodeName[id] = id, name
	}
	edge := func(from, to string, oneway bool) {
		a, b := pos[from], pos[to]
		var id int64
		var cost, rev float64
		err := tx.QueryRow(ctx, `INSERT INTO roads (ext_id, name, class, speed_kmh, oneway, width_m, source, target, geom)
			VALUES ($1, $1, 'local', 36, $2, 8, $3, $4,
			        ST_Transform(ST_SetSRID(ST_MakeLine(ST_MakePoint($5, $6), ST_MakePoint($7, $8)), 4549), 4326))
			RETURNING id, cost_s, reverse_cost_s`,
			"net-test-"+from+to, oneway, n.node[from], n.node[to], netX0+a[0], netY0+a[1], netX0+b[0], netY0+b[1]).Scan(&id, &cost, &rev)
		if err != nil {
			t.Fatal(err)
		}
		n.edge[from+to], n.cost[from+to], n.reverse[from+to] = id, cost, rev
	}
	edge("A", "B", false)
	edge("B", "C", false)
	edge("C", "D", false)
	edge("B", "E", false)
	edge("C", "G", false)
	edge("G", "E", true)
	station := func(label string, x, y float64) int64 {
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO fire_stations (ext_id, name, kind, geom)
			VALUES ($1, $1, 'full_time', ST_Transform(ST_SetSRID(ST_MakePoint($2, $3), 4549), 4326)) RETURNING id`,
			"net-test-"+label, netX0+x, netY0+y).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	n.s1, n.s2 = station("S1", 0, 0), station("S2", 300, 0)
	if err := tx.QueryRow(ctx, `INSERT INTO premises (ext_id, kind, geom)
		VALUES ('net-test-premise', 'factory', ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), 4549), 4326)) RETURNING id`,
		netX0+250, netY0+20).Scan(&n.premise); err != nil {
		t.Fatal(err)
	}
	return n
}

// pgrCosts runs pgr_drivingDistance on the plain road table: the oracle.
func pgrCosts(t *testing.T, ctx context.Context, tx pgx.Tx, starts []int64, seconds float64, equicost bool) map[int64][2]float64 {
	t.Helper()
	rows, err := tx.Query(ctx, `SELECT node, agg_cost, from_v FROM pgr_drivingDistance(
		'SELECT id, source, target, cost_s AS cost, reverse_cost_s AS reverse_cost FROM roads WHERE source IS NOT NULL',
		$1::bigint[], $2, true, $3)`, starts, seconds, equicost)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64][2]float64{}
	for rows.Next() {
		var node, from int64
		var c float64
		if err := rows.Scan(&node, &c, &from); err != nil {
			t.Fatal(err)
		}
		if old, ok := out[node]; !ok || c < old[0] {
			out[node] = [2]float64{c, float64(from)}
		}
	}
	return out
}

func TestServiceAreasHandMade(t *testing.T) {
	loadDemo(t)
	ctx := context.Background()
	tx, err := postgistest.DB(t).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	n := buildHandNet(t, ctx, tx)
	svc := analytics.NewCoverageService(txDB{tx})
	p, _ := geo.LookupCoveragePreset("stations")

	// Node sets and costs equal pgr_drivingDistance from the stations'
	// nodes (the stations stand on A and D: nothing off the road).
	for _, tc := range []struct {
		name    string
		sources []int64
		starts  []int64
		seconds float64
	}{
		{"S1 25 s", []int64{n.s1}, []int64{n.node["A"]}, 25},
		{"S1 45 s", []int64{n.s1}, []int64{n.node["A"]}, 45},
		{"S1+S2 25 s", []int64{n.s1, n.s2}, []int64{n.node["A"], n.node["D"]}, 25},
	} {
		got, err := svc.ReachedNodes(ctx, p, tc.sources, tc.seconds)
		if err != nil {
			t.Fatal(err)
		}
		want := pgrCosts(t, ctx, tx, tc.starts, tc.seconds, true)
		if len(got) != len(want) {
			t.Errorf("%s: %d nodes reached, pgr_drivingDistance %d", tc.name, len(got), len(want))
		}
		station := map[int64]int64{n.node["A"]: n.s1, n.node["D"]: n.s2}
		for node, w := range want {
			g, ok := got[node]
			if !ok || math.Abs(g.Seconds-w[0]) > 1e-9 || g.Source != station[int64(w[1])] {
				t.Errorf("%s: node %s: %+v, pgr_drivingDistance %.6f s from %s", tc.name, n.nodeName[node], g, w[0], n.nodeName[int64(w[1])])
			}
		}
	}
	// Known answer: in 25 s S1 reaches A, B, C and E (about 0, 10, 20,
	// 20 s), not D or G; G→E is one-way, so E leads nowhere.
	got, _ := svc.ReachedNodes(ctx, p, []int64{n.s1}, 25)
	for name, reached := range map[string]bool{"A": true, "B": true, "C": true, "E": true, "D": false, "G": false} {
		if _, ok := got[n.node[name]]; ok != reached {
			t.Errorf("25 s from A: node %s reached = %v, want %v", name, ok, reached)
		}
	}

	// Equicost districts partition the nodes: each reached node goes to
	// the station that alone would reach it soonest.
	both, _ := svc.ReachedNodes(ctx, p, []int64{n.s1, n.s2}, 60)
	from1 := pgrCosts(t, ctx, tx, []int64{n.node["A"]}, 60, false)
	from2 := pgrCosts(t, ctx, tx, []int64{n.node["D"]}, 60, false)
	for node, r := range both {
		c1, ok1 := from1[node]
		c2, ok2 := from2[node]
		want := n.s1
		if !ok1 || (ok2 && c2[0] < c1[0]) {
			want = n.s2
		}
		if r.Source != want {
			t.Errorf("node %s goes to station %d, want %d (%.3f s vs %.3f s)", n.nodeName[node], r.Source, want, c1[0], c2[0])
		}
	}

	// Partial edges: the reached length equals, edge by edge, the part of
	// each edge within the time left at its reached ends. (Pieces from both
	// ends overlap; snapping to 1 mm lets the union merge them.)
	for _, seconds := range []float64{5, 25, 33} {
		var length float64
		if err := tx.QueryRow(ctx, `SELECT COALESCE(sum(ST_Length(ST_UnaryUnion(ST_SnapToGrid(pieces, 0.001)))), 0)
			FROM network_reach('fire_stations', $1::bigint[], $2::double precision[])`,
			[]int64{n.s1}, []float64{seconds}).Scan(&length); err != nil {
			t.Fatal(err)
		}
		costs := pgrCosts(t, ctx, tx, []int64{n.node["A"]}, 1000, false)
		want := 0.0
		for label, cost := range n.cost {
			from, to := n.node[label[:1]], n.node[label[1:]]
			part := 0.0
			if c, ok := costs[from]; ok && c[0] < seconds {
				part += (seconds - c[0]) / cost
			}
			if c, ok := costs[to]; ok && c[0] < seconds && n.reverse[label] > 0 {
				part += (seconds - c[0]) / n.reverse[label]
			}
			want += 100 * math.Min(1, part)
		}
		if math.Abs(length-want) > 0.01 {
			t.Errorf("%g s from A: %.3f m of road reached, want %.3f m", seconds, length, want)
		}
	}
	// The service-area polygons: one per station and break, the 25 s one
	// covering the ~400 m of reached road buffered by 50 m.
	fc, err := svc.ServiceAreas(ctx, analytics.ServiceAreaQuery{Preset: p, Sources: []int64{n.s1, n.s2}, Seconds: []float64{25, 45}})
	if err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != 4 {
		t.Fatalf("%d service areas, want 2 stations × 2 breaks", len(fc.Features))
	}

	// The premise 20 m off the middle of C–D: D's station reaches it in
	// half the edge plus 20 m on foot.
	fs, err := svc.DemandFeatures(ctx, analytics.CoverageQuery{Preset: p}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range fs {
		if f.ID != n.premise {
			continue
		}
		found = true
		want := 0.5*n.reverse["CD"] + 20/(geo.WalkingSpeedKmh/3.6)
		if f.NearestID == nil || *f.NearestID != n.s2 || math.Abs(*f.Value-want) > 0.01 || !f.Covered {
			t.Errorf("premise: nearest %v in %v s, want station %d in %.3f s", f.NearestID, f.Value, n.s2, want)
		}
	}
	if !found {
		t.Fatal("the hand-made premise is not among the demand")
	}
}
