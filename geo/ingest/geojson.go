package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/onemap-city/onemap/geo"
)

// collectionSource streams the features of one FeatureCollection with the
// json.Decoder's tokenizer, holding one feature in memory at a time.
type collectionSource struct {
	dec  *json.Decoder
	n    int // features read
	done bool
}

func newCollectionSource(r io.Reader) (*collectionSource, error) {
	s := &collectionSource{dec: json.NewDecoder(r)}
	tok, err := s.dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, geo.Errorf(geo.EInvalid, "the file is empty: a FeatureCollection was expected")
		}
		return nil, s.fileError(err)
	}
	if tok != json.Delim('{') {
		return nil, geo.Errorf(geo.EInvalid, "not a GeoJSON FeatureCollection: the file does not start with an object")
	}
	found, err := s.members()
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, geo.Errorf(geo.EInvalid, "not a GeoJSON FeatureCollection: it has no features array")
	}
	return s, nil
}

// members reads top-level members up to and including the opening of the
// features array (found) or the end of the object. It checks the members
// that change how features must be read: type and crs.
func (s *collectionSource) members() (found bool, err error) {
	for s.dec.More() {
		tok, err := s.dec.Token()
		if err != nil {
			return false, s.fileError(err)
		}
		key, _ := tok.(string)
		switch key {
		case "features":
			tok, err := s.dec.Token()
			if err != nil {
				return false, s.fileError(err)
			}
			if tok != json.Delim('[') {
				return false, geo.Errorf(geo.EInvalid, "not a GeoJSON FeatureCollection: features is not an array")
			}
			return true, nil
		case "type":
			var t any
			if err := s.dec.Decode(&t); err != nil {
				return false, s.fileError(err)
			}
			if t != "FeatureCollection" {
				return false, geo.Errorf(geo.EInvalid, "the file's type is %s, not FeatureCollection: a .geojson file holds one FeatureCollection (one Feature per line is .ndjson)", describe(t))
			}
		case "crs":
			var c struct {
				Properties struct {
					Name string `json:"name"`
				} `json:"properties"`
			}
			if err := s.dec.Decode(&c); err != nil {
				return false, s.fileError(err)
			}
			if err := checkDeclaredCRS(c.Properties.Name); err != nil {
				return false, err
			}
		default:
			var skip json.RawMessage
			if err := s.dec.Decode(&skip); err != nil {
				return false, s.fileError(err)
			}
		}
	}
	return false, nil
}

// checkDeclaredCRS refuses a file that says (in the pre-RFC 7946 crs member,
// as ogr2ogr writes it) that it is not in longitude/latitude.
func checkDeclaredCRS(name string) error {
	n := strings.ToUpper(name)
	for _, ok := range []string{"CRS84", "4326", "4490"} {
		if n == "" || strings.HasSuffix(n, ok) {
			return nil
		}
	}
	return geo.Invalid("crs", "the file declares the coordinate system %q, but OneMap imports longitude/latitude (WGS84 or CGCS2000, or GCJ-02/BD-09 with --crs): reproject it first, e.g. ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson", name)
}

func (s *collectionSource) fileError(err error) error {
	return &geo.Error{Code: geo.EInvalid, Message: fmt.Sprintf("invalid GeoJSON at byte %d", s.dec.InputOffset()), Err: err}
}

