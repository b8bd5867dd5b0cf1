package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/labstack/echo/v4"
	"github.com/spf13/pflag"

	"github.com/onemap-city/onemap/frontend"
)

func TestServeFrontend(t *testing.T) {
	lib := strings.Repeat("export const x = 1;\n", 200)
	files := fstest.MapFS{
		"index.html":                   {Data: []byte("<!doctype html><title>t</title>" + strings.Repeat(" ", 600))},
		"lib/maplibre-gl-6.17.0/m.mjs": {Data: []byte(lib)},
		"app/icon.svg":                 {Data: []byte("<svg/>")},
	}
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(quiet)
	e.Match([]string{http.MethodGet, http.MethodHead}, "/*", serveFrontend(newFrontendFiles(files, "")))
	get := func(path, acceptEncoding, ifNoneMatch string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		if ifNoneMatch != "" {
			req.Header.Set("If-None-Match", ifNoneMatch)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}

	plain := get("/lib/maplibre-gl-6.17.0/m.mjs", "", "")
	if plain.Code != 200 || plain.Body.String() != lib || plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("without Accept-Encoding: %d %q, %d bytes", plain.Code, plain.Header().Get("Content-Encoding"), plain.Body.Len())
	}
	if ct := plain.Header().Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := plain.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("versioned file: Cache-Control %q", cc)
	}
	gz := get("/lib/maplibre-gl-6.17.0/m.mjs", "br, gzip, deflate", "")
	if gz.Code != 200 || gz.Header().Get("Content-Encoding") != "gzip" || gz.Header().Get("Vary") != "Accept-Encoding" {
		t.Fatalf("with gzip: %d, encoding %q, vary %q", gz.Code, gz.Header().Get("Content-Encoding"), gz.Header().Get("Vary"))
	}
	if gz.Body.Len() >= len(lib)/2 {
		t.Errorf("gzip body %d bytes of %d", gz.Body.Len(), len(lib))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(zr); string(b) != lib {
		t.Error("gzip body does not decompress to the file")
	}
	if gz.Header().Get("ETag") == plain.Header().Get("ETag") || gz.Header().Get("ETag") == "" {
		t.Errorf("one ETag per encoding: %q and %q", plain.Header().Get("ETag"), gz.Header().Get("ETag"))
	}
	if r := get("/lib/maplibre-gl-6.17.0/m.mjs", "gzip", gz.Header().Get("ETag")); r.Code != http.StatusNotModified {
		t.Errorf("If-None-Match with the gzip ETag: %d", r.Code)
	}
	if r := get("/lib/maplibre-gl-6.17.0/m.mjs", "gzip", plain.Header().Get("ETag")); r.Code != 200 {
		t.Errorf("If-None-Match with the plain ETag, asking gzip: %d", r.Code)
	}
	if r := get("/lib/maplibre-gl-6.17.0/m.mjs", "gzip;q=0, identity", ""); r.Header().Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 refused, but got gzip")
	}
	page := get("/", "gzip", "")
	if page.Code != 200 || page.Header().Get("Content-Encoding") != "gzip" || page.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("/: %d, encoding %q, cache %q", page.Code, page.Header().Get("Content-Encoding"), page.Header().Get("Cache-Control"))
	}
	// Too small to be worth it: sent as it is, with no Vary.
	icon := get("/app/icon.svg", "gzip", "")
	if icon.Header().Get("Content-Encoding") != "" || icon.Header().Get("Vary") != "" || icon.Body.String() != "<svg/>" {
		t.Errorf("small file: encoding %q, vary %q", icon.Header().Get("Content-Encoding"), icon.Header().Get("Vary"))
	}
	if r := get("/nope.mjs", "gzip", ""); r.Code != http.StatusNotFound {
		t.Errorf("missing file: %d", r.Code)
	}
}

// TestBasemapSetting: the deployment's basemap style reaches the page through
// index.html (escaped), and only a URL the page can load is accepted.
func TestBasemapSetting(t *testing.T) {
	index := func(basemap string) string {
		cfg := testConfig()
		cfg.BasemapStyle = basemap
		e := echo.New()
		e.Match([]string{http.MethodGet, http.MethodHead}, "/*", serveFrontend(newFrontendFiles(frontend.FS, cfg.BasemapStyle)))
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if rec.Code != 200 {
			t.Fatalf("GET /: %d", rec.Code)
		}
		return rec.Body.String()
	}
	if !strings.Contains(index(""), `<meta name="onemap-basemap" content="">`) {
		t.Fatal("index.html has no empty onemap-basemap meta tag: the server could not write a basemap into it")
	}
	got := index(`https://maps.example.org/style.json?key=a&lang="zh"`)
	if want := `<meta name="onemap-basemap" content="https://maps.example.org/style.json?key=a&amp;lang=&#34;zh&#34;">`; !strings.Contains(got, want) {
		t.Errorf("index.html with a basemap: no %s", want)
	}
	for value, ok := range map[string]bool{
		"https://maps.example.org/style.json": true, "http://10.0.0.5/style.json": true, "/basemap/style.json": true,
		"ftp://maps.example.org/style.json": false, "//maps.example.org/style.json": false, "style.json": false, "javascript:alert(1)": false,
	} {
		cfg := &Config{} // the defaults, then the one setting under test
		cfg.BindFlags(pflag.NewFlagSet("onemap", pflag.ContinueOnError))
		cfg.BasemapStyle = value
		if err := cfg.Validate(); (err == nil) != ok {
			t.Errorf("ONEMAP_BASEMAP_STYLE=%q: error %v, want accepted=%v", value, err, ok)
		}
	}
}
