package geo

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Filters are validated filter parameters, in canonical form: each
// parameter once, its values sorted and unique, from/to spelled since/until.
// Tiles and analytics take the same filters.
type Filters []Filter

// Filter is one parameter and its accepted values: enumeration or boolean
// values, one RFC 3339 time (since, until) or area ids (town, community,
// grid_cell).
type Filter struct {
	Param  string
	Values []string
}

// Name is the filter's parameter without its layer: "class" for both
// class and roads.class.
func (f Filter) Name() string {
	if _, name, ok := strings.Cut(f.Param, "."); ok {
		return name
	}
	return f.Param
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

// Get returns the values of param, or nil.
func (fs Filters) Get(param string) []string {
	for _, f := range fs {
		if f.Param == param {
			return f.Values
		}
	}
	return nil
}

// TargetKind says how a filter parameter applies to a layer.
type TargetKind int

const (
	OnColumn TargetKind = iota + 1 // an enumeration or boolean column of the layer
	ViaRef                         // a column of the layer a Ref column points to
	OnTime                         // the layer's TimeColumn (since, until)
	InArea                         // the grid cells of towns, communities or cells
)

// FilterTarget is what a filter parameter filters in one layer.
type FilterTarget struct {
	Kind   TargetKind
	Column Column // the filtered column (in Ref's layer for ViaRef)
	Ref    Column // the layer's Ref column, for ViaRef
	To     *Layer // the referenced layer, for ViaRef
}

// TimeParams filter a layer's TimeColumn: since inclusive, until exclusive.
// from and to are accepted as their synonyms.
var TimeParams = []string{"since", "until"}

var timeAlias = map[string]string{"from": "since", "to": "until"}

// AreaParams filter layers that carry a grid_cell_id by the grid hierarchy.
var AreaParams = []string{"town", "community", "grid_cell"}

// FilterTarget returns what parameter param filters in layer l, if anything:
// its own enumeration or boolean column; else that of a layer it references
// (hazards?kind=group_rental filters by the premise's kind); since/until on
// its TimeColumn; town/community/grid_cell when it has a grid cell.
//
// A parameter named with a layer (roads.class) filters that layer only: in a
// tile of several layers, one name may mean different columns.
func (l *Layer) FilterTarget(param string) (FilterTarget, bool) {
	if scope, name, ok := strings.Cut(param, "."); ok {
		if scope != l.ID {
			return FilterTarget{}, false
		}
		param = name
	}
	if c, ok := l.Filterable(param); ok {
		return FilterTarget{Kind: OnColumn, Column: c}, true
	}
	if slices.Contains(TimeParams, param) {
		if l.TimeColumn == "" {
			return FilterTarget{}, false
		}
		c, _ := l.Column(l.TimeColumn)
		return FilterTarget{Kind: OnTime, Column: c}, true
	}
	if slices.Contains(AreaParams, param) {
		return FilterTarget{Kind: InArea}, l.GridCell
	}
	for _, ref := range l.Columns {
		if ref.Type != Ref {
			continue
		}
		to := Catalogue[ref.RefLayer]
		if to == nil {
			continue
		}
		if c, ok := to.Filterable(param); ok {
			return FilterTarget{Kind: ViaRef, Column: c, Ref: ref, To: to}, true
		}
	}
	return FilterTarget{}, false
}

// ParseFilters validates query parameters against the layers' catalogue
// entries. Parameters named in own are the caller's and are skipped. A
// parameter no layer can filter on, or a value it does not accept, is an
// EInvalid error naming the parameter.
func ParseFilters(layers []*Layer, q url.Values, own ...string) (Filters, error) {
	params := make([]string, 0, len(q))
	for p := range q {
		if !slices.Contains(own, p) {
			params = append(params, p)
		}
	}
	sort.Strings(params)
	var out Filters
	for _, given := range params {
		raw := q[given]
		scope, name, scoped := strings.Cut(given, ".")
		if !scoped {
			scope, name = "", given
		} else if len(layers) < 2 || !slices.ContainsFunc(layers, func(l *Layer) bool { return l.ID == scope }) {
			return nil, Invalid(given, "unknown parameter %q: a filter names its layer (layer.param) only in a tile of several layers, and only one of them (%s)", given, LayerList(layers))
		}
		p := given
		if canon, ok := timeAlias[name]; ok {
			if scoped {
				canon = scope + "." + canon
			}
			if _, both := q[canon]; both {
				return nil, Invalid(given, "%s and %s mean the same; give one", given, canon)
			}
			p = canon
		}
		var target FilterTarget
		found := false
		for _, l := range layers {
			if t, ok := l.FilterTarget(p); ok {
				target, found = t, true
				break
			}
		}
		if !found {
			on := layers
			if scoped {
				on = []*Layer{Catalogue[scope]}
			}
			return nil, Invalid(given, "unknown parameter %q: %s filter on %s", given, LayerList(on), strings.Join(FilterNames(on), ", "))
		}
		var values []string
		switch target.Kind {
		case OnTime:
			if len(raw) != 1 {
				return nil, Invalid(given, "%s given %d times; give it once", given, len(raw))
			}
			t, err := ParseTime(raw[0])
			if errors.Is(err, errYears) {
				return nil, Invalid(given, "%s: %v", given, err)
			}
			if err != nil {
				return nil, Invalid(given, "%s: %q is not a date (2026-01-31) or time (2026-01-31T08:00:00+08:00)", given, raw[0])
			}
			values = []string{t.UTC().Format(time.RFC3339)}
		default:
			var err error
			if values, err = parseValues(layers, given, p, target, raw); err != nil {
				return nil, err
			}
		}
		out = append(out, Filter{Param: p, Values: values})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Param < out[j].Param })
	// Each layer's window is the narrowest of what applies to it, its own
	// (layer.since) and the tile's (since). Only when there are times to
	// compare: this runs before every tile, most without filters.
	for _, l := range layers {
		if l.TimeColumn == "" || !hasTime(out) {
			continue
		}
		since, sinceParam := later(out, "since", l.ID+".since")
		until, untilParam := earlier(out, "until", l.ID+".until")
		if since != "" && until != "" && since >= until {
			return nil, Invalid(untilParam, "the time window of %s is empty: %s %s is not before %s %s", l.ID, sinceParam, since, untilParam, until)
		}
	}
	return out, nil
}

