// Package tiles serves the catalogue's layers as Mapbox Vector Tiles: it
// parses and validates tile requests, builds one SQL statement per tile from
// the catalogue, caches encoded tiles (identity and gzip) with request
// coalescing and invalidation by data version, and speaks HTTP (tiles,
// TileJSON, the catalogue, purge) and PMTiles export.
package tiles

import (
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/onemap-city/onemap/geo"
)

// Request is one tile: which layers, where, and which features.
type Request struct {
	Layers  []*geo.Layer
	Addr    geo.TileAddr
	Filters Filters
}

// Filters are the validated filter parameters of a request, in canonical
// form: each parameter once, its values sorted and unique.
type Filters []Filter

// Filter is one parameter: an enumeration or boolean column (Values are the
// accepted values), or since/until (one RFC 3339 time).
type Filter struct {
	Param  string
	Values []string
}

// Key is the canonical text of the filters, for cache keys and ETags.
func (fs Filters) Key() string {
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(f.Param)
		b.WriteByte('=')
		b.WriteString(strings.Join(f.Values, ","))
	}
	return b.String()
}

// LayerIDs returns the ids of the request's layers joined by commas.
func (r Request) LayerIDs() string {
	ids := make([]string, len(r.Layers))
	for i, l := range r.Layers {
		ids[i] = l.ID
	}
	return strings.Join(ids, ",")
}

// Key identifies the request's tile in the cache.
func (r Request) Key() string {
	return r.LayerIDs() + "/" + r.Addr.String() + "?" + r.Filters.Key()
}

// ParseLayers reads a comma-separated list of catalogue layer ids. An unknown
// layer is ENotFound; an empty or repeated one is EInvalid.
func ParseLayers(s string) ([]*geo.Layer, error) {
	var out []*geo.Layer
	for _, id := range strings.Split(s, ",") {
		if id == "" {
			return nil, geo.Invalid("layer", "empty layer name in %q", s)
		}
		l, err := geo.LookupLayer(id)
		if err != nil {
			return nil, err
		}
		if slices.Contains(out, l) {
			return nil, geo.Invalid("layer", "layer %q is named twice", id)
		}
		out = append(out, l)
	}
	return out, nil
}

// timeParams filter a layer's TimeColumn: since inclusive, until exclusive.
var timeParams = []string{"since", "until"}

// ParseFilters validates query parameters against the layers' catalogue
// entries. A parameter no layer can filter on, or a value outside a column's
// enumeration, is an EInvalid error naming the parameter.
func ParseFilters(layers []*geo.Layer, q url.Values) (Filters, error) {
	var out Filters
	params := make([]string, 0, len(q))
	for p := range q {
		params = append(params, p)
	}
	sort.Strings(params)
	for _, p := range params {
		raw := q[p]
		if slices.Contains(timeParams, p) {
			if !anyLayer(layers, func(l *geo.Layer) bool { return l.TimeColumn != "" }) {
				return nil, geo.Invalid(p, "%s: none of the layers %s has a time to filter on", p, ids(layers))
			}
			if len(raw) != 1 {
				return nil, geo.Invalid(p, "%s given %d times; give it once", p, len(raw))
			}
			t, err := ParseTime(raw[0])
			if err != nil {
				return nil, geo.Invalid(p, "%s: %q is not a date (2026-01-31) or time (2026-01-31T08:00:00+08:00)", p, raw[0])
			}
			out = append(out, Filter{Param: p, Values: []string{t.UTC().Format(time.RFC3339)}})
			continue
		}
		var col geo.Column
		found := false
		for _, l := range layers {
			if c, ok := l.Filterable(p); ok {
				col, found = c, true
				break
			}
		}
		if !found {
			return nil, geo.Invalid(p, "unknown parameter %q: the layers %s filter on %s", p, ids(layers), strings.Join(filterNames(layers), ", "))
		}
		var values []string
		for _, r := range raw {
			for _, v := range strings.Split(r, ",") {
				v = strings.TrimSpace(v)
				switch col.Type {
				case geo.Bool:
					b, err := strconv.ParseBool(v)
					if err != nil {
						return nil, geo.Invalid(p, "%s: %q is not true or false", p, v)
					}
					v = strconv.FormatBool(b)
				default:
					if !validValue(layers, p, v) {
						return nil, geo.Invalid(p, "%s: unknown value %q; want one of %s", p, v, strings.Join(col.Enum, ", "))
					}
				}
				if !slices.Contains(values, v) {
					values = append(values, v)
				}
			}
		}
		sort.Strings(values)
		out = append(out, Filter{Param: p, Values: values})
	}
	return out, nil
}

// validValue reports whether v is allowed for parameter p by every layer
// that filters on p (layers may share a column name with different enums).
func validValue(layers []*geo.Layer, p, v string) bool {
	ok := false
	for _, l := range layers {
		if c, has := l.Filterable(p); has {
			if !slices.Contains(c.Enum, v) {
				return false
			}
			ok = true
		}
	}
	return ok
}

// ParseTime reads a date (YYYY-MM-DD, midnight in China Standard Time, the
// city's clock) or an RFC 3339 time.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.ParseInLocation("2006-01-02", s, chinaTime)
}

var chinaTime = time.FixedZone("CST", 8*3600)

func anyLayer(layers []*geo.Layer, f func(*geo.Layer) bool) bool {
	return slices.ContainsFunc(layers, f)
}

func ids(layers []*geo.Layer) string {
	s := make([]string, len(layers))
	for i, l := range layers {
		s[i] = l.ID
	}
	return strings.Join(s, ",")
}

// filterNames lists the parameters the layers accept.
func filterNames(layers []*geo.Layer) []string {
	var names []string
	for _, l := range layers {
		for _, c := range l.Columns {
			if _, ok := l.Filterable(c.Name); ok && !slices.Contains(names, c.Name) {
				names = append(names, c.Name)
			}
		}
		if l.TimeColumn != "" {
			for _, p := range timeParams {
				if !slices.Contains(names, p) {
					names = append(names, p)
				}
			}
		}
	}
	if len(names) == 0 {
		return []string{"nothing"}
	}
	sort.Strings(names)
	return names
}
