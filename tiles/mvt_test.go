package tiles_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/postgis/postgistest"
	"github.com/onemap-city/onemap/tiles"
)

// decodedTile is what Mapbox's reference decoder (testdata/decoder) reads
// from a tile.
type decodedTile struct {
	File   string                  `json:"file"`
	Layers map[string]decodedLayer `json:"layers"`
}

type decodedLayer struct {
	Version  int              `json:"version"`
	Extent   int              `json:"extent"`
	Features []decodedFeature `json:"features"`
}

type decodedFeature struct {
	ID         *uint64        `json:"id"`
	Type       int            `json:"type"` // 1 point, 2 line, 3 polygon
	Properties map[string]any `json:"properties"`
	Geometry   [][][2]float64 `json:"geometry"`
	RingAreas  []float64      `json:"ringAreas"`
}

// decodeJS decodes tile files with @mapbox/vector-tile, in one node process.
func decodeJS(t *testing.T, files ...string) []decodedTile {
	t.Helper()
	script, _ := filepath.Abs("testdata/decoder/decode.mjs")
	if _, err := os.Stat("testdata/decoder/node_modules/@mapbox/vector-tile"); err != nil {
		t.Fatalf("the JS decoder is not installed: run `make test-deps` (npm ci in tiles/testdata/decoder): %v", err)
	}
	out, err := exec.Command("node", append([]string{script}, files...)...).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("node decode.mjs: %v\n%s", err, stderr)
	}
	var tiles []decodedTile
	if err := json.Unmarshal(out, &tiles); err != nil {
		t.Fatal(err)
	}
	return tiles
}

// gdalSummary reads a tile with GDAL's MVT driver: layer → feature count and fields.
type gdalLayer struct {
	Count  int
	Fields []string
}

var (
	gdalLayerName = regexp.MustCompile(`(?m)^Layer name: (\S+)`)
	gdalCount     = regexp.MustCompile(`(?m)^Feature Count: (\d+)`)
	gdalField     = regexp.MustCompile(`(?m)^(\w+): (String|Integer|Integer64|Real|Date|DateTime|Boolean|Integer\(Boolean\))\b`)
)

func gdalSummary(t *testing.T, file string) map[string]gdalLayer {
	t.Helper()
	out, err := exec.Command("ogrinfo", "-ro", "-al", "-so", "MVT:"+file).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo (Debian gdal-bin) on %s: %v\n%s", file, err, out)
	}
	res := map[string]gdalLayer{}
	text := string(out)
	starts := gdalLayerName.FindAllStringSubmatchIndex(text, -1)
	for i, s := range starts {
		end := len(text)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		block := text[s[0]:end]
		name := text[s[2]:s[3]]
		var l gdalLayer
		if m := gdalCount.FindStringSubmatch(block); m != nil {
			l.Count, _ = strconv.Atoi(m[1])
		}
		for _, m := range gdalField.FindAllStringSubmatch(block, -1) {
			l.Fields = append(l.Fields, m[1])
		}
		res[name] = l
	}
	return res
}

// townCore returns the centre of the grid cell with the most premises.
func townCore(t *testing.T) (lon, lat float64) { return townCoreB(t) }

func townCoreB(t testing.TB) (lon, lat float64) {
	t.Helper()
	err := postgistest.DB(t).QueryRow(context.Background(), `
		SELECT ST_X(c), ST_Y(c) FROM (
		  SELECT ST_Centroid(ST_Collect(geom)) AS c FROM premises
		  WHERE grid_cell_id = (SELECT grid_cell_id FROM premises WHERE grid_cell_id IS NOT NULL
		                        GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1)) s`).Scan(&lon, &lat)
	if err != nil {
		t.Fatal(err)
	}
	return lon, lat
}

type sample struct {
	layer *geo.Layer
	addr  geo.TileAddr
	file  string
	tile  *tiles.Tile
}

