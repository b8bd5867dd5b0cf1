package analytics

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/tiles"
)

// CoverageHandler serves the coverage engine over HTTP:
//
//	GET    /api/v1/coverage                          the presets
//	GET    /api/v1/coverage/{preset}                 coverage per town|community|grid_cell (json, csv, geojson)
//	GET    /api/v1/coverage/{preset}/uncovered       uncovered demand features (geojson, json, csv)
//	GET    /api/v1/coverage/{preset}/demand          every demand feature, covered or not
//	GET    /api/v1/coverage/{preset}/gaps            gap polygons (geojson, json, csv with WKT-free columns)
//	GET    /api/v1/service-areas?minutes=4[&station=ID][&preset=stations]
//	POST   /api/v1/siting/{preset}                   {"count": k, "candidates": ...}
//	GET    /api/v1/jobs/{id}, DELETE /api/v1/jobs/{id}
//
// Every analysis takes async=true to run as a job (202 with its id).
// Demand filters are the demand layer's (kind, tag, ..., town, community,
// grid_cell); supply filters the supply layer's with the prefix supply_
// (supply_status=faulty).
type CoverageHandler struct {
	Coverage *CoverageService
	Spacing  *SpacingService
	Jobs     *Jobs
}

// Register adds the coverage routes to e.
func (h *CoverageHandler) Register(e *echo.Echo) {
	get := []string{http.MethodGet, http.MethodHead}
	e.Match(get, "/api/v1/coverage", h.presets)
	e.Match(get, "/api/v1/coverage/:preset", h.coverage)
	e.Match(get, "/api/v1/coverage/:preset/uncovered", h.demand(true))
	e.Match(get, "/api/v1/coverage/:preset/demand", h.demand(false))
	e.Match(get, "/api/v1/coverage/:preset/gaps", h.gaps)
	e.Match(get, "/api/v1/coverage/:preset/spacing", h.spacing)
	e.Match(get, "/api/v1/service-areas", h.serviceAreas)
	e.POST("/api/v1/siting/:preset", h.siting)
	e.GET("/api/v1/jobs/:id", h.job)
	e.DELETE("/api/v1/jobs/:id", h.cancelJob)
}

// presetView is a preset as the API lists it.
type presetView struct {
	*geo.CoveragePreset
	Unit string `json:"unit"`
}

func (h *CoverageHandler) presets(c echo.Context) error {
	if err := onlyParams(c.QueryParams()); err != nil {
		return err
	}
	out := []presetView{}
	for _, id := range geo.CoveragePresetIDs() {
		p := geo.CoveragePresets[id]
		out = append(out, presetView{p, p.Unit()})
	}
	return c.JSON(http.StatusOK, map[string]any{"presets": out})
}

// run answers with f's result, or starts it as a job when async=true.
func (h *CoverageHandler) run(c echo.Context, kind string, f func(ctx context.Context) (any, error), send func(any) error) error {
	if async, _ := strconv.ParseBool(c.QueryParam("async")); async {
		j := h.Jobs.Start(kind, f)
		return c.JSON(http.StatusAccepted, map[string]any{"job": j.ID, "status": j.Status, "status_url": tiles.CarryToken(c, "/api/v1/jobs/"+j.ID)})
	}
	v, err := f(c.Request().Context())
	if err != nil {
		return err
	}
	return send(v)
}

// coverageParams are the parameters every coverage endpoint reads itself.
var coverageParams = []string{"threshold", "minutes", "level", "format", "async", "bbox", "method"}

// parseCoverageRequest reads the preset, threshold, level and filters, and
// the format among formats (the first is the default).
func parseCoverageRequest(c echo.Context, formats ...string) (CoverageQuery, string, error) {
	p, err := geo.LookupCoveragePreset(c.Param("preset"))
	if err != nil {
		return CoverageQuery{}, "", err
	}
	q, err := coverageQueryFor(p, c.QueryParams())
	if err != nil {
		return q, "", err
	}
	f, err := format(c, formats...)
	return q, f, err
}

