package ingest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/ewkb"
	"github.com/paulmach/orb/encoding/wkt"

	"github.com/onemap-city/onemap/geo"
)

// decodeGeometry decodes a GeoJSON geometry object. It does not use
// orb/geojson because real files carry coordinates as strings ("120.65"),
// which orb rejects with one message for the whole feature; here each
// position is read on its own and a failure names what is wrong with it.
func decodeGeometry(data json.RawMessage) (orb.Geometry, error) {
	if len(data) == 0 || string(data) == "null" {
		return nil, errors.New("missing")
	}
	var g struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		return nil, errors.New("not a GeoJSON geometry object")
	}
	if g.Type == "GeometryCollection" {
		return orb.Collection{}, nil // fit says why it does not fit
	}
	if len(g.Coordinates) == 0 || string(g.Coordinates) == "null" {
		if g.Type == "" {
			return nil, errors.New("not a GeoJSON geometry: no type and no coordinates")
		}
		return nil, fmt.Errorf("%s has no coordinates", g.Type)
	}
	var c any
	if err := unmarshalNumbers(g.Coordinates, &c); err != nil {
		return nil, fmt.Errorf("coordinates are not valid JSON: %v", err)
	}
	switch g.Type {
	case "Point":
		return position(c)
	case "MultiPoint":
		ps, err := positions(c)
		return orb.MultiPoint(ps), err
	case "LineString":
		ps, err := positions(c)
		return orb.LineString(ps), err
	case "MultiLineString":
		var ml orb.MultiLineString
		err := each(c, "lines", func(v any) error {
			ps, err := positions(v)
			ml = append(ml, ps)
			return err
		})
		return ml, err
	case "Polygon":
		return polygon(c)
	case "MultiPolygon":
		var mp orb.MultiPolygon
		err := each(c, "polygons", func(v any) error {
			p, err := polygon(v)
			mp = append(mp, p)
			return err
		})
		return mp, err
	case "":
		return nil, errors.New("geometry has no type")
	}
	return nil, fmt.Errorf("unknown geometry type %q", g.Type)
}

// each calls f on every element of the JSON array v.
func each(v any, what string, f func(any) error) error {
	arr, ok := v.([]any)
	if !ok {
		return fmt.Errorf("coordinates must be an array of %s, not %s", what, describe(v))
	}
	for _, e := range arr {
		if err := f(e); err != nil {
			return err
		}
	}
	return nil
}

func polygon(v any) (orb.Polygon, error) {
	var p orb.Polygon
	err := each(v, "rings", func(v any) error {
		ps, err := positions(v)
		p = append(p, ps)
		return err
	})
	return p, err
}

func positions(v any) ([]orb.Point, error) {
	var ps []orb.Point
	err := each(v, "positions", func(v any) error {
		p, err := position(v)
		ps = append(ps, p)
		return err
	})
	return ps, err
}

// position reads [lon, lat] or [lon, lat, z]; z is dropped, the tables are 2D.
func position(v any) (orb.Point, error) {
	arr, ok := v.([]any)
	if !ok || len(arr) < 2 {
		return orb.Point{}, fmt.Errorf("a position must be [longitude, latitude], not %s", describe(v))
	}
	lon, err := coordinate(arr[0], "longitude")
	if err != nil {
		return orb.Point{}, err
	}
	lat, err := coordinate(arr[1], "latitude")
	if err != nil {
		return orb.Point{}, err
	}
	return orb.Point{lon, lat}, nil
}

// coordinate reads a JSON number or a numeric string as a finite number.
func coordinate(v any, what string) (float64, error) {
	var s string
	switch x := v.(type) {
	case nil:
		return 0, fmt.Errorf("%s is missing", what)
	case json.Number:
		s = string(x)
	case string:
		s = strings.TrimSpace(x)
		if s == "" {
			return 0, fmt.Errorf("%s is missing", what)
		}
	default:
		return 0, fmt.Errorf("%s %s is not a number", what, describe(v))
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%s %s is not a number", what, describe(v))
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%s %s is not a finite number", what, describe(v))
	}
	return f, nil
}

// parseWKT reads a CSV geometry cell: WKT, EWKT ("SRID=4326;POINT(...)") or
// hex (E)WKB as PostGIS writes it. Only lon/lat SRIDs are accepted: a
// projected geometry must be reprojected before import, not guessed at.
func parseWKT(s string) (orb.Geometry, error) {
	s = strings.TrimSpace(s)
	srid := 0
	if len(s) > 5 && strings.EqualFold(s[:5], "SRID=") {
		i := strings.IndexByte(s, ';')
		n, err := strconv.Atoi(s[5:max(i, 5)])
		if i < 0 || err != nil {
			return nil, errors.New("invalid EWKT: SRID=<number>; expected")
		}
		srid, s = n, strings.TrimSpace(s[i+1:])
	}
	var g orb.Geometry
	if isHex(s) {
		data, _ := hex.DecodeString(s)
		var err error
		if g, srid, err = ewkb.Unmarshal(data); err != nil {
			return nil, fmt.Errorf("invalid hex WKB: %v", err)
		}
	} else {
		var err error
		if g, err = wkt.Unmarshal(s); err != nil {
			return nil, fmt.Errorf("invalid WKT %s (2D WKT expected): %v", clip(s), err)
		}
	}
	if srid != 0 && srid != 4326 && srid != 4490 {
		return nil, fmt.Errorf("SRID %d is not longitude/latitude: reproject to EPSG:4326 first", srid)
	}
	return g, nil
}