// sampleTiles makes tiles of every layer at a sweep of zooms over the town core.
func sampleTiles(t *testing.T, svc *tiles.Service) []sample {
	t.Helper()
	lon, lat := townCore(t)
	dir := t.TempDir()
	var out []sample
	for _, id := range geo.LayerIDs() {
		l := geo.Catalogue[id]
		zooms := map[int]bool{}
		for _, z := range []int{l.MinZoom, 10, 12, 13, 14, 15, 16} {
			if z >= l.MinZoom && z <= l.MaxZoom && z >= 8 {
				zooms[z] = true
			}
		}
		for z := range zooms {
			addr := geo.TileOf(z, lon, lat)
			tile, err := svc.Tile(context.Background(), tiles.Request{Layers: []*geo.Layer{l}, Addr: addr})
			if err != nil {
				t.Fatalf("%s %v: %v", id, addr, err)
			}
			file := filepath.Join(dir, fmt.Sprintf("%s-%d-%d-%d.mvt", id, addr.Z, addr.X, addr.Y))
			if err := os.WriteFile(file, tile.Identity, 0o644); err != nil {
				t.Fatal(err)
			}
			out = append(out, sample{layer: l, addr: addr, file: file, tile: tile})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].file < out[j].file })
	return out
}

// postgisFeatures returns the features PostGIS says belong in a tile (those
// meeting its buffered envelope, and shown at that zoom), id → size in tile
// units (length of a line, square root of a polygon's area, 0 for a point).
func postgisFeatures(t *testing.T, l *geo.Layer, a geo.TileAddr, extraWhere string) map[uint64]float64 {
	t.Helper()
	where := ""
	if zb := l.ZoomBy; zb != nil {
		if vals, all := zb.ValuesAt(a.Z); !all {
			where = fmt.Sprintf(" AND t.%s IN ('%s')", zb.Column, strings.Join(vals, "','"))
		}
	}
	unit := fmt.Sprintf("(40075016.68557849 / (1 << $1) / %d)", tiles.Extent)
	size := "0"
	switch l.Geometry {
	case geo.LineString:
		size = "ST_Length(ST_Intersection(t.geom_3857, env)) / " + unit
	case geo.MultiPolygon:
		size = "sqrt(ST_Area(ST_Intersection(t.geom_3857, env))) / " + unit
	}
	// ST_Intersects, not &&: the index operator compares float4 boxes and
	// lets in points a hair outside the buffer.
	sql := fmt.Sprintf(`SELECT t.id, %s FROM %s t, (SELECT ST_TileEnvelope($1, $2, $3, margin => %d.0 / %d) AS env) e
		WHERE ST_Intersects(t.geom_3857, env)%s%s`, size, l.Table, tiles.Buffer, tiles.Extent, where, extraWhere)
	rows, err := postgistest.DB(t).Query(context.Background(), sql, a.Z, a.X, a.Y)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[uint64]float64{}
	for rows.Next() {
		var id int64
		var sz float64
		if err := rows.Scan(&id, &sz); err != nil {
			t.Fatal(err)
		}
		out[uint64(id)] = sz
	}
	return out
}

func postgisCount(t *testing.T, l *geo.Layer, a geo.TileAddr, extraWhere string) int {
	return len(postgisFeatures(t, l, a, extraWhere))
}

// compareWithPostGIS: the tile holds exactly PostGIS's features, except lines
// and polygons too small to draw at the tile's resolution (under two tile
// units), which MVT encoding rightly drops.
func compareWithPostGIS(t *testing.T, name string, l *geo.Layer, a geo.TileAddr, features []decodedFeature) {
	t.Helper()
	want := postgisFeatures(t, l, a, "")
	got := map[uint64]bool{}
	for _, f := range features {
		if f.ID == nil {
			continue
		}
		got[*f.ID] = true
		if _, ok := want[*f.ID]; !ok {
			t.Errorf("%s: feature %d is in the tile but PostGIS puts it elsewhere", name, *f.ID)
		}
	}
	dropped := 0
	for id, size := range want {
		if !got[id] {
			if l.Geometry == geo.Point || size >= 2 {
				t.Errorf("%s: feature %d (size %.1f tile units) missing from the tile", name, id, size)
			}
			dropped++
		}
	}
	if dropped > len(want)/10 {
		t.Errorf("%s: %d of %d features dropped as too small", name, dropped, len(want))
	}
}

