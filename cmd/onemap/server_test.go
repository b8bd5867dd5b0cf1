package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/spf13/pflag"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/postgis"
	"github.com/onemap-city/onemap/sql/postgis/postgistest"
)

func TestMain(m *testing.M) { postgistest.Main(m) }

func testConfig() *Config {
	return &Config{CORSOrigins: "*", StatementTimeout: 5 * time.Second, ShutdownTimeout: time.Second,
		TileCacheMB: 64, TileFeatureCap: 20000, TileClusterAbove: 3000, TileTimeout: 5 * time.Second}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func do(t *testing.T, e *echo.Echo, method, target string, header map[string]string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	var body map[string]any
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s %s: body is not JSON: %v: %s", method, target, err, rec.Body)
		}
	}
	return rec, body
}

func TestServiceEndpoints(t *testing.T) {
	e := newServer(testConfig(), postgistest.DB(t), quiet).Echo
	cases := []struct {
		target string
		status int
		keys   []string
	}{
		{"/healthz", 200, []string{"status"}},
		{"/readyz", 200, []string{"status", "postgis", "schema_version"}},
		{"/api/v1/version", 200, []string{"onemap", "postgis", "pgrouting", "schema_version", "go"}},
		{"/api/v1/layers", 200, []string{"layers"}},
		{"/api/v1/coverage", 200, []string{"presets"}},
		{"/api/v1/coverage/nonsense", 400, []string{"error", "detail"}},
		{"/no/such/thing", 404, []string{"error"}},
	}
	for _, tc := range cases {
		rec, body := do(t, e, http.MethodGet, tc.target, nil)
		if rec.Code != tc.status {
			t.Errorf("GET %s: status %d, want %d (%s)", tc.target, rec.Code, tc.status, rec.Body)
		}
		for _, k := range tc.keys {
			if _, ok := body[k]; !ok {
				t.Errorf("GET %s: no %q in %v", tc.target, k, body)
			}
		}
		if rec.Header().Get(echo.HeaderXRequestID) == "" {
			t.Errorf("GET %s: no request id", tc.target)
		}
	}
	_, body := do(t, e, http.MethodGet, "/api/v1/layers", nil)
	layers := body["layers"].([]any)
	if len(layers) != len(geo.Catalogue) {
		t.Fatalf("%d layers listed, catalogue has %d", len(layers), len(geo.Catalogue))
	}
	rec, _ := do(t, e, http.MethodGet, "/", nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "OneMap") {
		t.Errorf("GET /: %d %.80s", rec.Code, rec.Body)
	}
	if rec, _ := do(t, e, http.MethodHead, "/", nil); rec.Code != 200 {
		t.Errorf("HEAD /: %d, want 200", rec.Code)
	}
}

func TestCORSPreflight(t *testing.T) {
	e := newServer(testConfig(), postgistest.DB(t), quiet).Echo
	rec, _ := do(t, e, http.MethodOptions, "/api/v1/version", map[string]string{
		"Origin": "https://gis.example.org", "Access-Control-Request-Method": "GET",
	})
	if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("preflight: %d, allow-origin %q", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
	}
	rec, _ = do(t, e, http.MethodGet, "/healthz", map[string]string{"Origin": "https://gis.example.org"})
	if !strings.Contains(rec.Header().Get("Access-Control-Expose-Headers"), "ETag") {
		t.Errorf("ETag not exposed: %q", rec.Header().Get("Access-Control-Expose-Headers"))
	}
}

// TestErrorHandler checks the one table from error codes to statuses, and
// that a 500 shows a request id but never its cause.
func TestErrorHandler(t *testing.T) {
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(quiet)
	secret := errors.New("pq: relation secret_table does not exist")
	routes := map[string]error{
		"/invalid":     geo.Invalid("radius", "radius must be between 10 and 5000 metres"),
		"/notfound":    geo.Errorf(geo.ENotFound, "unknown layer %q", "x"),
		"/unavailable": &geo.Error{Code: geo.EUnavailable, Message: "the database is unavailable", Err: secret},
		"/timeout":     &geo.Error{Code: geo.ETimeout, Message: "the database took too long"},
		"/internal":    secret,
	}
	for path, err := range routes {
		e.GET(path, func(echo.Context) error { return err })
	}
	want := map[string]int{"/invalid": 400, "/notfound": 404, "/unavailable": 503, "/timeout": 504, "/internal": 500}
	for path, status := range want {
		rec, body := do(t, e, http.MethodGet, path, nil)
		if rec.Code != status {
			t.Errorf("%s: status %d, want %d", path, rec.Code, status)
		}
		if body["error"] == nil || body["error"] == "" {
			t.Errorf("%s: no error message: %v", path, body)
		}
		if strings.Contains(rec.Body.String(), "secret_table") {
			t.Errorf("%s: leaks the cause: %s", path, rec.Body)
		}
	}
	_, body := do(t, e, http.MethodGet, "/invalid", nil)
	if body["detail"] != "radius" {
		t.Errorf("400 detail %v, want the parameter name", body["detail"])
	}
}

