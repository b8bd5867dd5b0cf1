package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onemap-city/onemap/analytics"
	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/postgis"
	"github.com/onemap-city/onemap/sql/postgis/postgistest"
)

func loadDemo(t *testing.T) { loadDemoB(t) }

func loadDemoB(t testing.TB) { postgistest.Demo(t, "small") }

func lonToX(lon float64, z int) int { return geo.TileOf(z, lon, 0).X }
func latToY(lat float64, z int) int { return geo.TileOf(z, 0, lat).Y }

// coreTile is a z16 tile over the busiest grid cell, and a tile at sea.
func coreTile(t *testing.T) (core, sea geo.TileAddr) {
	t.Helper()
	var lon, lat float64
	err := postgistest.DB(t).QueryRow(context.Background(), `
		SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Collect(geom)) AS c FROM premises
		WHERE grid_cell_id = (SELECT grid_cell_id FROM premises GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1)) s`).Scan(&lon, &lat)
	if err != nil {
		t.Fatal(err)
	}
	return geo.TileOf(16, lon, lat), geo.TileOf(14, 123.5, 26.0)
}

// TestTileHTTPRules is the table of HTTP behaviour every tile client relies on.
func TestTileHTTPRules(t *testing.T) {
	loadDemo(t)
	cfg := testConfig()
	cfg.AdminToken = "s3cret"
	e := newServer(cfg, postgistest.DB(t), quiet).Echo
	core, sea := coreTile(t)
	tileURL := fmt.Sprintf("/tiles/premises/%d/%d/%d.mvt", core.Z, core.X, core.Y)

	type want struct {
		status   int
		encoding string // Content-Encoding
		param    string // detail of a 400
	}
	cases := []struct {
		name   string
		method string
		target string
		header map[string]string
		want   want
	}{
		{"gzip", "GET", tileURL, map[string]string{"Accept-Encoding": "gzip, deflate"}, want{status: 200, encoding: "gzip"}},
		{"identity", "GET", tileURL, map[string]string{"Accept-Encoding": "identity"}, want{status: 200}},
		{"gzip refused", "GET", tileURL, map[string]string{"Accept-Encoding": "gzip;q=0, br"}, want{status: 200}},
		{"no header", "GET", tileURL, nil, want{status: 200}},
		{"pbf", "GET", strings.Replace(tileURL, ".mvt", ".pbf", 1), nil, want{status: 200}},
		{"several layers", "GET", strings.Replace(tileURL, "premises", "premises,hydrants,roads", 1), nil, want{status: 200}},
		{"filter", "GET", tileURL + "?tag=red&kind=rental_housing,group_rental", nil, want{status: 200}},
		{"empty tile", "GET", fmt.Sprintf("/tiles/premises/%d/%d/%d.mvt", sea.Z, sea.X, sea.Y), nil, want{status: 204}},
		{"below min zoom", "GET", "/tiles/premises/3/6/3.mvt", nil, want{status: 204}},
		{"unknown layer", "GET", "/tiles/castles/14/1/1.mvt", nil, want{status: 404}},
		{"z above max", "GET", "/tiles/premises/23/1/1.mvt", nil, want{status: 400, param: "z"}},
		{"z out of range", "GET", "/tiles/premises/99/1/1.mvt", nil, want{status: 400, param: "z"}},
		{"x out of range", "GET", "/tiles/premises/2/4/1.mvt", nil, want{status: 400, param: "x"}},
		{"y not integer", "GET", "/tiles/premises/2/1/one.mvt", nil, want{status: 400, param: "y"}},
		{"x negative", "GET", "/tiles/premises/2/-1/1.mvt", nil, want{status: 400, param: "x"}},
		{"wrong format", "GET", "/tiles/premises/2/1/1.png", nil, want{status: 400, param: "y"}},
		{"unknown filter", "GET", tileURL + "?colour=red", nil, want{status: 400, param: "colour"}},
		{"bad filter value", "GET", tileURL + "?tag=purple", nil, want{status: 400, param: "tag"}},
		{"bad since", "GET", "/tiles/hazards/16/1/1.mvt?since=soon", nil, want{status: 400, param: "since"}},
		{"layer twice", "GET", "/tiles/premises,premises/16/1/1.mvt", nil, want{status: 400, param: "layer"}},
		{"tilejson", "GET", "/tiles/premises.json", nil, want{status: 200}},
		{"tilejson unknown", "GET", "/tiles/castles.json", nil, want{status: 404}},
		{"tilejson bad filter", "GET", "/tiles/premises.json?tag=blue", nil, want{status: 400, param: "tag"}},
		{"catalogue", "GET", "/tiles", nil, want{status: 200}},
		{"head tile", "HEAD", tileURL, nil, want{status: 200}},
		{"purge without token", "POST", "/admin/tiles/purge?layer=premises", nil, want{status: 401}},
		{"purge wrong token", "POST", "/admin/tiles/purge", map[string]string{"Authorization": "Bearer nope"}, want{status: 401}},
		{"purge bad bbox", "POST", "/admin/tiles/purge?bbox=1,2,3", map[string]string{"Authorization": "Bearer s3cret"}, want{status: 400, param: "bbox"}},
		{"purge", "POST", "/admin/tiles/purge?layer=premises&bbox=120.5,27.7,120.8,27.9", map[string]string{"Authorization": "Bearer s3cret"}, want{status: 200}},
		{"no such route", "GET", "/tiles/premises/", nil, want{status: 404}},
		{"malformed escape in the query", "GET", tileURL + "?tag=%zz", nil, want{status: 400, param: "query"}},
		{"semicolon in the query", "GET", tileURL + "?tag=red;kind=x", nil, want{status: 400, param: "query"}},
		{"layers escaped twice", "GET", "/tiles/premises%252Chydrants.json", nil, want{status: 404, param: "layer"}},
		{"an escaped digit", "GET", fmt.Sprintf("/tiles/premises/1%%36/%d/%d.mvt", core.X, core.Y), nil, want{status: 400, param: "z"}},
		{"parameter without a name", "GET", tileURL + "?=red", nil, want{status: 400}},
		{"method not allowed", "DELETE", "/tiles/premises.json", nil, want{status: 405}},
		{"purge empty bbox", "POST", "/admin/tiles/purge?layer=premises&bbox=", map[string]string{"Authorization": "Bearer s3cret"}, want{status: 400, param: "bbox"}},
		{"purge two layers", "POST", "/admin/tiles/purge?layer=premises&layer=towns", map[string]string{"Authorization": "Bearer s3cret"}, want{status: 400, param: "layer"}},
		{"purge, scheme in lower case", "POST", "/admin/tiles/purge?layer=premises", map[string]string{"Authorization": "bearer s3cret"}, want{status: 200}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec, body := do(t, e, tc.method, tc.target, tc.header)
			if rec.Code != tc.want.status {
				t.Fatalf("%s %s: %d, want %d: %s", tc.method, tc.target, rec.Code, tc.want.status, rec.Body)
			}
			h := rec.Header()
			if strings.Contains(tc.target, ".mvt") || strings.Contains(tc.target, ".pbf") {
				if rec.Code == 200 || rec.Code == 204 {
					// Vary names the encoding and keeps the CORS middleware's Origin.
					vary := strings.Join(h.Values("Vary"), ", ")
					if !strings.Contains(vary, "Accept-Encoding") || !strings.Contains(vary, "Origin") || h.Get("ETag") == "" || !strings.HasPrefix(h.Get("Cache-Control"), "public, max-age=") {
						t.Errorf("headers: Vary %q ETag %q Cache-Control %q", vary, h.Get("ETag"), h.Get("Cache-Control"))
					}
				}
				if rec.Code == 200 {
					if ct := h.Get("Content-Type"); ct != "application/vnd.mapbox-vector-tile" {
						t.Errorf("Content-Type %q", ct)
					}
					if got := h.Get("Content-Encoding"); got != tc.want.encoding {
						t.Errorf("Content-Encoding %q, want %q", got, tc.want.encoding)
					}
					if tc.want.encoding == "gzip" {
						zr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
						if err != nil {
							t.Fatalf("body is not gzip: %v", err)
						}
						if raw, _ := io.ReadAll(zr); len(raw) == 0 {
							t.Error("empty gunzipped body")
						}
					} else if tc.method == "GET" && (rec.Body.Len() < 2 || rec.Body.Bytes()[0] != 0x1a) {
						t.Errorf("identity body does not start like an MVT layer (0x1a): % x", rec.Body.Bytes()[:min(4, rec.Body.Len())])
					}
				}
				if rec.Code == 204 && rec.Body.Len() != 0 {
					t.Errorf("204 with a body of %d bytes", rec.Body.Len())
				}
			}
			if rec.Code >= 400 {
				if body == nil || body["error"] == nil || body["error"] == "" {
					t.Fatalf("error without a JSON body: %s", rec.Body)
				}
				// Every error says what and where.
				if d, _ := body["detail"].(string); d == "" {
					t.Errorf("error %q without a detail", body["error"])
				}
				if tc.want.param != "" && body["detail"] != tc.want.param {
					t.Errorf("detail %v, want the parameter %q (%v)", body["detail"], tc.want.param, body["error"])
				}
			}
		})
	}
}