// TestTilesAgainstIndependentDecoders makes tiles of every layer at a sweep
// of zooms and reads them back with Mapbox's JS decoder and GDAL's MVT
// driver: names, versions, fields, counts against PostGIS, ids, polygon
// winding and validity.
func TestTilesAgainstIndependentDecoders(t *testing.T) {
	loadDemo(t)
	svc := tiles.NewService(postgistest.DB(t), tiles.Config{}, nil)
	samples := sampleTiles(t, svc)
	var files []string
	for _, s := range samples {
		files = append(files, s.file)
	}
	decoded := decodeJS(t, files...)
	nonEmpty := map[string]bool{}
	for i, s := range samples {
		d := decoded[i]
		name := fmt.Sprintf("%s@%v", s.layer.ID, s.addr)
		if len(s.tile.Identity) == 0 {
			if len(d.Layers) != 0 {
				t.Errorf("%s: empty tile decodes to layers %v", name, d.Layers)
			}
			if !tiles.Clustered(s.layer, s.addr.Z) {
				if n := postgisCount(t, s.layer, s.addr, ""); n != 0 {
					t.Errorf("%s: empty tile, but PostGIS has %d features there", name, n)
				}
			}
			continue
		}
		nonEmpty[s.layer.ID] = true
		if len(d.Layers) != 1 {
			t.Errorf("%s: %d layers, want 1 (no empty layers)", name, len(d.Layers))
			continue
		}
		dl, ok := d.Layers[s.layer.ID]
		if !ok {
			t.Errorf("%s: layer names %v", name, d.Layers)
			continue
		}
		if dl.Version != 2 || dl.Extent != tiles.Extent {
			t.Errorf("%s: version %d extent %d, want 2 and %d", name, dl.Version, dl.Extent, tiles.Extent)
		}
		fields := tiles.Fields(s.layer)
		ids := map[uint64]bool{}
		for _, f := range dl.Features {
			if f.ID == nil || *f.ID == 0 || ids[*f.ID] {
				t.Errorf("%s: feature id missing or repeated: %v", name, f.ID)
				break
			}
			ids[*f.ID] = true
			for k := range f.Properties {
				if _, ok := fields[k]; !ok {
					t.Errorf("%s: attribute %q not in the catalogue's fields", name, k)
				}
			}
		}
		if !tiles.Clustered(s.layer, s.addr.Z) && !isClusters(dl) {
			compareWithPostGIS(t, name, s.layer, s.addr, dl.Features)
		}
		if s.layer.Geometry == geo.MultiPolygon {
			checkPolygons(t, name, dl)
		}
		// GDAL reads the same layer, count and fields.
		g := gdalSummary(t, s.file)
		if gl, ok := g[s.layer.ID]; !ok || gl.Count != len(dl.Features) || len(g) != 1 {
			t.Errorf("%s: GDAL reads %v, the JS decoder %d features", name, g, len(dl.Features))
		} else {
			for _, fld := range gl.Fields {
				if _, ok := fields[fld]; !ok && fld != "mvt_id" {
					t.Errorf("%s: GDAL field %q not in the catalogue's fields", name, fld)
				}
			}
		}
	}
	for _, id := range geo.LayerIDs() {
		if !nonEmpty[id] && id != "inspections" {
			t.Errorf("no tile of %s over the town core had features: the sweep proves nothing for it", id)
		}
	}
}

// checkPolygons: exterior rings clockwise in tile space (positive area by the
// MVT spec's formula), and each polygon valid in PostGIS.
func checkPolygons(t *testing.T, name string, dl decodedLayer) {
	t.Helper()
	ctx := context.Background()
	for _, f := range dl.Features {
		if f.Type != 3 {
			t.Errorf("%s: feature type %d in a polygon layer", name, f.Type)
			continue
		}
		if len(f.RingAreas) == 0 || f.RingAreas[0] <= 0 {
			t.Errorf("%s: feature %v: first ring area %v, want > 0 (exterior clockwise)", name, *f.ID, f.RingAreas)
			continue
		}
		wkt := polygonWKT(f)
		var valid bool
		var reason string
		err := postgistest.DB(t).QueryRow(ctx, "SELECT ST_IsValid(g), ST_IsValidReason(g) FROM ST_GeomFromText($1) g", wkt).Scan(&valid, &reason)
		if err != nil || !valid {
			t.Errorf("%s: feature %v decodes to an invalid polygon: %v %s", name, *f.ID, err, reason)
		}
	}
}

