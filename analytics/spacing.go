package analytics

import (
	"context"
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/paulmach/orb/geojson"

	"github.com/onemap-city/onemap/geo"
)

// Kinds of SpacingViolation.
const (
	// SpacingGap: consecutive hydrants along a road more than MaxSpacing apart.
	SpacingGap = "spacing"
	// SpacingOneSide: a side of a road wider than WideRoad without a
	// hydrant for more than MaxSpacing, or with none at all.
	SpacingOneSide = "one_side"
)

// SpacingQuery sets the GB 50974 checks of hydrants along roads. Start from
// DefaultSpacingQuery: every field is taken as given, and the zero
// InServiceOnly counts faulty and out-of-service hydrants too.
type SpacingQuery struct {
	MaxSpacing float64 // metres along a road between consecutive hydrants (GB 50974: 120)
	WideRoad   float64 // roads wider than this many metres need hydrants on both sides (GB 50974: 60)
	// Reach is how far from the kerb a hydrant still belongs to the road:
	// a hydrant belongs to the nearest road whose centreline is within
	// width_m/2 + Reach metres of it.
	Reach         float64
	InServiceOnly bool        // count only in-service hydrants (faulty and out-of-service ones supply no water)
	BBox          *[4]float64 // optional minLon, minLat, maxLon, maxLat (EPSG:4326), as geo.ParseBBox gives
}

// DefaultSpacingQuery is the GB 50974-2014 check: 120 m spacing, both sides
// of roads wider than 60 m, hydrants within 15 m of the kerb, in-service
// hydrants only, the whole city.
func DefaultSpacingQuery() SpacingQuery {
	return SpacingQuery{MaxSpacing: 120, WideRoad: 60, Reach: 15, InServiceOnly: true}
}

// SpacingViolation is a stretch of road breaking a spacing rule.
//
// A road is the merge of the rows of roads sharing its name (an unnamed row
// is a road alone); where the merge falls apart (branches, a name used in
// two towns) each part is a line of its own. Positions are metres along
// that line, which runs west to east, or south to north where it runs more
// north-south; Side is relative to that direction, so "left" is the north
// (or west) side.
type SpacingViolation struct {
	Kind    string  // SpacingGap or SpacingOneSide
	Road    string  // the road's name; "" for an unnamed row
	RoadIDs []int64 // the rows of roads the stretch runs along, in order along it
	Side    string  // "" for SpacingGap, "left" or "right" for SpacingOneSide
	Width   float64 // the road's width, metres (its widest row on this line)
	// From and To are the stretch's ends in metres along the line, and
	// Length = To − From.
	From, To, Length float64
	// FromHydrant and ToHydrant are the hydrants at the stretch's ends (0
	// if none: a side with no hydrant at all spans the whole line). At the
	// ends of a one-sided stretch they may stand on the other side.
	FromHydrant, ToHydrant int64
	Geometry               orb.LineString // the stretch, EPSG:4326
}

// Feature returns the violation as a GeoJSON feature in EPSG:4326 with its
// figures as properties.
func (v SpacingViolation) Feature() *geojson.Feature {
	f := geojson.NewFeature(v.Geometry)
	ids := v.RoadIDs
	if ids == nil {
		ids = []int64{}
	}
	f.Properties = geojson.Properties{
		"kind": v.Kind, "road": v.Road, "road_ids": ids, "side": v.Side, "width_m": v.Width,
		"from_m": roundMM(v.From), "to_m": roundMM(v.To), "length_m": roundMM(v.Length),
		"from_hydrant": v.FromHydrant, "to_hydrant": v.ToHydrant,
	}
	return f
}

// roundMM rounds metres to the millimetre.
func roundMM(v float64) float64 { return math.Round(v*1e3) / 1e3 }

// SpacingFeatureCollection returns violations as GeoJSON.
func SpacingFeatureCollection(vs []SpacingViolation) *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	for _, v := range vs {
		fc.Append(v.Feature())
	}
	return fc
}

