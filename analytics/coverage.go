package analytics

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/cespare/xxhash/v2"
	"github.com/paulmach/orb/geojson"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/filtersql"
)

// CoverageService is OneMap's one coverage engine: demand (premises, or
// residents), supply (any catalogue point layer, filtered), a metric
// (geodesic metres, or seconds of travel on the road network) and a
// threshold. Hydrants, stations and shelters are presets of it
// (geo.CoveragePreset).
//
// For each demand feature it finds the nearest supply and the distance or
// travel time to it, once per data version, in memory: straight-line
// nearest neighbours on a grid index in EPSG:4549 with the Gauss–Krüger
// scale corrected to geodesic metres, pairs within millimetres of the
// threshold settled by PostGIS geography (so that coverage equals
// ST_DWithin(geography) exactly); travel times from pgRouting node costs
// (multi-source pgr_drivingDistance, equicost) and each feature's nearest
// road edge. Counts per town, community or grid cell roll up from cells.
type CoverageService struct {
	DB Database

	evals   *memo[*coverageEval]
	demands *memo[*demandSet]
	roads   *memo[*roadNetwork]
	hier    *memo[*hierarchy]
	gaps    *memo[*geojson.FeatureCollection]
	areas   *memo[*geojson.FeatureCollection] // service areas
}

// NewCoverageService returns a coverage engine over db.
func NewCoverageService(db Database) *CoverageService {
	return &CoverageService{DB: db, evals: newMemo[*coverageEval](16), demands: newMemo[*demandSet](8),
		roads: newMemo[*roadNetwork](2), hier: newMemo[*hierarchy](2), gaps: newMemo[*geojson.FeatureCollection](8), areas: newMemo[*geojson.FeatureCollection](8)}
}

// Site is a point of supply: an existing feature or a proposed site.
type Site struct {
	ID       int64   `json:"id"`
	Lon      float64 `json:"lon"`
	Lat      float64 `json:"lat"`
	X        float64 `json:"-"` // EPSG:4549
	Y        float64 `json:"-"`
	Node     int64   `json:"node,omitempty"` // road node of a proposed site on the network
	Name     string  `json:"name,omitempty"`
	Capacity float64 `json:"capacity,omitempty"`
	Area     float64 `json:"area_m2,omitempty"`
	Class    string  `json:"class,omitempty"` // the preset's SiteClass value
	Proposed bool    `json:"proposed,omitempty"`
}

// CoverageQuery asks one coverage question.
type CoverageQuery struct {
	Preset    *geo.CoveragePreset
	Threshold float64   // 0: the preset's
	Level     AreaLevel // town, community or grid_cell (default town)
	// Demand filters the demand: attribute filters of its layer, and town,
	// community or grid_cell, which restrict the study area.
	Demand geo.Filters
	// Supply filters the supply, on top of the preset's own filters.
	Supply geo.Filters
	// Added are proposed sites counted as supply ("what if").
	Added []Site
	// Zones, if set, make the capacity check E2SFCA with these distance
	// bands and weights (nil: 2SFCA).
	Zones []FCAZone
}

func (q *CoverageQuery) threshold() float64 {
	if q.Threshold > 0 {
		return q.Threshold
	}
	return q.Preset.Threshold
}

// CheckThreshold validates a requested threshold for preset p.
func CheckThreshold(p *geo.CoveragePreset, t float64) error {
	if math.IsNaN(t) || t <= 0 || t > p.MaxThreshold {
		return geo.Invalid("threshold", "threshold %g %s: want more than 0 and at most %g %s for %s", t, p.Unit(), p.MaxThreshold, p.Unit(), p.ID)
	}
	return nil
}

// demandSet is the demand of a preset under some attribute filters, in id
// order.
type demandSet struct {
	ID       []int64
	Lon, Lat []float64
	X, Y     []float64
	Cell     []int64 // grid cell, 0 if none
	W        []float64

	mu      sync.Mutex
	snaps   []roadSnap   // where each feature joins the road network
	snapNet *roadNetwork // the network snaps were made on
}

func (d *demandSet) Len() int { return len(d.ID) }