func hasTime(fs Filters) bool {
	for _, f := range fs {
		if n := f.Name(); n == "since" || n == "until" {
			return true
		}
	}
	return false
}

// later returns the latest time of the params given, and which it was.
func later(fs Filters, params ...string) (string, string) {
	var t, from string
	for _, p := range params {
		if v := fs.Get(p); v != nil && v[0] > t {
			t, from = v[0], p
		}
	}
	return t, from
}

// earlier returns the earliest time of the params given, and which it was.
func earlier(fs Filters, params ...string) (string, string) {
	var t, from string
	for _, p := range params {
		if v := fs.Get(p); v != nil && (t == "" || v[0] < t) {
			t, from = v[0], p
		}
	}
	return t, from
}

// parseValues reads the comma-separated values of a column or area filter.
func parseValues(layers []*Layer, given, p string, target FilterTarget, raw []string) ([]string, error) {
	var values []string
	for _, r := range raw {
		for _, v := range strings.Split(r, ",") {
			v = strings.TrimSpace(v)
			switch {
			case target.Kind == InArea:
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n <= 0 {
					return nil, Invalid(given, "%s: %q is not an id (a positive whole number)", given, v)
				}
				v = strconv.FormatInt(n, 10)
			case target.Column.Type == Bool:
				b, err := strconv.ParseBool(v)
				if err != nil {
					return nil, Invalid(given, "%s: %q is not true or false", given, v)
				}
				v = strconv.FormatBool(b)
			default:
				if l, enum := invalidFor(layers, p, v); l != nil {
					msg := fmt.Sprintf("%s: unknown value %q for %s; want one of %s", given, v, l.ID, strings.Join(enum, ", "))
					if !strings.Contains(p, ".") {
						for _, other := range layers {
							if t, has := other.FilterTarget(p); has && slices.Contains(t.Column.Enum, v) {
								msg += fmt.Sprintf(" (a filter applies to each layer of the tile that has it; to filter %s alone, give %s.%s=%s)", other.ID, other.ID, p, v)
								break
							}
						}
					}
					return nil, Invalid(given, "%s", msg)
				}
			}
			if !slices.Contains(values, v) {
				values = append(values, v)
			}
		}
	}
	if target.Kind == InArea {
		slices.SortFunc(values, func(a, b string) int {
			x, _ := strconv.ParseInt(a, 10, 64)
			y, _ := strconv.ParseInt(b, 10, 64)
			return int(x - y)
		})
	} else {
		sort.Strings(values)
	}
	return values, nil
}

// invalidFor returns the first layer filtering on parameter p whose column
// does not allow v, with the values it allows (layers may share a column
// name with different enumerations); nil when every one allows it.
func invalidFor(layers []*Layer, p, v string) (*Layer, []string) {
	for _, l := range layers {
		if t, has := l.FilterTarget(p); has && !slices.Contains(t.Column.Enum, v) {
			return l, t.Column.Enum
		}
	}
	return nil, nil
}

// ParseTime reads a date (YYYY-MM-DD, midnight in China Standard Time, the
// city's clock) or an RFC 3339 time.
//
// The time must fall within years 1–9999 in UTC as well: outside them it
// has no RFC 3339 form to be written back in (a TileJSON's URL, a cache
// key), and PostgreSQL would read it as another time.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		if t, err = time.ParseInLocation("2006-01-02", s, ChinaTime); err != nil {
			return time.Time{}, err
		}
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return time.Time{}, fmt.Errorf("%q: %w", s, errYears)
	}
	return t, nil
}

var errYears = errors.New("the time is outside the years 1–9999 in UTC")

// ChinaTime is China Standard Time (UTC+8, no daylight saving since 1991).
var ChinaTime = time.FixedZone("CST", 8*3600)

// LayerList is the layers' ids joined by commas, as a tile URL names them.
func LayerList(layers []*Layer) string { return strings.Join(layerIDs(layers), ",") }

func layerIDs(layers []*Layer) []string {
	s := make([]string, len(layers))
	for i, l := range layers {
		s[i] = l.ID
	}
	return s
}

// FilterNames lists the filter parameters the layers accept, sorted.
func FilterNames(layers []*Layer) []string {
	var names []string
	add := func(n string) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, l := range layers {
		candidates := append(append([]string{}, TimeParams...), AreaParams...)
		for _, c := range l.Columns {
			candidates = append(candidates, c.Name)
			if c.Type == Ref && Catalogue[c.RefLayer] != nil {
				for _, rc := range Catalogue[c.RefLayer].Columns {
					candidates = append(candidates, rc.Name)
				}
			}
		}
		for _, n := range candidates {
			if _, ok := l.FilterTarget(n); ok {
				add(n)
			}
		}
	}
	if len(names) == 0 {
		return []string{"nothing"}
	}
	sort.Strings(names)
	return names
}