// SpacingService checks hydrant spacing along the roads.
type SpacingService struct{ DB Database }

// Violations finds the stretches of road where hydrants are more than
// q.MaxSpacing apart (GB 50974: 120 m), and on roads wider than q.WideRoad
// (60 m) the stretches where one side has none for more than q.MaxSpacing
// or none at all (hydrant_spacing.sql says exactly how). Only stretches
// between hydrants count: a road with no hydrant at all is left to the
// coverage gaps. With a box, every road meeting it is checked whole and
// the stretches meeting it are returned. They come ordered road by road,
// along each road.
//
// It returns an EInvalid error when MaxSpacing is not positive, WideRoad
// or Reach is negative, any is not finite, or the box is not a lon/lat box
// with min ≤ max.
func (s *SpacingService) Violations(ctx context.Context, q SpacingQuery) ([]SpacingViolation, error) {
	if err := q.validate(); err != nil {
		return nil, err
	}
	args := []any{q.MaxSpacing, q.WideRoad, q.Reach, q.InServiceOnly, nil, nil, nil, nil}
	if b := q.BBox; b != nil {
		args[4], args[5], args[6], args[7] = b[0], b[1], b[2], b[3]
	}
	rows, err := s.DB.QueryRows(ctx, mustSQL("hydrant_spacing.sql"), args...)
	if err != nil {
		return nil, fmt.Errorf("analytics: hydrant spacing: %w", err)
	}
	defer rows.Close()
	var out []SpacingViolation
	for rows.Next() {
		var v SpacingViolation
		var g []byte
		if err := rows.Scan(&v.Kind, &v.Road, &v.RoadIDs, &v.Side, &v.Width, &v.From, &v.To,
			&v.FromHydrant, &v.ToHydrant, &g); err != nil {
			return nil, fmt.Errorf("analytics: hydrant spacing: %w", err)
		}
		v.Length = v.To - v.From
		if v.Geometry, err = stretchLine(g); err != nil {
			return nil, fmt.Errorf("analytics: hydrant spacing: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: hydrant spacing: %w", err)
	}
	return out, nil
}

func (q SpacingQuery) validate() error {
	if !(q.MaxSpacing > 0) || math.IsInf(q.MaxSpacing, 0) {
		return geo.Invalid("spacing", "the maximum spacing must be a positive number of metres, got %v", q.MaxSpacing)
	}
	if !(q.WideRoad >= 0) || math.IsInf(q.WideRoad, 0) {
		return geo.Invalid("wide_road", "the wide-road width must be a number of metres ≥ 0, got %v", q.WideRoad)
	}
	if !(q.Reach >= 0) || math.IsInf(q.Reach, 0) {
		return geo.Invalid("reach", "the reach beyond the kerb must be a number of metres ≥ 0, got %v", q.Reach)
	}
	if b := q.BBox; b != nil {
		for _, v := range b {
			if !finite(v) {
				return geo.Invalid("bbox", "bbox %v: every coordinate must be a number", *b)
			}
		}
		if b[0] < -180 || b[2] > 180 || b[1] < -90 || b[3] > 90 || b[0] > b[2] || b[1] > b[3] {
			return geo.Invalid("bbox", "bbox %v: want minLon, minLat, maxLon, maxLat within ±180, ±90 with min ≤ max", *b)
		}
	}
	return nil
}

// stretchLine decodes the WKB of a stretch; a stretch shrunk to a point
// (which the SQL never returns: stretches are longer than MaxSpacing)
// becomes a two-point line.
func stretchLine(b []byte) (orb.LineString, error) {
	g, err := wkb.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	switch g := g.(type) {
	case orb.LineString:
		return g, nil
	case orb.Point:
		return orb.LineString{g, g}, nil
	}
	return nil, fmt.Errorf("a stretch is a %s, not a line", g.GeoJSONType())
}
