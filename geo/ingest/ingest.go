// Package ingest reads import files (GeoJSON, newline-delimited GeoJSON,
// CSV) row by row and validates every row against a catalogue layer, without
// a database: what it returns is ready to load, or says why it is not.
package ingest

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/paulmach/orb"

	"github.com/onemap-city/onemap/geo"
)

// Format is the kind of an import file.
type Format string

const (
	GeoJSON Format = "geojson" // one FeatureCollection
	NDJSON  Format = "ndjson"  // one Feature per line (also GeoJSONSeq, RFC 8142)
	CSV     Format = "csv"     // a header row, then one row per feature
)

// FormatOf returns the format a file name's extension implies, or an
// EInvalid error naming the extensions it knows.
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".geojson", ".json":
		return GeoJSON, nil
	case ".ndjson", ".geojsonl", ".geojsons", ".jsonl", ".geojsonseq":
		return NDJSON, nil
	case ".csv":
		return CSV, nil
	}
	return "", geo.Invalid("format", "cannot tell the format of %q from its extension: use .geojson/.json, .ndjson/.geojsonl/.geojsons or .csv, or name the format", filepath.Base(path))
}

// ParseFormat returns the format named s ("geojson", "ndjson", "csv"), or an
// EInvalid error.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case GeoJSON, NDJSON, CSV:
		return f, nil
	case "json":
		return GeoJSON, nil
	case "geojsonl", "geojsons", "geojsonseq", "jsonl":
		return NDJSON, nil
	}
	return "", geo.Invalid("format", "unknown format %q: use geojson, ndjson or csv", s)
}

// RowUnit is what a row number counts in this format: features of a
// FeatureCollection, lines of an NDJSON or CSV file.
func (f Format) RowUnit() string {
	if f == GeoJSON {
		return "feature"
	}
	return "line"
}

// Options say how to read a file.
type Options struct {
	Format Format
	// CRS is the coordinate system of the file's longitudes and latitudes;
	// rows come out in WGS84. Empty means WGS84.
	CRS geo.CRS
	// IDField is the property holding each row's stable external id. Empty
	// means "ext_id", else "id", else (GeoJSON) the Feature's own id.
	IDField string
}

// Rejection says why one row of a file cannot be loaded.
type Rejection struct {
	// Row is the 1-based row as a user finds it in the file: the feature's
	// position in a FeatureCollection, the line number in an NDJSON or CSV
	// file (the CSV header is line 1). 0 means the file as a whole.
	Row    int
	Field  string // the property or column at fault; "" for the whole row
	Reason string
}

func (r Rejection) String() string {
	if r.Field == "" {
		return fmt.Sprintf("row %d: %s", r.Row, r.Reason)
	}
	return fmt.Sprintf("row %d: %s: %s", r.Row, r.Field, r.Reason)
}

// Row is one validated row of a file.
type Row struct {
	Num   int    // as in Rejection.Row
	ExtID string // the stable external id
	// Values holds one value per column of the layer, in catalogue order, nil
	// where the file has none: string (text, enum, and the referenced ext_id
	// of a ref), int64, float64, bool, time.Time (a date at UTC midnight, or
	// an instant).
	Values []any
	// Props holds the properties that are not columns, for the props jsonb.
	Props map[string]any
	// Geom is the geometry in WGS84, of the layer's type: orb.Point,
	// orb.LineString or orb.MultiPolygon.
	Geom orb.Geometry
	// Rejections lists what is wrong with the row; a row with any must not be
	// loaded.
	Rejections []Rejection
}

// OK reports whether the row may be loaded.
func (r *Row) OK() bool { return len(r.Rejections) == 0 }

// Reader reads and validates the rows of one file.
type Reader struct {
	layer   *geo.Layer
	opts    Options
	src     source
	ids     []string          // properties that may hold the ext_id, in order of preference
	columns map[string]int    // import name → index in layer.Columns
	seen    map[string]int    // ext_id → row first seen
	canon   map[string]string // lower-case name → the name a CSV header means
}

// record is a row as a source decoded it, before validation.
type record struct {
	num        int
	props      map[string]any // JSON values (UseNumber) or CSV strings
	featureID  any            // the GeoJSON Feature's id member, if any
	geom       orb.Geometry
	geomField  string      // where the geometry came from, for rejections
	rejections []Rejection // found while decoding
	broken     bool        // unreadable: nothing more to validate
}

// source yields the records of one file format; io.EOF after the last.
type source interface {
	next() (*record, error)
}

