package analytics

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"

	"github.com/onemap-city/onemap/geo"
	analyticssql "github.com/onemap-city/onemap/sql/analytics"
	"github.com/onemap-city/onemap/sql/filtersql"
)

// Selection is the points an analysis runs on: a point layer of the
// catalogue, its filters, and an optional named weight.
type Selection struct {
	Layer   *geo.Layer
	Filters geo.Filters
	Weight  string // a key of Layer.Weights, or "" for 1 per point
}

// Key identifies the selection in caches.
func (s Selection) Key() string {
	return s.Layer.ID + "|" + s.Weight + "|" + s.Filters.Key()
}

// ParseSelection reads layer, weight and the filters from a query. Parameters
// in own belong to the caller. Failures are EInvalid naming the parameter.
func ParseSelection(q url.Values, own ...string) (Selection, error) {
	// One value each: reading the first of several would answer a question
	// that was not asked.
	for _, p := range append([]string{"layer", "weight"}, own...) {
		if n := len(q[p]); n > 1 {
			return Selection{}, geo.Invalid(p, "%s given %d times; give it once", p, n)
		}
	}
	id := q.Get("layer")
	if id == "" && q.Has("layer") {
		return Selection{}, geo.Invalid("layer", "layer is empty: give one of %s", strings.Join(PointLayers(), ", "))
	}
	if id == "" {
		return Selection{}, geo.Invalid("layer", "layer is required: one of %s", strings.Join(PointLayers(), ", "))
	}
	l, err := geo.LookupLayer(id)
	if err != nil || l.Geometry != geo.Point {
		return Selection{}, geo.Invalid("layer", "layer %q: want a point layer, one of %s", id, strings.Join(PointLayers(), ", "))
	}
	sel := Selection{Layer: l, Weight: q.Get("weight")}
	if sel.Weight != "" {
		if _, ok := l.Weights[sel.Weight]; !ok {
			names := make([]string, 0, len(l.Weights))
			for n := range l.Weights {
				names = append(names, n)
			}
			sort.Strings(names)
			return Selection{}, geo.Invalid("weight", "weight %q: the %s layer is weighted by %s", sel.Weight, id, orNone(names))
		}
	}
	if sel.Filters, err = geo.ParseFilters([]*geo.Layer{l}, q, append(own, "layer", "weight")...); err != nil {
		return Selection{}, err
	}
	return sel, nil
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "nothing (no weights are defined)"
	}
	return strings.Join(names, ", ")
}

// PointLayers lists the catalogue's point layers, sorted.
func PointLayers() []string {
	var ids []string
	for _, id := range geo.LayerIDs() {
		if geo.Catalogue[id].Geometry == geo.Point {
			ids = append(ids, id)
		}
	}
	return ids
}

var pointsTemplate = mustSQL("points.sql")