// polygonWKT writes a decoded polygon feature (exterior rings clockwise in
// tile space, as MVT has them) as a MULTIPOLYGON in tile units.
func polygonWKT(f decodedFeature) string {
	var polys []string
	for i, ring := range f.Geometry {
		var pts []string
		for _, p := range ring {
			pts = append(pts, fmt.Sprintf("%g %g", p[0], p[1]))
		}
		pts = append(pts, pts[0])
		r := "(" + strings.Join(pts, ",") + ")"
		if f.RingAreas[i] > 0 {
			polys = append(polys, "("+r)
		} else {
			polys[len(polys)-1] += "," + r
		}
	}
	return "MULTIPOLYGON(" + strings.Join(polys, "),") + "))"
}

// filteredFeatures makes layer l's tile at addr with the filters of query
// and decodes it with the JS decoder (none for an empty tile).
func filteredFeatures(t *testing.T, svc *tiles.Service, l *geo.Layer, addr geo.TileAddr, q url.Values) []decodedFeature {
	t.Helper()
	fs, err := tiles.ParseFilters([]*geo.Layer{l}, q)
	if err != nil {
		t.Fatal(err)
	}
	tile, err := svc.Tile(context.Background(), tiles.Request{Layers: []*geo.Layer{l}, Addr: addr, Filters: fs})
	if err != nil {
		t.Fatal(err)
	}
	if len(tile.Identity) == 0 {
		return nil
	}
	file := filepath.Join(t.TempDir(), l.ID+".mvt")
	writeFile(t, file, tile.Identity)
	return decodeJS(t, file)[0].Layers[l.ID].Features
}

// TestFiltersReturnExactlyTheMatchingFeatures compares filtered tiles with a
// PostGIS count of the same filter.
func TestFiltersReturnExactlyTheMatchingFeatures(t *testing.T) {
	loadDemo(t)
	svc := tiles.NewService(postgistest.DB(t), tiles.Config{}, nil)
	lon, lat := townCore(t)
	cases := []struct {
		layer string
		z     int
		query string
		where string
		check func(map[string]any) bool
	}{
		{"premises", 15, "tag=red", " AND t.tag = 'red'", func(p map[string]any) bool { return p["tag"] == "red" }},
		{"premises", 15, "kind=group_rental,mixed_use", " AND t.kind IN ('group_rental','mixed_use')",
			func(p map[string]any) bool { return p["kind"] == "group_rental" || p["kind"] == "mixed_use" }},
		{"hazards", 15, "status=open&category=e_bike_charging&since=2026-01-01",
			" AND t.status = 'open' AND t.category = 'e_bike_charging' AND t.reported_at >= '2026-01-01T00:00:00+08:00'",
			func(p map[string]any) bool {
				return p["status"] == "open" && p["category"] == "e_bike_charging" && p["reported_at"].(string) >= "2026-01-01"
			}},
		{"hydrants", 14, "status=out_of_service,faulty", " AND t.status <> 'in_service'",
			func(p map[string]any) bool { return p["status"] != "in_service" }},
	}

	for _, tc := range cases {
		l := geo.Catalogue[tc.layer]
		addr := geo.TileOf(tc.z, lon, lat)
		q, _ := url.ParseQuery(tc.query)
		want := postgisCount(t, l, addr, tc.where)
		got := 0
		for _, f := range filteredFeatures(t, svc, l, addr, q) {
			got++
			if !tc.check(f.Properties) {
				t.Errorf("%s?%s: feature %v does not match: %v", tc.layer, tc.query, *f.ID, f.Properties)
			}
		}
		if got != want {
			t.Errorf("%s?%s at %v: %d features, PostGIS counts %d", tc.layer, tc.query, addr, got, want)
		}
		if want == 0 {
			t.Errorf("%s?%s: no matching feature in the test tile, the test proves nothing", tc.layer, tc.query)
		}
	}
}

