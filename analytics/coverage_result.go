package analytics

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/filtersql"
)

// CoverageResult is the answer to a coverage question: demand within the
// threshold of supply, in total and per area of one level. Demand counts
// are weighted: premises count 1 each, residents by population.
type CoverageResult struct {
	Preset            string             `json:"preset"`
	Title             string             `json:"title"`
	Metric            geo.CoverageMetric `json:"metric"`
	Unit              string             `json:"unit"`
	Threshold         float64            `json:"threshold"`
	Level             AreaLevel          `json:"level"`
	Demand            string             `json:"demand"`
	Supply            string             `json:"supply"`
	Total             float64            `json:"total"`
	Covered           float64            `json:"covered"`
	Uncovered         float64            `json:"uncovered"`
	Ratio             *float64           `json:"ratio"` // nil when there is no demand
	Features          int                `json:"features"`
	UncoveredFeatures int                `json:"uncovered_features"`
	Sites             int                `json:"sites"`
	Proposed          int                `json:"proposed,omitempty"`
	// Capacity is the 2SFCA capacity check of presets with a capacity.
	Capacity *CapacityCheck   `json:"capacity,omitempty"`
	Areas    []CoverageArea   `json:"areas"`
	Versions map[string]int64 `json:"versions"`
}

// CoverageArea is the coverage of one town, community or grid cell.
type CoverageArea struct {
	ID                int64    `json:"id"`
	Code              string   `json:"code"`
	Name              string   `json:"name"`
	ParentID          *int64   `json:"parent_id"`
	Total             float64  `json:"total"`
	Covered           float64  `json:"covered"`
	Uncovered         float64  `json:"uncovered"`
	Ratio             *float64 `json:"ratio"`
	Features          int      `json:"features"`
	UncoveredFeatures int      `json:"uncovered_features"`
	// 2SFCA accessibility (presets with a capacity): supply per resident
	// reachable from the area, averaged over its residents.
	PlacesPerResident *float64 `json:"places_per_resident,omitempty"`
	AreaPerResident   *float64 `json:"m2_per_resident,omitempty"`
	BelowMinimum      *bool    `json:"below_minimum,omitempty"`
}

// CapacityCheck summarises supply against demand by 2SFCA.
type CapacityCheck struct {
	Method               string    `json:"method"` // "2SFCA" or "E2SFCA"
	Catchment            float64   `json:"catchment"`
	ZoneWeights          []FCAZone `json:"zone_weights,omitempty"`
	Places               float64   `json:"places"`
	AreaM2               float64   `json:"area_m2"`
	MinPlacesPerResident float64   `json:"min_places_per_resident,omitempty"`
	MinAreaPerResident   float64   `json:"min_m2_per_resident,omitempty"`
	AreasBelowMinimum    int       `json:"areas_below_minimum"`
	// SitesBelowLevelMinimum are sites under the provincial minimum
	// capacity of their level (county 200, township 100, village 50).
	SitesBelowLevelMinimum []int64 `json:"sites_below_level_minimum,omitempty"`
}

// areaFilter keeps grid cells in the areas of town, community and
// grid_cell filters (all of them that are given).
func (h *hierarchy) areaFilter(areas geo.Filters) func(cell int64) bool {
	if len(areas) == 0 {
		return func(int64) bool { return true }
	}
	sets := map[string]map[int64]bool{}
	for _, f := range areas {
		set := map[int64]bool{}
		for _, v := range f.Values {
			id, _ := strconv.ParseInt(v, 10, 64)
			set[id] = true
		}
		sets[f.Param] = set
	}
	return func(cell int64) bool {
		if s, ok := sets["grid_cell"]; ok && !s[cell] {
			return false
		}
		if s, ok := sets["community"]; ok && !s[h.community[cell]] {
			return false
		}
		if s, ok := sets["town"]; ok && !s[h.town[cell]] {
			return false
		}
		return true
	}
}

// evaluated is a coverage question answered for every demand feature:
// its threshold, the nearest supply, which features are covered, and the
// study area of its area filters.
type evaluated struct {
	t           float64
	e           *coverageEval
	covered     []bool
	h           *hierarchy
	areaFilters geo.Filters
	keep        func(cell int64) bool
}