func (s *collectionSource) next() (*record, error) {
	if s.done {
		return nil, io.EOF
	}
	if !s.dec.More() {
		// The end of the features array: read the rest of the object so
		// that a crs member after the features is still honoured.
		s.done = true
		if tok, err := s.dec.Token(); err != nil || tok != json.Delim(']') {
			return s.truncated(s.n+1, err), nil
		}
		found, err := s.members()
		if err != nil {
			return nil, err
		}
		if found {
			return nil, geo.Errorf(geo.EInvalid, "the FeatureCollection has two features arrays")
		}
		if _, err := s.dec.Token(); err != nil { // the closing brace
			return nil, s.fileError(err)
		}
		if _, err := s.dec.Token(); err != io.EOF {
			return nil, geo.Errorf(geo.EInvalid, "data after the end of the FeatureCollection at byte %d", s.dec.InputOffset())
		}
		return nil, io.EOF
	}
	s.n++
	var raw json.RawMessage
	if err := s.dec.Decode(&raw); err != nil {
		var syn *json.SyntaxError
		if !errors.As(err, &syn) && err != io.EOF && err != io.ErrUnexpectedEOF {
			return nil, err
		}
		return s.truncated(s.n, err), nil
	}
	return decodeFeature(raw, s.n), nil
}

// truncated ends the file at a syntax error in feature n: the tokenizer
// cannot resynchronise inside an array. The rows before it stand.
func (s *collectionSource) truncated(n int, err error) *record {
	s.done = true
	if err == nil {
		err = errors.New("the features array is not closed")
	}
	return &record{num: n, broken: true, rejections: []Rejection{{
		Row: n, Reason: fmt.Sprintf("invalid JSON near byte %d (%v): the rest of the file was not read", s.dec.InputOffset(), err),
	}}}
}

// lineSource reads one Feature per line: NDJSON, GeoJSONL, and GeoJSON text
// sequences (RFC 8142), whose records start with an ASCII RS. Blank lines
// are skipped; a bad line is a rejected row and reading goes on.
type lineSource struct {
	br   *bufio.Reader
	line int
	done bool
}

func newLineSource(r io.Reader) *lineSource {
	return &lineSource{br: bufio.NewReaderSize(r, 1<<16)}
}

func (s *lineSource) next() (*record, error) {
	for !s.done {
		// ReadBytes, not a Scanner: a polygon can make a line of megabytes.
		b, err := s.br.ReadBytes('\n')
		if err == io.EOF {
			s.done = true
		} else if err != nil {
			return nil, err
		}
		if len(b) == 0 && s.done {
			break
		}
		s.line++
		if s.line == 1 {
			b = bytes.TrimPrefix(b, []byte("\uFEFF"))
		}
		b = bytes.TrimSpace(bytes.TrimLeft(bytes.TrimSpace(b), "\x1e"))
		if len(b) == 0 {
			continue
		}
		return decodeFeature(b, s.line), nil
	}
	return nil, io.EOF
}

// decodeFeature reads one GeoJSON Feature. Members are decoded one by one
// so that one bad member is reported as such and the others still checked.
func decodeFeature(data []byte, num int) *record {
	rec := &record{num: num, geomField: "geometry"}
	fail := func(field, format string, args ...any) *record {
		rec.broken = true
		rec.rejections = append(rec.rejections, Rejection{Row: num, Field: field, Reason: fmt.Sprintf(format, args...)})
		return rec
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return fail("", "invalid JSON at column %d: %v", syn.Offset, err)
		}
		return fail("", "not a GeoJSON Feature: %s is not an object", describeJSON(data))
	}
	if t, ok := members["type"]; ok {
		var typ any
		_ = json.Unmarshal(t, &typ)
		if typ != "Feature" {
			return fail("type", "%s is not a Feature", describe(typ))
		}
	}
	if id, ok := members["id"]; ok {
		_ = unmarshalNumbers(id, &rec.featureID)
	}
	if p, ok := members["properties"]; ok && string(p) != "null" {
		if err := unmarshalNumbers(p, &rec.props); err != nil {
			return fail("properties", "not an object")
		}
	}
	g, err := decodeGeometry(members["geometry"])
	if err != nil {
		rec.rejections = append(rec.rejections, Rejection{Row: num, Field: "geometry", Reason: err.Error()})
	}
	rec.geom = g
	return rec
}

func describeJSON(data []byte) string {
	var v any
	if unmarshalNumbers(data, &v) != nil {
		return clip(string(data))
	}
	return describe(v)
}
