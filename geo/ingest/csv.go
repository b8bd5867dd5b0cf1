package ingest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"github.com/onemap-city/onemap/geo"
)

// Header names that hold coordinates, matched ignoring case, first match wins.
var (
	lonHeaders = []string{"lon", "lng", "longitude", "x"}
	latHeaders = []string{"lat", "latitude", "y"}
	wktHeaders = []string{"wkt", "geom", "geometry"}
)

// csvSource reads a comma-separated file with a header row. Coordinates come
// from lon/lat columns (points) or a WKT column (any geometry); the other
// columns are properties, empty cells absent.
type csvSource struct {
	r                *csv.Reader
	header           []string // canonical property names
	lon, lat, wkt    int      // column indexes, -1 when missing
	lonName, latName string
}

func newCSVSource(r io.Reader, canonical func(string) string) (*csvSource, error) {
	s := &csvSource{r: csv.NewReader(r), lon: -1, lat: -1, wkt: -1}
	s.r.FieldsPerRecord = -1 // a short or long row is a rejected row, not the end of the file
	head, err := s.r.Read()
	if err == io.EOF {
		return nil, geo.Errorf(geo.EInvalid, "the file is empty: a CSV header row was expected")
	}
	if err != nil {
		return nil, &geo.Error{Code: geo.EInvalid, Message: "the CSV header row cannot be read", Err: err}
	}
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\uFEFF") // Excel's UTF-8 mark
	}
	if len(head) == 1 && strings.ContainsAny(head[0], ";\t") {
		return nil, geo.Errorf(geo.EInvalid, "the CSV header %s has one column: is the file separated by semicolons or tabs? save it comma-separated", clip(head[0]))
	}
	seen := make(map[string]bool)
	for i, h := range head {
		name := canonical(h)
		if name == "" {
			name = fmt.Sprintf("column_%d", i+1)
		}
		if seen[strings.ToLower(name)] {
			return nil, geo.Errorf(geo.EInvalid, "the CSV header names %q twice", name)
		}
		seen[strings.ToLower(name)] = true
		s.header = append(s.header, name)
	}
	find := func(names []string) int {
		for _, n := range names {
			for i, h := range s.header {
				if strings.EqualFold(h, n) {
					return i
				}
			}
		}
		return -1
	}
	s.lon, s.lat, s.wkt = find(lonHeaders), find(latHeaders), find(wktHeaders)
	switch {
	case s.lon >= 0 && s.lat < 0:
		return nil, geo.Errorf(geo.EInvalid, "the CSV header has a longitude column (%s) but no latitude column (lat, latitude or y)", s.header[s.lon])
	case s.lat >= 0 && s.lon < 0:
		return nil, geo.Errorf(geo.EInvalid, "the CSV header has a latitude column (%s) but no longitude column (lon, lng, longitude or x)", s.header[s.lat])
	case s.lon < 0 && s.wkt < 0:
		return nil, geo.Errorf(geo.EInvalid, "the CSV header has no coordinates: it needs lon and lat columns (or lng/longitude/x and latitude/y) or a wkt column (or geom/geometry)")
	}
	if s.lon >= 0 {
		s.lonName, s.latName = s.header[s.lon], s.header[s.lat]
	}
	return s, nil
}

func (s *csvSource) next() (*record, error) {
	fields, err := s.r.Read()
	if err == io.EOF {
		return nil, io.EOF
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		// encoding/csv has consumed the bad record; the next Read goes on.
		return &record{num: pe.StartLine, broken: true, rejections: []Rejection{{
			Row: pe.StartLine, Reason: "invalid CSV: " + pe.Err.Error(),
		}}}, nil
	}
	if err != nil {
		return nil, err
	}
	line, _ := s.r.FieldPos(0)
	rec := &record{num: line, props: make(map[string]any, len(fields))}
	if len(fields) != len(s.header) {
		rec.broken = true
		rec.rejections = []Rejection{{Row: line, Reason: fmt.Sprintf("%d fields where the header has %d (a value with an unquoted comma?)", len(fields), len(s.header))}}
		return rec, nil
	}
	for i, v := range fields {
		if !utf8.ValidString(v) {
			rec.broken = true
			rec.rejections = []Rejection{{Row: line, Field: s.header[i], Reason: "not UTF-8 text: save the file as UTF-8 (a GBK file can be converted with iconv -f GBK -t UTF-8)"}}
			return rec, nil
		}
		v = strings.TrimSpace(v)
		if v == "" || i == s.lon || i == s.lat || i == s.wkt {
			continue
		}
		rec.props[s.header[i]] = v
	}

	// A WKT cell wins; lon/lat are the fallback (and the usual case).
	if s.wkt >= 0 && strings.TrimSpace(fields[s.wkt]) != "" {
		rec.geomField = s.header[s.wkt]
		g, err := parseWKT(fields[s.wkt])
		if err != nil {
			rec.rejections = append(rec.rejections, Rejection{Row: line, Field: rec.geomField, Reason: err.Error()})
		}
		rec.geom = g
		return rec, nil
	}
	if s.lon < 0 {
		rec.geomField = s.header[s.wkt]
		return rec, nil // missing
	}
	rec.geomField = s.lonName + "," + s.latName
	lon, errLon := coordinate(fields[s.lon], "longitude")
	lat, errLat := coordinate(fields[s.lat], "latitude")
	if errLon != nil {
		rec.rejections = append(rec.rejections, Rejection{Row: line, Field: s.lonName, Reason: errLon.Error()})
	}
	if errLat != nil {
		rec.rejections = append(rec.rejections, Rejection{Row: line, Field: s.latName, Reason: errLat.Error()})
	}
	if errLon == nil && errLat == nil {
		rec.geom = orb.Point{lon, lat}
	}
	return rec, nil
}