func isHex(s string) bool {
	if len(s) < 10 || len(s)%2 != 0 || (s[:2] != "00" && s[:2] != "01") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(s[i])) {
			return false
		}
	}
	return true
}

// fit converts g to the geometry type the layer stores: single-part
// multi-geometries to their part, a Polygon to a MultiPolygon. It returns a
// reason when g cannot be made to fit.
func fit(g orb.Geometry, l *geo.Layer) (orb.Geometry, string) {
	switch l.Geometry {
	case geo.Point:
		switch g := g.(type) {
		case orb.Point:
			return g, ""
		case orb.MultiPoint:
			if len(g) == 1 {
				return g[0], ""
			}
		}
	case geo.LineString:
		switch g := g.(type) {
		case orb.LineString:
			return g, ""
		case orb.MultiLineString:
			if len(g) == 1 {
				return g[0], ""
			}
			return nil, fmt.Sprintf("a MultiLineString of %d parts, but the %s layer takes one LineString per row: split it", len(g), l.ID)
		}
	case geo.MultiPolygon:
		switch g := g.(type) {
		case orb.Polygon:
			return orb.MultiPolygon{g}, ""
		case orb.MultiPolygon:
			return g, ""
		}
	}
	return nil, fmt.Sprintf("a %s, but the %s layer takes %s", typeName(g), l.ID, l.Geometry)
}

func typeName(g orb.Geometry) string {
	if _, ok := g.(orb.Collection); ok {
		return "GeometryCollection"
	}
	return g.GeoJSONType()
}

// check returns why g (already fitted) cannot be stored, or "": every
// coordinate finite and on the globe, lines with two positions, rings closed
// with four. PostGIS would fail the whole load on an open ring; a
// self-intersecting polygon is for the database to repair.
func check(g orb.Geometry) string {
	switch g := g.(type) {
	case orb.Point:
		return checkPoint(g)
	case orb.LineString:
		if len(g) < 2 {
			return fmt.Sprintf("a line needs at least 2 positions, this one has %d", len(g))
		}
		return checkPoints(g)
	case orb.MultiPolygon:
		if len(g) == 0 {
			return "empty MultiPolygon"
		}
		for i, p := range g {
			if len(p) == 0 {
				return fmt.Sprintf("polygon %d has no rings", i+1)
			}
			for j, r := range p {
				if len(r) < 4 {
					return fmt.Sprintf("ring %d of polygon %d has %d positions, a ring needs at least 4", j+1, i+1, len(r))
				}
				if r[0] != r[len(r)-1] {
					return fmt.Sprintf("ring %d of polygon %d is not closed: its first and last positions differ", j+1, i+1)
				}
				if why := checkPoints(r); why != "" {
					return why
				}
			}
		}
		return ""
	}
	return fmt.Sprintf("unexpected geometry %T", g)
}

func checkPoints(ps []orb.Point) string {
	for _, p := range ps {
		if why := checkPoint(p); why != "" {
			return why
		}
	}
	return ""
}

func checkPoint(p orb.Point) string {
	lon, lat := p[0], p[1]
	switch {
	case math.IsNaN(lon) || math.IsInf(lon, 0) || math.IsNaN(lat) || math.IsInf(lat, 0):
		return fmt.Sprintf("position [%v, %v] is not finite", lon, lat)
	case math.Abs(lon) > 1000 || math.Abs(lat) > 1000:
		return fmt.Sprintf("position [%v, %v] looks projected (metres), not longitude/latitude: reproject to EPSG:4326 first", lon, lat)
	case math.Abs(lon) > 180:
		return fmt.Sprintf("longitude %v is outside [-180, 180]", lon)
	case math.Abs(lat) > 90 && math.Abs(lon) <= 90:
		return fmt.Sprintf("latitude %v is outside [-90, 90]; are longitude and latitude swapped? GeoJSON and WKT put longitude first", lat)
	case math.Abs(lat) > 90:
		return fmt.Sprintf("latitude %v is outside [-90, 90]", lat)
	}
	return ""
}

// toWGS84 converts every position of g (of a fitted type) from crs.
func toWGS84(g orb.Geometry, crs geo.CRS) orb.Geometry {
	if crs == geo.WGS84 || crs == geo.CGCS2000 {
		return g
	}
	conv := func(ps []orb.Point) {
		for i, p := range ps {
			ps[i][0], ps[i][1] = crs.ToWGS84(p[0], p[1])
		}
	}
	switch g := g.(type) {
	case orb.Point:
		lon, lat := crs.ToWGS84(g[0], g[1])
		return orb.Point{lon, lat}
	case orb.LineString:
		conv(g)
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				conv(r)
			}
		}
	}
	return g
}

// unmarshalNumbers is json.Unmarshal keeping numbers as json.Number, so that
// ids and integers keep their digits and props keep their values exactly.
func unmarshalNumbers(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}

// clip shortens s for a message.
func clip(s string) string {
	if len(s) > 40 {
		return strconv.Quote(s[:37] + "...")
	}
	return strconv.Quote(s)
}
