package tiles

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/filtersql"
	tilesql "github.com/onemap-city/onemap/sql/tiles"
)

// Encoding parameters of every tile (MVT 2.1).
const (
	Extent = 4096
	// Buffer is the margin around a tile, in tile units, that features are
	// kept in so that symbols and lines join across tile edges (64 px of 4096).
	Buffer = 64
	// clusterCells is the cluster grid, cells per tile side.
	clusterCells = 16
)

var (
	featuresTemplate = mustTemplate("features.sql")
	clustersTemplate = mustTemplate("clusters.sql")
	denseTemplate    = mustTemplate("dense.sql")
	piecesTemplate   = mustTemplate("pieces.sql")
	areaStatsJoins   = mustTemplate("area_stats.sql")
)

// Limits bound what one layer of one tile may carry.
type Limits struct {
	// FeatureCap is the most features (or clusters) of a layer in a tile;
	// beyond it the tile is truncated and says so.
	FeatureCap int
	// ClusterAbove: a point layer with more features than this in a tile is
	// sent as clusters there, whatever the zoom (0: only below ClusterBelow).
	ClusterAbove int
}

// mustTemplate reads an embedded template without its comment lines, which
// document the placeholders and so must not be filled in, and which would
// swallow the SQL nested into them.
func mustTemplate(name string) string {
	b, err := tilesql.FS.ReadFile(name)
	if err != nil {
		panic("tiles: missing embedded SQL " + name) // caught by any test; never at run time
	}
	var keep []string
	for _, line := range strings.Split(string(b), "\n") {
		if t := strings.TrimSpace(line); !strings.HasPrefix(t, "--") && t != "" {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// Query is one tile's SQL statement and its arguments. The statement returns,
// for each layer in order, the layer's MVT bytes and whether it was truncated.
type Query struct {
	SQL  string
	Args []any
}

// BuildQuery builds the single statement that makes every layer of r's tile
// in one round trip. Layers outside their zoom range are left out; it
// returns the layers it kept in the statement's column order.
func BuildQuery(r Request, lim Limits) (Query, []*geo.Layer) {
	args := []any{r.Addr.Z, r.Addr.X, r.Addr.Y}
	var wheres []string
	var kept []*geo.Layer
	var key strings.Builder
	fmt.Fprintf(&key, "%d/%d", lim.FeatureCap, lim.ClusterAbove)
	for _, l := range r.Layers {
		if r.Addr.Z < l.MinZoom || r.Addr.Z > l.MaxZoom {
			continue
		}
		var where string
		where, args = filterSQL(l, r.Addr.Z, r.Filters, args)
		wheres = append(wheres, where)
		kept = append(kept, l)
		fmt.Fprintf(&key, "|%s/%t/%t/%s", l.ID, Clustered(l, r.Addr.Z), FromPieces(l, r.Addr.Z), where)
	}
	if len(kept) == 0 {
		return Query{}, nil
	}
	// The statement depends only on the layers, how each is drawn at this
	// zoom and which filters apply, so it is built once per such shape.
	if sql, ok := statements.Load(key.String()); ok {
		return Query{SQL: sql.(string), Args: args}, kept
	}
	var parts []string
	for i, l := range kept {
		parts = append(parts, layerSQL(l, r.Addr.Z, wheres[i], lim))
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	for i := range parts {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "l%d.*", i)
	}
	b.WriteString("\nFROM ")
	for i, p := range parts {
		if i > 0 {
			b.WriteString("\nCROSS JOIN ")
		}
		fmt.Fprintf(&b, "(%s) l%d", p, i)
	}
	statements.Store(key.String(), b.String())
	return Query{SQL: b.String(), Args: args}, kept
}

// statements caches built statements by their shape. The shapes are few
// (layers × zoom bands × filter sets in use), and so is the cache.
var statements sync.Map

// Clustered reports whether layer l is always served as clusters at zoom z
// (below its ClusterBelow). Above it, a tile is clustered only where it is
// dense (Limits.ClusterAbove).
func Clustered(l *geo.Layer, z int) bool {
	return l.Geometry == geo.Point && z < l.ClusterBelow
}

// FromPieces reports whether layer l's tiles at zoom z are made from its
// pre-cut polygon pieces (geo.Layer.PiecesFrom).
func FromPieces(l *geo.Layer, z int) bool {
	return l.PiecesFrom > 0 && z >= l.PiecesFrom && l.Geometry != geo.Point
}

func layerSQL(l *geo.Layer, z int, where string, lim Limits) string {
	switch {
	case FromPieces(l, z):
		return fillLayer(piecesTemplate, l, where, lim)
	case Clustered(l, z):
		return fillLayer(clustersTemplate, l, where, lim)
	case l.Geometry == geo.Point && lim.ClusterAbove > 0:
		return strings.NewReplacer(
			"{{features}}", fillLayer(featuresTemplate, l, where, lim),
			"{{clusters}}", fillLayer(clustersTemplate, l, where, lim),
			"{{threshold}}", strconv.Itoa(lim.ClusterAbove),
			"{{table}}", filtersql.Ident(l.Table),
			"{{where}}", where,
			"{{buffer}}", strconv.Itoa(Buffer),
			"{{extent}}", strconv.Itoa(Extent),
		).Replace(denseTemplate)
	}
	return fillLayer(featuresTemplate, l, where, lim)
}

// fillLayer fills a features or clusters template for layer l.
func fillLayer(tmpl string, l *geo.Layer, where string, lim Limits) string {
	var attrs, dominant strings.Builder
	for _, c := range l.ClusterBy {
		col := filtersql.Ident(c)
		fmt.Fprintf(&dominant, ", mode() WITHIN GROUP (ORDER BY t.%s) AS %s", col, col)
	}
	for _, c := range l.Columns {
		if c.Tile {
			fmt.Fprintf(&attrs, ", %s AS %s", attributeSQL(c), filtersql.Ident(c.Name))
		}
	}
	var joins string
	if l.AreaLevel != "" {
		joins = strings.ReplaceAll(areaStatsJoins, "{{level}}", quoteLiteral(l.AreaLevel))
		for _, name := range sortedKeys(geo.AreaStatFields) {
			fmt.Fprintf(&attrs, ", s.%s", filtersql.Ident(name))
		}
	}
	geom := "t.geom_3857"
	if tmpl == piecesTemplate {
		geom = "p.geom_3857" // the feature's pieces in this tile, joined
	}
	if l.Geometry != geo.Point {
		// Half a pixel of a 512-pixel tile: invisible, and it keeps low-zoom
		// tiles of detailed lines and polygons small.
		geom = "ST_Simplify(" + geom + ", 40075016.68557849 / (1::bigint << $1) / 1024, true)"
	}
	return strings.NewReplacer(
		"{{layer}}", quoteLiteral(l.ID),
		"{{table}}", filtersql.Ident(l.Table),
		"{{geom}}", geom,
		"{{attributes}}", attrs.String(),
		"{{joins}}", joins,
		"{{dominant}}", dominant.String(),
		"{{where}}", where,
		"{{buffer}}", strconv.Itoa(Buffer),
		"{{extent}}", strconv.Itoa(Extent),
		"{{cap}}", strconv.Itoa(lim.FeatureCap),
		"{{cells}}", strconv.Itoa(clusterCells),
	).Replace(tmpl)
}

// attributeSQL is how a column is written into a tile: times as ISO 8601
// text in the city's clock, everything else as it is stored.
func attributeSQL(c geo.Column) string {
	col := "t." + filtersql.Ident(c.Name)
	switch c.Type {
	case geo.Timestamp:
		return fmt.Sprintf(`to_char(%s AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"')`, col)
	case geo.Date:
		return fmt.Sprintf(`to_char(%s, 'YYYY-MM-DD')`, col)
	}
	return col
}

// filterSQL returns the conditions of the filters that apply to l and of
// its zoom rule, and args with their values appended.
func filterSQL(l *geo.Layer, z int, fs Filters, args []any) (string, []any) {
	where, args := filtersql.Where(l, "t", fs, args)
	if zb := l.ZoomBy; zb != nil {
		if values, all := zb.ValuesAt(z); !all {
			args = append(args, values)
			where += fmt.Sprintf(" AND t.%s = ANY($%d::text[])", filtersql.Ident(zb.Column), len(args))
		}
	}
	return where, args
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// quoteLiteral quotes a catalogue string as an SQL literal.
func quoteLiteral(s string) string {
	if s == "" || strings.ContainsAny(s, "'\\\x00") {
		panic("tiles: catalogue id " + strconv.Quote(s) + " cannot be an MVT layer name")
	}
	return "'" + s + "'"
}