// TestDatabaseDownAndBack stops the database under a running server: readyz
// and data endpoints answer 503 at once (no hang), and once the database is
// back the same server recovers by itself.
func TestDatabaseDownAndBack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own PostgreSQL cluster")
	}
	ctx := context.Background()
	parent, err := os.MkdirTemp("", "onemap-down-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(parent)
	_ = os.Chmod(parent, 0o755)
	cc := postgis.ClusterConfig{Dir: filepath.Join(parent, "db"), Logger: quiet}
	cluster, err := postgis.StartCluster(ctx, cc)
	if err != nil {
		t.Fatal(err)
	}
	if err := postgis.EnsureDatabase(ctx, cluster.URL("postgres"), "onemap"); err != nil {
		t.Fatal(err)
	}
	db, err := postgis.Open(ctx, cluster.URL("onemap"), postgis.PoolConfig{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	e := newServer(testConfig(), db, quiet).Echo
	// An empty database: tiles are 204 while it is up.
	targets := map[string]int{"/readyz": 200, "/api/v1/version": 200, "/api/v1/layers": 200,
		"/tiles/hydrants/14/13703/7010.mvt": 204, "/tiles/premises.json": 200,
		"/api/v1/coverage/hydrants": 200, "/api/v1/service-areas?minutes=4": 200}
	uncached := 0
	tileNotSeenBefore := func() string { uncached++; return fmt.Sprintf("/tiles/premises/14/%d/7010.mvt", 13000+uncached) }
	check := func(when string, up bool) {
		t.Helper()
		for target, status := range targets {
			if !up && !strings.HasPrefix(target, "/tiles/hydrants/") {
				status = 503 // the hydrant tile was cached while up, and still serves
			}
			start := time.Now()
			rec, body := do(t, e, http.MethodGet, target, nil)
			if rec.Code != status {
				t.Fatalf("%s: GET %s = %d, want %d: %s", when, target, rec.Code, status, rec.Body)
			}
			if status == 503 && (body["error"] == nil || time.Since(start) > 5*time.Second) {
				t.Fatalf("%s: GET %s: 503 must be JSON and quick, got %v after %v", when, target, body, time.Since(start))
			}
		}
	}
	check("up", true)
	if err := cluster.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	check("down", false)
	// A tile not in the cache cannot be made: 503. One already cached is
	// still served while the database is away.
	if rec, body := do(t, e, http.MethodGet, tileNotSeenBefore(), nil); rec.Code != 503 || body["error"] == nil {
		t.Fatalf("uncached tile with the database down: %d %s", rec.Code, rec.Body)
	}
	cluster, err = postgis.StartCluster(ctx, cc)
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Stop(ctx)
	check("back", true)
	if rec, _ := do(t, e, http.MethodGet, tileNotSeenBefore(), nil); rec.Code != 204 {
		t.Fatalf("tile after recovery: %d %s", rec.Code, rec.Body)
	}
}

// TestREADMEDocumentsConfig: every setting is in the README's table.
func TestREADMEDocumentsConfig(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range (&Config{}).settings() {
		if !strings.Contains(string(readme), "`"+s.env+"`") {
			t.Errorf("README.md does not document %s", s.env)
		}
	}
}

func TestConfigRedactsSecrets(t *testing.T) {
	c := &Config{DatabaseURL: "postgres://analyst:hunter2@db.example.org/onemap?sslmode=require", AdminToken: "tok-123"}
	v := c.LogValue().String()
	if strings.Contains(v, "hunter2") || strings.Contains(v, "tok-123") {
		t.Fatalf("secrets printed: %s", v)
	}
	if !strings.Contains(v, "db.example.org") {
		t.Fatalf("the database host should still show: %s", v)
	}
	kv := redactSecret("database-url", "host=db user=a password=hunter2 dbname=onemap")
	if strings.Contains(kv, "hunter2") || !strings.Contains(kv, "host=db") {
		t.Fatalf("key=value URL redacted to %q", kv)
	}
}

func TestConfigFromEnvironmentAndFlags(t *testing.T) {
	t.Setenv("ONEMAP_ADDR", ":9999")
	t.Setenv("ONEMAP_LOG_LEVEL", "debug")
	cfg := &Config{}
	fs := pflag.NewFlagSet("onemap", pflag.ContinueOnError)
	cfg.BindFlags(fs)
	if err := fs.Parse([]string{"--log-level", "warn"}); err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":9999" || cfg.LogLevel != "warn" {
		t.Fatalf("addr %q (want the environment's :9999), log level %q (want the flag's warn)", cfg.Addr, cfg.LogLevel)
	}
	t.Setenv("ONEMAP_STATEMENT_TIMEOUT", "soon")
	bad := &Config{}
	bad.BindFlags(pflag.NewFlagSet("onemap", pflag.ContinueOnError))
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "ONEMAP_STATEMENT_TIMEOUT") {
		t.Fatalf("malformed duration: %v", err)
	}
	t.Setenv("ONEMAP_STATEMENT_TIMEOUT", "30s")
	t.Setenv("ONEMAP_POINT_CACHE_MB", "0")
	zero := &Config{}
	zero.BindFlags(pflag.NewFlagSet("onemap", pflag.ContinueOnError))
	if err := zero.Validate(); err == nil || !strings.Contains(err.Error(), "ONEMAP_POINT_CACHE_MB") {
		t.Fatalf("a point cache of 0 MiB: %v", err)
	}
}