func (s *CoverageService) evaluate(ctx context.Context, q CoverageQuery) (*evaluated, error) {
	t := q.threshold()
	if err := CheckThreshold(q.Preset, t); err != nil {
		return nil, err
	}
	e, err := s.eval(ctx, &q)
	if err != nil {
		return nil, err
	}
	covered, err := s.coveredAt(ctx, e, t)
	if err != nil {
		return nil, err
	}
	h, err := s.hierarchy(ctx)
	if err != nil {
		return nil, err
	}
	_, areaFilters := attributeFilters(q.Demand)
	return &evaluated{t: t, e: e, covered: covered, h: h, areaFilters: areaFilters, keep: h.areaFilter(areaFilters)}, nil
}

// Coverage answers q.
func (s *CoverageService) Coverage(ctx context.Context, q CoverageQuery) (*CoverageResult, error) {
	ev, err := s.evaluate(ctx, q)
	if err != nil {
		return nil, err
	}
	p, t, e, covered, h, areaFilters, keep := q.Preset, ev.t, ev.e, ev.covered, ev.h, ev.areaFilters, ev.keep
	level := q.Level
	if level == "" {
		level = LevelTown
	}
	res := &CoverageResult{Preset: p.ID, Title: p.Title, Metric: p.Metric, Unit: p.Unit(), Threshold: t, Level: level,
		Demand: p.Demand.Layer, Supply: p.Supply.Layer, Sites: len(e.supply), Versions: e.versions}
	for _, st := range e.supply {
		if st.Proposed {
			res.Proposed++
		}
	}
	var fca *fcaOutcome
	if p.Supply.Capacity != "" {
		if fca, err = s.capacity(e, t, q.Zones); err != nil {
			return nil, err
		}
	}
	byArea := map[int64]*CoverageArea{}
	type accessSums struct{ w, places, area float64 }
	access := map[int64]*accessSums{}
	d := e.demand
	for i := range d.Len() {
		if !keep(d.Cell[i]) {
			continue
		}
		a := h.areaOf(level, d.Cell[i])
		ar := byArea[a]
		if ar == nil {
			ar = &CoverageArea{ID: a}
			byArea[a] = ar
		}
		w := d.W[i]
		ar.Total += w
		ar.Features++
		res.Total += w
		res.Features++
		if covered[i] {
			ar.Covered += w
			res.Covered += w
		} else {
			ar.Uncovered += w
			ar.UncoveredFeatures++
			res.Uncovered += w
			res.UncoveredFeatures++
		}
		if fca != nil {
			as := access[a]
			if as == nil {
				as = &accessSums{}
				access[a] = as
			}
			as.w += w
			as.places += w * fca.places.Access[i]
			as.area += w * fca.area.Access[i]
		}
	}
	res.Ratio = ratio(res.Covered, res.Total)
	if fca != nil {
		res.Capacity = fca.summary(p, e)
	}
	for _, info := range h.areas[level] {
		ar := byArea[info.ID]
		if ar == nil {
			if len(areaFilters) > 0 {
				continue // an area outside the filters, or without demand in them
			}
			ar = &CoverageArea{ID: info.ID}
		}
		ar.Code, ar.Name, ar.ParentID = info.Code, info.Name, info.ParentID
		ar.Ratio = ratio(ar.Covered, ar.Total)
		if as := access[info.ID]; as != nil && as.w > 0 {
			pl, am := as.places/as.w, as.area/as.w
			below := (p.MinPlacesPerResident > 0 && pl < p.MinPlacesPerResident) || (p.MinAreaPerResident > 0 && am < p.MinAreaPerResident)
			ar.PlacesPerResident, ar.AreaPerResident, ar.BelowMinimum = &pl, &am, &below
			if below {
				res.Capacity.AreasBelowMinimum++
			}
		}
		res.Areas = append(res.Areas, *ar)
	}
	if res.Areas == nil {
		res.Areas = []CoverageArea{}
	}
	return res, nil
}

func ratio(part, total float64) *float64 {
	if total <= 0 {
		return nil
	}
	r := part / total
	return &r
}

// DemandFeature is one demand feature's coverage.
type DemandFeature struct {
	ID        int64    `json:"id"`
	Kind      string   `json:"kind"` // the demand layer's feature kind: premise, or grid_cell for residents placed in a cell
	Lon       float64  `json:"lon"`
	Lat       float64  `json:"lat"`
	GridCell  int64    `json:"grid_cell_id"`
	Weight    float64  `json:"weight"`
	Covered   bool     `json:"covered"`
	NearestID *int64   `json:"nearest_id"` // nil: none within the preset's largest threshold
	Proposed  bool     `json:"nearest_proposed,omitempty"`
	Value     *float64 `json:"value"` // metres or seconds to the nearest supply
}

