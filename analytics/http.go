package analytics

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/labstack/echo/v4"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/tiles"
)

// Handler serves the density and hot-spot endpoints.
type Handler struct {
	KDE     *KDEService
	Density *DensityService
	// Metrics, if set, times the tile routes in the tile latency histogram.
	Metrics *tiles.Metrics
	// FeatureCap is the most hexagons a tile carries, as for the catalogue's
	// layers (ONEMAP_TILE_FEATURE_CAP; 0: the tiles package's default).
	FeatureCap int
	// MaxAge is the Cache-Control max-age of a layer's tiles where it is
	// configured (ONEMAP_TILE_MAX_AGE); 60 s otherwise, as the data behind
	// them changes with every hazard reported.
	MaxAge map[string]int
}

func (h *Handler) featureCap() int {
	if h.FeatureCap > 0 {
		return h.FeatureCap
	}
	return tiles.DefaultConfig.FeatureCap
}

func (h *Handler) maxAge(layer string) int {
	if a, ok := h.MaxAge[layer]; ok {
		return a
	}
	return 60
}

// Register adds the routes to e. The tile routes are more specific than the
// tiles package's /tiles/{layers}/... and take precedence over it.
//
// The two services then share one PointCache (the KDE service's), so a
// selection's points are held once.
func (h *Handler) Register(e *echo.Echo) {
	if h.KDE != nil && h.Density != nil && h.KDE.Points != nil {
		h.Density.Points = h.KDE.Points
	}
	if h.Metrics != nil {
		h.Metrics.TrackTruncations("hazard_density", "hotspots")
	}
	get := []string{http.MethodGet, http.MethodHead}
	e.Match(get, "/tiles/heatmap/:z/:x/:file", h.timed("heatmap", h.heatmapTile))
	e.Match(get, "/tiles/hazard_density/:z/:x/:file", h.timed("hazard_density", h.densityTile))
	e.Match(get, "/tiles/hotspots/:z/:x/:file", h.timed("hotspots", h.hotspotTile))
	e.GET("/api/v1/kde", h.kdePoint)
	e.GET("/api/v1/kde/grid", h.kdeGrid)
	e.GET("/api/v1/density", h.density)
	e.GET("/api/v1/hotspots", h.hotspots)
}

// timed records a tile route's answers (not its refusals) in the tile
// latency histogram under layer and the tile's zoom.
func (h *Handler) timed(layer string, next echo.HandlerFunc) echo.HandlerFunc {
	if h.Metrics == nil {
		return next
	}
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if z, zerr := strconv.Atoi(c.Param("z")); err == nil && zerr == nil {
			h.Metrics.ObserveDerived(layer, z, time.Since(start))
		}
		return err
	}
}

// tileAddr reads z/x/{y}.ext of a derived layer's tile, checking the
// extension and, as for the catalogue's layers, that z is not above the
// layer's maximum.
func tileAddr(c echo.Context, layer, ext string) (geo.TileAddr, error) {
	// As sent, as the catalogue's tiles read them: one URL per tile.
	file := c.Param("file")
	y, got, ok := strings.Cut(file, ".")
	if !ok || got != ext {
		return geo.TileAddr{}, geo.Invalid("y", "tile name %q: want {y}.%s", file, ext)
	}
	a, err := geo.ParseTileAddr(c.Param("z"), c.Param("x"), y)
	if err == nil && a.Z > derivedMaxZoom {
		err = geo.Invalid("z", "zoom %d is above the %s layer's maximum %d", a.Z, layer, derivedMaxZoom)
	}
	return a, err
}

// send writes body with an ETag, honouring If-None-Match.
func send(c echo.Context, contentType string, body []byte, maxAge int) error {
	var sum [8]byte
	binary.BigEndian.PutUint64(sum[:], xxhash.Sum64(body))
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:]) + `"`
	h := c.Response().Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", maxAge))
	if c.Request().Header.Get("If-None-Match") == etag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, contentType, body)
}

// heatmapTile answers GET /tiles/heatmap/{z}/{x}/{y}.png?layer=..&radius=..&weight=..&filters.
func (h *Handler) heatmapTile(c echo.Context) error {
	a, err := tileAddr(c, "heatmap", "png")
	if err != nil {
		return err
	}
	sel, err := parseHeatmapQuery(c.QueryParams(), h.KDE.Limits)
	if err != nil {
		return err
	}
	if a.Z < derivedMinZoom {
		return c.NoContent(http.StatusNoContent)
	}
	ctx := c.Request().Context()
	r, err := h.KDE.Radius(ctx, sel, c.QueryParam("radius"))
	if err != nil {
		return err
	}
	png, err := h.KDE.TilePNG(ctx, sel, a, r)
	if err != nil {
		return err
	}
	c.Response().Header().Set("X-KDE-Radius", strconv.FormatFloat(r, 'f', -1, 64))
	if top, err := h.KDE.ScaleMax(ctx, sel, r); err == nil { // memoised: TilePNG has just computed it
		c.Response().Header().Set("X-Heatmap-Max", strconv.FormatFloat(top, 'g', 4, 64)) // per km², the ramp's top
	}
	return send(c, "image/png", png, h.maxAge("heatmap"))
}