func coverageQueryFor(p *geo.CoveragePreset, v url.Values, own ...string) (CoverageQuery, error) {
	q := CoverageQuery{Preset: p, Threshold: p.Threshold, Level: LevelTown}
	if s := v.Get("threshold"); s != "" {
		if v.Has("minutes") {
			return q, geo.Invalid("minutes", "give threshold or minutes, not both")
		}
		t, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return q, geo.Invalid("threshold", "threshold %q: want a number of %s", s, unitName(p))
		}
		q.Threshold = t
	} else if s := v.Get("minutes"); s != "" {
		if p.Metric != geo.TravelTime {
			return q, geo.Invalid("minutes", "minutes apply to travel-time presets; %s measures metres (threshold=)", p.ID)
		}
		m, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return q, geo.Invalid("minutes", "minutes %q: want a number", s)
		}
		q.Threshold = m * 60
	}
	if err := CheckThreshold(p, q.Threshold); err != nil {
		return q, err
	}
	if s := v.Get("level"); s != "" {
		switch AreaLevel(s) {
		case LevelTown, LevelCommunity, LevelGridCell:
			q.Level = AreaLevel(s)
		default:
			return q, geo.Invalid("level", "level %q: want town, community or grid_cell", s)
		}
	}
	switch m := v.Get("method"); m {
	case "", "2sfca":
	case "e2sfca":
		if p.Supply.Capacity == "" {
			return q, geo.Invalid("method", "method applies to presets with a capacity (shelters); %s has none", p.ID)
		}
		q.Zones = DefaultE2SFCAZones(q.Threshold)
	default:
		return q, geo.Invalid("method", "method %q: want 2sfca or e2sfca", m)
	}
	demand, supply := url.Values{}, url.Values{}
	for k, vals := range v {
		if strings.HasPrefix(k, "supply_") {
			supply[strings.TrimPrefix(k, "supply_")] = vals
		} else {
			demand[k] = vals
		}
	}
	var err error
	if q.Demand, err = geo.ParseFilters([]*geo.Layer{p.DemandLayer()}, demand, append(own, coverageParams...)...); err != nil {
		return q, err
	}
	if q.Supply, err = geo.ParseFilters([]*geo.Layer{p.SupplyLayer()}, supply); err != nil {
		var ge *geo.Error
		if asGeoError(err, &ge) && ge.Detail != "" {
			ge.Detail = "supply_" + ge.Detail
		}
		return q, err
	}
	return q, nil
}

func asGeoError(err error, target **geo.Error) bool {
	ge, ok := err.(*geo.Error)
	if ok {
		*target = ge
	}
	return ok
}

func unitName(p *geo.CoveragePreset) string {
	if p.Metric == geo.TravelTime {
		return "seconds"
	}
	return "metres"
}

// format reads format= among allowed (the first is the default).
func format(c echo.Context, allowed ...string) (string, error) {
	f := c.QueryParam("format")
	if f == "" {
		return allowed[0], nil
	}
	for _, a := range allowed {
		if f == a {
			return f, nil
		}
	}
	return "", geo.Invalid("format", "format %q: want %s", f, strings.Join(allowed, ", "))
}

func (h *CoverageHandler) coverage(c echo.Context) error {
	q, f, err := parseCoverageRequest(c, "json", "csv", "geojson")
	if err != nil {
		return err
	}
	return h.run(c, "coverage", func(ctx context.Context) (any, error) {
		r, err := h.Coverage.Coverage(ctx, q)
		if err != nil || f != "geojson" {
			return r, err
		}
		return h.Coverage.AreaCollection(ctx, r)
	}, func(v any) error {
		if f == "csv" {
			return sendCSV(c, "onemap-coverage-"+q.Preset.ID+"-"+string(q.Level), coverageCSV(v.(*CoverageResult)))
		}
		return c.JSON(http.StatusOK, v)
	})
}

