package analytics_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onemap-city/onemap/analytics"
	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/postgis/postgistest"
)

func coveragePreset(t *testing.T, id string) *geo.CoveragePreset {
	t.Helper()
	p, err := geo.LookupCoveragePreset(id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// coveredIDs runs the engine and returns the ids of covered demand.
func coveredIDs(t *testing.T, svc *analytics.CoverageService, q analytics.CoverageQuery) (covered, all []int64) {
	t.Helper()
	fs, err := svc.DemandFeatures(context.Background(), q, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		all = append(all, f.ID)
		if f.Covered {
			covered = append(covered, f.ID)
		}
	}
	return covered, all
}

func queryIDs(t *testing.T, sql string, args ...any) []int64 {
	t.Helper()
	rows, err := postgistest.DB(t).Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}

// TestHydrantCoverageEqualsGeography: on the city demo, the premises the
// engine counts within 150 m (and 97.3 m) of an in-service hydrant are
// exactly those PostGIS finds with ST_DWithin on geography, pair by pair.
// (The && box only spares PostGIS the pairs hundreds of metres apart.)
func TestHydrantCoverageEqualsGeography(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the city demo")
	}
	loadDemoScale(t, "city")
	svc := analytics.NewCoverageService(postgistest.DB(t))
	p := coveragePreset(t, "hydrants")
	// A threshold equal to the geography distance of a real pair puts that
	// pair on the edge, where only PostGIS can decide.
	var edge float64
	if err := postgistest.DB(t).QueryRow(context.Background(), `
		SELECT ST_Distance(p.geom::geography, h.geom::geography)
		FROM premises p JOIN hydrants h ON h.status = 'in_service' AND ST_DWithin(p.geom_m, h.geom_m, 120)
		ORDER BY p.id, h.id LIMIT 1`).Scan(&edge); err != nil {
		t.Fatal(err)
	}
	for _, threshold := range []float64{150, 97.3, edge} {
		got, all := coveredIDs(t, svc, analytics.CoverageQuery{Preset: p, Threshold: threshold})
		want := queryIDs(t, `
			SELECT p.id FROM premises p
			WHERE EXISTS (SELECT 1 FROM hydrants h
			              WHERE h.status = 'in_service'
			                AND h.geom_m && ST_Expand(p.geom_m, $1::float8 + 50)
			                AND ST_DWithin(p.geom::geography, h.geom::geography, $1::float8))`, threshold)
		if len(all) != 100_000 {
			t.Fatalf("%d premises, want the city's 100000", len(all))
		}
		if !slices.Equal(got, want) {
			t.Errorf("threshold %g: engine covers %d premises, PostGIS geography %d; first differences: %v",
				threshold, len(got), len(want), firstDiff(got, want))
		}
	}
	// The nearest hydrant and its distance, for a sample, against a
	// brute-force geography search.
	fs, err := svc.DemandFeatures(context.Background(), analytics.CoverageQuery{Preset: p}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for i := 0; i < len(fs); i += 997 {
		f := fs[i]
		var id int64
		var dist float64
		err := postgistest.DB(t).QueryRow(context.Background(), `
			SELECT h.id, ST_Distance(p.geom::geography, h.geom::geography)
			FROM premises p, hydrants h
			WHERE p.id = $1 AND h.status = 'in_service'
			ORDER BY ST_Distance(p.geom::geography, h.geom::geography), h.id LIMIT 1`, f.ID).Scan(&id, &dist)
		if err != nil {
			t.Fatal(err)
		}
		if dist > p.MaxThreshold {
			if f.NearestID != nil {
				t.Errorf("premise %d: nearest %d reported beyond the %g m search", f.ID, *f.NearestID, p.MaxThreshold)
			}
			continue
		}
		checked++
		if f.NearestID == nil || *f.NearestID != id || math.Abs(*f.Value-dist) > 0.002 {
			t.Errorf("premise %d: nearest %v at %v, geography says %d at %.4f m", f.ID, f.NearestID, f.Value, id, dist)
		}
	}
	if checked < 50 {
		t.Errorf("only %d premises checked for their nearest hydrant", checked)
	}
}

func firstDiff(a, b []int64) []int64 {
	var out []int64
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); !ok {
			out = append(out, x)
		}
	}
	for _, x := range b {
		if _, ok := slices.BinarySearch(a, x); !ok {
			out = append(out, -x)
		}
	}
	return out[:min(len(out), 10)]
}