// kdePoint answers GET /api/v1/kde?layer=..&lon=..&lat=..&radius=..
func (h *Handler) kdePoint(c echo.Context) error {
	sel, err := ParseSelection(c.QueryParams(), "lon", "lat", "radius")
	if err != nil {
		return err
	}
	lon, err := coordinate(c.QueryParam("lon"), "lon", 180)
	if err != nil {
		return err
	}
	lat, err := coordinate(c.QueryParam("lat"), "lat", 90)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	r, err := h.KDE.Radius(ctx, sel, c.QueryParam("radius"))
	if err != nil {
		return err
	}
	d, err := h.KDE.At(ctx, sel, lon, lat, r)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{
		"layer": sel.Layer.ID, "lon": lon, "lat": lat, "weight": sel.Weight, "filters": sel.Filters.Key(),
		"radius": d.Radius, "raw": d.Raw, "density_km2": d.DensityKM2, "points": d.Points,
		"kernel": "quartic", "crs": "EPSG:4549",
	})
}

func coordinate(s, name string, limit float64) (float64, error) {
	if s == "" {
		return 0, geo.Invalid(name, "%s is required", name)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.Abs(v) > limit {
		return 0, geo.Invalid(name, "%s %q: want a number within ±%g", name, s, limit)
	}
	return v, nil
}

// kdeGrid answers GET /api/v1/kde/grid?layer=..&bbox=..&cell=..&radius=..&format=geotiff|asc
// with density per km² on an EPSG:4549 grid an analyst opens in QGIS.
func (h *Handler) kdeGrid(c echo.Context) error {
	sel, err := ParseSelection(c.QueryParams(), "bbox", "cell", "radius", "format")
	if err != nil {
		return err
	}
	bbox, err := geo.ParseBBox(c.QueryParam("bbox"))
	if err != nil {
		return err
	}
	format := c.QueryParam("format")
	if format == "" {
		format = "geotiff"
	}
	if format != "geotiff" && format != "asc" {
		return geo.Invalid("format", "format %q: want geotiff or asc", format)
	}
	cell := 50.0
	if s := c.QueryParam("cell"); s != "" {
		if cell, err = strconv.ParseFloat(s, 64); err != nil {
			return geo.Invalid("cell", "cell %q is not a number of metres", s)
		}
	}
	ctx := c.Request().Context()
	r, err := h.KDE.Radius(ctx, sel, c.QueryParam("radius"))
	if err != nil {
		return err
	}
	g, err := h.KDE.Grid(ctx, sel, bbox, cell, r)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	name := fmt.Sprintf("%s-kde-r%g-c%g", sel.Layer.ID, r, cell)
	ctype := "image/tiff"
	if format == "asc" {
		err, ctype, name = WriteASC(&buf, *g), "text/plain; charset=utf-8", name+".asc"
	} else {
		err, name = WriteGeoTIFF(&buf, *g), name+".tif"
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	return c.Blob(http.StatusOK, ctype, buf.Bytes())
}

// metricArea reads bbox (EPSG:4326; required unless optional) as an
// EPSG:4549 box within the size limit.
func (h *Handler) metricArea(c echo.Context, optional bool) ([4]float64, error) {
	s := c.QueryParam("bbox")
	if s == "" {
		if optional {
			return world, nil
		}
		return world, geo.Invalid("bbox", "bbox is required: minLon,minLat,maxLon,maxLat")
	}
	b, err := geo.ParseBBox(s)
	if err != nil {
		return world, err
	}
	mb := metricBox(b)
	return mb, h.Density.CheckArea(mb)
}

// density answers GET /api/v1/density?layer=..&cell=..&bbox=.. with the
// hexagons holding points as a GeoJSON FeatureCollection.
func (h *Handler) density(c echo.Context) error {
	sel, err := ParseSelection(c.QueryParams(), "cell", "bbox")
	if err != nil {
		return err
	}
	size, err := h.Density.CellSize(c.QueryParam("cell"), 200)
	if err != nil {
		return err
	}
	box, err := h.metricArea(c, false)
	if err != nil {
		return err
	}
	cells, err := h.Density.Hexes(c.Request().Context(), sel, box, size, true)
	if err != nil {
		return err
	}
	fc := FeatureCollection(cells, false)
	fc.ExtraMembers = map[string]any{"layer": sel.Layer.ID, "cell": size, "weight": sel.Weight, "filters": sel.Filters.Key(), "crs_of_cells": "EPSG:4549"}
	return c.JSON(http.StatusOK, fc)
}

// hotspots answers GET /api/v1/hotspots?layer=..&cell=..&band=..&bbox=..&fdr=..
// with Gi* z-scores, p-values and bins of every cell of the study area.
func (h *Handler) hotspots(c echo.Context) error {
	hr, err := h.hotspotRequest(c, "bbox")
	if err != nil {
		return err
	}
	sel, size, band, fdr := hr.sel, hr.size, hr.band, hr.fdr
	box, err := h.metricArea(c, true)
	if err != nil {
		return err
	}
	cells, used, err := h.Density.HotSpots(c.Request().Context(), sel, size, band, fdr)
	if err != nil {
		return err
	}
	fc := FeatureCollection(cellsIn(cells, box), true)
	fc.ExtraMembers = map[string]any{"layer": sel.Layer.ID, "cell": size, "band": used, "fdr": fdr,
		"weight": sel.Weight, "filters": sel.Filters.Key(), "study_area_cells": len(cells)}
	return c.JSON(http.StatusOK, fc)
}

// densityTile answers GET /tiles/hazard_density/{z}/{x}/{y}.mvt: hazards
// binned in hexagons sized for the zoom (or cell=), layer "hazard_density".
func (h *Handler) densityTile(c echo.Context) error {
	a, err := tileAddr(c, "hazard_density", "mvt")
	if err != nil {
		return err
	}
	sel, size, err := parseDensityTileQuery(c.QueryParams(), h.Density.Limits, TileCellSize(a.Z))
	if err != nil {
		return err
	}
	if a.Z < derivedMinZoom {
		return c.NoContent(http.StatusNoContent) // as the catalogue's layers below their range
	}
	// Cells reaching into the tile need all their points: grow by two edges.
	cells, err := h.Density.TileHexes(c.Request().Context(), sel, TileBox(a, 2*size), size)
	if err != nil {
		return err
	}
	b, truncated, err := TileMVT("hazard_density", cells, a, false, h.featureCap())
	if err != nil {
		return err
	}
	return h.sendTile(c, "hazard_density", b, truncated)
}

// hotspotTile answers GET /tiles/hotspots/{z}/{x}/{y}.mvt?layer=..&cell=..:
// the city-wide Gi* cells that meet the tile, layer "hotspots".
func (h *Handler) hotspotTile(c echo.Context) error {
	a, err := tileAddr(c, "hotspots", "mvt")
	if err != nil {
		return err
	}
	hr, err := parseHotspotQuery(withLayer(c.QueryParams(), "hazards"), h.Density.Limits)
	if err != nil {
		return err
	}
	if a.Z < derivedMinZoom {
		return c.NoContent(http.StatusNoContent)
	}
	size := hr.size
	cells, _, err := h.Density.HotSpots(c.Request().Context(), hr.sel, size, hr.band, hr.fdr)
	if err != nil {
		return err
	}
	b, truncated, err := TileMVT("hotspots", cellsIn(cells, TileBox(a, 2*size)), a, true, h.featureCap())
	if err != nil {
		return err
	}
	return h.sendTile(c, "hotspots", b, truncated)
}

// hotspotRequest is what a hot-spot request asks for.
type hotspotRequest struct {
	sel  Selection
	size float64 // hexagon edge, metres
	band float64 // distance band, metres; 0 = the default rule
	fdr  bool
}

// hotspotRequest reads the selection, cell, band and fdr of a hot-spot
// request; own names the caller's other parameters. Failures are EInvalid
// naming the parameter.
func (h *Handler) hotspotRequest(c echo.Context, own ...string) (hotspotRequest, error) {
	return parseHotspotQuery(c.QueryParams(), h.Density.Limits, own...)
}

// hotspotParams reads band (metres; 0 = the default rule) and fdr (default
// true). Failures are EInvalid naming the parameter.
func hotspotParams(q url.Values) (band float64, fdr bool, err error) {
	fdr = true
	if s := q.Get("band"); s != "" {
		if band, err = strconv.ParseFloat(s, 64); err != nil || !(band > 0 && band <= 50000) {
			return 0, false, geo.Invalid("band", "band %q: want a distance in metres, above 0 and at most 50000", s)
		}
	}
	if s := q.Get("fdr"); s != "" {
		if fdr, err = strconv.ParseBool(s); err != nil {
			return 0, false, geo.Invalid("fdr", "fdr %q: want true or false", s)
		}
	}
	return band, fdr, nil
}

// cellsIn keeps the cells whose centre lies in box.
func cellsIn(cells []HexStat, box [4]float64) []HexStat {
	var in []HexStat
	for _, cl := range cells {
		if cl.X >= box[0] && cl.X <= box[2] && cl.Y >= box[1] && cl.Y <= box[3] {
			in = append(in, cl)
		}
	}
	return in
}

// sendTile sends a derived layer's MVT bytes as the catalogue's tiles are
// sent (gzip when accepted, a validator per encoding, 204 when empty).
func (h *Handler) sendTile(c echo.Context, layer string, b []byte, truncated bool) error {
	t := tiles.Encode(b)
	if truncated {
		t.Truncated = []string{layer}
		if h.Metrics != nil {
			h.Metrics.CountTruncation(layer)
		}
	}
	return tiles.WriteTile(c, t, h.maxAge(layer))
}