func coverageCSV(r *CoverageResult) [][]string {
	header := []string{"id", "code", "name", "parent_id", "total", "covered", "uncovered", "ratio", "features", "uncovered_features"}
	if r.Capacity != nil {
		header = append(header, "places_per_resident", "m2_per_resident", "below_minimum")
	}
	rows := [][]string{header}
	for _, a := range r.Areas {
		row := []string{strconv.FormatInt(a.ID, 10), a.Code, a.Name, csvInt(a.ParentID), csvNum(a.Total), csvNum(a.Covered),
			csvNum(a.Uncovered), csvPtr(a.Ratio), strconv.Itoa(a.Features), strconv.Itoa(a.UncoveredFeatures)}
		if r.Capacity != nil {
			below := ""
			if a.BelowMinimum != nil {
				below = strconv.FormatBool(*a.BelowMinimum)
			}
			row = append(row, csvPtr(a.PlacesPerResident), csvPtr(a.AreaPerResident), below)
		}
		rows = append(rows, row)
	}
	return rows
}

func (h *CoverageHandler) demand(uncoveredOnly bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		q, f, err := parseCoverageRequest(c, "geojson", "json", "csv")
		if err != nil {
			return err
		}
		var bbox *[4]float64
		if s := c.QueryParam("bbox"); s != "" {
			b, err := geo.ParseBBox(s)
			if err != nil {
				return err
			}
			bbox = &b
		}
		kind := "demand"
		if uncoveredOnly {
			kind = "uncovered"
		}
		return h.run(c, kind, func(ctx context.Context) (any, error) {
			fs, err := h.Coverage.DemandFeatures(ctx, q, bbox, uncoveredOnly)
			if err != nil || f != "geojson" {
				return fs, err
			}
			fc := DemandCollection(fs, q.Preset.Unit())
			fc.ExtraMembers = map[string]any{"preset": q.Preset.ID, "threshold": q.Threshold, "unit": q.Preset.Unit()}
			return fc, nil
		}, func(v any) error {
			if f == "csv" {
				return sendCSV(c, "onemap-"+kind+"-"+q.Preset.ID, demandCSV(v.([]DemandFeature), q.Preset.Unit()))
			}
			return c.JSON(http.StatusOK, v)
		})
	}
}

func demandCSV(fs []DemandFeature, unit string) [][]string {
	value := "distance_m"
	if unit == "s" {
		value = "time_s"
	}
	rows := [][]string{{"id", "kind", "lon", "lat", "grid_cell_id", "weight", "covered", "nearest_id", value}}
	for _, f := range fs {
		rows = append(rows, []string{strconv.FormatInt(f.ID, 10), f.Kind, csvNum(f.Lon), csvNum(f.Lat),
			strconv.FormatInt(f.GridCell, 10), csvNum(f.Weight), strconv.FormatBool(f.Covered), csvInt(f.NearestID), csvPtr(f.Value)})
	}
	return rows
}

func (h *CoverageHandler) gaps(c echo.Context) error {
	q, f, err := parseCoverageRequest(c, "geojson", "json", "csv")
	if err != nil {
		return err
	}
	return h.run(c, "gaps", func(ctx context.Context) (any, error) {
		fc, err := h.Coverage.Gaps(ctx, q)
		if err != nil {
			return nil, err
		}
		out := *fc // the cached collection is shared
		out.ExtraMembers = map[string]any{"preset": q.Preset.ID, "threshold": q.Threshold, "unit": q.Preset.Unit()}
		return &out, nil
	}, func(v any) error {
		if f == "csv" {
			rows := [][]string{{"grid_cell_id", "area_m2", "uncovered", "uncovered_features"}}
			for _, ft := range v.(*geojson.FeatureCollection).Features {
				pr := ft.Properties
				rows = append(rows, []string{fmt.Sprint(pr["grid_cell_id"]), fmt.Sprint(pr["area_m2"]), fmt.Sprint(pr["uncovered"]), fmt.Sprint(pr["uncovered_features"])})
			}
			return sendCSV(c, "onemap-gaps-"+q.Preset.ID, rows)
		}
		return c.JSON(http.StatusOK, v)
	})
}