// coverageEval is the nearest supply of every demand feature.
type coverageEval struct {
	preset   *geo.CoveragePreset
	demand   *demandSet
	supply   []Site
	nearest  []int32   // index into supply, -1 if none within MaxThreshold
	value    []float64 // geodesic metres or travel seconds to it; +Inf if none
	versions map[string]int64
	network  *networkEval // TravelTime only

	mu      sync.Mutex
	covered map[float64][]bool // by threshold
	grid    *pointGrid         // supply, for Distance
}

// tablesRead are the tables whose data a coverage result depends on.
func tablesRead(p *geo.CoveragePreset) []string {
	ts := []string{p.DemandLayer().Table, p.SupplyLayer().Table, "grid_cells", "communities", "towns"}
	if p.Metric == TravelTimeMetric {
		ts = append(ts, "roads")
	}
	return ts
}

// TravelTimeMetric is geo.TravelTime, for brevity here.
const TravelTimeMetric = geo.TravelTime

func (s *CoverageService) versions(ctx context.Context, tables []string) (map[string]int64, int64, error) {
	return dataVersions(ctx, s.DB, tables)
}

// dataVersions returns the data versions of tables and one number for
// them all, so that a value computed from several tables is cached until
// any of them changes.
func dataVersions(ctx context.Context, db Database, tables []string) (map[string]int64, int64, error) {
	rows, err := db.QueryRows(ctx, coverageVersionsSQL, tables)
	if err != nil {
		return nil, 0, fmt.Errorf("analytics: data versions: %w", err)
	}
	defer rows.Close()
	vs := map[string]int64{}
	for rows.Next() {
		var t string
		var v int64
		if err := rows.Scan(&t, &v); err != nil {
			return nil, 0, err
		}
		vs[t] = v
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("analytics: data versions: %w", err)
	}
	h := xxhash.New()
	for _, t := range tables {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(vs[t]))
		h.WriteString(t)
		h.Write(b[:])
	}
	return vs, int64(h.Sum64() >> 1), nil
}

var (
	coverageVersionsSQL    = mustSQL("coverage_versions.sql")
	coverageDemandSQL      = mustSQL("coverage_demand.sql")
	coverageDemandCountSQL = mustSQL("coverage_demand_count.sql")
	coverageResidentsSQL   = mustSQL("coverage_residents.sql")
	coverageSupplySQL      = mustSQL("coverage_supply.sql")
	coverageWithinSQL      = mustSQL("coverage_within.sql")
	coverageGapsSQL        = mustSQL("coverage_gaps.sql")
)

// attributeFilters splits area filters (town, community, grid_cell), which
// the engine applies through the grid hierarchy, from the rest.
func attributeFilters(fs geo.Filters) (attrs, areas geo.Filters) {
	for _, f := range fs {
		switch f.Param {
		case "town", "community", "grid_cell":
			areas = append(areas, f)
		default:
			attrs = append(attrs, f)
		}
	}
	return attrs, areas
}

// eval returns the nearest supply of every demand feature for q (not
// restricted to q's area filters), computing it if the data changed.
func (s *CoverageService) eval(ctx context.Context, q *CoverageQuery) (*coverageEval, error) {
	p := q.Preset
	attrs, _ := attributeFilters(q.Demand)
	vs, v, err := s.versions(ctx, tablesRead(p))
	if err != nil {
		return nil, err
	}
	key := p.ID + "|" + attrs.Key() + "|" + q.Supply.Key() + "|" + sitesKey(q.Added)
	return s.evals.get(key, v, func() (*coverageEval, error) {
		progress(ctx, "demand", 0)
		// The demand is read again only when its own tables change, not
		// when the supply does (a hydrant's status, a new station).
		_, dv, err := s.versions(ctx, []string{p.DemandLayer().Table, "grid_cells"})
		if err != nil {
			return nil, err
		}
		d, err := s.demand(ctx, p, attrs, dv)
		if err != nil {
			return nil, err
		}
		progress(ctx, "supply", 0.3)
		sup, err := s.supply(ctx, p, q.Supply)
		if err != nil {
			return nil, err
		}
		sup = append(sup, q.Added...)
		e := &coverageEval{preset: p, demand: d, supply: sup, versions: vs, covered: map[float64][]bool{}}
		progress(ctx, "nearest", 0.5)
		if p.Metric == geo.TravelTime {
			err = s.travelTimes(ctx, e, v)
		} else {
			e.nearestByDistance()
		}
		if err != nil {
			return nil, err
		}
		progress(ctx, "nearest", 0.9)
		return e, nil
	})
}

