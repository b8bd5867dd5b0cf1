package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/onemap-city/onemap/analytics"
	"github.com/onemap-city/onemap/frontend"
	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/postgis"
	"github.com/onemap-city/onemap/tiles"
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[string]int{
	geo.EInvalid:      http.StatusBadRequest,
	geo.ENotFound:     http.StatusNotFound,
	geo.EConflict:     http.StatusConflict,
	geo.EUnauthorized: http.StatusUnauthorized,
	geo.EForbidden:    http.StatusForbidden,
	geo.EUnavailable:  http.StatusServiceUnavailable,
	geo.ETimeout:      http.StatusGatewayTimeout,
	geo.EInternal:     http.StatusInternalServerError,
}

// errorBody is every error response: what went wrong, where, and for a 5xx
// the request id to quote when reporting it.
type errorBody struct {
	Error     string `json:"error"`
	Detail    string `json:"detail,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// app is the wired service: the HTTP server and the capabilities behind it.
type app struct {
	*echo.Echo
	tiles *tiles.Service
	db    *postgis.DB
	log   *slog.Logger
	// frontend is the web map's files as served; warm compresses them all
	// ahead of their first request.
	frontend *frontendFiles
}

// watchChanges keeps the caches in step with the data until ctx is done:
// every write to a layer (from any client, import or psql session) drops
// that layer's cached tiles; a write to premises or hazards also refreshes
// the area statistics, and then drops the tiles that show them.
func (a *app) watchChanges(ctx context.Context) {
	refresher := &postgis.AreaStatsRefresher{DB: a.db, Log: a.log, Refreshed: func() {
		for _, id := range geo.LayerIDs() {
			if len(geo.Catalogue[id].DependsOn()) > 0 {
				a.tiles.Invalidate(id)
			}
		}
	}}
	go refresher.Run(ctx)
	a.db.ListenLayerChanges(ctx, a.log, func(layer string) {
		a.tiles.Invalidate(layer)
		for _, id := range geo.LayerIDs() {
			if slices.Contains(geo.Catalogue[id].DependsOn(), layer) {
				refresher.Poke()
				return
			}
		}
	}, func() {
		a.tiles.InvalidateAll()
		refresher.Poke()
	})
}

// newServer builds the HTTP server: middleware, the error handler and routes.
func newServer(cfg *Config, db *postgis.DB, log *slog.Logger) *app {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(log)
	e.Server.ReadHeaderTimeout = 10 * time.Second
	e.Server.IdleTimeout = 2 * time.Minute
	// Just above the statement timeout, so a slow query ends as a JSON 504
	// rather than a dropped connection.
	e.Server.WriteTimeout = cfg.StatementTimeout + 5*time.Second

	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: requestIDs()}))
	if log.Enabled(context.Background(), slog.LevelDebug) {
		// Every request is logged only at debug level: at other levels the
		// middleware would do its work for nothing (5xx are logged by the
		// error handler).
		e.Use(requestLogger(log))
	}
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			log.Error("panic", "err", err, "request_id", requestID(c), "stack", string(stack))
			return err
		},
	}))
	e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOrigins:  splitList(cfg.CORSOrigins),
		AllowMethods:  []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodDelete, http.MethodOptions},
		AllowHeaders:  []string{"Authorization", "Content-Type", "If-None-Match"},
		ExposeHeaders: []string{"ETag", echo.HeaderXRequestID, "X-Heatmap-Max", "X-Tile-Truncated"},
		MaxAge:        86400,
	}))
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "20M", Skipper: withoutBody}))
	e.Use(compressAnswers())
	// The guard takes ?token= out of the query before anything reads it:
	// echo keeps the query it parsed first, so no middleware before this one
	// may read query parameters.
	e.Use(wellFormedQuery)
	access := newAccessGuard(cfg.AccessTokens)
	e.Use(access.middleware())

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		postgis.NewPoolCollector(db))
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))

	tileMetrics := tiles.NewMetrics(reg)
	ts := tiles.NewService(db, tiles.Config{
		CacheBytes: int64(cfg.TileCacheMB) << 20, FeatureCap: cfg.TileFeatureCap, ClusterAbove: cfg.TileClusterAbove,
		TileTimeout: cfg.TileTimeout,
	}, tileMetrics)
	// The KDE service's point cache, within ONEMAP_POINT_CACHE_MB, is the
	// one Register shares with hexagon density and hot spots.
	kde := analytics.NewKDEService(db, analytics.Limits{})
	kde.Points = analytics.NewPointCache(db, int64(cfg.PointCacheMB)<<20)
	ah := &analytics.Handler{KDE: kde, Density: analytics.NewDensityService(db, analytics.Limits{}), Metrics: tileMetrics,
		MaxAge: cfg.tileMaxAges, FeatureCap: cfg.TileFeatureCap}
	th := &tiles.Handler{Service: ts, Extents: db, PublicURL: cfg.PublicURL, AdminToken: cfg.AdminToken,
		Derived: ah.DerivedLayers(), MaxAge: cfg.tileMaxAges}
	th.Register(e)
	ah.Register(e)
	(&analytics.StatsHandler{Stats: &analytics.StatsService{DB: db}}).Register(e)
	(&analytics.CoverageHandler{Coverage: analytics.NewCoverageService(db), Spacing: &analytics.SpacingService{DB: db},
		Jobs: &analytics.Jobs{}}).Register(e)

	h := &basics{db: db, log: log}
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	e.GET("/api/v1/version", h.version)
	e.GET("/api/v1/layers", h.layers)
	e.POST(sessionRoute, access.signIn)
	e.DELETE(sessionRoute, access.signOut)

	web := newFrontendFiles(frontend.FS, cfg.BasemapStyle)
	e.Match([]string{http.MethodGet, http.MethodHead}, "/*", serveFrontend(web))
	return &app{Echo: e, tiles: ts, db: db, log: log, frontend: web}
}

// errorHandler writes every error as JSON {"error", "detail"} with the status
// from statusOf. Details of 5xx errors are logged, not shown.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		err = postgis.Classify(err) // database failures become 503/504, wherever they arose
		if errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil {
			return // the client went away; nobody is listening
		}
		status, body := http.StatusInternalServerError, errorBody{Error: "internal error"}
		var ge *geo.Error
		var he *echo.HTTPError
		switch {
		case errors.As(err, &ge):
			status = statusOf[ge.Code]
			if status == 0 {
				status = http.StatusInternalServerError
			}
			if status < 500 || ge.Code == geo.EUnavailable || ge.Code == geo.ETimeout {
				body = errorBody{Error: ge.Message, Detail: ge.Detail}
			}
		case errors.As(err, &he):
			status = he.Code
			body = errorBody{Error: http.StatusText(he.Code)}
			if msg, ok := he.Message.(string); ok && msg != http.StatusText(he.Code) {
				body.Detail = msg
			}
		}
		// Every error says where, even when it has no parameter to name:
		// the methods the path takes, or the path.
		if body.Detail == "" {
			body.Detail = c.Request().URL.Path
			if allow := c.Response().Header().Get("Allow"); status == http.StatusMethodNotAllowed && allow != "" {
				body.Detail = "allowed: " + allow
			}
		}
		if status >= 500 {
			body.RequestID = requestID(c)
			log.Error("request failed", "status", status, "err", err, "method", c.Request().Method,
				"path", c.Request().URL.Path, "request_id", body.RequestID)
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.JSON(status, body)
	}
}

// serveFrontend serves the embedded web map; a path that is not one of its
// files is a JSON 404 like any other. Media types come from a table here, not
// from the machine's mime.types (a module script must be text/javascript).
// Files in a versioned folder (lib/maplibre-gl-6.17.0/) never change: cached
// for a year. The rest are revalidated on every load by a content ETag, so a
// new binary's page shows at once. Text files go gzip-compressed to a client
// that accepts it (MapLibre's 1.6 MB of modules are 0.4 MB so), compressed
// once per file (by frontendFiles.warm at start, or on its first request)
// and kept: the embedded files never change.
func serveFrontend(files *frontendFiles) echo.HandlerFunc {
	types := map[string]string{
		".html": "text/html; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
		".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
		".json": "application/json", ".svg": "image/svg+xml", ".png": "image/png",
		".woff2": "font/woff2", ".txt": "text/plain; charset=utf-8",
	}
	versioned := regexp.MustCompile(`^lib/[^/]+-[0-9]+\.[0-9]+\.[0-9]+[^/]*/`)
	return func(c echo.Context) error {
		name := strings.TrimPrefix(path.Clean("/"+c.Param("*")), "/")
		if name == "" {
			name = "index.html"
		}
		if st, err := fs.Stat(files.fs, name); err != nil || st.IsDir() {
			return geo.Errorf(geo.ENotFound, "no such page or endpoint: /%s", name)
		}
		f, err := files.get(name)
		if err != nil {
			return err
		}
		h := c.Response().Header()
		if ct, ok := types[path.Ext(name)]; ok {
			h.Set(echo.HeaderContentType, ct)
		}
		if versioned.MatchString(name) {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		body, tag := f.plain, f.etag
		if f.gzipped != nil {
			h.Add("Vary", echo.HeaderAcceptEncoding)
			if tiles.AcceptsGzip(c.Request().Header.Values(echo.HeaderAcceptEncoding)) {
				body, tag = f.gzipped, strings.TrimSuffix(f.etag, `"`)+`-gz"`
				h.Set(echo.HeaderContentEncoding, "gzip")
			}
		}
		h.Set("ETag", tag) // http.ServeContent answers If-None-Match with it
		http.ServeContent(c.Response(), c.Request(), name, time.Time{}, bytes.NewReader(body))
		return nil
	}
}

// frontendFiles are the embedded web map's files as served, each read,
// hashed and compressed once.
type frontendFiles struct {
	fs    fs.FS
	files sync.Map // name → *staticFile
	// basemap is the deployment's external basemap style URL, written into
	// index.html's onemap-basemap meta tag (empty: none).
	basemap string
}

func newFrontendFiles(files fs.FS, basemap string) *frontendFiles {
	return &frontendFiles{fs: files, basemap: basemap}
}

// compressible are the extensions of text files, sent gzip-compressed.
var compressible = map[string]bool{".html": true, ".mjs": true, ".js": true, ".css": true, ".json": true, ".svg": true, ".txt": true}

// get returns the file name, loading it on first use; an error if it cannot
// be read.
func (w *frontendFiles) get(name string) (*staticFile, error) {
	v, _ := w.files.LoadOrStore(name, &staticFile{})
	f := v.(*staticFile)
	f.once.Do(func() { f.err = f.load(w.fs, name, compressible[path.Ext(name)], w.edit(name)) })
	return f, f.err
}

// warm loads every file, so that no visitor waits for a compression (the
// library's 1.1 MB module takes a good fraction of a second on a busy core).
func (w *frontendFiles) warm() {
	_ = fs.WalkDir(w.fs, ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			_, _ = w.get(name)
		}
		return nil
	})
}

// staticFile is one embedded file as served: its bytes, their gzip
// compression (nil when not worth it) and a content ETag.
type staticFile struct {
	once    sync.Once
	err     error
	plain   []byte
	gzipped []byte
	etag    string
}

// basemapMeta is index.html's placeholder for the configured basemap.
const basemapMeta = `<meta name="onemap-basemap" content="">`

// edit returns what changes file name as served: the configured basemap
// goes into index.html; other files are served as embedded.
func (w *frontendFiles) edit(name string) func([]byte) []byte {
	if name != "index.html" || w.basemap == "" {
		return nil
	}
	return func(b []byte) []byte {
		meta := `<meta name="onemap-basemap" content="` + html.EscapeString(w.basemap) + `">`
		return bytes.Replace(b, []byte(basemapMeta), []byte(meta), 1)
	}
}

func (f *staticFile) load(files fs.FS, name string, compress bool, edit func([]byte) []byte) error {
	b, err := fs.ReadFile(files, name)
	if err != nil {
		return fmt.Errorf("frontend file %s: %w", name, err)
	}
	if edit != nil {
		b = edit(b)
	}
	sum := sha256.Sum256(b)
	f.plain, f.etag = b, `"`+base64.RawURLEncoding.EncodeToString(sum[:12])+`"`
	if !compress || len(b) < 512 {
		return nil
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if _, err := zw.Write(b); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if buf.Len() < len(b)*9/10 {
		f.gzipped = buf.Bytes()
	}
	return nil
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

func requestLogger(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURI: true, LogMethod: true, LogLatency: true, LogRequestID: true,
		LogResponseSize: true, HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelDebug
			if v.Status >= 500 {
				level = slog.LevelWarn
			}
			log.LogAttrs(c.Request().Context(), level, "request",
				slog.String("method", v.Method), slog.String("uri", redactToken(v.URI)), slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency), slog.Int64("bytes", v.ResponseSize),
				slog.String("request_id", v.RequestID))
			return nil
		},
	})
}

// basics are the service's own endpoints: health, readiness, versions and
// the catalogue summary.
type basics struct {
	db  *postgis.DB
	log *slog.Logger
}

func (h *basics) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when the database answers within two seconds, else 503.
func (h *basics) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	pg, _, schema, err := h.db.Versions(ctx)
	if err != nil {
		return &geo.Error{Code: geo.EUnavailable, Message: "the database is unavailable", Detail: "database", Err: err}
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ready", "postgis": pg, "schema_version": schema})
}

func (h *basics) version(c echo.Context) error {
	v := map[string]any{"onemap": buildVersion(), "go": runtime.Version()}
	pg, pgr, schema, err := h.db.Versions(c.Request().Context())
	if err != nil {
		return err
	}
	v["postgis"], v["pgrouting"], v["schema_version"] = pg, pgr, schema
	return c.JSON(http.StatusOK, v)
}

type layerInfo struct {
	ID          string            `json:"id"`
	Title       string            `json:"title"`
	TitleZH     string            `json:"title_zh"`
	Description string            `json:"description"`
	Geometry    geo.GeometryType  `json:"geometry_type"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
	Fields      map[string]string `json:"fields"`
	Features    int64             `json:"features"`
	Bounds      *[4]float64       `json:"bounds"`
	Version     int64             `json:"version"`
}

// layers lists the catalogue with what the database holds of each layer.
func (h *basics) layers(c echo.Context) error {
	sums, err := h.db.LayerSummaries(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]layerInfo, 0, len(sums))
	for _, s := range sums {
		fields := map[string]string{}
		for _, col := range s.Layer.Columns {
			fields[col.Name] = col.Description
		}
		out = append(out, layerInfo{
			ID: s.Layer.ID, Title: s.Layer.Title, TitleZH: s.Layer.TitleZH, Description: s.Layer.Description,
			Geometry: s.Layer.Geometry, MinZoom: s.Layer.MinZoom, MaxZoom: s.Layer.MaxZoom,
			Fields: fields, Features: s.Features, Bounds: s.Bounds, Version: s.Version,
		})
	}
	return c.JSON(http.StatusOK, map[string]any{"layers": out})
}