// mustSQL reads an embedded statement without its comment lines, which
// document placeholders and must not be filled in.
func mustSQL(name string) string {
	b, err := analyticssql.FS.ReadFile(name)
	if err != nil {
		panic("analytics: missing embedded SQL " + name) // caught by any test
	}
	var keep []string
	for _, line := range strings.Split(string(b), "\n") {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "--") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// world is a metric box around everything: "no spatial limit".
var world = [4]float64{-1e9, -1e9, 1e9, 1e9}

// Points streams the selection's points within the metric box (EPSG:4549).
func Points(ctx context.Context, db Database, sel Selection, box [4]float64) ([]Point, error) {
	return pointsOfPages(ctx, db, sel, box, -1, -1)
}

// pointsOfPages reads the points of Points held in the table's pages
// [from, to) (-1: no bound).
func pointsOfPages(ctx context.Context, db Database, sel Selection, box [4]float64, from, to int64) ([]Point, error) {
	weight := "1"
	if sel.Weight != "" {
		weight = sel.Layer.Weights[sel.Weight]
	}
	where, args := filtersql.Where(sel.Layer, "t", sel.Filters, []any{box[0], box[1], box[2], box[3]})
	if from >= 0 {
		args = append(args, fmt.Sprintf("(%d,0)", from))
		where += fmt.Sprintf(" AND t.ctid >= $%d::text::tid", len(args))
	}
	if to >= 0 {
		args = append(args, fmt.Sprintf("(%d,0)", to))
		where += fmt.Sprintf(" AND t.ctid < $%d::text::tid", len(args))
	}
	r := strings.NewReplacer("{{table}}", filtersql.Ident(sel.Layer.Table), "{{weight}}", weight, "{{where}}", where)
	rows, err := db.QueryRows(ctx, r.Replace(pointsTemplate), args...)
	if err != nil {
		return nil, fmt.Errorf("analytics: points of %s: %w", sel.Layer.ID, err)
	}
	defer rows.Close()
	raw, isRaw := rows.(rawRows)
	// Millions of rows: filled in chunks and joined once at the end, so
	// nothing is copied twice and no count(*) pass (as long as the read)
	// is needed to size a slice beforehand.
	var chunks [][]Point
	chunk := make([]Point, 0, 4096)
	for rows.Next() {
		if len(chunk) == cap(chunk) {
			chunks = append(chunks, chunk)
			chunk = make([]Point, 0, min(2*cap(chunk), 1<<18))
		}
		// Decode the three binary float8 columns directly where the
		// driver allows, else through Scan.
		if isRaw {
			if p, ok := rawPoint(raw.RawValues()); ok {
				chunk = append(chunk, p)
				continue
			}
		}
		var p Point
		if err := rows.Scan(&p.X, &p.Y, &p.W); err != nil {
			return nil, err
		}
		chunk = append(chunk, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: points of %s: %w", sel.Layer.ID, err)
	}
	if len(chunks) == 0 {
		return chunk, nil
	}
	n := len(chunk)
	for _, c := range chunks {
		n += len(c)
	}
	pts := make([]Point, 0, n)
	for _, c := range chunks {
		pts = append(pts, c...)
	}
	pts = append(pts, chunk...)
	return pts, nil
}

// parallelPages is the table size, in 8 kB pages, from which allPoints
// reads the two halves of a table at once.
const parallelPages = 4096

// allPoints reads every point of the selection, as Points(world) does. A
// large table is read as two halves of its pages on two connections at
// once (on the large demo, 2M hazards: the database's per-row work and the
// decoding here then share the cores). The halves are two statements, two
// snapshots: the read counts only if the selection's data version is the
// same before and after both, so no write committed in between; else it is
// read again in one statement.
func allPoints(ctx context.Context, db Database, sel Selection) ([]Point, error) {
	var pages int64
	if err := db.ScanRow(ctx, relPagesSQL, []any{sel.Layer.Table}, &pages); err != nil {
		return nil, fmt.Errorf("analytics: size of %s: %w", sel.Layer.ID, err)
	}
	if pages < parallelPages {
		return Points(ctx, db, sel, world)
	}
	before, err := selectionVersion(ctx, db, sel)
	if err != nil {
		return nil, err
	}
	var halves [2][]Point
	g, gctx := errgroup.WithContext(ctx)
	for k, r := range [2][2]int64{{-1, pages / 2}, {pages / 2, -1}} {
		g.Go(func() (err error) {
			halves[k], err = pointsOfPages(gctx, db, sel, world, r[0], r[1])
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	after, err := selectionVersion(ctx, db, sel)
	if err != nil {
		return nil, err
	}
	if after != before {
		return Points(ctx, db, sel, world)
	}
	return append(halves[0], halves[1]...), nil
}

var relPagesSQL = mustSQL("relpages.sql")

// rawRows is a result whose current row's undecoded columns are readable
// (pgx.Rows).
type rawRows interface{ RawValues() [][]byte }

// rawPoint decodes x, y and weight sent as binary float8; ok is false for
// anything else (a NULL, text format).
func rawPoint(cols [][]byte) (Point, bool) {
	if !eightByteColumns(cols, 3) {
		return Point{}, false
	}
	return Point{X: f64(cols[0]), Y: f64(cols[1]), W: f64(cols[2])}, true
}

// rawColumns returns the current row's n columns when each is 8 bytes of
// binary (int8 or float8), or nil (a NULL, text format, no raw access).
func rawColumns(rows rawRows, ok bool, n int) [][]byte {
	if !ok {
		return nil
	}
	if cols := rows.RawValues(); eightByteColumns(cols, n) {
		return cols
	}
	return nil
}

func eightByteColumns(cols [][]byte, n int) bool {
	if len(cols) != n {
		return false
	}
	for _, c := range cols {
		if len(c) != 8 {
			return false
		}
	}
	return true
}

// f64 decodes a binary float8.
func f64(b []byte) float64 { return math.Float64frombits(binary.BigEndian.Uint64(b)) }

// version returns a layer's data version, so cached results are used only
// while the data they were computed from is unchanged.
func version(ctx context.Context, db Database, l *geo.Layer) (int64, error) {
	var v int64
	err := db.ScanRow(ctx, mustSQL("version.sql"), []any{l.Table}, &v)
	return v, err
}

// memo caches values computed from a selection, by key and data version.
// It holds a bounded number of entries and, when it knows their sizes, a
// bounded number of bytes, the oldest dropped first; it is safe for
// concurrent use, and concurrent misses of one key and version compute the
// value once.
type memo[V any] struct {
	mu       sync.Mutex
	entries  map[string]memoEntry[V]
	order    []string
	limit    int
	maxBytes int64         // 0: no bound on bytes
	size     func(V) int64 // an estimate of a value's memory, for maxBytes
	bytes    int64
	flight   singleflight.Group
}

type memoEntry[V any] struct {
	version int64
	value   V
	bytes   int64
}

// newMemo returns a memo of at most limit entries.
func newMemo[V any](limit int) *memo[V] {
	return &memo[V]{entries: map[string]memoEntry[V]{}, limit: limit}
}

// newSizedMemo returns a memo of at most limit entries and maxBytes bytes
// as size estimates them: for values whose size varies by orders of
// magnitude with the request (a city of 100 m hexagons against a street's).
func newSizedMemo[V any](limit int, maxBytes int64, size func(V) int64) *memo[V] {
	return &memo[V]{entries: map[string]memoEntry[V]{}, limit: limit, maxBytes: maxBytes, size: size}
}

// get returns the value for key at version v, computing it with f if needed.
func (m *memo[V]) get(key string, v int64, f func() (V, error)) (V, error) {
	m.mu.Lock()
	if e, ok := m.entries[key]; ok && e.version == v {
		m.mu.Unlock()
		return e.value, nil
	}
	m.mu.Unlock()
	v2, err, _ := m.flight.Do(key+"\x00"+strconv.FormatInt(v, 10), func() (any, error) { return f() })
	if err != nil {
		var zero V
		return zero, err
	}
	val, _ := v2.(V) // a nil value comes back as a nil interface
	var size int64
	if m.size != nil {
		size = m.size(val)
	}
	if m.maxBytes > 0 && size > m.maxBytes {
		return val, nil // used, not kept: it would push out everything else
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.entries[key]; ok {
		m.bytes -= old.bytes
	} else {
		m.order = append(m.order, key)
	}
	m.entries[key] = memoEntry[V]{version: v, value: val, bytes: size}
	m.bytes += size
	// The newest entry fits on its own, so it is never the one dropped.
	for len(m.order) > m.limit || (m.maxBytes > 0 && m.bytes > m.maxBytes) {
		m.bytes -= m.entries[m.order[0]].bytes
		delete(m.entries, m.order[0])
		m.order = slices.Delete(m.order, 0, 1)
	}
	return val, nil
}

// expand grows a box by d on every side.
func expand(b [4]float64, d float64) [4]float64 {
	return [4]float64{b[0] - d, b[1] - d, b[2] + d, b[3] + d}
}

// metricBox returns the EPSG:4549 box around a lon/lat box, sampling its
// edges (the projection bends them slightly).
func metricBox(b [4]float64) [4]float64 {
	out := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for i := 0; i <= 8; i++ {
		f := float64(i) / 8
		for _, p := range [][2]float64{
			{b[0] + f*(b[2]-b[0]), b[1]}, {b[0] + f*(b[2]-b[0]), b[3]},
			{b[0], b[1] + f*(b[3]-b[1])}, {b[2], b[1] + f*(b[3]-b[1])},
		} {
			x, y := geo.ToGK120(p[0], p[1])
			out = [4]float64{min(out[0], x), min(out[1], y), max(out[2], x), max(out[3], y)}
		}
	}
	return out
}