func TestTileConditionalRequests(t *testing.T) {
	loadDemo(t)
	e := newServer(testConfig(), postgistest.DB(t), quiet).Echo
	core, _ := coreTile(t)
	u := fmt.Sprintf("/tiles/hydrants/%d/%d/%d.mvt", core.Z, core.X, core.Y)
	gz, _ := do(t, e, "GET", u, map[string]string{"Accept-Encoding": "gzip"})
	id, _ := do(t, e, "GET", u, nil)
	if gz.Code != 200 || id.Code != 200 {
		t.Fatalf("statuses %d %d", gz.Code, id.Code)
	}
	if gz.Header().Get("ETag") == id.Header().Get("ETag") {
		t.Fatal("gzip and identity share an ETag")
	}
	rec, _ := do(t, e, "GET", u, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": gz.Header().Get("ETag")})
	if rec.Code != 304 || rec.Body.Len() != 0 || rec.Header().Get("ETag") == "" {
		t.Fatalf("If-None-Match: %d with %d bytes", rec.Code, rec.Body.Len())
	}
	rec, _ = do(t, e, "GET", u, map[string]string{"If-None-Match": `"stale"`})
	if rec.Code != 200 {
		t.Fatalf("stale ETag: %d", rec.Code)
	}
	rec, _ = do(t, e, "OPTIONS", u, map[string]string{"Origin": "https://qgis.example", "Access-Control-Request-Method": "GET"})
	if rec.Code != 204 || rec.Header().Get("Access-Control-Allow-Origin") == "" {
		t.Fatalf("preflight of a tile: %d %v", rec.Code, rec.Header())
	}
}

var semver = regexp.MustCompile(`^\d+\.\d+\.\d+\w?[\w\d]*$`)

// validateTileJSON checks a document against every constraint of the
// TileJSON 3.0.0 JSON schema (github.com/mapbox/tilejson-spec, 3.0.0/schema.json)
// and the normative text it cannot express (absolute URLs, bounds order,
// centre inside the bounds and zoom range).
func validateTileJSON(t *testing.T, doc map[string]any) {
	t.Helper()
	str := func(k string) {
		if v, ok := doc[k]; ok {
			if _, isStr := v.(string); !isStr {
				t.Errorf("%s is not a string: %v", k, v)
			}
		}
	}
	integer := func(v any, lo, hi float64) bool {
		f, ok := v.(float64)
		return ok && f == float64(int(f)) && f >= lo && f <= hi
	}
	for _, k := range []string{"tilejson", "tiles", "vector_layers"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("required %q missing", k)
		}
	}
	for _, k := range []string{"tilejson", "attribution", "description", "legend", "name", "scheme", "template", "version"} {
		str(k)
	}
	for _, k := range []string{"tilejson", "version"} {
		if v, ok := doc[k].(string); ok && !semver.MatchString(v) {
			t.Errorf("%s %q does not match the schema's version pattern", k, v)
		}
	}
	for _, k := range []string{"minzoom", "maxzoom", "fillzoom"} {
		if v, ok := doc[k]; ok && !integer(v, 0, 30) {
			t.Errorf("%s = %v: want an integer 0–30", k, v)
		}
	}
	for _, k := range []string{"tiles", "data", "grids"} {
		if v, ok := doc[k]; ok {
			arr, isArr := v.([]any)
			if !isArr {
				t.Errorf("%s is not an array", k)
			}
			for _, s := range arr {
				u, isStr := s.(string)
				if !isStr {
					t.Errorf("%s item %v is not a string", k, s)
				}
				if k == "tiles" {
					if p, err := url.Parse(u); err != nil || !p.IsAbs() {
						t.Errorf("tile URL %q is not absolute", u)
					}
				}
			}
			if k == "tiles" && len(arr) == 0 {
				t.Error("tiles must hold at least one endpoint")
			}
		}
	}
	nums := func(k string, n int) []float64 {
		arr, ok := doc[k].([]any)
		if !ok || len(arr) != n {
			t.Errorf("%s: want %d numbers, got %v", k, n, doc[k])
			return nil
		}
		out := make([]float64, n)
		for i, v := range arr {
			f, isNum := v.(float64)
			if !isNum {
				t.Errorf("%s[%d] is not a number", k, i)
			}
			out[i] = f
		}
		return out
	}
	b, c := nums("bounds", 4), nums("center", 3)
	if b != nil && (b[0] > b[2] || b[1] > b[3] || b[0] < -180 || b[2] > 180 || b[1] < -90 || b[3] > 90) {
		t.Errorf("bounds %v are not left,bottom,right,top in WGS84", b)
	}
	if b != nil && c != nil {
		if c[0] < b[0] || c[0] > b[2] || c[1] < b[1] || c[1] > b[3] {
			t.Errorf("center %v outside bounds %v", c, b)
		}
		if mz, Mz := doc["minzoom"].(float64), doc["maxzoom"].(float64); c[2] < mz || c[2] > Mz || c[2] != float64(int(c[2])) {
			t.Errorf("center zoom %v outside %v–%v", c[2], mz, Mz)
		}
	}
	layers, ok := doc["vector_layers"].([]any)
	if !ok {
		t.Fatalf("vector_layers is not an array")
	}
	for _, item := range layers {
		vl, isObj := item.(map[string]any)
		if !isObj {
			t.Fatalf("vector_layers item %v is not an object", item)
		}
		if _, isStr := vl["id"].(string); !isStr {
			t.Errorf("vector layer without a string id: %v", vl)
		}
		fields, isObj := vl["fields"].(map[string]any)
		if !isObj {
			t.Errorf("vector layer %v: fields must be an object", vl["id"])
		}
		for k, v := range fields {
			if _, isStr := v.(string); !isStr {
				t.Errorf("vector layer %v: field %s description is not a string", vl["id"], k)
			}
		}
		if _, isStr := vl["description"]; isStr {
			if _, s := vl["description"].(string); !s {
				t.Errorf("vector layer %v: description is not a string", vl["id"])
			}
		}
		for _, k := range []string{"minzoom", "maxzoom"} {
			if v, has := vl[k]; has && !integer(v, -1e9, 1e9) {
				t.Errorf("vector layer %v: %s is not an integer", vl["id"], k)
			}
		}
	}
}