// DemandFeatures lists the demand features of q (within its area filters
// and the optional lon/lat box), only the uncovered ones when uncoveredOnly.
func (s *CoverageService) DemandFeatures(ctx context.Context, q CoverageQuery, bbox *[4]float64, uncoveredOnly bool) ([]DemandFeature, error) {
	ev, err := s.evaluate(ctx, q)
	if err != nil {
		return nil, err
	}
	p, e, covered, keep := q.Preset, ev.e, ev.covered, ev.keep
	kind := p.DemandLayer().ID
	if kind == "premises" {
		kind = "premise"
	}
	d := e.demand
	out := []DemandFeature{}
	for i := range d.Len() {
		if (uncoveredOnly && covered[i]) || !keep(d.Cell[i]) {
			continue
		}
		if bbox != nil && (d.Lon[i] < bbox[0] || d.Lat[i] < bbox[1] || d.Lon[i] > bbox[2] || d.Lat[i] > bbox[3]) {
			continue
		}
		f := DemandFeature{ID: d.ID[i], Kind: kind, Lon: d.Lon[i], Lat: d.Lat[i], GridCell: d.Cell[i], Weight: d.W[i], Covered: covered[i]}
		if d.ID[i] < 0 {
			f.ID, f.Kind = -d.ID[i], "grid_cell"
		}
		if j := e.nearest[i]; j >= 0 {
			st := e.supply[j]
			id, v := st.ID, round3(e.value[i])
			f.NearestID, f.Value, f.Proposed = &id, &v, st.Proposed
		}
		out = append(out, f)
	}
	return out, nil
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// DemandCollection is features as GeoJSON points.
func DemandCollection(fs []DemandFeature, unit string) *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	valueName := "distance_m"
	if unit == "s" {
		valueName = "time_s"
	}
	for _, f := range fs {
		g := geojson.NewFeature(orb.Point{f.Lon, f.Lat})
		g.ID = f.ID
		g.Properties["id"] = f.ID
		g.Properties["kind"] = f.Kind
		g.Properties["grid_cell_id"] = f.GridCell
		g.Properties["weight"] = f.Weight
		g.Properties["covered"] = f.Covered
		g.Properties["nearest_id"] = f.NearestID
		g.Properties[valueName] = f.Value
		fc.Append(g)
	}
	return fc
}

// Gaps returns the gap polygons of q: each grid cell holding demand (in
// q's area filters) minus what the supply serves within the threshold
// (discs for a distance preset, service areas for a travel-time one).
func (s *CoverageService) Gaps(ctx context.Context, q CoverageQuery) (*geojson.FeatureCollection, error) {
	ev, err := s.evaluate(ctx, q)
	if err != nil {
		return nil, err
	}
	p, t, e, covered, areaFilters, keep := q.Preset, ev.t, ev.e, ev.covered, ev.areaFilters, ev.keep
	type cellDemand struct {
		uncovered float64
		features  int
	}
	cells := map[int64]*cellDemand{}
	var ids []int64
	d := e.demand
	for i := range d.Len() {
		c := d.Cell[i]
		if c == 0 || !keep(c) {
			continue
		}
		cd := cells[c]
		if cd == nil {
			cd = &cellDemand{}
			cells[c] = cd
			ids = append(ids, c)
		}
		if !covered[i] {
			cd.uncovered += d.W[i]
			cd.features++
		}
	}
	if len(ids) == 0 {
		return geojson.NewFeatureCollection(), nil
	}
	_, v, err := s.versions(ctx, tablesRead(p))
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("%s|%s|%s|%s|%g|%s", p.ID, q.Demand.Key(), q.Supply.Key(), sitesKey(q.Added), t, areaFilters.Key())
	return s.gaps.get(key, v, func() (*geojson.FeatureCollection, error) {
		progress(ctx, "gaps", 0.9)
		return s.gapPolygons(ctx, e, q, t, ids, func(cell int64) (float64, int) { return cells[cell].uncovered, cells[cell].features })
	})
}

// gapBuffer is the buffer around reached roads that gap polygons of a
// travel-time preset count as served: wide enough to fill a city block
// (METHODS.md: 50–100 m).
const gapBuffer = 100.0

