package analytics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"

	"github.com/onemap-city/onemap/analytics"
	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/postgis/postgistest"
)

// allHazards reads every hazard's EPSG:4549 position and severity weight
// straight from the table, for brute-force references.
func allHazards(t *testing.T) (xs, ys, ws []float64) {
	t.Helper()
	rows, err := postgistest.DB(t).Query(context.Background(),
		"SELECT ST_X(geom_m), ST_Y(geom_m), CASE severity WHEN 'major' THEN 3 ELSE 1 END FROM hazards")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var x, y, w float64
		if err := rows.Scan(&x, &y, &w); err != nil {
			t.Fatal(err)
		}
		xs, ys, ws = append(xs, x), append(ys, y), append(ws, w)
	}
	return xs, ys, ws
}

func hazardSelection(t *testing.T, q string) analytics.Selection {
	t.Helper()
	v, _ := url.ParseQuery(q)
	sel, err := analytics.ParseSelection(v, "radius")
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

// TestKDEPointMatchesBruteForce: the point query equals the brute-force sum
// over every hazard, weighted and not, at a hot spot and elsewhere.
func TestKDEPointMatchesBruteForce(t *testing.T) {
	loadDemo(t)
	db := postgistest.DB(t)
	svc := analytics.NewKDEService(db, analytics.Limits{})
	xs, ys, ws := allHazards(t)
	ctx := context.Background()
	for i, probe := range []int{0, len(xs) / 3, len(xs) - 1} {
		lon, lat := geo.FromGK120(xs[probe]+37, ys[probe]-21)
		for _, weighted := range []bool{false, true} {
			q := "layer=hazards"
			if weighted {
				q += "&weight=severity"
			}
			r := 150.0 + 100*float64(i)
			d, err := svc.At(ctx, hazardSelection(t, q), lon, lat, r)
			if err != nil {
				t.Fatal(err)
			}
			x, y := geo.ToGK120(lon, lat)
			pts := make([]analytics.Point, len(xs))
			for k := range xs {
				pts[k] = analytics.Point{X: xs[k], Y: ys[k], W: 1}
				if weighted {
					pts[k].W = ws[k]
				}
			}
			want := bruteRaw(pts, x, y, r)
			if want == 0 || math.Abs(d.Raw-want) > 1e-9*want {
				t.Errorf("probe %d weighted %v r %g: raw %.12g, brute force %.12g", probe, weighted, r, d.Raw, want)
			}
			if math.Abs(d.DensityKM2-want*3e6/(math.Pi*r*r)) > 1e-9*d.DensityKM2 {
				t.Errorf("density %g is not raw × 3/(πr²) per km²", d.DensityKM2)
			}
		}
	}
}

// TestHeatmapTilesAreSeamless: two adjacent tiles are exactly what one KDE
// over all the hazards gives at their pixel centres — each tile used every
// point within r, including those in its neighbour.
func TestHeatmapTilesAreSeamless(t *testing.T) {
	loadDemo(t)
	ctx := context.Background()
	svc := analytics.NewKDEService(postgistest.DB(t), analytics.Limits{})
	xs, ys, ws := allHazards(t)
	pts := make([]analytics.Point, len(xs))
	for i := range xs {
		pts[i] = analytics.Point{X: xs[i], Y: ys[i], W: 1}
	}
	_ = ws
	k, err := analytics.NewKDE(pts, 400)
	if err != nil {
		t.Fatal(err)
	}
	// A hot spot's tile at z15 and its eastern neighbour.
	lon, lat := geo.FromGK120(xs[len(xs)/2], ys[len(ys)/2])
	west := geo.TileOf(15, lon, lat)
	east := geo.TileAddr{Z: 15, X: west.X + 1, Y: west.Y}
	sel := hazardSelection(t, "layer=hazards")
	nonzero := 0
	for _, a := range []geo.TileAddr{west, east} {
		got, err := svc.TileRaw(ctx, sel, a, 400)
		if err != nil {
			t.Fatal(err)
		}
		px, py := analytics.PixelCentres(a)
		want := k.Sample(px, py)
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-9*math.Max(1, want[i]) {
				t.Fatalf("tile %v pixel %d: %g, the whole-city KDE says %g", a, i, got[i], want[i])
			}
			if got[i] > 0 {
				nonzero++
			}
		}
	}
	if nonzero == 0 {
		t.Fatal("both tiles empty: the test proves nothing")
	}
	// The shared edge: the last column of west and the first of east are
	// neighbouring samples of one surface, so they differ only by its slope.
	w, _ := svc.TileRaw(ctx, sel, west, 400)
	e, _ := svc.TileRaw(ctx, sel, east, 400)
	for row := 0; row < analytics.TileSize; row++ {
		a, b := w[row*analytics.TileSize+analytics.TileSize-1], e[row*analytics.TileSize]
		if math.Abs(a-b) > 0.05*math.Max(a, b)+1e-9 {
			t.Fatalf("row %d: seam %g | %g", row, a, b)
		}
	}
}

