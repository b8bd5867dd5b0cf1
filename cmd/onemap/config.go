package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/onemap-city/onemap/analytics"
	"github.com/onemap-city/onemap/geo"
)

// Config is everything OneMap reads from its environment and flags. It is
// read once, here; packages get plain values from it.
type Config struct {
	Addr             string
	DatabaseURL      string
	DataDir          string
	DBPort           int
	PGBinDir         string
	DBMaxConns       int
	StatementTimeout time.Duration
	Demo             string
	DemoSeed         int64
	PublicURL        string
	CORSOrigins      string
	BasemapStyle     string
	AdminToken       string
	AccessTokens     string
	LogLevel         string
	LogFormat        string
	ShutdownTimeout  time.Duration
	TileCacheMB      int
	PointCacheMB     int
	TileFeatureCap   int
	TileClusterAbove int
	TileTimeout      time.Duration
	CoveragePresets  string
	TileMaxAge       string
	tileMaxAges      map[string]int // TileMaxAge parsed by Validate

	envErr error // a malformed ONEMAP_* number or duration
}

// setting is one configuration variable: its flag, its ONEMAP_* variable, its
// default, what it does and the Config field it fills. The README's
// configuration table lists the same (a test checks).
type setting struct {
	flag, env, def, help string
	secret               bool
	field                any // *string, *int, *int64 or *time.Duration
}

func (c *Config) settings() []setting {
	return []setting{
		{"addr", "ONEMAP_ADDR", ":8080", "HTTP listen address", false, &c.Addr},
		{"database-url", "ONEMAP_DATABASE_URL", "", "external PostGIS to use instead of the embedded cluster (postgres://… or key=value)", true, &c.DatabaseURL},
		{"data-dir", "ONEMAP_DATA_DIR", "./.onemap", "folder of the embedded PostgreSQL cluster (data, socket, log)", false, &c.DataDir},
		{"db-port", "ONEMAP_DB_PORT", "0", "also listen on this TCP port on 127.0.0.1 for psql/QGIS (0: unix socket only)", false, &c.DBPort},
		{"pg-bindir", "ONEMAP_PG_BINDIR", "", "folder holding initdb and postgres (default: pg_config --bindir, then /usr/lib/postgresql/*/bin)", false, &c.PGBinDir},
		{"db-max-conns", "ONEMAP_DB_MAX_CONNS", "16", "largest number of database connections", false, &c.DBMaxConns},
		{"statement-timeout", "ONEMAP_STATEMENT_TIMEOUT", "30s", "longest a database statement may run", false, &c.StatementTimeout},
		{"demo", "ONEMAP_DEMO", "", "serve: load the demo city at this scale (small, city, large) when the database is empty", false, &c.Demo},
		{"demo-seed", "ONEMAP_DEMO_SEED", "1", "seed of the demo city loaded by --demo", false, &c.DemoSeed},
		{"public-url", "ONEMAP_PUBLIC_URL", "", "public base URL for absolute links (default: from the request and X-Forwarded-Proto/Host)", false, &c.PublicURL},
		{"cors-origins", "ONEMAP_CORS_ORIGINS", "*", "comma-separated origins allowed by CORS", false, &c.CORSOrigins},
		{"basemap-style", "ONEMAP_BASEMAP_STYLE", "", "URL of an external MapLibre style the web map draws under OneMap's layers, for deployments that have one (empty: none; the map needs no internet)", false, &c.BasemapStyle},
		{"admin-token", "ONEMAP_ADMIN_TOKEN", "", "bearer token for /admin endpoints (empty: admin endpoints disabled)", true, &c.AdminToken},
		{"access-tokens", "ONEMAP_ACCESS_TOKENS", "", "comma-separated tokens of which one is needed to read tiles and /api (empty: open to all)", true, &c.AccessTokens},
		{"log-level", "ONEMAP_LOG_LEVEL", "info", "debug, info, warn or error", false, &c.LogLevel},
		{"log-format", "ONEMAP_LOG_FORMAT", "text", "text or json", false, &c.LogFormat},
		{"shutdown-timeout", "ONEMAP_SHUTDOWN_TIMEOUT", "15s", "how long in-flight requests may finish on shutdown", false, &c.ShutdownTimeout},
		{"tile-cache-mb", "ONEMAP_TILE_CACHE_MB", "256", "memory for cached tiles, MiB (0 disables the cache)", false, &c.TileCacheMB},
		{"point-cache-mb", "ONEMAP_POINT_CACHE_MB", "1024", "memory for the point sets heatmaps, hexagon density and hot spots keep (one per selection), MiB", false, &c.PointCacheMB},
		{"tile-feature-cap", "ONEMAP_TILE_FEATURE_CAP", "20000", "most features (or clusters) of one layer in one tile; more is truncated and signalled", false, &c.TileFeatureCap},
		{"tile-cluster-above", "ONEMAP_TILE_CLUSTER_ABOVE", "3000", "a point layer with more features than this in one tile is sent as clusters there (-1: only below each layer's cluster zoom)", false, &c.TileClusterAbove},
		{"tile-timeout", "ONEMAP_TILE_TIMEOUT", "10s", "longest a tile's query may run (then 504)", false, &c.TileTimeout},
		{"tile-max-age", "ONEMAP_TILE_MAX_AGE", "", "comma-separated layer=seconds: the Cache-Control max-age of a layer's tiles, overriding the catalogue's (e.g. hydrants=30,premises=3600)", false, &c.TileMaxAge},
		{"coverage-presets", "ONEMAP_COVERAGE_PRESETS", "", "JSON file of extra coverage presets (docs/COVERAGE.md), added to the built-in ones", false, &c.CoveragePresets},
	}
}