// NewReader returns a Reader of the rows of r, a file of opts.Format holding
// features of layer. It reads the start of the file (a CSV header, the
// opening of a FeatureCollection) and fails with an EInvalid error if that is
// not what the format needs.
func NewReader(r io.Reader, layer *geo.Layer, opts Options) (*Reader, error) {
	if layer == nil {
		return nil, errors.New("ingest: no layer")
	}
	if opts.CRS == "" {
		opts.CRS = geo.WGS84
	}
	if !slices.Contains(geo.CRSs, opts.CRS) {
		return nil, geo.Invalid("crs", "unknown coordinate system %q", opts.CRS)
	}
	rd := &Reader{
		layer:   layer,
		opts:    opts,
		columns: make(map[string]int, len(layer.Columns)),
		seen:    make(map[string]int),
		canon:   make(map[string]string),
	}
	if opts.IDField != "" {
		rd.ids = []string{opts.IDField}
	} else {
		rd.ids = []string{"ext_id", "id"}
	}
	for i, c := range layer.Columns {
		rd.columns[c.ImportName()] = i
		rd.canon[strings.ToLower(c.ImportName())] = c.ImportName()
	}
	for _, id := range rd.ids {
		rd.canon[strings.ToLower(id)] = id
	}
	var err error
	switch opts.Format {
	case GeoJSON:
		rd.src, err = newCollectionSource(r)
	case NDJSON:
		rd.src = newLineSource(r)
	case CSV:
		rd.src, err = newCSVSource(r, rd.canonical)
	default:
		return nil, geo.Invalid("format", "unknown format %q: use geojson, ndjson or csv", opts.Format)
	}
	if err != nil {
		return nil, err
	}
	return rd, nil
}

// canonical maps a CSV header to the column or id property it names,
// ignoring case and surrounding space: spreadsheets capitalise headers.
func (r *Reader) canonical(header string) string {
	h := strings.TrimSpace(header)
	if c, ok := r.canon[strings.ToLower(h)]; ok {
		return c
	}
	return h
}

// Next returns the next row. A row that fails validation comes back with its
// Rejections and must not be loaded; reading goes on. Next returns io.EOF
// after the last row, and another error when the file cannot be read on (an
// I/O error, or a FeatureCollection whose trailing members are broken).
func (r *Reader) Next() (*Row, error) {
	rec, err := r.src.next()
	if err != nil {
		return nil, err
	}
	row := &Row{Num: rec.num, Rejections: rec.rejections}
	if rec.broken {
		return row, nil
	}
	reject := func(field, format string, args ...any) {
		row.Rejections = append(row.Rejections, Rejection{Row: rec.num, Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	props := rec.props
	if props == nil {
		props = map[string]any{}
	}

	// The stable id, kept out of props; an id that is also a column (towns
	// keyed by their code) fills the column too.
	idField := r.ids[0]
	var idValue any
	for _, f := range r.ids {
		if v, ok := props[f]; ok && !absent(v) {
			idField, idValue = f, v
			if _, column := r.columns[f]; !column {
				delete(props, f)
			}
			break
		}
	}
	if idValue == nil && rec.featureID != nil && (r.opts.IDField == "" || r.opts.IDField == "id") {
		idField, idValue = "id", rec.featureID
	}
	switch v := idValue.(type) {
	case nil:
		reject(idField, "missing: every row needs a stable id (%s), so that importing again updates it", strings.Join(r.ids, " or "))
	case string:
		row.ExtID = strings.TrimSpace(v)
	default:
		if s, ok := scalarText(v); ok {
			row.ExtID = s
		} else {
			reject(idField, "%s is not an id: use a string or a number", describe(v))
		}
	}
	if row.ExtID != "" {
		if first, dup := r.seen[row.ExtID]; dup {
			reject(idField, "duplicate id %q: already on %s %d", row.ExtID, r.opts.Format.RowUnit(), first)
		} else {
			r.seen[row.ExtID] = rec.num
		}
	}

	// Columns, in catalogue order.
	row.Values = make([]any, len(r.layer.Columns))
	for i, c := range r.layer.Columns {
		name := c.ImportName()
		v, ok := props[name]
		if ok {
			delete(props, name)
		}
		val, why := parseValue(c, v)
		switch {
		case why != "":
			reject(name, "%s", why)
		case val == nil && c.Required:
			reject(name, "missing, and the %s layer requires it", r.layer.ID)
		default:
			row.Values[i] = val
		}
	}
	row.Props = props

	// The geometry: decoded by the source, then fitted to the layer.
	g, why := rec.geom, ""
	if g == nil {
		if len(rec.rejections) == 0 {
			reject(rec.geomField, "missing")
		}
		return row, nil
	}
	if g, why = fit(g, r.layer); why == "" {
		why = check(g)
	}
	if why != "" {
		reject(rec.geomField, "%s", why)
		return row, nil
	}
	row.Geom = toWGS84(g, r.opts.CRS)
	return row, nil
}