func (s *CoverageService) gapPolygons(ctx context.Context, e *coverageEval, q CoverageQuery, t float64, ids []int64,
	uncovered func(cell int64) (float64, int)) (*geojson.FeatureCollection, error) {
	p := q.Preset
	var rows geo.Rows
	var err error
	if p.Metric == geo.TravelTime {
		var src []int64
		for _, st := range e.supply {
			if st.Proposed {
				return nil, geo.Invalid("candidates", "gap polygons of %s cannot include proposed sites yet; ask for the coverage or the uncovered features instead", p.ID)
			}
			src = append(src, st.ID)
		}
		if src == nil {
			src = []int64{}
		}
		rows, err = s.DB.QueryRows(ctx, networkGapsSQL, p.SupplyLayer().Table, src, t, gapBuffer, ids)
	} else {
		xs, ys := []float64{}, []float64{}
		for _, st := range e.supply {
			if st.Proposed {
				xs, ys = append(xs, st.X), append(ys, st.Y)
			}
		}
		l := p.SupplyLayer()
		where, args := filtersql.Where(l, "t", append(p.SupplyFilters(), q.Supply...), []any{ids, t, xs, ys})
		sql := strings.NewReplacer("{{table}}", filtersql.Ident(l.Table), "{{where}}", where).Replace(coverageGapsSQL)
		rows, err = s.DB.QueryRows(ctx, sql, args...)
	}
	if err != nil {
		return nil, fmt.Errorf("analytics: coverage gaps: %w", err)
	}
	fc := geojson.NewFeatureCollection()
	defer rows.Close()
	for rows.Next() {
		var cell int64
		var gj []byte
		var area float64
		if err := rows.Scan(&cell, &gj, &area); err != nil {
			return nil, err
		}
		g, err := geojson.UnmarshalGeometry(gj)
		if err != nil {
			return nil, fmt.Errorf("analytics: gap of cell %d: %w", cell, err)
		}
		f := geojson.NewFeature(g.Geometry())
		f.ID = cell
		f.Properties["grid_cell_id"] = cell
		f.Properties["area_m2"] = math.Round(area)
		f.Properties["uncovered"], f.Properties["uncovered_features"] = uncovered(cell)
		fc.Append(f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: coverage gaps: %w", err)
	}
	return fc, nil
}

var coverageAreaShapesSQL = mustSQL("coverage_area_shapes.sql")

// AreaCollection is r's areas as GeoJSON polygons carrying their coverage
// (for a choropleth), with r's totals as foreign members.
func (s *CoverageService) AreaCollection(ctx context.Context, r *CoverageResult) (*geojson.FeatureCollection, error) {
	ids := make([]int64, len(r.Areas))
	for i, a := range r.Areas {
		ids[i] = a.ID
	}
	rows, err := s.DB.QueryRows(ctx, coverageAreaShapesSQL, string(r.Level), ids)
	if err != nil {
		return nil, fmt.Errorf("analytics: area outlines: %w", err)
	}
	defer rows.Close()
	shapes := map[int64]orb.Geometry{}
	for rows.Next() {
		var id int64
		var gj []byte
		if err := rows.Scan(&id, &gj); err != nil {
			return nil, err
		}
		g, err := geojson.UnmarshalGeometry(gj)
		if err != nil {
			return nil, fmt.Errorf("analytics: outline of %d: %w", id, err)
		}
		shapes[id] = g.Geometry()
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: area outlines: %w", err)
	}
	fc := geojson.NewFeatureCollection()
	for _, a := range r.Areas {
		f := geojson.NewFeature(shapes[a.ID])
		f.ID = a.ID
		f.Properties = geojson.Properties{"id": a.ID, "code": a.Code, "name": a.Name, "parent_id": a.ParentID,
			"total": a.Total, "covered": a.Covered, "uncovered": a.Uncovered, "ratio": a.Ratio,
			"features": a.Features, "uncovered_features": a.UncoveredFeatures}
		if a.PlacesPerResident != nil {
			f.Properties["places_per_resident"] = *a.PlacesPerResident
			f.Properties["m2_per_resident"] = *a.AreaPerResident
			f.Properties["below_minimum"] = *a.BelowMinimum
		}
		fc.Append(f)
	}
	fc.ExtraMembers = map[string]any{"preset": r.Preset, "threshold": r.Threshold, "unit": r.Unit, "level": r.Level,
		"total": r.Total, "covered": r.Covered, "uncovered": r.Uncovered, "ratio": r.Ratio}
	return fc, nil
}