// TestHexCountsSumToThePoints: binning a box counts each of its points once.
func TestHexCountsSumToThePoints(t *testing.T) {
	loadDemo(t)
	ctx := context.Background()
	db := postgistest.DB(t)
	svc := analytics.NewDensityService(db, analytics.Limits{})
	xs, ys, _ := allHazards(t)
	cx, cy := xs[len(xs)/2], ys[len(ys)/2]
	box := [4]float64{cx - 3000, cy - 2000, cx + 3000, cy + 2000}
	want := 0
	for i := range xs {
		if xs[i] >= box[0] && xs[i] <= box[2] && ys[i] >= box[1] && ys[i] <= box[3] {
			want++
		}
	}
	for _, size := range []float64{50, 200, 500} {
		cells, err := svc.Hexes(ctx, hazardSelection(t, "layer=hazards"), box, size, true)
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		seen := map[[2]int]bool{}
		for _, c := range cells {
			if seen[[2]int{c.I, c.J}] {
				t.Fatalf("cell %d,%d twice", c.I, c.J)
			}
			seen[[2]int{c.I, c.J}] = true
			got += c.Count
			if c.Premises < 0 {
				t.Fatalf("premises not counted")
			}
		}
		if got != want || want == 0 {
			t.Errorf("cell %g m: hexagons count %d hazards, the box holds %d", size, got, want)
		}
	}
}