// TestLayerScopedFiltersInSeveralLayers: a tile of several layers is its
// layers' tiles concatenated, so with hazards.status=open it must be the
// byte-for-byte concatenation of hazards?status=open and unfiltered hydrants.
func TestLayerScopedFiltersInSeveralLayers(t *testing.T) {
	loadDemo(t)
	ctx := context.Background()
	svc := tiles.NewService(postgistest.DB(t), tiles.Config{}, nil)
	lon, lat := townCore(t)
	addr := geo.TileOf(16, lon, lat)
	tileOf := func(ids, query string) []byte {
		t.Helper()
		layers, err := tiles.ParseLayers(ids)
		if err != nil {
			t.Fatal(err)
		}
		q, _ := url.ParseQuery(query)
		fs, err := tiles.ParseFilters(layers, q)
		if err != nil {
			t.Fatalf("%s?%s: %v", ids, query, err)
		}
		tile, err := svc.Tile(ctx, tiles.Request{Layers: layers, Addr: addr, Filters: fs})
		if err != nil {
			t.Fatal(err)
		}
		return tile.Identity
	}
	open, all := tileOf("hazards", "status=open"), tileOf("hazards", "")
	hydrants := tileOf("hydrants", "")
	if len(open) == 0 || len(hydrants) == 0 || bytes.Equal(open, all) {
		t.Fatalf("tile %v: %d bytes of open hazards (%d of all), %d of hydrants: the test needs both layers and a filter that drops some", addr, len(open), len(all), len(hydrants))
	}
	if got := tileOf("hazards,hydrants", "hazards.status=open"); !bytes.Equal(got, append(append([]byte{}, open...), hydrants...)) {
		t.Errorf("hazards,hydrants?hazards.status=open (%d bytes) is not hazards?status=open then hydrants (%d + %d)", len(got), len(open), len(hydrants))
	}
}

// TestClustersCountEveryPoint: at cluster zooms the counts of the clusters
// centred in a tile add up to the points in that tile, and each cluster
// carries its dominant values and a bbox.
func TestClustersCountEveryPoint(t *testing.T) {
	loadDemo(t)
	ctx := context.Background()
	svc := tiles.NewService(postgistest.DB(t), tiles.Config{}, nil)
	lon, lat := townCore(t)
	l := geo.Catalogue["premises"]
	for _, z := range []int{10, 12, 14} {
		addr := geo.TileOf(z, lon, lat)
		tile, err := svc.Tile(ctx, tiles.Request{Layers: []*geo.Layer{l}, Addr: addr})
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "c.mvt")
		_ = os.WriteFile(file, tile.Identity, 0o644)
		sum := 0
		for _, f := range decodeJS(t, file)[0].Layers["premises"].Features {
			if f.Properties["cluster"] != true || f.Properties["kind"] == nil || f.Properties["bbox"] == nil {
				t.Fatalf("z%d: cluster without its attributes: %v", z, f.Properties)
			}
			p := f.Geometry[0][0]
			if p[0] >= 0 && p[0] < tiles.Extent && p[1] >= 0 && p[1] < tiles.Extent {
				sum += int(f.Properties["count"].(float64))
			}
		}
		var want int
		err = postgistest.DB(t).QueryRow(ctx, `SELECT count(*) FROM premises, ST_TileEnvelope($1, $2, $3) e
			WHERE ST_X(geom_3857) >= ST_XMin(e) AND ST_X(geom_3857) < ST_XMax(e)
			  AND ST_Y(geom_3857) > ST_YMin(e) AND ST_Y(geom_3857) <= ST_YMax(e)`, addr.Z, addr.X, addr.Y).Scan(&want)
		if err != nil {
			t.Fatal(err)
		}
		// A cluster whose centre rounds onto the tile's edge may land on the
		// other side: allow a hair of slack, never more.
		if diff := sum - want; diff < -want/200-1 || diff > want/200+1 {
			t.Errorf("z%d %v: clusters centred in the tile count %d premises, PostGIS %d", z, addr, sum, want)
		}
		if want == 0 {
			t.Errorf("z%d: no premises in the tile, the test proves nothing", z)
		}
	}
}