func TestTileJSONAndCatalogue(t *testing.T) {
	loadDemo(t)
	e := newServer(testConfig(), postgistest.DB(t), quiet).Echo
	fwd := map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "map.example.org"}
	for _, target := range []string{"/tiles/premises.json", "/tiles/hydrants,shelters,fire_stations.json", "/tiles/towns.json", "/tiles/hazards.json?status=open",
		"/tiles/hazard_density.json?status=open", "/tiles/hotspots.json", "/tiles/heatmap.json?layer=hazards"} {
		rec, doc := do(t, e, "GET", target, fwd)
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", target, rec.Code, rec.Body)
		}
		validateTileJSON(t, doc)
		tilesURL := doc["tiles"].([]any)[0].(string)
		if !strings.HasPrefix(tilesURL, "https://map.example.org/tiles/") {
			t.Errorf("%s: tiles URL %q ignores X-Forwarded-Proto/Host", target, tilesURL)
		}
		if strings.Contains(target, "status=open") && !strings.HasSuffix(tilesURL, "?status=open") {
			t.Errorf("%s: filters not carried into the tiles URL %q", target, tilesURL)
		}
		if doc["tilejson"] != "3.0.0" || doc["attribution"] == "" {
			t.Errorf("%s: tilejson %v attribution %v", target, doc["tilejson"], doc["attribution"])
		}
		if strings.Contains(tilesURL, "%") {
			t.Errorf("%s: tiles URL %q escapes its path: GIS clients may not unescape it", target, tilesURL)
		}
		// The URL handed out serves tiles: its centre tile, asked as a
		// client would once {z}/{x}/{y} are filled in.
		center := doc["center"].([]any)
		a := geo.TileOf(int(center[2].(float64)), center[0].(float64), center[1].(float64))
		path := strings.NewReplacer("https://map.example.org", "", "{z}", strconv.Itoa(a.Z), "{x}", strconv.Itoa(a.X), "{y}", strconv.Itoa(a.Y)).Replace(tilesURL)
		if rec, _ := do(t, e, "GET", path, nil); rec.Code != 200 && rec.Code != 204 {
			t.Errorf("%s: its tiles URL %s answers %d %s", target, path, rec.Code, rec.Body)
		}
	}
	// Forwarded values that are no scheme or host are not echoed, and the
	// answer says it varies with them.
	for _, h := range []map[string]string{
		{"X-Forwarded-Proto": "javascript", "X-Forwarded-Host": `evil"/><x`},
		{"X-Forwarded-Proto": "https, http", "X-Forwarded-Host": "map.example.org:8443, inner:80"},
		{"X-Forwarded-Host": "[2001:db8::1]:8080"},
		{"X-Forwarded-Host": "evil.com:99999"},
		{"X-Forwarded-Host": "evil..com"},
		{"X-Url-Scheme": "javascript"},
	} {
		rec, doc := do(t, e, "GET", "/tiles/roads.json", h)
		u := doc["tiles"].([]any)[0].(string)
		want := "http://example.com/tiles/roads/"
		switch {
		case h["X-Forwarded-Proto"] == "https, http":
			want = "https://map.example.org:8443/tiles/roads/"
		case h["X-Forwarded-Host"] == "[2001:db8::1]:8080":
			want = "http://[2001:db8::1]:8080/tiles/roads/"
		}
		if !strings.HasPrefix(u, want) {
			t.Errorf("forwarded %v: tiles URL %q, want it to start %q", h, u, want)
		}
		if v := strings.Join(rec.Header().Values("Vary"), ","); !strings.Contains(v, "X-Forwarded-Host") {
			t.Errorf("forwarded %v: Vary %q does not name X-Forwarded-Host", h, v)
		}
		// Any client can send these headers: no shared cache may keep what
		// they shaped.
		if cc := rec.Header().Get("Cache-Control"); !strings.HasPrefix(cc, "private") && h["X-Url-Scheme"] == "" {
			t.Errorf("forwarded %v: Cache-Control %q, want private", h, cc)
		}
	}
	if rec, _ := do(t, e, "GET", "/tiles/roads.json", nil); rec.Header().Get("Cache-Control") != "public, max-age=60" {
		t.Errorf("TileJSON without forwarded headers: Cache-Control %q, want public", rec.Header().Get("Cache-Control"))
	}
	// A derived layer's TileJSON checks its query as its tiles would, and is
	// bounded by its data.
	for target, param := range map[string]string{"/tiles/heatmap.json": "layer", "/tiles/hotspots.json?band=-1": "band",
		"/tiles/hazard_density.json?cell=1": "cell", "/tiles/hazard_density.json?status=lost": "status", "/tiles/heatmap.json?layer=hazards&radius=1": "radius"} {
		if rec, doc := do(t, e, "GET", target, nil); rec.Code != 400 || doc["detail"] != param {
			t.Errorf("%s: %d %v, want 400 naming %s", target, rec.Code, doc, param)
		}
	}
	ext, err := postgistest.DB(t).Extent(context.Background(), "hazards")
	if err != nil || ext == nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/tiles/hotspots.json", "/tiles/hazard_density.json", "/tiles/heatmap.json?layer=hazards"} {
		_, doc := do(t, e, "GET", target, nil)
		b := doc["bounds"].([]any)
		for i := range 4 {
			if math.Abs(b[i].(float64)-ext[i]) > 1e-9 {
				t.Errorf("%s: bounds %v, want the hazards' extent %v", target, b, *ext)
				break
			}
		}
	}
	// Commas a client escaped name the same layers.
	if rec, _ := do(t, e, "GET", "/tiles/hydrants%2Cshelters.json", nil); rec.Code != 200 {
		t.Errorf("/tiles/hydrants%%2Cshelters.json: %d %s", rec.Code, rec.Body)
	}
	if rec, _ := do(t, e, "GET", "/tiles/hydrants%2Cshelters/12/3422/1718.mvt", nil); rec.Code != 200 && rec.Code != 204 {
		t.Errorf("/tiles/hydrants%%2Cshelters/12/3422/1718.mvt: %d %s", rec.Code, rec.Body)
	}
	// A configured public URL wins over the request.
	cfg := testConfig()
	cfg.PublicURL = "https://onemap.city.gov.cn/base"
	_, doc := do(t, newServer(cfg, postgistest.DB(t), quiet).Echo, "GET", "/tiles/roads.json", fwd)
	if u := doc["tiles"].([]any)[0].(string); u != "https://onemap.city.gov.cn/base/tiles/roads/{z}/{x}/{y}.mvt" {
		t.Errorf("tiles URL %q", u)
	}
	rec, cat := do(t, e, "GET", "/tiles", nil)
	if rec.Code != 200 {
		t.Fatal(rec.Code)
	}
	var list []struct {
		ID       string            `json:"id"`
		Geometry string            `json:"geometry_type"`
		Fields   map[string]string `json:"fields"`
		TileJSON string            `json:"tilejson"`
		MinZoom  *int              `json:"minzoom"`
		MaxZoom  *int              `json:"maxzoom"`
		Title    string            `json:"title"`
	}
	// Every catalogue URL works as handed out: the TileJSON, and the tiles
	// at the layer's centre.
	for _, l := range cat["layers"].([]any) {
		entry := l.(map[string]any)
		tj := strings.TrimPrefix(entry["tilejson"].(string), "http://example.com")
		rec, doc := do(t, e, "GET", tj, nil)
		if rec.Code != 200 {
			t.Errorf("catalogue %v: TileJSON %s answers %d %s", entry["id"], tj, rec.Code, rec.Body)
			continue
		}
		center := doc["center"].([]any)
		a := geo.TileOf(int(center[2].(float64)), center[0].(float64), center[1].(float64))
		path := strings.NewReplacer("http://example.com", "", "{z}", strconv.Itoa(a.Z), "{x}", strconv.Itoa(a.X), "{y}", strconv.Itoa(a.Y)).Replace(entry["tiles"].(string))
		if rec, _ := do(t, e, "GET", path, nil); rec.Code != 200 && rec.Code != 204 {
			t.Errorf("catalogue %v: tiles %s answer %d %s", entry["id"], path, rec.Code, rec.Body)
		}
	}
	raw, _ := json.Marshal(cat["layers"])
	_ = json.Unmarshal(raw, &list)
	// Every table layer, and the layers analytics computes.
	if want := len(geo.Catalogue) + len(analytics.DerivedLayers()); len(list) != want {
		t.Fatalf("catalogue lists %d layers, want %d", len(list), want)
	}
	for _, l := range list {
		if l.Title == "" || l.Geometry == "" || (len(l.Fields) == 0 && l.Geometry != "raster") || l.MinZoom == nil || l.MaxZoom == nil || !strings.Contains(l.TileJSON, "/tiles/"+l.ID+".json") {
			t.Errorf("catalogue entry incomplete: %+v", l)
		}
	}
}