// TestHotSpotsMatchBruteForceGiStar: the API's z-scores are Gi* of the
// returned counts, computed here term by term over all cells of the study area.
func TestHotSpotsMatchBruteForceGiStar(t *testing.T) {
	loadDemo(t)
	e := server(t)
	rec := get(t, e, "/api/v1/hotspots?layer=hazards&cell=1000&band=2500")
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var fc struct {
		Features []struct {
			Geometry struct {
				Coordinates [][][2]float64 `json:"coordinates"`
			} `json:"geometry"`
			Properties struct {
				I, J  int
				Count float64 `json:"count"`
				Z     float64 `json:"gi_z"`
				P     float64 `json:"gi_p"`
				Bin   int     `json:"gi_bin"`
			} `json:"properties"`
		} `json:"features"`
		StudyArea int     `json:"study_area_cells"`
		Band      float64 `json:"band"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &fc); err != nil {
		t.Fatal(err)
	}
	n := len(fc.Features)
	if n != fc.StudyArea || n < 100 {
		t.Fatalf("%d cells returned, study area %d", n, fc.StudyArea)
	}
	xs, ys, v := make([]float64, n), make([]float64, n), make([]float64, n)
	total := 0.0
	for i, f := range fc.Features {
		xs[i], ys[i] = analytics.HexCentre(f.Properties.I, f.Properties.J, 1000)
		v[i] = f.Properties.Count
		total += v[i]
	}
	mean, sq := 0.0, 0.0
	for _, x := range v {
		mean += x / float64(n)
		sq += x * x / float64(n)
	}
	s := math.Sqrt(sq - mean*mean)
	hot := 0
	for i := range v {
		var sw, swx, sw2 float64
		for j := range v {
			if math.Hypot(xs[i]-xs[j], ys[i]-ys[j]) <= 2500 {
				sw++
				swx += v[j]
				sw2++
			}
		}
		z := (swx - mean*sw) / (s * math.Sqrt((float64(n)*sw2-sw*sw)/float64(n-1)))
		if math.Abs(z-fc.Features[i].Properties.Z) > 1e-5 {
			t.Fatalf("cell %d,%d: gi_z %g, brute force %g", fc.Features[i].Properties.I, fc.Features[i].Properties.J, fc.Features[i].Properties.Z, z)
		}
		if fc.Features[i].Properties.Bin > 0 {
			hot++
		}
	}
	var hazards float64
	_ = postgistest.DB(t).QueryRow(context.Background(), "SELECT count(*) FROM hazards").Scan(&hazards)
	if total > hazards || total < 0.99*hazards {
		t.Errorf("cells count %g hazards of %g (all but the island's few off the study area)", total, hazards)
	}
	if hot == 0 {
		t.Error("no hot spot found in a city built with hot spots")
	}
}

func server(t *testing.T) *echo.Echo {
	t.Helper()
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		status := map[string]int{geo.EInvalid: 400, geo.ENotFound: 404, geo.EUnavailable: 503}[geo.ErrorCode(err)]
		if status == 0 {
			status = 500
		}
		var ge *geo.Error
		detail := ""
		if e, ok := err.(*geo.Error); ok {
			ge, detail = e, e.Detail
		}
		_ = ge
		_ = c.JSON(status, map[string]string{"error": err.Error(), "detail": detail})
	}
	db := postgistest.DB(t)
	h := &analytics.Handler{KDE: analytics.NewKDEService(db, analytics.Limits{}), Density: analytics.NewDensityService(db, analytics.Limits{})}
	h.Register(e)
	(&analytics.CoverageHandler{Coverage: analytics.NewCoverageService(db), Spacing: &analytics.SpacingService{DB: db},
		Jobs: &analytics.Jobs{}}).Register(e)
	return e
}

func get(t *testing.T, e *echo.Echo, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

// TestAnalyticsEndpointsRejectBadInput: each bad parameter is a 400 naming it.
func TestAnalyticsEndpointsRejectBadInput(t *testing.T) {
	loadDemo(t)
	e := server(t)
	cases := map[string]string{
		"/api/v1/kde?lon=120.7&lat=27.8":                                          "layer",
		"/api/v1/kde?layer=roads&lon=120.7&lat=27.8":                              "layer",
		"/api/v1/kde?layer=hazards&lat=27.8":                                      "lon",
		"/api/v1/kde?layer=hazards&lon=120.7&lat=95":                              "lat",
		"/api/v1/kde?layer=hazards&lon=120.7&lat=27.8&radius=2":                   "radius",
		"/api/v1/kde?layer=hazards&lon=120.7&lat=27.8&radius=abc":                 "radius",
		"/api/v1/kde?layer=hazards&lon=120.7&lat=27.8&weight=colour":              "weight",
		"/api/v1/kde?layer=hazards&lon=120.7&lat=27.8&status=lost":                "status",
		"/api/v1/kde?layer=hazards&lon=120.7&lat=27.8&nonsense=1":                 "nonsense",
		"/api/v1/kde/grid?layer=hazards&bbox=120,27,122,29&cell=50":               "bbox",
		"/api/v1/kde/grid?layer=hazards&bbox=120.6,27.7,120.7,27.8&cell=1":        "cell",
		"/api/v1/kde/grid?layer=hazards&bbox=120.6,27.7,120.7,27.8&format=x":      "format",
		"/api/v1/density?layer=hazards&cell=200":                                  "bbox",
		"/api/v1/density?layer=hazards&cell=0&bbox=120.6,27.7,120.7,27.8":         "cell",
		"/api/v1/density?layer=hazards&bbox=120.6,27.7,120.7":                     "bbox",
		"/api/v1/density?layer=hazards&bbox=120.6,27.7,120.7,27.8&from=x":         "from",
		"/api/v1/hotspots?layer=hazards&band=-5":                                  "band",
		"/api/v1/hotspots?layer=hazards&fdr=maybe":                                "fdr",
		"/tiles/heatmap/12/1/1.jpg?layer=hazards":                                 "y",
		"/tiles/heatmap/99/1/1.png?layer=hazards":                                 "z",
		"/tiles/hazard_density/12/1/1.mvt?layer=premises":                         "layer",
		"/tiles/heatmap/19/1/1.png?layer=hazards":                                 "z",
		"/tiles/hazard_density/19/1/1.mvt":                                        "z",
		"/tiles/hotspots/22/0/0.mvt":                                              "z",
		"/tiles/hotspots/12/1/1.mvt?cell=100&cell=200":                            "cell",
		"/api/v1/hotspots?layer=hazards&cell=5":                                   "cell", // 5 m hexagons over the whole territory
		"/api/v1/density?layer=hazards&cell=5&bbox=120.6,27.7,120.7,27.8":         "cell",
		"/tiles/hazard_density/8/213/107.mvt?cell=5":                              "cell",
		"/api/v1/density?layer=hazards&layer=premises&bbox=120.6,27.7,120.7,27.8": "layer",
	}
	for target, param := range cases {
		rec := get(t, e, target)
		var body map[string]string
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != 400 || body["detail"] != param {
			t.Errorf("GET %s: %d %v, want 400 naming %q", target, rec.Code, body, param)
		}
	}
	// Below the derived layers' range a bad request still fails...
	for target, param := range map[string]string{"/tiles/heatmap/7/0/0.png": "layer", "/tiles/hazard_density/7/0/0.mvt?cell=abc": "cell",
		"/tiles/hazard_density/7/0/0.mvt?bogus=1": "bogus", "/tiles/hotspots/7/0/0.mvt?layer=towns": "layer"} {
		rec := get(t, e, target)
		var body map[string]string
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != 400 || body["detail"] != param {
			t.Errorf("GET %s: %d %v, want 400 naming %q", target, rec.Code, body, param)
		}
	}
	// ...and a good one is empty, as the catalogue's layers are there.
	for _, target := range []string{"/tiles/heatmap/5/26/13.png?layer=hazards", "/tiles/hazard_density/5/26/13.mvt", "/tiles/hotspots/7/106/54.mvt"} {
		if rec := get(t, e, target); rec.Code != 204 || rec.Body.Len() != 0 {
			t.Errorf("GET %s: %d with %d bytes, want 204 and no body", target, rec.Code, rec.Body.Len())
		}
	}
}

// TestGridDownloadOpensInGDAL: the GeoTIFF grid equals the point query at
// a cell centre.
func TestGridDownloadMatchesPointQuery(t *testing.T) {
	loadDemo(t)
	ctx := context.Background()
	svc := analytics.NewKDEService(postgistest.DB(t), analytics.Limits{})
	xs, ys, _ := allHazards(t)
	lon, lat := geo.FromGK120(xs[len(xs)/2], ys[len(ys)/2])
	bbox := [4]float64{lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01}
	sel := hazardSelection(t, "layer=hazards")
	g, err := svc.Grid(ctx, sel, bbox, 50, 300)
	if err != nil {
		t.Fatal(err)
	}
	for _, cell := range [][2]int{{0, 0}, {g.Cols / 2, g.Rows / 2}, {g.Cols - 1, g.Rows - 1}} {
		x := g.OriginX + (float64(cell[0])+0.5)*g.CellSize
		y := g.OriginY - (float64(cell[1])+0.5)*g.CellSize
		plon, plat := geo.FromGK120(x, y)
		d, err := svc.At(ctx, sel, plon, plat, 300)
		if err != nil {
			t.Fatal(err)
		}
		got := g.Values[cell[1]*g.Cols+cell[0]]
		if math.Abs(got-d.DensityKM2) > 1e-6*math.Max(1, d.DensityKM2) {
			t.Errorf("cell %v: grid %g, point query %g", cell, got, d.DensityKM2)
		}
	}
	_ = fmt.Sprint()
}

// TestHeatmapTileFollowsData: a cached heatmap tile is rendered anew once
// the layer's data changes.
func TestHeatmapTileFollowsData(t *testing.T) {
	loadDemo(t)
	ctx := context.Background()
	db := postgistest.DB(t)
	svc := analytics.NewKDEService(db, analytics.Limits{})
	xs, ys, _ := allHazards(t)
	lon, lat := geo.FromGK120(xs[0], ys[0])
	a := geo.TileOf(15, lon, lat)
	sel := hazardSelection(t, "layer=hazards")
	before, err := svc.TilePNG(ctx, sel, a, 300)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := svc.TilePNG(ctx, sel, a, 300)
	if string(again) != string(before) {
		t.Fatal("the same tile rendered differently with unchanged data")
	}
	var id int64
	if err := db.QueryRow(ctx, "SELECT id FROM hazards WHERE ST_X(geom_m) = $1 AND ST_Y(geom_m) = $2 LIMIT 1", xs[0], ys[0]).Scan(&id); err != nil {
		t.Fatal(err)
	}
	// Move the hazard 2 km away, then back.
	if _, err := db.Exec(ctx, "UPDATE hazards SET geom = ST_Translate(geom, 0.02, 0) WHERE id = $1", id); err != nil {
		t.Fatal(err)
	}
	defer db.Exec(context.Background(), "UPDATE hazards SET geom = ST_Translate(geom, -0.02, 0) WHERE id = $1", id)
	after, err := svc.TilePNG(ctx, sel, a, 300)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) == string(before) {
		t.Fatal("the heatmap tile did not change after a hazard in it moved away")
	}
}

// TestTileHexesMatchPerBoxBinning: tiles answered from the city-wide
// binning carry, for every cell inside the tile, the same count, weight,
// premises and residents as binning the tile's own points.
func TestTileHexesMatchPerBoxBinning(t *testing.T) {
	loadDemo(t)
	ctx := context.Background()
	svc := analytics.NewDensityService(postgistest.DB(t), analytics.Limits{})
	xs, ys, _ := allHazards(t)
	cx, cy := xs[len(xs)/2], ys[len(ys)/2]
	sel := hazardSelection(t, "layer=hazards&weight=severity")
	for _, size := range []float64{100, 400} {
		inner := [4]float64{cx - 1500, cy - 1500, cx + 1500, cy + 1500}
		grown := [4]float64{inner[0] - 2*size, inner[1] - 2*size, inner[2] + 2*size, inner[3] + 2*size}
		want, err := svc.Hexes(ctx, sel, grown, size, true)
		if err != nil {
			t.Fatal(err)
		}
		got, err := svc.TileHexes(ctx, sel, grown, size)
		if err != nil {
			t.Fatal(err)
		}
		byKey := map[[2]int]analytics.HexStat{}
		for _, c := range got {
			byKey[[2]int{c.I, c.J}] = c
		}
		checked := 0
		for _, w := range want {
			if w.X < inner[0] || w.X > inner[2] || w.Y < inner[1] || w.Y > inner[3] {
				continue // a border cell: the per-box binning sees part of it
			}
			checked++
			g, ok := byKey[[2]int{w.I, w.J}]
			if !ok || g.Count != w.Count || math.Abs(g.Weight-w.Weight) > 1e-9 || g.Premises != w.Premises || math.Abs(g.Residents-w.Residents) > 1e-6 {
				t.Errorf("cell %g m (%d,%d): city-wide %+v, per box %+v", size, w.I, w.J, g, w)
			}
		}
		if checked == 0 {
			t.Errorf("cell %g m: no cell to compare", size)
		}
	}
}

// TestHexTilesWindAsMVT decodes a hexagon tile with Mapbox's reference
// decoder (the tiles package's, tiles/testdata/decoder): every exterior ring
// has a positive area by the MVT spec's formula, while the same cells as
// GeoJSON are counter-clockwise on the map (RFC 7946).
func TestHexTilesWindAsMVT(t *testing.T) {
	lon, lat := 120.3, 30.2
	x, y := geo.ToGK120(lon, lat)
	var cells []analytics.HexStat
	for i := -3; i <= 3; i++ {
		for j := -3; j <= 3; j++ {
			cells = append(cells, analytics.HexStat{I: i, J: j, X: x + 300*float64(i), Y: y + 260*float64(j) + 130*float64(i&1), Size: 150, Count: 100 + 10*i + j, Premises: -1, Residents: -1})
		}
	}
	for _, c := range cells {
		ring := c.Feature(false).Geometry.(orb.Polygon)[0]
		if ring.Orientation() != orb.CCW {
			t.Fatalf("cell (%d,%d) as GeoJSON: exterior ring not counter-clockwise", c.I, c.J)
		}
	}
	a := geo.TileOf(15, lon, lat)
	b, _, err := analytics.TileMVT("hazard_density", cells, a, false, 0)
	if err != nil || len(b) == 0 {
		t.Fatalf("TileMVT: %d bytes, %v", len(b), err)
	}
	file := filepath.Join(t.TempDir(), "hex.mvt")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	script, _ := filepath.Abs("../tiles/testdata/decoder/decode.mjs")
	out, err := exec.Command("node", script, file).Output()
	if err != nil {
		t.Fatalf("node decode.mjs (installed by `make test-deps`): %v", err)
	}
	var decoded []struct {
		Layers map[string]struct {
			Features []struct {
				RingAreas []float64 `json:"ringAreas"`
			} `json:"features"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(out, &decoded); err != nil || len(decoded) != 1 {
		t.Fatalf("decoder output: %v %.200s", err, out)
	}
	features := decoded[0].Layers["hazard_density"].Features
	if len(features) < 10 {
		t.Fatalf("%d hexagons decoded in tile %v, want the cells around its centre", len(features), a)
	}
	for i, f := range features {
		if len(f.RingAreas) != 1 || f.RingAreas[0] <= 0 {
			t.Errorf("hexagon %d: ring areas %v, want one exterior ring with a positive area", i, f.RingAreas)
		}
	}

	// With a cap, the fullest cells of the tile are kept and the tile says
	// it was truncated.
	counts := func(b []byte) []int {
		layers, err := mvt.Unmarshal(b)
		if err != nil || len(layers) != 1 {
			t.Fatalf("decode: %v", err)
		}
		var out []int
		for _, f := range layers[0].Features {
			out = append(out, int(f.Properties["count"].(float64)))
		}
		slices.Sort(out)
		slices.Reverse(out)
		return out
	}
	all := counts(b)
	capped, truncated, err := analytics.TileMVT("hazard_density", cells, a, false, 5)
	if err != nil || !truncated {
		t.Fatalf("capped at 5 of %d: truncated %v, %v", len(all), truncated, err)
	}
	if got := counts(capped); !slices.Equal(got, all[:5]) {
		t.Errorf("capped at 5: counts %v, want the five largest %v", got, all[:5])
	}
	if _, truncated, _ := analytics.TileMVT("hazard_density", cells, a, false, len(all)); truncated {
		t.Errorf("a cap of exactly %d cells truncated", len(all))
	}
}