func (h *CoverageHandler) serviceAreas(c echo.Context) error {
	v := c.QueryParams()
	if err := onlyParams(v, "preset", "minutes", "seconds", "station", "buffer", "format", "async"); err != nil {
		return err
	}
	id := v.Get("preset")
	if id == "" {
		id = "stations"
	}
	p, err := geo.LookupCoveragePreset(id)
	if err != nil {
		return err
	}
	q := ServiceAreaQuery{Preset: p}
	if p.Metric != geo.TravelTime {
		return geo.Invalid("preset", "service areas need a travel-time preset; %s measures metres", p.ID)
	}
	for _, param := range []string{"minutes", "seconds"} {
		if s := v.Get(param); s != "" {
			for _, part := range strings.Split(s, ",") {
				x, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
				if err != nil || !(x > 0) {
					return geo.Invalid(param, "%s %q: want positive numbers, comma-separated", param, s)
				}
				if param == "minutes" {
					x *= 60
				}
				if x > p.MaxThreshold {
					return geo.Invalid(param, "%s %q: at most %g seconds (%g minutes)", param, s, p.MaxThreshold, p.MaxThreshold/60)
				}
				q.Seconds = append(q.Seconds, x)
			}
		}
	}
	if len(q.Seconds) > 6 {
		return geo.Invalid("minutes", "at most 6 breaks")
	}
	if s := v.Get("station"); s != "" {
		for _, part := range strings.Split(s, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
			if err != nil || id <= 0 {
				return geo.Invalid("station", "station %q: want station ids, comma-separated", s)
			}
			q.Sources = append(q.Sources, id)
		}
	}
	if s := v.Get("buffer"); s != "" {
		b, err := strconv.ParseFloat(s, 64)
		if err != nil || b < 5 || b > 500 {
			return geo.Invalid("buffer", "buffer %q: want 5 to 500 metres", s)
		}
		q.Buffer = b
	}
	f, err := format(c, "geojson", "json", "csv")
	if err != nil {
		return err
	}
	return h.run(c, "service-areas", func(ctx context.Context) (any, error) {
		return h.Coverage.ServiceAreas(ctx, q)
	}, func(v any) error {
		if f == "csv" {
			rows := [][]string{{"station_id", "name", "seconds", "minutes", "area_km2"}}
			for _, ft := range v.(*geojson.FeatureCollection).Features {
				pr := ft.Properties
				name, _ := pr["name"].(string)
				rows = append(rows, []string{fmt.Sprint(pr["station_id"]), name, fmt.Sprint(pr["seconds"]), fmt.Sprint(pr["minutes"]), fmt.Sprint(pr["area_km2"])})
			}
			return sendCSV(c, "onemap-service-areas", rows)
		}
		return c.JSON(http.StatusOK, v)
	})
}

// sitingBody is the body of POST /api/v1/siting/{preset}.
type sitingBody struct {
	Count int `json:"count"`
	// Candidates: "roads", "road_nodes", "grid_cells", a list of
	// [lon, lat] pairs, or a GeoJSON FeatureCollection of points.
	Candidates json.RawMessage `json:"candidates"`
	Threshold  *float64        `json:"threshold"`
}