func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// isClusters reports whether a decoded layer holds clusters (a dense tile).
func isClusters(dl decodedLayer) bool {
	return len(dl.Features) > 0 && dl.Features[0].Properties["cluster"] == true
}

// TestDenseTilesAreClustered: above a layer's cluster zoom, a tile with more
// points than ClusterAbove is sent as clusters that count every point; a
// sparse one keeps its points.
func TestDenseTilesAreClustered(t *testing.T) {
	loadDemo(t)
	ctx := context.Background()
	l := geo.Catalogue["premises"]
	lon, lat := townCore(t)
	addr := geo.TileOf(16, lon, lat)
	n := postgisCount(t, l, addr, "")
	if n < 20 {
		t.Fatalf("only %d premises in the test tile", n)
	}
	for _, tc := range []struct {
		above     int
		clustered bool
	}{{n / 2, true}, {n + 10, false}, {-1, false}} {
		svc := tiles.NewService(postgistest.DB(t), tiles.Config{ClusterAbove: tc.above}, nil)
		tile, err := svc.Tile(ctx, tiles.Request{Layers: []*geo.Layer{l}, Addr: addr})
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "d.mvt")
		writeFile(t, file, tile.Identity)
		dl := decodeJS(t, file)[0].Layers["premises"]
		if isClusters(dl) != tc.clustered {
			t.Errorf("%d points, cluster above %d: clustered %v, want %v", n, tc.above, isClusters(dl), tc.clustered)
		}
		if tc.clustered {
			sum := 0
			for _, f := range dl.Features {
				sum += int(f.Properties["count"].(float64))
			}
			// Clusters take whole cells around the tile, so they count at
			// least every point of the buffered tile.
			if sum < n {
				t.Errorf("clusters count %d points, the tile has %d", sum, n)
			}
		} else if len(dl.Features) != n {
			t.Errorf("sparse tile: %d features, want %d", len(dl.Features), n)
		}
	}
}

// TestFiltersThroughReferencesAndAreas: hazards filtered by their premise's
// kind and by town hold exactly the hazards PostGIS finds by joining.
func TestFiltersThroughReferencesAndAreas(t *testing.T) {
	loadDemo(t)
	ctx := context.Background()
	db := postgistest.DB(t)
	svc := tiles.NewService(db, tiles.Config{ClusterAbove: -1}, nil)
	var town int64
	if err := db.QueryRow(ctx, `SELECT c.town_id FROM hazards h JOIN grid_cells g ON g.id = h.grid_cell_id
		JOIN communities c ON c.id = g.community_id GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`).Scan(&town); err != nil {
		t.Fatal(err)
	}
	l := geo.Catalogue["hazards"]
	lon, lat := townCore(t)
	addr := geo.TileOf(15, lon, lat)
	q := url.Values{"kind": {"group_rental,rental_housing"}, "town": {fmt.Sprint(town)}}
	got := len(filteredFeatures(t, svc, l, addr, q))
	want := postgisCount(t, l, addr, fmt.Sprintf(` AND t.premise_id IN (SELECT id FROM premises WHERE kind IN ('group_rental','rental_housing'))
		AND t.grid_cell_id IN (SELECT g.id FROM grid_cells g JOIN communities c ON c.id = g.community_id WHERE c.town_id = %d)`, town))
	if got != want || want == 0 {
		t.Fatalf("hazards of rental premises in town %d: %d in the tile, %d by PostGIS", town, got, want)
	}
}

