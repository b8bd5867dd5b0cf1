package analytics_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/onemap-city/onemap/analytics"
	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/geo/democity"
	"github.com/onemap-city/onemap/sql/postgis/postgistest"
)

// statsNow is the clock of the tests' service: the demo city's reference
// time, so that statistics "as of now" are deterministic.
var statsNow = democity.Reference

func statsService(t testing.TB) *analytics.StatsService {
	t.Helper()
	loadDemo(t)
	return &analytics.StatsService{DB: postgistest.DB(t), Now: func() time.Time { return statsNow }}
}

func shanghaiDay(s string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, s, analytics.StatsZone)
	if err != nil {
		panic(err)
	}
	return t
}

// The demo's rows as plain Go values, read one by one without any
// aggregation, for the brute-force reference computations.
type (
	rawCell struct{ community, town int64 }
	rawArea struct {
		parent, population, households *int64
		bbox                           [4]float64 // from the boundary's vertices
	}
	rawPremise struct {
		cell      *int64
		kind      string
		tag       *string
		inspected *time.Time
	}
	rawHazard struct {
		cell                       *int64
		category, severity, status string
		listed                     bool
		reported                   time.Time
		closed                     *time.Time
		deadline                   *string // YYYY-MM-DD
	}
	rawCity struct {
		cells    map[int64]rawCell
		areas    map[analytics.AreaLevel]map[int64]rawArea
		premises []rawPremise
		hazards  []rawHazard
	}
)

var (
	rawOnce sync.Once
	rawData *rawCity
	rawErr  error
)

// readRaw reads the small demo's rows once.
func readRaw(t testing.TB) *rawCity {
	t.Helper()
	loadDemo(t)
	rawOnce.Do(func() { rawData, rawErr = queryRaw(postgistest.DB(t)) })
	if rawErr != nil {
		t.Fatal(rawErr)
	}
	return rawData
}