// BindFlags registers every setting as a flag whose default comes from its
// environment variable, so flags override the environment. A malformed
// number or duration in the environment is reported by Validate.
func (c *Config) BindFlags(fs *pflag.FlagSet) {
	for _, s := range c.settings() {
		def := s.def
		if v, ok := os.LookupEnv(s.env); ok {
			def = v
		}
		help := s.help + " ($" + s.env + ")"
		switch p := s.field.(type) {
		case *string:
			fs.StringVar(p, s.flag, def, help)
		case *int:
			v, err := strconv.Atoi(def)
			c.noteEnvError(s, def, err)
			fs.IntVar(p, s.flag, v, help)
		case *int64:
			v, err := strconv.ParseInt(def, 10, 64)
			c.noteEnvError(s, def, err)
			fs.Int64Var(p, s.flag, v, help)
		case *time.Duration:
			v, err := time.ParseDuration(def)
			c.noteEnvError(s, def, err)
			fs.DurationVar(p, s.flag, v, help)
		}
	}
}

func (c *Config) noteEnvError(s setting, v string, err error) {
	if err != nil && c.envErr == nil {
		c.envErr = fmt.Errorf("%s=%q is not a valid %s value", s.env, v, s.flag)
	}
}

// Validate checks the values a user may have mistyped.
func (c *Config) Validate() error {
	if c.envErr != nil {
		return c.envErr
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("ONEMAP_LOG_LEVEL / --log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("ONEMAP_LOG_FORMAT / --log-format %q: want text or json", c.LogFormat)
	}
	switch c.Demo {
	case "", "small", "city", "large":
	default:
		return fmt.Errorf("ONEMAP_DEMO / --demo %q: want small, city or large", c.Demo)
	}
	if c.DBPort < 0 || c.DBPort > 65535 {
		return fmt.Errorf("ONEMAP_DB_PORT / --db-port %d: want 0 to 65535", c.DBPort)
	}
	if c.TileCacheMB < 0 {
		return fmt.Errorf("ONEMAP_TILE_CACHE_MB / --tile-cache-mb %d: want 0 or more", c.TileCacheMB)
	}
	if c.BasemapStyle != "" {
		u, err := url.Parse(c.BasemapStyle)
		if err != nil || !(u.Scheme == "http" || u.Scheme == "https" || (u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, "/"))) {
			return fmt.Errorf("ONEMAP_BASEMAP_STYLE / --basemap-style %q: want an http(s) URL or a path on this server starting with /", c.BasemapStyle)
		}
	}
	if err := validTokens(c.AccessTokens); err != nil {
		return err
	}
	if c.PointCacheMB < 1 {
		return fmt.Errorf("ONEMAP_POINT_CACHE_MB / --point-cache-mb %d: want at least 1", c.PointCacheMB)
	}
	if c.TileFeatureCap < 1 {
		return fmt.Errorf("ONEMAP_TILE_FEATURE_CAP / --tile-feature-cap %d: want at least 1", c.TileFeatureCap)
	}
	if c.CoveragePresets != "" {
		if err := geo.LoadCoveragePresets(c.CoveragePresets); err != nil {
			return fmt.Errorf("ONEMAP_COVERAGE_PRESETS / --coverage-presets: %w", err)
		}
	}
	ages, err := parseMaxAges(c.TileMaxAge)
	if err != nil {
		return fmt.Errorf("ONEMAP_TILE_MAX_AGE / --tile-max-age %q: %w", c.TileMaxAge, err)
	}
	c.tileMaxAges = ages
	if c.DBMaxConns < 1 {
		return fmt.Errorf("ONEMAP_DB_MAX_CONNS / --db-max-conns %d: want at least 1", c.DBMaxConns)
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("ONEMAP_PUBLIC_URL / --public-url %q: want an absolute URL such as https://map.example.org", c.PublicURL)
		}
	}
	return nil
}

// parseMaxAges reads layer=seconds pairs: a catalogue or derived layer
// each, at most once, 0 to a year.
func parseMaxAges(s string) (map[string]int, error) {
	ages := map[string]int{}
	if strings.TrimSpace(s) == "" {
		return ages, nil
	}
	derived := map[string]bool{}
	for _, d := range analytics.DerivedLayers() {
		derived[d.ID] = true
	}
	for _, pair := range strings.Split(s, ",") {
		id, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if _, known := geo.Catalogue[id]; !ok || !(known || derived[id]) {
			return nil, fmt.Errorf("%q: want layer=seconds with a layer of the tile catalogue", pair)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 365*24*3600 {
			return nil, fmt.Errorf("%q: want whole seconds from 0 to 31536000", pair)
		}
		if _, twice := ages[id]; twice {
			return nil, fmt.Errorf("%s is given twice", id)
		}
		ages[id] = n
	}
	return ages, nil
}

// Logger builds the process logger from the log settings.
func (c *Config) Logger() *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// LogValue prints the configuration with secrets redacted.
func (c *Config) LogValue() slog.Value {
	var attrs []slog.Attr
	for _, s := range c.settings() {
		v := fmt.Sprint(reflect.ValueOf(s.field).Elem().Interface())
		if s.secret && v != "" {
			v = redactSecret(s.flag, v)
		}
		attrs = append(attrs, slog.String(s.env, v))
	}
	return slog.GroupValue(attrs...)
}

var keywordPassword = regexp.MustCompile(`(password\s*=\s*)(\S+)`)

// redactSecret hides a token entirely and, in a database URL, the password
// only, so the printed URL still says where OneMap connects.
func redactSecret(flag, v string) string {
	if flag != "database-url" {
		return "[redacted]"
	}
	if u, err := url.Parse(v); err == nil && u.Scheme != "" {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "redacted")
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "redacted")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return keywordPassword.ReplaceAllString(v, "${1}[redacted]")
}

// splitList splits a comma-separated setting, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