// TestAreaTilesCarryTheirStatistics: a town's attributes in its tile equal
// counts made directly from premises and hazards, and a hazard closed in the
// town shows in the next town tile once the statistics are refreshed.
func TestAreaTilesCarryTheirStatistics(t *testing.T) {
	loadDemo(t)
	ctx := context.Background()
	db := postgistest.DB(t)
	svc := tiles.NewService(db, tiles.Config{CacheBytes: 16 << 20}, nil)
	l := geo.Catalogue["towns"]
	lon, lat := townCore(t)
	addr := geo.TileOf(10, lon, lat)
	read := func() map[uint64]map[string]any {
		tile, err := svc.Tile(ctx, tiles.Request{Layers: []*geo.Layer{l}, Addr: addr})
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "towns.mvt")
		writeFile(t, file, tile.Identity)
		out := map[uint64]map[string]any{}
		for _, f := range decodeJS(t, file)[0].Layers["towns"].Features {
			out[*f.ID] = f.Properties
		}
		return out
	}
	towns := read()
	if len(towns) == 0 {
		t.Fatal("no town in the tile")
	}
	checked := 0
	for id, p := range towns {
		var premises, red, open, closed int
		err := db.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM premises p JOIN grid_cells g ON g.id = p.grid_cell_id JOIN communities c ON c.id = g.community_id WHERE c.town_id = $1),
			(SELECT count(*) FROM premises p JOIN grid_cells g ON g.id = p.grid_cell_id JOIN communities c ON c.id = g.community_id WHERE c.town_id = $1 AND p.tag = 'red'),
			(SELECT count(*) FROM hazards h JOIN grid_cells g ON g.id = h.grid_cell_id JOIN communities c ON c.id = g.community_id WHERE c.town_id = $1 AND h.status = 'open'),
			(SELECT count(*) FROM hazards h JOIN grid_cells g ON g.id = h.grid_cell_id JOIN communities c ON c.id = g.community_id WHERE c.town_id = $1 AND h.status = 'closed')`,
			int64(id)).Scan(&premises, &red, &open, &closed)
		if err != nil {
			t.Fatal(err)
		}
		num := func(k string) int {
			v, _ := p[k].(float64)
			return int(v)
		}
		if num("premises") != premises || num("premises_red") != red || num("hazards_open") != open || num("hazards_closed") != closed {
			t.Errorf("town %d: tile says premises %d red %d open %d closed %d; counted %d %d %d %d", id,
				num("premises"), num("premises_red"), num("hazards_open"), num("hazards_closed"), premises, red, open, closed)
		}
		for k := range geo.AreaStatFields {
			if _, ok := p[k]; !ok && premises > 0 && k != "median_days_to_close" {
				t.Errorf("town %d lacks %s", id, k)
			}
		}
		checked++
	}
	// Close one open hazard of a town in the tile.
	var hid, town int64
	err := db.QueryRow(ctx, `SELECT h.id, c.town_id FROM hazards h JOIN grid_cells g ON g.id = h.grid_cell_id
		JOIN communities c ON c.id = g.community_id WHERE h.status = 'open' AND c.town_id = ANY($1) ORDER BY h.id LIMIT 1`, keys(towns)).Scan(&hid, &town)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, "UPDATE hazards SET status = 'closed', closed_at = reported_at + interval '3 days' WHERE id = $1", hid); err != nil {
		t.Fatal(err)
	}
	defer func() {
		db.Exec(context.Background(), "UPDATE hazards SET status = 'open', closed_at = NULL WHERE id = $1", hid)
		_ = db.RefreshAreaStats(context.Background())
	}()
	// What the service's change feed does: refresh the view, then drop the
	// tiles that show it.
	if err := db.RefreshAreaStats(ctx); err != nil {
		t.Fatal(err)
	}
	svc.Invalidate("towns")
	after := read()
	if got, was := after[uint64(town)]["hazards_open"].(float64), towns[uint64(town)]["hazards_open"].(float64); got != was-1 {
		t.Fatalf("town %d: %v open hazards after closing one, was %v", town, got, was)
	}
}

func keys(m map[uint64]map[string]any) []int64 {
	var out []int64
	for k := range m {
		out = append(out, int64(k))
	}
	return out
}