func queryRaw(db analytics.Database) (*rawCity, error) {
	ctx := context.Background()
	r := &rawCity{cells: map[int64]rawCell{}, areas: map[analytics.AreaLevel]map[int64]rawArea{}}
	each := func(sql string, scan func(geo.Rows) error) error {
		rows, err := db.QueryRows(ctx, sql)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	for level, sql := range map[analytics.AreaLevel]string{
		analytics.LevelTown:      "SELECT id, NULL::bigint, population, households, geom FROM towns",
		analytics.LevelCommunity: "SELECT id, town_id, population, households, geom FROM communities",
		analytics.LevelGridCell:  "SELECT id, community_id, population, households, geom FROM grid_cells",
	} {
		// The bounding box from every vertex, not from PostGIS's boxes.
		sql = `SELECT s.id, s.town_id, s.population, s.households, min(ST_X(d.geom)), min(ST_Y(d.geom)), max(ST_X(d.geom)), max(ST_Y(d.geom))
			FROM (` + sql + `) AS s(id, town_id, population, households, geom), ST_DumpPoints(s.geom) d
			GROUP BY 1, 2, 3, 4`
		r.areas[level] = map[int64]rawArea{}
		err := each(sql, func(rows geo.Rows) error {
			var id int64
			var a rawArea
			var pop, hh *int32
			if err := rows.Scan(&id, &a.parent, &pop, &hh, &a.bbox[0], &a.bbox[1], &a.bbox[2], &a.bbox[3]); err != nil {
				return err
			}
			if pop != nil {
				a.population = ref(int64(*pop))
			}
			if hh != nil {
				a.households = ref(int64(*hh))
			}
			r.areas[level][id] = a
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	// The city: one area, id 0, summing its towns and spanning their boxes.
	city := rawArea{population: ref(int64(0)), households: ref(int64(0)), bbox: [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}}
	for _, tn := range r.areas[analytics.LevelTown] {
		if tn.population == nil || city.population == nil {
			city.population = nil
		} else {
			*city.population += *tn.population
		}
		if tn.households == nil || city.households == nil {
			city.households = nil
		} else {
			*city.households += *tn.households
		}
		city.bbox = [4]float64{min(city.bbox[0], tn.bbox[0]), min(city.bbox[1], tn.bbox[1]), max(city.bbox[2], tn.bbox[2]), max(city.bbox[3], tn.bbox[3])}
	}
	r.areas[analytics.LevelCity] = map[int64]rawArea{0: city}
	for id, g := range r.areas[analytics.LevelGridCell] {
		comm := *g.parent
		r.cells[id] = rawCell{community: comm, town: *r.areas[analytics.LevelCommunity][comm].parent}
	}
	err := each("SELECT grid_cell_id, kind, tag, last_inspected_at FROM premises", func(rows geo.Rows) error {
		var p rawPremise
		if err := rows.Scan(&p.cell, &p.kind, &p.tag, &p.inspected); err != nil {
			return err
		}
		r.premises = append(r.premises, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = each(`SELECT grid_cell_id, category, severity, status, listed, reported_at, closed_at, to_char(deadline, 'YYYY-MM-DD')
		FROM hazards`, func(rows geo.Rows) error {
		var h rawHazard
		if err := rows.Scan(&h.cell, &h.category, &h.severity, &h.status, &h.listed, &h.reported, &h.closed, &h.deadline); err != nil {
			return err
		}
		r.hazards = append(r.hazards, h)
		return nil
	})
	return r, err
}

func ref[T any](v T) *T { return &v }

// areaOf is the area of level holding grid cell cell.
func (r *rawCity) areaOf(level analytics.AreaLevel, cell int64) int64 {
	switch level {
	case analytics.LevelTown:
		return r.cells[cell].town
	case analytics.LevelCommunity:
		return r.cells[cell].community
	case analytics.LevelCity:
		return 0
	}
	return cell
}

// wantArea is an area's statistics counted row by row.
type wantArea struct {
	premises, red, yellow, green, inspected int64
	byKind                                  map[string]int64
	open, rectifying, closed, overdue       int64
	days                                    []float64
}

// bruteStats counts every premise and hazard of the demo into its area.
func bruteStats(r *rawCity, level analytics.AreaLevel, p analytics.StatsPeriod, asOf time.Time) map[int64]*wantArea {
	out := map[int64]*wantArea{}
	areaFor := func(cell int64) *wantArea {
		id := r.areaOf(level, cell)
		if out[id] == nil {
			out[id] = &wantArea{byKind: map[string]int64{}}
		}
		return out[id]
	}
	for _, pr := range r.premises {
		if pr.cell == nil {
			continue
		}
		w := areaFor(*pr.cell)
		w.premises++
		w.byKind[pr.kind]++
		if pr.tag != nil {
			switch *pr.tag {
			case "red":
				w.red++
			case "yellow":
				w.yellow++
			case "green":
				w.green++
			}
		}
		if pr.inspected != nil && !pr.inspected.Before(asOf.Add(-90*24*time.Hour)) && pr.inspected.Before(asOf) {
			w.inspected++
		}
	}
	asOfDate := asOf.In(analytics.StatsZone).Format(time.DateOnly)
	for _, h := range r.hazards {
		if h.cell == nil {
			continue
		}
		w := areaFor(*h.cell)
		if p.Contains(h.reported) {
			switch h.status {
			case "open":
				w.open++
			case "rectifying":
				w.rectifying++
			case "closed":
				w.closed++
				w.days = append(w.days, h.closed.Sub(h.reported).Seconds()/86400)
			}
		}
		notClosed := h.closed == nil || !h.closed.Before(asOf)
		if h.listed && h.reported.Before(asOf) && notClosed && h.deadline != nil && *h.deadline < asOfDate {
			w.overdue++
		}
	}
	return out
}

// medianCont is percentile_cont(0.5): the middle value, or the mean of the
// middle two.
func medianCont(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return &s[n/2]
	}
	return ref((s[n/2-1] + s[n/2]) / 2)
}

func shareOf(n, d int64) *float64 {
	if d == 0 {
		return nil
	}
	return ref(float64(n) / float64(d))
}

func sameFloat(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return math.Abs(*a-*b) <= 1e-9*math.Max(1, math.Abs(*b))
}

func sameInt(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func fmtFloat(v *float64) string {
	if v == nil {
		return "null"
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}

// checkArea compares an area's statistics with the brute-force count.
func checkArea(t *testing.T, what string, a analytics.AreaStats, w *wantArea, ra rawArea) {
	t.Helper()
	if w == nil {
		w = &wantArea{byKind: map[string]int64{}}
	}
	bad := func(field string, got, want any) {
		t.Errorf("%s, area %d (%s): %s = %v, want %v", what, a.ID, a.Code, field, got, want)
	}
	if !sameInt(a.ParentID, ra.parent) {
		bad("parent_id", a.ParentID, ra.parent)
	}
	if !sameInt(a.Population, ra.population) || !sameInt(a.Households, ra.households) {
		bad("population/households", [2]any{a.Population, a.Households}, [2]any{ra.population, ra.households})
	}
	if a.BBox != ra.bbox {
		bad("bbox", a.BBox, ra.bbox)
	}
	ints := []struct {
		field     string
		got, want int64
	}{
		{"premises", a.Premises, w.premises}, {"premises_red", a.PremisesRed, w.red},
		{"premises_yellow", a.PremisesYellow, w.yellow}, {"premises_green", a.PremisesGreen, w.green},
		{"premises_inspected_90d", a.PremisesInspected90d, w.inspected},
		{"hazards", a.Hazards, w.open + w.rectifying + w.closed}, {"hazards_open", a.Open, w.open},
		{"hazards_rectifying", a.Rectifying, w.rectifying}, {"hazards_closed", a.Closed, w.closed},
		{"listed_overdue", a.ListedOverdue, w.overdue},
	}
	for _, c := range ints {
		if c.got != c.want {
			bad(c.field, c.got, c.want)
		}
	}
	if len(a.PremisesByKind) != len(geo.PremiseKinds) {
		bad("len(premises_by_kind)", len(a.PremisesByKind), len(geo.PremiseKinds))
	}
	for _, k := range geo.PremiseKinds {
		if a.PremisesByKind[k] != w.byKind[k] {
			bad("premises_by_kind."+k, a.PremisesByKind[k], w.byKind[k])
		}
	}
	floats := []struct {
		field     string
		got, want *float64
	}{
		{"inspected_90d_share", a.Inspected90dShare, shareOf(w.inspected, w.premises)},
		{"rectification_rate", a.RectificationRate, shareOf(w.closed, w.open+w.rectifying+w.closed)},
		{"median_days_to_close", a.MedianDaysToClose, medianCont(w.days)},
	}
	for _, c := range floats {
		if !sameFloat(c.got, c.want) {
			bad(c.field, fmtFloat(c.got), fmtFloat(c.want))
		}
	}
}

var statsLevels = []analytics.AreaLevel{analytics.LevelTown, analytics.LevelCommunity, analytics.LevelGridCell}

// statsPeriods are the periods the tests try: all time, half years, only a
// start, and only an end, at midnight and not. (In the small demo a listed
// hazard is overdue as of 2025-07-06, its deadline being 2025-07-05, and
// another, reported in March 2026, as of 2026-07-01.)
var statsPeriods = []analytics.StatsPeriod{
	{},
	{From: shanghaiDay("2025-01-01"), To: shanghaiDay("2025-07-01")},
	{From: shanghaiDay("2026-01-01"), To: shanghaiDay("2026-07-01")},
	{From: shanghaiDay("2026-06-01"), To: shanghaiDay("2026-07-01")}, // overdue, reported before from
	{From: shanghaiDay("2026-01-01")},
	{To: time.Date(2025, 7, 5, 12, 30, 0, 0, analytics.StatsZone)},
	{To: shanghaiDay("2025-07-06")},
}

func TestStatsMatchesBruteForce(t *testing.T) {
	svc := statsService(t)
	r := readRaw(t)
	var overdue, inspected, hazards int64
	for _, level := range append(statsLevels, analytics.LevelCity) {
		for _, p := range statsPeriods {
			what := fmt.Sprintf("%s [%s, %s)", level, p.From.Format(time.RFC3339), p.To.Format(time.RFC3339))
			s, err := svc.Stats(context.Background(), analytics.StatsQuery{Level: level, Period: p})
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			asOf := p.To
			if asOf.IsZero() {
				asOf = statsNow
			}
			if !s.AsOf.Equal(asOf) {
				t.Errorf("%s: as_of %s, want %s", what, s.AsOf, asOf)
			}
			if len(s.Areas) != len(r.areas[level]) {
				t.Fatalf("%s: %d areas, want %d", what, len(s.Areas), len(r.areas[level]))
			}
			want := bruteStats(r, level, p, asOf)
			for i, a := range s.Areas {
				if i > 0 && s.Areas[i-1].Code > a.Code {
					t.Errorf("%s: areas not in code order at %s", what, a.Code)
				}
				checkArea(t, what, a, want[a.ID], r.areas[level][a.ID])
				overdue += a.ListedOverdue
				inspected += a.PremisesInspected90d
				hazards += a.Hazards
			}
		}
	}
	// The comparison means something only if the demo exercises each count.
	if overdue == 0 || inspected == 0 || hazards == 0 {
		t.Errorf("demo too thin for the test: listed_overdue %d, inspected %d, hazards %d", overdue, inspected, hazards)
	}
}

// TestStatsRecountCells recounts a few grid cells with SQL written
// independently of the service: one plain query per cell.
func TestStatsRecountCells(t *testing.T) {
	svc := statsService(t)
	db := postgistest.DB(t)
	ctx := context.Background()
	p := analytics.StatsPeriod{From: shanghaiDay("2025-01-01"), To: shanghaiDay("2026-01-01")}
	s, err := svc.Stats(ctx, analytics.StatsQuery{Level: analytics.LevelGridCell, Period: p})
	if err != nil {
		t.Fatal(err)
	}
	// The busiest cells, and one of the quietest.
	areas := slices.Clone(s.Areas)
	slices.SortFunc(areas, func(a, b analytics.AreaStats) int { return int(b.Hazards - a.Hazards) })
	for _, a := range append(areas[:4:4], areas[len(areas)-1]) {
		var premises, red, hazards, closed int64
		var med *float64
		err := db.ScanRow(ctx, `SELECT
			(SELECT count(*) FROM premises WHERE grid_cell_id = $1),
			(SELECT count(*) FROM premises WHERE grid_cell_id = $1 AND tag = 'red'),
			(SELECT count(*) FROM hazards WHERE grid_cell_id = $1 AND reported_at >= $2 AND reported_at < $3),
			(SELECT count(*) FROM hazards WHERE grid_cell_id = $1 AND reported_at >= $2 AND reported_at < $3 AND status = 'closed'),
			(SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(epoch FROM closed_at - reported_at)::float8 / 86400)
			   FROM hazards WHERE grid_cell_id = $1 AND reported_at >= $2 AND reported_at < $3 AND status = 'closed')`,
			[]any{a.ID, p.From, p.To}, &premises, &red, &hazards, &closed, &med)
		if err != nil {
			t.Fatal(err)
		}
		if a.Premises != premises || a.PremisesRed != red || a.Hazards != hazards || a.Closed != closed || !sameFloat(a.MedianDaysToClose, med) {
			t.Errorf("cell %d: premises %d red %d hazards %d closed %d median %s; recount %d %d %d %d %s", a.ID,
				a.Premises, a.PremisesRed, a.Hazards, a.Closed, fmtFloat(a.MedianDaysToClose), premises, red, hazards, closed, fmtFloat(med))
		}
	}
}

// rollUpCounts are the statistics of an area that add up over its children.
func rollUpCounts(a analytics.AreaStats) map[string]int64 {
	m := map[string]int64{
		"premises": a.Premises, "premises_red": a.PremisesRed, "premises_yellow": a.PremisesYellow,
		"premises_green": a.PremisesGreen, "premises_inspected_90d": a.PremisesInspected90d,
		"hazards": a.Hazards, "hazards_open": a.Open, "hazards_rectifying": a.Rectifying,
		"hazards_closed": a.Closed, "listed_overdue": a.ListedOverdue,
	}
	if a.Population != nil {
		m["population"] = *a.Population
	}
	if a.Households != nil {
		m["households"] = *a.Households
	}
	for k, n := range a.PremisesByKind {
		m["kind_"+k] = n
	}
	return m
}

func TestStatsRollUp(t *testing.T) {
	svc := statsService(t)
	for _, p := range statsPeriods {
		byLevel := map[analytics.AreaLevel][]analytics.AreaStats{}
		for _, level := range statsLevels {
			s, err := svc.Stats(context.Background(), analytics.StatsQuery{Level: level, Period: p})
			if err != nil {
				t.Fatal(err)
			}
			byLevel[level] = s.Areas
		}
		check := func(parents, children []analytics.AreaStats) {
			sums := map[int64]map[string]int64{}
			for _, c := range children {
				if sums[*c.ParentID] == nil {
					sums[*c.ParentID] = map[string]int64{}
				}
				for k, n := range rollUpCounts(c) {
					sums[*c.ParentID][k] += n
				}
			}
			for _, a := range parents {
				for k, n := range rollUpCounts(a) {
					if sums[a.ID][k] != n {
						t.Errorf("%v: %s %d %s = %d, its children sum to %d", p, a.Code, a.ID, k, n, sums[a.ID][k])
					}
				}
			}
		}
		check(byLevel[analytics.LevelTown], byLevel[analytics.LevelCommunity])
		check(byLevel[analytics.LevelCommunity], byLevel[analytics.LevelGridCell])
	}
}

func TestStatsParentAndTown(t *testing.T) {
	svc := statsService(t)
	ctx := context.Background()
	p := analytics.StatsPeriod{From: shanghaiDay("2025-06-01")}
	all := map[analytics.AreaLevel]*analytics.Stats{}
	for _, level := range statsLevels {
		s, err := svc.Stats(ctx, analytics.StatsQuery{Level: level, Period: p})
		if err != nil {
			t.Fatal(err)
		}
		all[level] = s
	}
	town := all[analytics.LevelTown].Areas[3].ID
	community := all[analytics.LevelCommunity].Areas[10].ID
	townOfCommunity := func(id int64) int64 {
		for _, c := range all[analytics.LevelCommunity].Areas {
			if c.ID == id {
				return *c.ParentID
			}
		}
		return 0
	}
	cases := []struct {
		q    analytics.StatsQuery
		keep func(a analytics.AreaStats) bool
	}{
		{analytics.StatsQuery{Level: analytics.LevelCommunity, Parent: town}, func(a analytics.AreaStats) bool { return *a.ParentID == town }},
		{analytics.StatsQuery{Level: analytics.LevelCommunity, Town: town}, func(a analytics.AreaStats) bool { return *a.ParentID == town }},
		{analytics.StatsQuery{Level: analytics.LevelGridCell, Parent: community}, func(a analytics.AreaStats) bool { return *a.ParentID == community }},
		{analytics.StatsQuery{Level: analytics.LevelGridCell, Town: town}, func(a analytics.AreaStats) bool { return townOfCommunity(*a.ParentID) == town }},
	}
	for _, c := range cases {
		c.q.Period = p
		s, err := svc.Stats(ctx, c.q)
		if err != nil {
			t.Fatal(err)
		}
		var want []analytics.AreaStats
		for _, a := range all[c.q.Level].Areas {
			if c.keep(a) {
				want = append(want, a)
			}
		}
		if len(want) == 0 || len(s.Areas) != len(want) {
			t.Fatalf("%+v: %d areas, want %d (> 0)", c.q, len(s.Areas), len(want))
		}
		for i := range want {
			g, _ := json.Marshal(s.Areas[i])
			w, _ := json.Marshal(want[i])
			if !bytes.Equal(g, w) {
				t.Errorf("%+v: area %d differs from the unfiltered one:\n got %s\nwant %s", c.q, want[i].ID, g, w)
			}
		}
	}
}

func TestStatsPeriodSplits(t *testing.T) {
	svc := statsService(t)
	ctx := context.Background()
	cut := shanghaiDay("2025-09-01")
	statsOf := func(p analytics.StatsPeriod) []analytics.AreaStats {
		s, err := svc.Stats(ctx, analytics.StatsQuery{Level: analytics.LevelCommunity, Period: p})
		if err != nil {
			t.Fatal(err)
		}
		return s.Areas
	}
	all, before, after := statsOf(analytics.StatsPeriod{}), statsOf(analytics.StatsPeriod{To: cut}), statsOf(analytics.StatsPeriod{From: cut})
	changed := false
	for i, a := range all {
		b, c := before[i], after[i]
		if a.Open != b.Open+c.Open || a.Rectifying != b.Rectifying+c.Rectifying || a.Closed != b.Closed+c.Closed {
			t.Errorf("community %d: all %v ≠ before %v + after %v", a.ID, a.HazardStats, b.HazardStats, c.HazardStats)
		}
		if a.Premises != b.Premises || a.Premises != c.Premises {
			t.Errorf("community %d: the period changed the premises", a.ID)
		}
		changed = changed || b.Hazards != a.Hazards
	}
	if !changed {
		t.Error("the period changed no hazard count")
	}
}

func TestStatsCompare(t *testing.T) {
	svc := statsService(t)
	ctx := context.Background()
	main := analytics.StatsPeriod{From: shanghaiDay("2026-01-01"), To: shanghaiDay("2026-07-01")}
	cmp := analytics.StatsPeriod{From: shanghaiDay("2025-01-01"), To: shanghaiDay("2025-07-01")}
	s, err := svc.Stats(ctx, analytics.StatsQuery{Level: analytics.LevelGridCell, Period: main, Compare: &cmp})
	if err != nil {
		t.Fatal(err)
	}
	alone, err := svc.Stats(ctx, analytics.StatsQuery{Level: analytics.LevelGridCell, Period: cmp})
	if err != nil {
		t.Fatal(err)
	}
	if s.Compare == nil || !s.Compare.From.Equal(cmp.From) || !s.Compare.To.Equal(cmp.To) || !s.Compare.AsOf.Equal(cmp.To) {
		t.Fatalf("compare period %+v, want %v", s.Compare, cmp)
	}
	var nullPercent, nullMedian int
	for i, a := range s.Areas {
		c := a.Compare
		if c == nil {
			t.Fatalf("area %d: no comparison", a.ID)
		}
		if c.HazardStats != alone.Areas[i].HazardStats && !sameHazards(c.HazardStats, alone.Areas[i].HazardStats) {
			t.Errorf("area %d: compare %+v, the period alone %+v", a.ID, c.HazardStats, alone.Areas[i].HazardStats)
		}
		pairs := []struct {
			field string
			m, c  *float64
			ch    analytics.Change
		}{
			{"hazards", ref(float64(a.Hazards)), ref(float64(c.Hazards)), c.Change.Hazards},
			{"hazards_open", ref(float64(a.Open)), ref(float64(c.Open)), c.Change.Open},
			{"hazards_rectifying", ref(float64(a.Rectifying)), ref(float64(c.Rectifying)), c.Change.Rectifying},
			{"hazards_closed", ref(float64(a.Closed)), ref(float64(c.Closed)), c.Change.Closed},
			{"listed_overdue", ref(float64(a.ListedOverdue)), ref(float64(c.ListedOverdue)), c.Change.ListedOverdue},
			{"rectification_rate", a.RectificationRate, c.RectificationRate, c.Change.RectificationRate},
			{"median_days_to_close", a.MedianDaysToClose, c.MedianDaysToClose, c.Change.MedianDaysToClose},
		}
		for _, p := range pairs {
			var abs, pct *float64
			if p.m != nil && p.c != nil {
				abs = ref(*p.m - *p.c)
				if *p.c != 0 {
					pct = ref((*p.m - *p.c) / *p.c * 100)
				} else {
					nullPercent++
				}
			} else {
				nullMedian++
			}
			if !sameFloat(p.ch.Absolute, abs) || !sameFloat(p.ch.Percent, pct) {
				t.Errorf("area %d %s: main %s compare %s: change %s (%s%%), want %s (%s%%)", a.ID, p.field,
					fmtFloat(p.m), fmtFloat(p.c), fmtFloat(p.ch.Absolute), fmtFloat(p.ch.Percent), fmtFloat(abs), fmtFloat(pct))
			}
		}
	}
	t.Logf("%d areas; %d changes without a percentage, %d without a value", len(s.Areas), nullPercent, nullMedian)
}

func sameHazards(a, b analytics.HazardStats) bool {
	return a.Hazards == b.Hazards && a.Open == b.Open && a.Rectifying == b.Rectifying && a.Closed == b.Closed &&
		a.ListedOverdue == b.ListedOverdue && sameFloat(a.RectificationRate, b.RectificationRate) &&
		sameFloat(a.MedianDaysToClose, b.MedianDaysToClose)
}

// statsServer is the handler on an echo server whose error handler maps geo
// error codes to statuses, as cmd/onemap does.
func statsServer(t testing.TB) *echo.Echo {
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		status, body := http.StatusInternalServerError, map[string]string{"error": err.Error()}
		var ge *geo.Error
		var he *echo.HTTPError
		switch {
		case errors.As(err, &ge):
			status = map[string]int{geo.EInvalid: http.StatusBadRequest, geo.ENotFound: http.StatusNotFound}[ge.Code]
			if status == 0 {
				status = http.StatusInternalServerError
			}
			body = map[string]string{"error": ge.Message, "detail": ge.Detail}
		case errors.As(err, &he):
			status = he.Code
		}
		_ = c.JSON(status, body)
	}
	(&analytics.StatsHandler{Stats: statsService(t)}).Register(e)
	return e
}

func httpGet(e *echo.Echo, url string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
	return rec
}

func jsonKeys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// bboxColumns are the CSV's columns of the JSON's bbox, in its order.
var bboxColumns = []string{"min_lon", "min_lat", "max_lon", "max_lat"}

func TestStatsHTTPJSONAndCSV(t *testing.T) {
	e := statsServer(t)
	const q = "/api/v1/stats?level=community&from=2025-01-01&to=2026-01-01&compare=2024-01-01/2025-01-01"
	rec := httpGet(e, q)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: %d %s", q, rec.Code, rec.Body)
	}
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(jsonKeys(doc), ","), "areas,as_of,compare,from,level,to"; got != want {
		t.Errorf("top-level fields %s, want %s", got, want)
	}
	if doc["from"] != "2025-01-01T00:00:00+08:00" || doc["to"] != "2026-01-01T00:00:00+08:00" || doc["level"] != "community" {
		t.Errorf("level %v from %v to %v", doc["level"], doc["from"], doc["to"])
	}
	areas := doc["areas"].([]any)
	first := areas[0].(map[string]any)
	wantFields := "bbox,compare,code,households,id,inspected_90d_share,listed_overdue,median_days_to_close,name,parent_id," +
		"population,premises,premises_by_kind,premises_green,premises_inspected_90d,premises_red,premises_yellow," +
		"hazards,hazards_closed,hazards_open,hazards_rectifying,rectification_rate"
	wf := strings.Split(wantFields, ",")
	slices.Sort(wf)
	if got := strings.Join(jsonKeys(first), ","); got != strings.Join(wf, ",") {
		t.Errorf("area fields\n %s\nwant\n %s", got, strings.Join(wf, ","))
	}
	cmp := first["compare"].(map[string]any)
	if got, want := strings.Join(jsonKeys(cmp), ","), "change,hazards,hazards_closed,hazards_open,hazards_rectifying,listed_overdue,median_days_to_close,rectification_rate"; got != want {
		t.Errorf("compare fields %s, want %s", got, want)
	}
	if got, want := strings.Join(jsonKeys(cmp["change"].(map[string]any)), ","), "hazards,hazards_closed,hazards_open,hazards_rectifying,listed_overdue,median_days_to_close,rectification_rate"; got != want {
		t.Errorf("change fields %s, want %s", got, want)
	}

	rec = httpGet(e, q+"&format=csv")
	if rec.Code != http.StatusOK {
		t.Fatalf("csv: %d %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd, want := rec.Header().Get("Content-Disposition"), `attachment; filename="onemap-stats-community-from-20250101-to-20260101.csv"`; cd != want {
		t.Errorf("Content-Disposition %q, want %q", cd, want)
	}
	body := rec.Body.Bytes()
	if !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
		t.Fatalf("no UTF-8 BOM: % x", body[:8])
	}
	records, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := records[0]
	if len(records) != len(areas)+1 {
		t.Fatalf("%d CSV rows, want %d areas + header", len(records)-1, len(areas))
	}
	for _, k := range geo.PremiseKinds {
		if !slices.Contains(header, "kind_"+k) {
			t.Errorf("no column kind_%s", k)
		}
	}
	chinese := false
	for i, rec := range records[1:] {
		a := areas[i].(map[string]any)
		for j, col := range header {
			var want any
			cm := a["compare"].(map[string]any)
			switch {
			case strings.HasPrefix(col, "kind_"):
				want = a["premises_by_kind"].(map[string]any)[strings.TrimPrefix(col, "kind_")]
			case strings.HasPrefix(col, "compare_"):
				want = cm[strings.TrimPrefix(col, "compare_")]
			case strings.HasPrefix(col, "change_") && strings.HasSuffix(col, "_percent"):
				want = cm["change"].(map[string]any)[strings.TrimSuffix(strings.TrimPrefix(col, "change_"), "_percent")].(map[string]any)["percent"]
			case strings.HasPrefix(col, "change_"):
				want = cm["change"].(map[string]any)[strings.TrimPrefix(col, "change_")].(map[string]any)["absolute"]
			case slices.Contains(bboxColumns, col):
				want = a["bbox"].([]any)[slices.Index(bboxColumns, col)]
			default:
				var ok bool
				if want, ok = a[col]; !ok {
					t.Fatalf("CSV column %q is not a JSON field", col)
				}
			}
			cell := rec[j]
			switch w := want.(type) {
			case nil:
				if cell != "" {
					t.Errorf("row %d %s: %q, want empty (null)", i, col, cell)
				}
			case string:
				if cell != w {
					t.Errorf("row %d %s: %q, want %q", i, col, cell, w)
				}
				chinese = chinese || strings.ContainsFunc(cell, func(r rune) bool { return r > 0x4e00 })
			case float64:
				if f, err := strconv.ParseFloat(cell, 64); err != nil || f != w {
					t.Errorf("row %d %s: %q, want %v", i, col, cell, w)
				}
			default:
				t.Fatalf("column %s: unexpected JSON %T", col, want)
			}
		}
	}
	if !chinese {
		t.Error("no Chinese name came through the CSV")
	}
}

// bruteTrend counts the months of a trend from the raw hazards.
func bruteTrend(r *rawCity, level analytics.AreaLevel, id int64, from, to time.Time, keep func(rawHazard) bool) []analytics.TrendMonth {
	var out []analytics.TrendMonth
	f := from.In(analytics.StatsZone)
	for m := time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, analytics.StatsZone); m.Before(to); m = m.AddDate(0, 1, 0) {
		lo, hi := m, m.AddDate(0, 1, 0)
		if lo.Before(from) {
			lo = from
		}
		if hi.After(to) {
			hi = to
		}
		tm := analytics.TrendMonth{Month: m.Format("2006-01")}
		for _, h := range r.hazards {
			if level != analytics.LevelCity && (h.cell == nil || r.areaOf(level, *h.cell) != id) || !keep(h) {
				continue
			}
			in := func(t time.Time) bool { return !t.Before(lo) && t.Before(hi) }
			if in(h.reported) {
				tm.Reported++
			}
			if h.closed != nil && in(*h.closed) {
				tm.Closed++
			}
			if h.reported.Before(hi) && (h.closed == nil || !h.closed.Before(hi)) {
				tm.OpenAtEnd++
			}
		}
		out = append(out, tm)
	}
	return out
}

func TestTrendMatchesBruteForce(t *testing.T) {
	svc := statsService(t)
	r := readRaw(t)
	var latest time.Time
	cellHazards := map[int64]int{}
	for _, h := range r.hazards {
		if h.reported.After(latest) {
			latest = h.reported
		}
		if h.cell != nil {
			cellHazards[*h.cell]++
		}
	}
	busiest := int64(0)
	for id, n := range cellHazards {
		if n > cellHazards[busiest] || n == cellHazards[busiest] && id < busiest {
			busiest = id
		}
	}
	l := latest.In(analytics.StatsZone)
	defaultTo := time.Date(l.Year(), l.Month()+1, 1, 0, 0, 0, 0, analytics.StatsZone)
	defaultFrom := defaultTo.AddDate(0, -24, 0)
	all := func(rawHazard) bool { return true }
	town, community := r.cells[busiest].town, r.cells[busiest].community
	cases := []struct {
		q        analytics.TrendQuery
		from, to time.Time
		keep     func(rawHazard) bool
	}{
		{analytics.TrendQuery{Level: analytics.LevelCity}, defaultFrom, defaultTo, all},
		{analytics.TrendQuery{Level: analytics.LevelTown, ID: town}, defaultFrom, defaultTo, all},
		{analytics.TrendQuery{Level: analytics.LevelCommunity, ID: community, Categories: []string{"e_bike_charging", "unsafe_wiring"}},
			defaultFrom, defaultTo, func(h rawHazard) bool { return h.category == "e_bike_charging" || h.category == "unsafe_wiring" }},
		{analytics.TrendQuery{Level: analytics.LevelGridCell, ID: busiest}, defaultFrom, defaultTo, all},
		{analytics.TrendQuery{Level: analytics.LevelCity, Severities: []string{"major"}}, defaultFrom, defaultTo,
			func(h rawHazard) bool { return h.severity == "major" }},
		{analytics.TrendQuery{Level: analytics.LevelCity, Period: analytics.StatsPeriod{From: shanghaiDay("2025-03-15"), To: time.Date(2025, 8, 10, 12, 0, 0, 0, analytics.StatsZone)}},
			shanghaiDay("2025-03-15"), time.Date(2025, 8, 10, 12, 0, 0, 0, analytics.StatsZone), all},
		{analytics.TrendQuery{Level: analytics.LevelTown, ID: town, Period: analytics.StatsPeriod{To: shanghaiDay("2025-07-01")}},
			shanghaiDay("2023-07-01"), shanghaiDay("2025-07-01"), all},
		{analytics.TrendQuery{Level: analytics.LevelTown, ID: town, Period: analytics.StatsPeriod{From: shanghaiDay("2026-06-01")}},
			shanghaiDay("2026-06-01"), defaultTo, all},
	}
	for _, c := range cases {
		tr, err := svc.Trend(context.Background(), c.q)
		if err != nil {
			t.Fatalf("%+v: %v", c.q, err)
		}
		if !tr.From.Equal(c.from) || !tr.To.Equal(c.to) {
			t.Errorf("%+v: window [%s, %s), want [%s, %s)", c.q, tr.From, tr.To, c.from, c.to)
		}
		want := bruteTrend(r, c.q.Level, c.q.ID, c.from, c.to, c.keep)
		if !slices.Equal(tr.Months, want) {
			t.Errorf("%+v:\n got %v\nwant %v", c.q, tr.Months, want)
		}
		var reported int64
		for i, m := range tr.Months {
			reported += m.Reported
			if i > 0 && m.OpenAtEnd != tr.Months[i-1].OpenAtEnd+m.Reported-m.Closed {
				t.Errorf("%+v %s: open %d ≠ %d + %d − %d", c.q, m.Month, m.OpenAtEnd, tr.Months[i-1].OpenAtEnd, m.Reported, m.Closed)
			}
		}
		if reported == 0 {
			t.Errorf("%+v: nothing reported", c.q)
		}
	}
	if got := len(bruteTrend(r, analytics.LevelCity, 0, defaultFrom, defaultTo, all)); got != 24 {
		t.Errorf("default window has %d months, want 24", got)
	}
}

// TestStatsBoundaries adds a listed hazard reported at midnight on
// 1 March and closed at midnight on 1 April, Shanghai time (still February
// and March in UTC), due on 10 March, and checks which periods and months
// it falls in: an event at a period's end belongs to the next period. The
// demo reports only in working hours, so it cannot tell these apart.
func TestStatsBoundaries(t *testing.T) {
	svc := statsService(t)
	db := postgistest.DB(t)
	ctx := context.Background()
	const cell = 1
	reported, closed := shanghaiDay("2025-03-01"), shanghaiDay("2025-04-01")
	trendQ := analytics.TrendQuery{Level: analytics.LevelGridCell, ID: cell,
		Period: analytics.StatsPeriod{From: shanghaiDay("2025-02-01"), To: shanghaiDay("2025-05-01")}}
	periods := []analytics.StatsPeriod{
		{From: shanghaiDay("2025-02-01"), To: reported},
		{From: reported, To: closed},
		{From: reported, To: closed.Add(time.Microsecond)},
	}
	cellStats := func() (out []analytics.HazardStats) {
		for _, p := range periods {
			s, err := svc.Stats(ctx, analytics.StatsQuery{Level: analytics.LevelGridCell, Parent: 1, Period: p})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range s.Areas {
				if a.ID == cell {
					out = append(out, a.HazardStats)
				}
			}
		}
		return out
	}
	trendBefore, err := svc.Trend(ctx, trendQ)
	if err != nil {
		t.Fatal(err)
	}
	before := cellStats()
	if len(before) != len(periods) {
		t.Fatalf("grid cell %d is not in community 1", cell)
	}

	var id int64
	err = db.ScanRow(ctx, `INSERT INTO hazards (ext_id, category, severity, status, listed, reported_at, deadline, closed_at, grid_cell_id, geom)
		SELECT 'test-stats-boundaries', 'hot_work', 'major', 'closed', true, $1, '2025-03-10', $2, id, ST_PointOnSurface(geom)
		FROM grid_cells WHERE id = $3 RETURNING id`, []any{reported, closed, cell}, &id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec(context.Background(), "DELETE FROM hazards WHERE id = $1", id); err != nil {
			t.Error(err)
		}
	})

	trend, err := svc.Trend(ctx, trendQ)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(trendBefore.Months) // 2025-02, 2025-03, 2025-04
	want[1].Reported++
	want[1].OpenAtEnd++ // closed at the very end of March: still open then
	want[2].Closed++
	if !slices.Equal(trend.Months, want) {
		t.Errorf("trend: got %v, want %v", trend.Months, want)
	}

	after := cellStats()
	deltas := []struct{ hazards, closed, overdue int64 }{
		{0, 0, 0}, // reported at the end of the period: not in it, and not yet there to be overdue
		{1, 1, 1}, // closed at the end: in the period, and overdue then
		{1, 1, 0}, // closed just before the end
	}
	for i, d := range deltas {
		got := [3]int64{after[i].Hazards - before[i].Hazards, after[i].Closed - before[i].Closed, after[i].ListedOverdue - before[i].ListedOverdue}
		if got != [3]int64{d.hazards, d.closed, d.overdue} {
			t.Errorf("period %v: hazards, closed, overdue changed by %v, want %v", periods[i], got, d)
		}
	}
}

// TestTrendTotals checks that a trend's months add up to the totals of the
// statistics for the same window, and that the category filter partitions.
func TestTrendTotals(t *testing.T) {
	svc := statsService(t)
	r := readRaw(t)
	ctx := context.Background()
	for _, h := range r.hazards {
		if h.cell == nil {
			t.Fatal("a demo hazard outside every grid cell: city and town totals would differ")
		}
	}
	p := analytics.StatsPeriod{From: shanghaiDay("2025-01-01"), To: shanghaiDay("2026-01-01")}
	towns, err := svc.Stats(ctx, analytics.StatsQuery{Level: analytics.LevelTown, Period: p})
	if err != nil {
		t.Fatal(err)
	}
	sum := func(tr *analytics.Trend) (reported int64) {
		for _, m := range tr.Months {
			reported += m.Reported
		}
		return reported
	}
	city, err := svc.Trend(ctx, analytics.TrendQuery{Level: analytics.LevelCity, Period: p})
	if err != nil {
		t.Fatal(err)
	}
	if len(city.Months) != 12 {
		t.Errorf("%d months in 2025", len(city.Months))
	}
	var total int64
	for _, a := range towns.Areas {
		total += a.Hazards
		tr, err := svc.Trend(ctx, analytics.TrendQuery{Level: analytics.LevelTown, ID: a.ID, Period: p})
		if err != nil {
			t.Fatal(err)
		}
		if got := sum(tr); got != a.Hazards {
			t.Errorf("town %d: trend reports %d, stats %d", a.ID, got, a.Hazards)
		}
	}
	if got := sum(city); got != total {
		t.Errorf("city trend reports %d, the towns' stats %d", got, total)
	}
	byMonth := make([]int64, len(city.Months))
	for _, cat := range geo.HazardCategories {
		tr, err := svc.Trend(ctx, analytics.TrendQuery{Level: analytics.LevelCity, Period: p, Categories: []string{cat}})
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range tr.Months {
			byMonth[i] += m.Reported
		}
	}
	for i, m := range city.Months {
		if byMonth[i] != m.Reported {
			t.Errorf("%s: categories sum to %d, all %d", m.Month, byMonth[i], m.Reported)
		}
	}
}

func TestStatsBadInput(t *testing.T) {
	e := statsServer(t)
	cases := []struct {
		url    string
		status int
		detail string
	}{
		{"/api/v1/stats", 400, "level"},
		{"/api/v1/stats?level=province", 400, "level"},
		{"/api/v1/stats?level=city&parent=1", 400, "parent"},
		{"/api/v1/stats?level=city&town=1", 400, "town"},
		{"/api/v1/stats?level=town&level=community", 400, "level"},
		{"/api/v1/stats?level=town&parent=1", 400, "parent"},
		{"/api/v1/stats?level=town&town=1", 400, "town"},
		{"/api/v1/stats?level=community&parent=abc", 400, "parent"},
		{"/api/v1/stats?level=community&parent=0", 400, "parent"},
		{"/api/v1/stats?level=community&parent=", 400, "parent"},
		{"/api/v1/stats?level=community&parent=999999", 404, "parent"},
		{"/api/v1/stats?level=grid_cell&parent=999999", 404, "parent"},
		{"/api/v1/stats?level=grid_cell&town=999999", 404, "town"},
		{"/api/v1/stats?level=grid_cell&town=-3", 400, "town"},
		{"/api/v1/stats?level=community&parent=1&town=2", 400, "town"},
		{"/api/v1/stats?level=town&from=2025-13-01", 400, "from"},
		{"/api/v1/stats?level=town&from=yesterday", 400, "from"},
		{"/api/v1/stats?level=town&to=2025-01-01T00:00:00", 400, "to"},
		{"/api/v1/stats?level=town&from=2025-07-01&to=2025-01-01", 400, "to"},
		{"/api/v1/stats?level=town&from=2025-01-01&to=2025-01-01", 400, "to"},
		{"/api/v1/stats?level=town&compare=2025-01-01", 400, "compare"},
		{"/api/v1/stats?level=town&compare=2025-07-01/2025-01-01", 400, "compare"},
		{"/api/v1/stats?level=town&compare=x/2025-01-01", 400, "compare"},
		{"/api/v1/stats?level=town&compare=2025-01-01/", 400, "compare"},
		{"/api/v1/stats?level=town&format=xml", 400, "format"},
		{"/api/v1/stats?level=town&bbox=1,2,3,4", 400, "bbox"},
		{"/api/v1/trend", 400, "level"},
		{"/api/v1/trend?level=province&id=1", 400, "level"},
		{"/api/v1/trend?level=town", 400, "id"},
		{"/api/v1/trend?level=city&id=1", 400, "id"},
		{"/api/v1/trend?level=town&id=x", 400, "id"},
		{"/api/v1/trend?level=town&id=999999", 404, "id"},
		{"/api/v1/trend?level=grid_cell&id=999999", 404, "id"},
		{"/api/v1/trend?level=city&category=fire", 400, "category"},
		{"/api/v1/trend?level=city&category=hot_work,", 400, "category"},
		{"/api/v1/trend?level=city&severity=minor", 400, "severity"},
		{"/api/v1/trend?level=city&from=2026-01-01&to=2025-01-01", 400, "to"},
		{"/api/v1/trend?level=city&from=2030-01-01", 400, "from"},
		{"/api/v1/trend?level=city&from=1900-01-01", 400, "from"},
		{"/api/v1/trend?level=city&to=2025-01-01&to=2026-01-01", 400, "to"},
		{"/api/v1/trend?level=city&format=csv", 400, "format"},
	}
	for _, c := range cases {
		rec := httpGet(e, c.url)
		var body struct{ Error, Detail string }
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != c.status || body.Detail != c.detail || body.Error == "" {
			t.Errorf("%s: %d %s, want %d naming %q", c.url, rec.Code, rec.Body, c.status, c.detail)
		}
	}
	// And the good ones, so that the table is not passing for the wrong reason.
	for _, u := range []string{
		"/api/v1/stats?level=town", "/api/v1/stats?level=grid_cell&town=1&to=2025-01-01T08:00:00Z",
		"/api/v1/trend?level=city&category=hot_work&category=locked_exit,overcrowding&severity=general",
		"/api/v1/trend?level=community&id=1&from=2025-01-01T00:00:00.5%2B08:00",
		"/api/v1/trend?level=community&id=1&from=2025-01-01T00:00:00+08:00", // "+" unescaped
	} {
		if rec := httpGet(e, u); rec.Code != http.StatusOK {
			t.Errorf("%s: %d %s", u, rec.Code, rec.Body)
		}
	}
}

// TestStatsServiceInvalid checks the service's own validation, for callers
// other than the handler.
func TestStatsServiceInvalid(t *testing.T) {
	svc := statsService(t)
	ctx := context.Background()
	detail := func(err error) string {
		var ge *geo.Error
		if errors.As(err, &ge) && ge.Code == geo.EInvalid {
			return ge.Detail
		}
		return fmt.Sprintf("not invalid: %v", err)
	}
	for want, q := range map[string]analytics.StatsQuery{
		"level":   {Level: "county"},
		"parent":  {Level: analytics.LevelGridCell, Parent: -1},
		"town":    {Level: analytics.LevelCity, Town: 3},
		"to":      {Level: analytics.LevelTown, Period: analytics.StatsPeriod{From: shanghaiDay("2025-01-02"), To: shanghaiDay("2025-01-01")}},
		"compare": {Level: analytics.LevelTown, Compare: &analytics.StatsPeriod{From: shanghaiDay("2025-01-01")}},
	} {
		if _, err := svc.Stats(ctx, q); detail(err) != want {
			t.Errorf("%+v: %v, want invalid %s", q, err, want)
		}
	}
	if _, err := svc.Trend(ctx, analytics.TrendQuery{Level: analytics.LevelTown}); detail(err) != "id" {
		t.Errorf("trend without id: %v", err)
	}
}

// benchDemo loads the demo city named by ONEMAP_BENCH_SCALE (city or large)
// into the test database, or skips the benchmark when it is not set. The
// tables are vacuumed once loaded, as autovacuum would soon do, so that the
// timings are of the steady state and not of autovacuum's first pass over
// freshly loaded tables, which otherwise runs during the benchmark.
func benchDemo(b *testing.B) *analytics.StatsService {
	scale := os.Getenv("ONEMAP_BENCH_SCALE")
	if scale == "" {
		b.Skip("set ONEMAP_BENCH_SCALE=city or large to load that demo city and measure")
	}
	loadDemoScale(b, scale)
	db := postgistest.DB(b)
	if _, err := db.Exec(context.Background(), "VACUUM ANALYZE premises, hazards"); err != nil {
		b.Fatal(err)
	}
	return &analytics.StatsService{DB: db, Now: func() time.Time { return statsNow }}
}

// BenchmarkStatsAllGridCells times the statistics of every grid cell, with
// and without a period and a comparison, and of every town, on the demo
// city named by ONEMAP_BENCH_SCALE (see benchDemo):
//
//	ONEMAP_BENCH_SCALE=large go test ./analytics -run '^$' -bench 'Stats|Trend' -benchtime 10x
func BenchmarkStatsAllGridCells(b *testing.B) {
	svc := benchDemo(b)
	for _, c := range []struct {
		name string
		q    analytics.StatsQuery
	}{
		{"all", analytics.StatsQuery{Level: analytics.LevelGridCell}},
		{"period", analytics.StatsQuery{Level: analytics.LevelGridCell, Period: analytics.StatsPeriod{From: shanghaiDay("2026-01-01"), To: shanghaiDay("2026-07-01")}}},
		{"compare", analytics.StatsQuery{Level: analytics.LevelGridCell, Period: analytics.StatsPeriod{From: shanghaiDay("2026-01-01"), To: shanghaiDay("2026-07-01")},
			Compare: &analytics.StatsPeriod{From: shanghaiDay("2025-01-01"), To: shanghaiDay("2025-07-01")}}},
		{"towns", analytics.StatsQuery{Level: analytics.LevelTown}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				s, err := svc.Stats(context.Background(), c.q)
				if err != nil {
					b.Fatal(err)
				}
				if len(s.Areas) == 0 {
					b.Fatal("no areas")
				}
			}
		})
	}
}

// BenchmarkTrendCity times the default 24-month trend of the whole city
// (see BenchmarkStatsAllGridCells for the command).
func BenchmarkTrendCity(b *testing.B) {
	svc := benchDemo(b)
	for b.Loop() {
		if _, err := svc.Trend(context.Background(), analytics.TrendQuery{Level: analytics.LevelCity}); err != nil {
			b.Fatal(err)
		}
	}
}