func (h *CoverageHandler) siting(c echo.Context) error {
	p, err := geo.LookupCoveragePreset(c.Param("preset"))
	if err != nil {
		return err
	}
	var body sitingBody
	dec := json.NewDecoder(io.LimitReader(c.Request().Body, 8<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return geo.Invalid("body", "the body must be JSON {\"count\": k, \"candidates\": ...}: %v", err)
	}
	v := c.QueryParams()
	if body.Threshold != nil {
		if v.Has("threshold") {
			return geo.Invalid("threshold", "give the threshold in the body or the query, not both")
		}
		v = cloneValues(v)
		v.Set("threshold", strconv.FormatFloat(*body.Threshold, 'g', -1, 64))
	}
	cq, err := coverageQueryFor(p, v)
	if err != nil {
		return err
	}
	q := SitingQuery{Coverage: cq, Count: body.Count}
	if body.Count < 1 || body.Count > MaxSitingCount {
		return geo.Invalid("count", "count %d: want 1 to %d new sites", body.Count, MaxSitingCount)
	}
	if q.Candidates, q.Source, err = parseCandidates(body.Candidates, p); err != nil {
		return err
	}
	f, err := format(c, "json", "geojson", "csv")
	if err != nil {
		return err
	}
	return h.run(c, "siting", func(ctx context.Context) (any, error) {
		r, err := h.Coverage.Siting(ctx, q)
		if err != nil || f != "geojson" {
			return r, err
		}
		return proposalCollection(r), nil
	}, func(v any) error {
		if f == "csv" {
			r := v.(*SitingResult)
			rows := [][]string{{"rank", "id", "lon", "lat", "node", "gain", "cumulative", "newly_covered_features"}}
			for _, pr := range r.Proposals {
				rows = append(rows, []string{strconv.Itoa(pr.Rank), strconv.FormatInt(pr.ID, 10), csvNum(pr.Lon), csvNum(pr.Lat),
					strconv.FormatInt(pr.Node, 10), csvNum(pr.Gain), csvNum(pr.Cumulative), strconv.Itoa(pr.NewlyCoveredFeatures)})
			}
			return sendCSV(c, "onemap-siting-"+p.ID, rows)
		}
		return c.JSON(http.StatusOK, v)
	})
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// parseCandidates reads the candidates member: a rule name, [lon, lat]
// pairs or GeoJSON points. Given points get ids 1, 2, ... in order.
func parseCandidates(raw json.RawMessage, p *geo.CoveragePreset) ([]Site, string, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, "", nil
	}
	var rule string
	if json.Unmarshal(raw, &rule) == nil {
		switch rule {
		case "roads", "road_nodes", "grid_cells":
			if p.Metric == geo.TravelTime && rule != "road_nodes" {
				return nil, "", geo.Invalid("candidates", "candidates for %s (travel time) are road_nodes", p.ID)
			}
			return nil, rule, nil
		}
		return nil, "", geo.Invalid("candidates", "candidates %q: want roads, road_nodes, grid_cells, [[lon, lat], ...] or a GeoJSON FeatureCollection of points", rule)
	}
	var pts []orb.Point
	var pairs [][]float64
	if err := json.Unmarshal(raw, &pairs); err == nil {
		for i, pr := range pairs {
			if len(pr) != 2 {
				return nil, "", geo.Invalid(fmt.Sprintf("candidates[%d]", i), "want [lon, lat]")
			}
			pts = append(pts, orb.Point{pr[0], pr[1]})
		}
	} else {
		fc, err := geojson.UnmarshalFeatureCollection(raw)
		if err != nil {
			return nil, "", geo.Invalid("candidates", "candidates: want roads, road_nodes, grid_cells, [[lon, lat], ...] or a GeoJSON FeatureCollection of points")
		}
		for i, f := range fc.Features {
			pt, ok := f.Geometry.(orb.Point)
			if !ok {
				return nil, "", geo.Invalid(fmt.Sprintf("candidates.features[%d]", i), "want a Point geometry")
			}
			pts = append(pts, pt)
		}
	}
	if len(pts) == 0 {
		return nil, "", geo.Invalid("candidates", "the candidate list is empty: give at least one site, or omit candidates to use the preset's rule (%s)", p.Siting)
	}
	if p.Metric == geo.TravelTime {
		return nil, "", geo.Invalid("candidates", "candidates for %s (travel time) are road junctions: use \"road_nodes\"", p.ID)
	}
	if len(pts) > 100000 {
		return nil, "", geo.Invalid("candidates", "%d candidates: at most 100000", len(pts))
	}
	sites := make([]Site, len(pts))
	for i, pt := range pts {
		if math.IsNaN(pt[0]) || pt[0] < -180 || pt[0] > 180 || math.IsNaN(pt[1]) || pt[1] < -90 || pt[1] > 90 {
			return nil, "", geo.Invalid(fmt.Sprintf("candidates[%d]", i), "[%g, %g] is not a longitude, latitude pair", pt[0], pt[1])
		}
		x, y := geo.ToGK120(pt[0], pt[1])
		sites[i] = Site{ID: int64(i + 1), Lon: pt[0], Lat: pt[1], X: x, Y: y}
	}
	return sites, "given", nil
}

func proposalCollection(r *SitingResult) *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	for _, pr := range r.Proposals {
		f := geojson.NewFeature(orb.Point{pr.Lon, pr.Lat})
		f.Properties["rank"] = pr.Rank
		f.Properties["id"] = pr.ID
		f.Properties["gain"] = pr.Gain
		f.Properties["cumulative"] = pr.Cumulative
		f.Properties["newly_covered_features"] = pr.NewlyCoveredFeatures
		if pr.Node != 0 {
			f.Properties["node"] = pr.Node
		}
		fc.Append(f)
	}
	fc.ExtraMembers = map[string]any{"preset": r.Preset, "threshold": r.Threshold, "before": r.Before, "after": r.After,
		"candidates": r.Candidates, "candidate_source": r.CandidateSource}
	return fc
}