// TestCoverageRollsUp: every level's areas sum to the total; filters by
// town restrict the study area; a changed hydrant changes the answer.
func TestCoverageRollsUpAndFollowsData(t *testing.T) {
	loadDemo(t)
	ctx := context.Background()
	db := postgistest.DB(t)
	svc := analytics.NewCoverageService(db)
	p := coveragePreset(t, "hydrants")
	var total *analytics.CoverageResult
	for _, level := range []analytics.AreaLevel{analytics.LevelTown, analytics.LevelCommunity, analytics.LevelGridCell} {
		r, err := svc.Coverage(ctx, analytics.CoverageQuery{Preset: p, Level: level})
		if err != nil {
			t.Fatal(err)
		}
		var sum, covered float64
		for _, a := range r.Areas {
			sum += a.Total
			covered += a.Covered
			if a.Covered+a.Uncovered != a.Total {
				t.Errorf("%s %d: covered %g + uncovered %g != total %g", level, a.ID, a.Covered, a.Uncovered, a.Total)
			}
		}
		if sum != r.Total || covered != r.Covered || r.Total == 0 {
			t.Errorf("%s: areas sum to %g (covered %g), total %g (covered %g)", level, sum, covered, r.Total, r.Covered)
		}
		if total != nil && (r.Covered != total.Covered || r.Total != total.Total) {
			t.Errorf("%s: totals differ from the town level's", level)
		}
		total = r
	}
	// One town.
	r1, err := svc.Coverage(ctx, analytics.CoverageQuery{Preset: p, Level: analytics.LevelTown,
		Demand: geo.Filters{{Param: "town", Values: []string{"1"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r1.Areas) != 1 || r1.Areas[0].ID != 1 || r1.Total == 0 || r1.Total >= total.Total {
		t.Fatalf("town=1: %d areas, total %g (city %g)", len(r1.Areas), r1.Total, total.Total)
	}

	// Take out of service a hydrant that alone covers a premise: coverage
	// falls, and comes back when it returns.
	var hydrant int64
	if err := db.QueryRow(ctx, `
		SELECT min(h.id) FROM premises p
		JOIN hydrants h ON h.status = 'in_service' AND ST_DWithin(p.geom_m, h.geom_m, 160)
		GROUP BY p.id
		HAVING count(*) = 1 AND bool_and(ST_DWithin(p.geom_m, h.geom_m, 140))
		ORDER BY p.id LIMIT 1`).Scan(&hydrant); err != nil {
		t.Fatal(err)
	}
	before, _ := svc.Coverage(ctx, analytics.CoverageQuery{Preset: p})
	if _, err := db.Exec(ctx, `UPDATE hydrants SET status = 'out_of_service' WHERE id = $1`, hydrant); err != nil {
		t.Fatal(err)
	}
	defer db.Exec(context.Background(), `UPDATE hydrants SET status = 'in_service' WHERE id = $1`, hydrant)
	after, err := svc.Coverage(ctx, analytics.CoverageQuery{Preset: p})
	if err != nil {
		t.Fatal(err)
	}
	if after.Covered >= before.Covered || after.Sites != before.Sites-1 {
		t.Errorf("hydrant %d out of service: covered %g → %g, sites %d → %d", hydrant, before.Covered, after.Covered, before.Sites, after.Sites)
	}
	if _, err := db.Exec(ctx, `UPDATE hydrants SET status = 'in_service' WHERE id = $1`, hydrant); err != nil {
		t.Fatal(err)
	}
	again, _ := svc.Coverage(ctx, analytics.CoverageQuery{Preset: p})
	if again.Covered != before.Covered {
		t.Errorf("hydrant back in service: covered %g, want %g", again.Covered, before.Covered)
	}
}

// TestSitingGainsAddUp: the proposals' gains are exactly what coverage
// gains when they are added, for hydrants (roads), shelters (grid cells)
// and stations (road nodes, on the network); picks are deterministic.
func TestSitingGainsAddUp(t *testing.T) {
	loadDemo(t)
	ctx := context.Background()
	svc := analytics.NewCoverageService(postgistest.DB(t))
	for _, tc := range []struct {
		preset string
		count  int
	}{{"hydrants", 5}, {"shelters", 3}, {"stations", 2}} {
		t.Run(tc.preset, func(t *testing.T) {
			q := analytics.SitingQuery{Coverage: analytics.CoverageQuery{Preset: coveragePreset(t, tc.preset)}, Count: tc.count}
			r, err := svc.Siting(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Proposals) != tc.count {
				t.Fatalf("%d proposals, want %d (candidates %d)", len(r.Proposals), tc.count, r.Candidates)
			}
			var sum float64
			for k, pr := range r.Proposals {
				sum += pr.Gain
				if pr.Gain <= 0 || (k > 0 && pr.Gain > r.Proposals[k-1].Gain+1e-9) {
					t.Errorf("proposal %d gains %g after %g: greedy gains must be positive and not grow", k+1, pr.Gain, r.Proposals[max(k-1, 0)].Gain)
				}
			}
			rise := r.After.Covered - r.Before.Covered
			if math.Abs(rise-sum) > 1e-6*math.Max(1, sum) {
				t.Errorf("coverage rose by %g with the proposals; their gains sum to %g", rise, sum)
			}
			again, err := svc.Siting(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for k := range r.Proposals {
				if again.Proposals[k].ID != r.Proposals[k].ID {
					t.Errorf("pick %d: %d, then %d: not deterministic", k+1, r.Proposals[k].ID, again.Proposals[k].ID)
				}
			}
		})
	}
}

// TestCapacityConserves: shelter 2SFCA shares out exactly the places of
// the shelters that have residents in reach (Σ Pᵢ Aᵢ = Σ Sⱼ).
func TestCapacityConserves(t *testing.T) {
	loadDemo(t)
	ctx := context.Background()
	db := postgistest.DB(t)
	svc := analytics.NewCoverageService(db)
	p := coveragePreset(t, "shelters")
	r, err := svc.Coverage(ctx, analytics.CoverageQuery{Preset: p, Level: analytics.LevelGridCell})
	if err != nil {
		t.Fatal(err)
	}
	var shared float64
	for _, a := range r.Areas {
		if a.PlacesPerResident != nil {
			shared += *a.PlacesPerResident * a.Total
		}
	}
	// Places of shelters with at least one resident within 500 m.
	var reachable float64
	if err := db.QueryRow(ctx, `
		SELECT COALESCE(sum(s.capacity), 0) FROM shelters s
		WHERE EXISTS (SELECT 1 FROM premises p JOIN grid_cells g ON g.id = p.grid_cell_id
		              WHERE g.population > 0 AND p.kind = ANY($1)
		                AND ST_DWithin(p.geom::geography, s.geom::geography, 500))
		   OR EXISTS (SELECT 1 FROM grid_cells g
		              WHERE g.population > 0
		                AND NOT EXISTS (SELECT 1 FROM premises p WHERE p.grid_cell_id = g.id AND p.kind = ANY($1))
		                AND ST_DWithin(ST_PointOnSurface(g.geom)::geography, s.geom::geography, 500))`,
		geo.ResidentialKinds).Scan(&reachable); err != nil {
		t.Fatal(err)
	}
	if reachable == 0 || math.Abs(shared-reachable) > 1e-6*reachable {
		t.Errorf("2SFCA shares out %g places; the shelters with residents in reach hold %g", shared, reachable)
	}
	if r.Capacity == nil || r.Capacity.Method != "2SFCA" {
		t.Fatalf("capacity check missing: %+v", r.Capacity)
	}
	e2, err := svc.Coverage(ctx, analytics.CoverageQuery{Preset: p, Level: analytics.LevelGridCell, Zones: analytics.DefaultE2SFCAZones(500)})
	if err != nil {
		t.Fatal(err)
	}
	if e2.Capacity.Method != "E2SFCA" || len(e2.Capacity.ZoneWeights) != 3 {
		t.Errorf("E2SFCA result does not carry its zone weights: %+v", e2.Capacity)
	}
}

func postJSON(e http.Handler, target, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	e.ServeHTTP(rec, req)
	return rec
}

// TestCoverageEndpoints: the contract's fields, formats, bad input as 400
// naming the parameter, and jobs with progress and cancellation.
func TestCoverageEndpoints(t *testing.T) {
	loadDemo(t)
	e := server(t)
	rec := get(t, e, "/api/v1/coverage/hydrants?threshold=150&level=community")
	if rec.Code != 200 {
		t.Fatalf("coverage: %d %s", rec.Code, rec.Body)
	}
	var cov map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &cov); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"preset", "threshold", "total", "covered", "uncovered", "ratio", "areas"} {
		if _, ok := cov[k]; !ok {
			t.Errorf("coverage response lacks %q", k)
		}
	}
	for target, ctype := range map[string]string{
		"/api/v1/coverage/hydrants?format=csv":                     "text/csv",
		"/api/v1/coverage/hydrants?format=geojson":                 "application/json",
		"/api/v1/coverage/hydrants/uncovered":                      "application/json",
		"/api/v1/coverage/hydrants/uncovered?format=csv":           "text/csv",
		"/api/v1/coverage/hydrants/gaps":                           "application/json",
		"/api/v1/coverage/stations/gaps?town=1":                    "application/json",
		"/api/v1/coverage/hydrants/spacing":                        "application/json",
		"/api/v1/service-areas?minutes=4":                          "application/json",
		"/api/v1/service-areas?minutes=3,4,8&station=1&format=csv": "text/csv",
		"/api/v1/coverage":                                         "application/json",
	} {
		rec := get(t, e, target)
		if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), ctype) {
			t.Errorf("%s: %d %s %.200s", target, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
	}
	var gaps struct {
		Features []struct {
			Geometry   map[string]any `json:"geometry"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	_ = json.Unmarshal(get(t, e, "/api/v1/coverage/hydrants/gaps").Body.Bytes(), &gaps)
	if len(gaps.Features) == 0 || gaps.Features[0].Geometry["type"] == nil {
		t.Errorf("no gap polygons on the small demo")
	}
	for target, param := range map[string]string{
		"/api/v1/coverage/nonsense":                    "preset",
		"/api/v1/coverage/hydrants?threshold=-5":       "threshold",
		"/api/v1/coverage/hydrants?threshold=abc":      "threshold",
		"/api/v1/coverage/hydrants?threshold=99999":    "threshold",
		"/api/v1/coverage/hydrants?level=street":       "level",
		"/api/v1/coverage/hydrants?tag=purple":         "tag",
		"/api/v1/coverage/hydrants?supply_status=wet":  "supply_status",
		"/api/v1/coverage/hydrants?colour=red":         "colour",
		"/api/v1/coverage/hydrants?format=xls":         "format",
		"/api/v1/coverage/hydrants?minutes=3":          "minutes",
		"/api/v1/coverage/shelters?kind=school":        "kind",
		"/api/v1/coverage/hydrants?method=e2sfca":      "method",
		"/api/v1/coverage/hydrants/uncovered?bbox=1,2": "bbox",
		"/api/v1/service-areas?minutes=0":              "minutes",
		"/api/v1/service-areas?minutes=40":             "minutes",
		"/api/v1/service-areas?station=x":              "station",
		"/api/v1/service-areas?station=999999":         "station",
		"/api/v1/service-areas?preset=hydrants":        "preset",
	} {
		rec := get(t, e, target)
		var body map[string]string
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != 400 || body["detail"] != param {
			t.Errorf("%s: %d %s, want 400 naming %s", target, rec.Code, rec.Body, param)
		}
	}
	for body, param := range map[string]string{
		`{"count": 0}`:                           "count",
		`{"count": 3, "candidates": []}`:         "candidates",
		`{"count": 3, "candidates": "moon"}`:     "candidates",
		`{"count": 3, "candidates": [[1]]}`:      "candidates[0]",
		`{"count": 3, "candidates": [[200, 1]]}`: "candidates[0]",
		`{"count": 3, "colour": 1}`:              "body",
		`not json`:                               "body",
	} {
		rec := postJSON(e, "/api/v1/siting/hydrants", body)
		var b map[string]string
		_ = json.Unmarshal(rec.Body.Bytes(), &b)
		if rec.Code != 400 || b["detail"] != param {
			t.Errorf("siting %s: %d %s, want 400 naming %s", body, rec.Code, rec.Body, param)
		}
	}
	// Given candidates.
	rec = postJSON(e, "/api/v1/siting/shelters", `{"count": 1, "candidates": [[120.65, 27.78], [120.70, 27.80]]}`)
	if rec.Code != 200 {
		t.Fatalf("siting with given candidates: %d %s", rec.Code, rec.Body)
	}
	// A job: started, polled until done, with its result.
	rec = postJSON(e, "/api/v1/siting/hydrants?async=true", `{"count": 3}`)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("async siting: %d %s", rec.Code, rec.Body)
	}
	var started struct {
		Job       string `json:"job"`
		StatusURL string `json:"status_url"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &started)
	var job analytics.Job
	for deadline := time.Now().Add(2 * time.Minute); ; {
		rec = get(t, e, started.StatusURL)
		job = analytics.Job{}
		if err := json.Unmarshal(rec.Body.Bytes(), &job); err != nil || rec.Code != 200 {
			t.Fatalf("job status: %d %s", rec.Code, rec.Body)
		}
		if job.Status != "running" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if job.Status != "done" || job.Progress != 1 || job.Result == nil {
		t.Errorf("job ended %s at %g: %s", job.Status, job.Progress, rec.Body)
	}
	if rec := get(t, e, "/api/v1/jobs/nope"); rec.Code != 404 {
		t.Errorf("unknown job: %d", rec.Code)
	}
}

// TestJobsCancel: a cancelled job stops and says so.
func TestJobsCancel(t *testing.T) {
	js := &analytics.Jobs{}
	stopped := make(chan struct{})
	j := js.Start("test", func(ctx context.Context) (any, error) {
		<-ctx.Done()
		close(stopped)
		return nil, ctx.Err()
	})
	if got, _ := js.Get(j.ID); got.Status != "running" {
		t.Fatalf("status %s, want running", got.Status)
	}
	if _, err := js.Cancel(j.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("the job did not see its cancellation")
	}
	time.Sleep(10 * time.Millisecond)
	if got, _ := js.Get(j.ID); got.Status != "cancelled" || got.Finished == nil {
		t.Errorf("after cancel: %+v", got)
	}
}

// TestGenericPreset: a preset that is only configuration (open hazards,
// weighted by severity, within 100 m of an in-service hydrant) runs on the
// same engine and agrees with PostGIS.
func TestGenericPreset(t *testing.T) {
	loadDemo(t)
	p := &geo.CoveragePreset{ID: "hazards_hydrants", Title: "Open hazards near a hydrant",
		Demand: geo.CoverageSide{Layer: "hazards", Filters: map[string][]string{"status": {"open"}}, Weight: "severity"},
		Supply: geo.CoverageSide{Layer: "hydrants", Filters: map[string][]string{"status": {"in_service"}}},
		Metric: geo.Distance, Threshold: 100, MaxThreshold: 1000, Siting: "roads", CandidateSpacing: 60}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	r, err := analytics.NewCoverageService(postgistest.DB(t)).Coverage(context.Background(), analytics.CoverageQuery{Preset: p})
	if err != nil {
		t.Fatal(err)
	}
	var total, covered float64
	if err := postgistest.DB(t).QueryRow(context.Background(), `
		SELECT sum(w), COALESCE(sum(w) FILTER (WHERE near), 0) FROM (
		  SELECT CASE z.severity WHEN 'major' THEN 3 ELSE 1 END AS w,
		         EXISTS (SELECT 1 FROM hydrants h WHERE h.status = 'in_service'
		                 AND ST_DWithin(z.geom::geography, h.geom::geography, 100)) AS near
		  FROM hazards z WHERE z.status = 'open') s`).Scan(&total, &covered); err != nil {
		t.Fatal(err)
	}
	if r.Total != total || r.Covered != covered || total == 0 {
		t.Errorf("engine: %g of %g weighted open hazards covered; PostGIS: %g of %g", r.Covered, r.Total, covered, total)
	}
}