// watchedServer is a server over the small demo with its change feed
// running until the test ends.
func watchedServer(t *testing.T) (context.Context, *app, *postgis.DB) {
	t.Helper()
	loadDemo(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pg := postgistest.DB(t)
	a := newServer(testConfig(), pg, quiet)
	go a.watchChanges(ctx)
	return ctx, a, pg
}

// TestWriteShowsOnNextRequest: with the change feed running, a changed
// hydrant status shows in the very next tile — no restart, no stale tile.
func TestWriteShowsOnNextRequest(t *testing.T) {
	ctx, a, pg := watchedServer(t)
	var id int64
	var lon, lat float64
	if err := pg.QueryRow(ctx, "SELECT id, ST_X(geom), ST_Y(geom) FROM hydrants WHERE status = 'in_service' ORDER BY id DESC LIMIT 1").Scan(&id, &lon, &lat); err != nil {
		t.Fatal(err)
	}
	tile := geo.TileOf(17, lon, lat)
	u := fmt.Sprintf("/tiles/hydrants/%d/%d/%d.mvt?status=faulty", tile.Z, tile.X, tile.Y)
	before, _ := do(t, a.Echo, "GET", u, nil)
	time.Sleep(200 * time.Millisecond) // the listener is up
	if _, err := pg.Exec(ctx, "UPDATE hydrants SET status = 'faulty' WHERE id = $1", id); err != nil {
		t.Fatal(err)
	}
	defer pg.Exec(context.Background(), "UPDATE hydrants SET status = 'in_service' WHERE id = $1", id)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		after, _ := do(t, a.Echo, "GET", u, nil)
		if after.Code == 200 && after.Header().Get("ETag") != before.Header().Get("ETag") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the tile did not change within 3 s of the write (before: %d)", before.Code)
}

func TestMetricsEndpoint(t *testing.T) {
	loadDemo(t)
	e := newServer(testConfig(), postgistest.DB(t), quiet).Echo
	core, _ := coreTile(t)
	u := fmt.Sprintf("/tiles/premises/%d/%d/%d.mvt", core.Z, core.X, core.Y)
	do(t, e, "GET", u, nil)
	do(t, e, "GET", u, nil)
	// A derived layer's tile is timed in the same histogram.
	if rec, _ := do(t, e, "GET", fmt.Sprintf("/tiles/hazard_density/%d/%d/%d.mvt", core.Z-2, core.X>>2, core.Y>>2), nil); rec.Code != 200 {
		t.Fatalf("hazard_density tile: %d", rec.Code)
	}
	rec, _ := do(t, e, "GET", "/metrics", nil)
	body := rec.Body.String()
	for _, m := range []string{"onemap_tile_duration_seconds_bucket{layer=\"premises\",zoom=\"16\"", `onemap_tile_cache_requests_total{result="hit"} 1`,
		fmt.Sprintf(`onemap_tile_duration_seconds_count{layer="hazard_density",zoom="%d"} 1`, core.Z-2),
		`onemap_tile_truncations_total{layer="premises"} 0`, `onemap_tile_truncations_total{layer="hotspots"} 0`,
		`onemap_tile_cache_requests_total{result="miss"} 1`, `onemap_tile_bytes_count{layer="premises"} 1`, "onemap_db_pool_total_conns", "onemap_db_pool_acquires_total"} {
		if !strings.Contains(body, m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	_ = http.StatusOK
}

// TestAreaStatisticsFollowWrites: with the change feed running, closing a
// hazard changes its grid cell's tile (its statistics) within seconds.
func TestAreaStatisticsFollowWrites(t *testing.T) {
	ctx, a, pg := watchedServer(t)
	var hid int64
	var lon, lat float64
	if err := pg.QueryRow(ctx, "SELECT id, ST_X(geom), ST_Y(geom) FROM hazards WHERE status = 'open' ORDER BY id LIMIT 1").Scan(&hid, &lon, &lat); err != nil {
		t.Fatal(err)
	}
	tile := geo.TileOf(14, lon, lat)
	u := fmt.Sprintf("/tiles/grid_cells/%d/%d/%d.mvt", tile.Z, tile.X, tile.Y)
	before, _ := do(t, a.Echo, "GET", u, nil)
	time.Sleep(300 * time.Millisecond)
	if _, err := pg.Exec(ctx, "UPDATE hazards SET status = 'closed', closed_at = reported_at + interval '2 days' WHERE id = $1", hid); err != nil {
		t.Fatal(err)
	}
	defer func() {
		pg.Exec(context.Background(), "UPDATE hazards SET status = 'open', closed_at = NULL WHERE id = $1", hid)
		_ = pg.RefreshAreaStats(context.Background())
	}()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		after, _ := do(t, a.Echo, "GET", u, nil)
		if after.Header().Get("ETag") != before.Header().Get("ETag") {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the grid cell's statistics did not change within 10 s of closing a hazard")
}

// TestStatsEndpointsAreServed: the statistics answer through the server.
func TestStatsEndpointsAreServed(t *testing.T) {
	loadDemo(t)
	e := newServer(testConfig(), postgistest.DB(t), quiet).Echo
	for target, status := range map[string]int{
		"/api/v1/stats?level=town":                 200,
		"/api/v1/stats?level=grid_cell&format=csv": 200,
		"/api/v1/trend?level=city":                 200,
		"/api/v1/stats?level=county":               400,
	} {
		if rec, _ := do(t, e, "GET", target, nil); rec.Code != status {
			t.Errorf("GET %s: %d, want %d: %.200s", target, rec.Code, status, rec.Body)
		}
	}
}

// TestCompressedAnswers: JSON answers go gzip-compressed to clients that
// accept it (and only to them); tiles keep their own encoding, compressed
// once, and the derived layers' tiles are sent as the catalogue's are.
func TestCompressedAnswers(t *testing.T) {
	loadDemo(t)
	e := newServer(testConfig(), postgistest.DB(t), quiet).Echo
	core, _ := coreTile(t)
	gunzip := func(t *testing.T, b []byte) []byte {
		t.Helper()
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("not gzip: %v", err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	isGzip := func(b []byte) bool { return len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b }
	// Not do(): it reads a JSON body as it comes, and here it may come compressed.
	get := func(target string, header map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}

	for _, target := range []string{"/api/v1/layers", "/tiles", "/tiles/premises,hazards,hydrants,shelters,roads.json", "/api/v1/coverage"} {
		for _, tc := range []struct {
			accept string
			gzip   bool
		}{{"gzip", true}, {"br, gzip;q=0.5", true}, {"gzip;q=0", false}, {"identity", false}, {"", false}} {
			rec := get(target, map[string]string{"Accept-Encoding": tc.accept})
			if rec.Code != 200 {
				t.Fatalf("GET %s: %d", target, rec.Code)
			}
			body := rec.Body.Bytes()
			if got := rec.Header().Get("Content-Encoding") == "gzip"; got != tc.gzip {
				t.Errorf("GET %s with Accept-Encoding %q: gzip %v, want %v", target, tc.accept, got, tc.gzip)
				continue
			}
			if tc.gzip {
				if !strings.Contains(strings.Join(rec.Header().Values("Vary"), ","), "Accept-Encoding") {
					t.Errorf("GET %s: compressed without Vary: Accept-Encoding", target)
				}
				body = gunzip(t, body)
			}
			if !json.Valid(body) {
				t.Errorf("GET %s with Accept-Encoding %q: not JSON after decoding: %.60q", target, tc.accept, body)
			}
		}
	}

	// Under a kilobyte an answer goes as it is: compressing it saves no packet.
	if rec := get("/api/v1/version", map[string]string{"Accept-Encoding": "gzip"}); rec.Header().Get("Content-Encoding") != "" || !json.Valid(rec.Body.Bytes()) {
		t.Errorf("GET /api/v1/version (%d bytes): compressed", rec.Body.Len())
	}

	// Tiles: compressed once, the same MVT bytes as the identity answer.
	for _, target := range []string{
		fmt.Sprintf("/tiles/premises/%d/%d/%d.mvt", core.Z, core.X, core.Y),
		fmt.Sprintf("/tiles/hazard_density/%d/%d/%d.mvt", core.Z-2, core.X>>2, core.Y>>2),
	} {
		plain := get(target, map[string]string{"Accept-Encoding": "identity"})
		zipped := get(target, map[string]string{"Accept-Encoding": "gzip"})
		if plain.Code != 200 || zipped.Code != 200 {
			t.Fatalf("GET %s: %d and %d", target, plain.Code, zipped.Code)
		}
		if zipped.Header().Get("Content-Encoding") != "gzip" || plain.Header().Get("Content-Encoding") != "" {
			t.Errorf("GET %s: encodings %q (gzip asked) and %q (identity asked)", target, zipped.Header().Get("Content-Encoding"), plain.Header().Get("Content-Encoding"))
		}
		once := gunzip(t, zipped.Body.Bytes())
		if isGzip(once) || !bytes.Equal(once, plain.Body.Bytes()) {
			t.Errorf("GET %s: the gzip answer is not the identity answer compressed once", target)
		}
		etag, etagGz := plain.Header().Get("ETag"), zipped.Header().Get("ETag")
		if etag == "" || etagGz == "" || etag == etagGz {
			t.Errorf("GET %s: ETags %q and %q: want one per encoding", target, etag, etagGz)
		}
		if rec := get(target, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": etagGz}); rec.Code != http.StatusNotModified {
			t.Errorf("GET %s If-None-Match %s: %d, want 304", target, etagGz, rec.Code)
		}
	}
}

// TestTileMaxAgeSetting: ONEMAP_TILE_MAX_AGE sets a layer's Cache-Control
// (derived layers too), a tile of several layers takes the shortest, and a
// malformed setting is refused at start.
func TestTileMaxAgeSetting(t *testing.T) {
	loadDemo(t)
	for _, bad := range []string{"castles=30", "hydrants", "hydrants=-1", "hydrants=soon", "hydrants=30,hydrants=40", "hydrants=99999999"} {
		if _, err := parseMaxAges(bad); err == nil {
			t.Errorf("ONEMAP_TILE_MAX_AGE=%q accepted", bad)
		}
	}
	cfg := testConfig()
	ages, err := parseMaxAges("hydrants=7, premises=3600,hazard_density=5")
	if err != nil {
		t.Fatal(err)
	}
	cfg.tileMaxAges = ages
	e := newServer(cfg, postgistest.DB(t), quiet).Echo
	core, _ := coreTile(t)
	for path, want := range map[string]string{
		fmt.Sprintf("/tiles/hydrants/%d/%d/%d.mvt", core.Z, core.X, core.Y):               "public, max-age=7",
		fmt.Sprintf("/tiles/premises/%d/%d/%d.mvt", core.Z, core.X, core.Y):               "public, max-age=3600",
		fmt.Sprintf("/tiles/premises,hydrants/%d/%d/%d.mvt", core.Z, core.X, core.Y):      "public, max-age=7",
		fmt.Sprintf("/tiles/towns/%d/%d/%d.mvt", core.Z, core.X, core.Y):                  fmt.Sprintf("public, max-age=%d", geo.Catalogue["towns"].CacheMaxAge),
		fmt.Sprintf("/tiles/hazard_density/%d/%d/%d.mvt", core.Z-2, core.X>>2, core.Y>>2): "public, max-age=5",
		fmt.Sprintf("/tiles/hotspots/%d/%d/%d.mvt", core.Z-2, core.X>>2, core.Y>>2):       "public, max-age=60",
	} {
		rec, _ := do(t, e, "GET", path, nil)
		if got := rec.Header().Get("Cache-Control"); rec.Code >= 300 || got != want {
			t.Errorf("GET %s: %d, Cache-Control %q, want %q", path, rec.Code, got, want)
		}
	}
}

// TestTilesExportRefusesBadArguments: before touching the database, the
// export refuses an output that is not named .pmtiles and a negative zoom.
func TestTilesExportRefusesBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"tiles", "export", "--layers", "premises", filepath.Join(t.TempDir(), "out.mbtiles")},
		{"tiles", "export", "--layers", "premises", "--minzoom", "-1", filepath.Join(t.TempDir(), "out.pmtiles")},
	} {
		root := newRootCommand()
		root.SetArgs(args)
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		err := root.Execute()
		want := "name it *.pmtiles"
		if strings.HasSuffix(args[len(args)-1], ".pmtiles") {
			want = "--minzoom -1: want 0 or more"
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("onemap %s: %v, want a refusal naming the problem", strings.Join(args, " "), err)
		}
	}
}

// TestQueryFaultAgreesWithParseQuery: the scan that runs before every tile
// refuses exactly the query strings Go's parser refuses.
func TestQueryFaultAgreesWithParseQuery(t *testing.T) {
	for _, raw := range []string{"", "a=1", "a=1&b=2", "a=%zz", "a=%2", "a=%", "%41=1", "a=1;b=2", "a=%e4%b8%ad", "a=b+c",
		"a==1", "&&a=1&", "a=%2G", "a=%G2", "tag=red&kind=group_rental,mixed_use", "since=2026-01-01T00:00:00%2B08:00", "k%zz=1"} {
		_, err := url.ParseQuery(raw)
		if _, what := queryFault(raw); (what != "") != (err != nil) {
			t.Errorf("%q: scan says %q, url.ParseQuery %v", raw, what, err)
		}
	}
}