func (h *CoverageHandler) job(c echo.Context) error {
	j, err := h.Jobs.Get(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, j)
}

func (h *CoverageHandler) cancelJob(c echo.Context) error {
	j, err := h.Jobs.Cancel(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, j)
}

func (h *CoverageHandler) spacing(c echo.Context) error {
	if c.Param("preset") != "hydrants" {
		return geo.Errorf(geo.ENotFound, "spacing checks are of hydrants: /api/v1/coverage/hydrants/spacing")
	}
	return h.spacingViolations(c)
}

// onlyParams rejects query parameters other than allowed.
func onlyParams(v url.Values, allowed ...string) error {
	for k := range v {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			return geo.Invalid(k, "unknown parameter %q: this endpoint takes %s", k, orNone(allowed))
		}
	}
	return nil
}

// sendCSV sends rows (the first the header) as a CSV attachment with a
// UTF-8 byte-order mark, so that Excel reads Chinese names right.
func sendCSV(c echo.Context, name string, rows [][]string) error {
	var buf bytes.Buffer
	buf.WriteString(statsBOM)
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	_ = w.WriteAll(rows) // the error surfaces in w.Error
	if err := w.Error(); err != nil {
		return fmt.Errorf("analytics: write CSV: %w", err)
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`.csv"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

func csvNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func csvPtr(v *float64) string {
	if v == nil {
		return ""
	}
	return csvNum(*v)
}

func csvInt(v *int64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatInt(*v, 10)
}

// spacingViolations answers GET /api/v1/coverage/hydrants/spacing: GB 50974
// spacing (max_spacing, default 120 m) and both-sides (wide_road, 60 m)
// violations, as GeoJSON or CSV.
func (h *CoverageHandler) spacingViolations(c echo.Context) error {
	v := c.QueryParams()
	if err := onlyParams(v, "max_spacing", "wide_road", "reach", "in_service_only", "bbox", "format", "async"); err != nil {
		return err
	}
	q := DefaultSpacingQuery()
	for param, dst := range map[string]*float64{"max_spacing": &q.MaxSpacing, "wide_road": &q.WideRoad, "reach": &q.Reach} {
		if s := v.Get(param); s != "" {
			x, err := strconv.ParseFloat(s, 64)
			if err != nil || !(x > 0) || x > 10000 {
				return geo.Invalid(param, "%s %q: want metres, more than 0 and at most 10000", param, s)
			}
			*dst = x
		}
	}
	if s := v.Get("in_service_only"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return geo.Invalid("in_service_only", "in_service_only %q: want true or false", s)
		}
		q.InServiceOnly = b
	}
	if s := v.Get("bbox"); s != "" {
		b, err := geo.ParseBBox(s)
		if err != nil {
			return err
		}
		q.BBox = &b
	}
	f, err := format(c, "geojson", "csv")
	if err != nil {
		return err
	}
	return h.run(c, "spacing", func(ctx context.Context) (any, error) {
		return h.Spacing.Violations(ctx, q)
	}, func(v any) error {
		vs := v.([]SpacingViolation)
		if f == "csv" {
			rows := [][]string{{"kind", "road", "side", "width_m", "from_m", "to_m", "length_m", "from_hydrant", "to_hydrant"}}
			for _, x := range vs {
				rows = append(rows, []string{x.Kind, x.Road, x.Side, csvNum(x.Width), csvNum(x.From), csvNum(x.To), csvNum(x.Length),
					strconv.FormatInt(x.FromHydrant, 10), strconv.FormatInt(x.ToHydrant, 10)})
			}
			return sendCSV(c, "onemap-hydrant-spacing", rows)
		}
		fc := SpacingFeatureCollection(vs)
		fc.ExtraMembers = map[string]any{"max_spacing": q.MaxSpacing, "wide_road": q.WideRoad, "in_service_only": q.InServiceOnly}
		return c.JSON(http.StatusOK, fc)
	})
}