func sitesKey(sites []Site) string {
	if len(sites) == 0 {
		return ""
	}
	h := xxhash.New()
	for _, s := range sites {
		fmt.Fprintf(h, "%d,%g,%g,%d,%g;", s.ID, s.Lon, s.Lat, s.Node, s.Capacity)
	}
	return strconv.FormatUint(h.Sum64(), 16)
}

// demand loads the preset's demand under attribute filters.
func (s *CoverageService) demand(ctx context.Context, p *geo.CoveragePreset, attrs geo.Filters, version int64) (*demandSet, error) {
	key := p.Demand.Layer + "|" + p.Demand.Weight + "|" + geo.Filters(append(p.DemandFilters(), attrs...)).Key()
	return s.demands.get(key, version, func() (*demandSet, error) {
		var sql string
		var args []any
		expect := 0
		if p.Demand.Layer == geo.Residents {
			if len(attrs) > 0 {
				return nil, geo.Invalid(attrs[0].Param, "residents can be filtered by town, community or grid_cell only, not %s", attrs[0].Param)
			}
			sql, args = coverageResidentsSQL, []any{geo.ResidentialKinds}
		} else {
			l := p.DemandLayer()
			weight := "1"
			if p.Demand.Weight != "" {
				weight = l.Weights[p.Demand.Weight]
			}
			var where string
			where, args = filtersql.Where(l, "t", append(p.DemandFilters(), attrs...), nil)
			r := strings.NewReplacer("{{table}}", filtersql.Ident(l.Table), "{{weight}}", weight, "{{where}}", where)
			sql = r.Replace(coverageDemandSQL)
			if err := s.DB.ScanRow(ctx, r.Replace(coverageDemandCountSQL), args, &expect); err != nil {
				return nil, fmt.Errorf("analytics: coverage demand: %w", err)
			}
		}
		rows, err := s.DB.QueryRows(ctx, sql, args...)
		if err != nil {
			return nil, fmt.Errorf("analytics: coverage demand: %w", err)
		}
		defer rows.Close()
		d := &demandSet{ID: make([]int64, 0, expect), Lon: make([]float64, 0, expect), Lat: make([]float64, 0, expect),
			X: make([]float64, 0, expect), Y: make([]float64, 0, expect), Cell: make([]int64, 0, expect), W: make([]float64, 0, expect)}
		raw, isRaw := rows.(rawRows)
		for rows.Next() {
			var id, cell int64
			var lon, lat, x, y, w float64
			// A million rows: decode binary int8/float8 directly where the
			// driver allows (as Points does), else through Scan.
			if cols := rawColumns(raw, isRaw, 7); cols != nil {
				id, lon, lat, x, y = int64(binary.BigEndian.Uint64(cols[0])), f64(cols[1]), f64(cols[2]), f64(cols[3]), f64(cols[4])
				cell, w = int64(binary.BigEndian.Uint64(cols[5])), f64(cols[6])
			} else if err := rows.Scan(&id, &lon, &lat, &x, &y, &cell, &w); err != nil {
				return nil, fmt.Errorf("analytics: coverage demand: %w", err)
			}
			d.ID, d.Cell, d.W = append(d.ID, id), append(d.Cell, cell), append(d.W, w)
			d.Lon, d.Lat, d.X, d.Y = append(d.Lon, lon), append(d.Lat, lat), append(d.X, x), append(d.Y, y)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("analytics: coverage demand: %w", err)
		}
		return d, nil
	})
}

// supply loads the preset's supply sites under extra filters.
func (s *CoverageService) supply(ctx context.Context, p *geo.CoveragePreset, extra geo.Filters) ([]Site, error) {
	l := p.SupplyLayer()
	col := func(name string) string {
		if name == "" {
			return "NULL"
		}
		return "t." + filtersql.Ident(name)
	}
	name := nameColumn(l)
	where, args := filtersql.Where(l, "t", append(p.SupplyFilters(), extra...), nil)
	sql := strings.NewReplacer("{{table}}", filtersql.Ident(l.Table), "{{name}}", name,
		"{{capacity}}", col(p.Supply.Capacity), "{{area}}", col(p.Supply.Area), "{{class}}", col(p.SiteClass),
		"{{where}}", where).Replace(coverageSupplySQL)
	rows, err := s.DB.QueryRows(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("analytics: coverage supply: %w", err)
	}
	defer rows.Close()
	var out []Site
	for rows.Next() {
		var st Site
		var nm, class *string
		var capacity, area *float64
		if err := rows.Scan(&st.ID, &st.Lon, &st.Lat, &st.X, &st.Y, &nm, &capacity, &area, &class); err != nil {
			return nil, fmt.Errorf("analytics: coverage supply: %w", err)
		}
		if nm != nil {
			st.Name = *nm
		}
		if class != nil {
			st.Class = *class
		}
		if capacity != nil {
			st.Capacity = *capacity
		}
		if area != nil {
			st.Area = *area
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: coverage supply: %w", err)
	}
	return out, nil
}

// nameColumn is the SQL for a supply site's name (table alias t): its
// name column, or NULL for a layer without one (hydrants).
func nameColumn(l *geo.Layer) string {
	if slices.ContainsFunc(l.Columns, func(c geo.Column) bool { return c.Name == "name" }) {
		return "t.name"
	}
	return "NULL"
}

// gkScale is the Gauss–Krüger point scale averaged along a short line
// between eastings x1 and x2 (EPSG:4549: false easting 500 km, scale 1 on
// the central meridian): planar length / geodesic length. The error of the
// spherical formula is below 1e-7 relative in the city.
func gkScale(x1, x2 float64) float64 {
	const r2 = 6371000.0 * 6371000.0
	u1, u2 := x1-500000, x2-500000
	return 1 + (u1*u1+u1*u2+u2*u2)/(6*r2)
}

// geodesic is the geodesic length of the planar EPSG:4549 segment
// (x1, y1)–(x2, y2), to within 1e-7 relative.
func geodesic(x1, y1, x2, y2 float64) float64 {
	return math.Hypot(x2-x1, y2-y1) / gkScale(x1, x2)
}

// borderline is how close to a threshold t (metres) a corrected planar
// distance must be for PostGIS geography to settle it.
func borderline(t float64) float64 { return 2e-6*t + 0.002 }

func (e *coverageEval) nearestByDistance() {
	p := e.preset
	n := e.demand.Len()
	e.nearest, e.value = make([]int32, n), make([]float64, n)
	xs, ys := make([]float64, len(e.supply)), make([]float64, len(e.supply))
	for i, s := range e.supply {
		xs[i], ys[i] = s.X, s.Y
	}
	e.grid = newPointGrid(xs, ys, max(p.Threshold, 50))
	limit := p.MaxThreshold * 1.001
	parallel(n, func(i int) {
		j, _ := e.grid.nearest(e.demand.X[i], e.demand.Y[i], limit)
		if j < 0 {
			e.nearest[i], e.value[i] = -1, math.Inf(1)
			return
		}
		e.nearest[i], e.value[i] = int32(j), geodesic(e.demand.X[i], e.demand.Y[i], xs[j], ys[j])
	})
}

// parallel calls f(i) for i in [0, n) on every core, in contiguous chunks.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), max(1, n/4096))
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// coveredAt returns which demand features are within t of some supply.
func (s *CoverageService) coveredAt(ctx context.Context, e *coverageEval, t float64) ([]bool, error) {
	e.mu.Lock()
	c, ok := e.covered[t]
	e.mu.Unlock()
	if ok {
		return c, nil
	}
	c = make([]bool, e.demand.Len())
	var undecided []int
	band := borderline(t)
	for i, v := range e.value {
		switch {
		case e.preset.Metric == geo.TravelTime:
			c[i] = v <= t
		case v < t-band:
			c[i] = true
		case v <= t+band:
			undecided = append(undecided, i)
		}
	}
	if len(undecided) > 0 {
		pairs := s.pairsNear(e, undecided, t+band)
		within, err := s.withinGeography(ctx, pairs, t)
		if err != nil {
			return nil, err
		}
		for k, pr := range pairs {
			if within[k] {
				c[pr.demand] = true
			}
		}
	}
	e.mu.Lock()
	if len(e.covered) > 32 {
		clear(e.covered)
	}
	e.covered[t] = c
	e.mu.Unlock()
	return c, nil
}

// sitePair is a demand feature (index) and a site near it.
type sitePair struct {
	demand   int
	lon, lat float64 // the demand feature's
	site     Site
}

// pairsNear lists, for each demand feature of idx, every supply site within
// r corrected-planar metres.
func (s *CoverageService) pairsNear(e *coverageEval, idx []int, r float64) []sitePair {
	var out []sitePair
	for _, i := range idx {
		x, y := e.demand.X[i], e.demand.Y[i]
		e.grid.within(x, y, r*1.001, func(j int) {
			if geodesic(x, y, e.supply[j].X, e.supply[j].Y) <= r {
				out = append(out, sitePair{i, e.demand.Lon[i], e.demand.Lat[i], e.supply[j]})
			}
		})
	}
	return out
}

// withinGeography reports, for each pair, whether PostGIS geography puts
// it within t metres.
func (s *CoverageService) withinGeography(ctx context.Context, pairs []sitePair, t float64) ([]bool, error) {
	out := make([]bool, len(pairs))
	for start := 0; start < len(pairs); start += 50000 {
		chunk := pairs[start:min(len(pairs), start+50000)]
		dx, dy, sx, sy := make([]float64, len(chunk)), make([]float64, len(chunk)), make([]float64, len(chunk)), make([]float64, len(chunk))
		for k, pr := range chunk {
			dx[k], dy[k], sx[k], sy[k] = pr.lon, pr.lat, pr.site.Lon, pr.site.Lat
		}
		rows, err := s.DB.QueryRows(ctx, coverageWithinSQL, dx, dy, sx, sy, t)
		if err != nil {
			return nil, fmt.Errorf("analytics: geography check: %w", err)
		}
		for rows.Next() {
			var i int64
			if err := rows.Scan(&i); err != nil {
				rows.Close()
				return nil, err
			}
			out[start+int(i)-1] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("analytics: geography check: %w", err)
		}
	}
	return out, nil
}

// hierarchy is the grid hierarchy: each cell's community and town, and
// the areas of each level in code order.
type hierarchy struct {
	community map[int64]int64
	town      map[int64]int64
	areas     map[AreaLevel][]AreaStats
}

func (h *hierarchy) areaOf(l AreaLevel, cell int64) int64 {
	switch l {
	case LevelTown:
		return h.town[cell]
	case LevelCommunity:
		return h.community[cell]
	}
	return cell
}

// hierarchy loads the grid hierarchy (cached by its data versions).
func (s *CoverageService) hierarchy(ctx context.Context) (*hierarchy, error) {
	_, v, err := s.versions(ctx, []string{"grid_cells", "communities", "towns"})
	if err != nil {
		return nil, err
	}
	return s.hier.get("hierarchy", v, func() (*hierarchy, error) {
		st := &StatsService{DB: s.DB}
		h := &hierarchy{community: map[int64]int64{}, town: map[int64]int64{}, areas: map[AreaLevel][]AreaStats{}}
		rows, err := s.DB.QueryRows(ctx, statsCellsSQL, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("analytics: grid hierarchy: %w", err)
		}
		for rows.Next() {
			var cell, comm, town int64
			if err := rows.Scan(&cell, &comm, &town); err != nil {
				rows.Close()
				return nil, err
			}
			h.community[cell], h.town[cell] = comm, town
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("analytics: grid hierarchy: %w", err)
		}
		for _, l := range []AreaLevel{LevelTown, LevelCommunity, LevelGridCell} {
			if h.areas[l], err = st.areas(ctx, l, 0, 0); err != nil {
				return nil, err
			}
		}
		return h, nil
	})
}
