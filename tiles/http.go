package tiles

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/onemap-city/onemap/geo"
)

// MediaType is the content type of Mapbox Vector Tiles.
const MediaType = "application/vnd.mapbox-vector-tile"

// Extents gives the bounds (minLon, minLat, maxLon, maxLat) of a layer's
// data, nil when it has none. *postgis.DB satisfies it.
type Extents interface {
	Extent(ctx context.Context, table string) (*[4]float64, error)
}

// Handler serves tiles, TileJSON and the catalogue over HTTP.
type Handler struct {
	Service    *Service
	Extents    Extents
	PublicURL  string // base of absolute URLs; empty: from the request
	AdminToken string // bearer token for purge; empty: purge disabled
	// Derived are tile layers computed by other packages (analytics), served
	// on their own routes; they are listed in the catalogue and have TileJSON.
	Derived []DerivedLayer
	// MaxAge overrides the catalogue's Cache-Control max-age of a layer's
	// tiles, seconds by layer id (ONEMAP_TILE_MAX_AGE).
	MaxAge map[string]int
}

// DerivedLayer describes a tile layer that is computed, not a table.
type DerivedLayer struct {
	ID, Title, TitleZH, Description string
	GeometryType                    string
	MinZoom, MaxZoom                int
	Fields                          map[string]string
	Filters                         map[string][]string
	Format                          string // "mvt" or "png"
	// Query is what the catalogue's URLs of the layer carry: a default for
	// a parameter its tiles need (the heatmap's layer), so that they work
	// as handed out.
	Query string
	// Check validates a TileJSON request's query as the layer's tiles
	// would, so that a TileJSON is never handed out with tile URLs that
	// fail, and returns the table whose data the tiles show (its extent
	// bounds the TileJSON). Nil: any query, the world's bounds.
	Check func(q url.Values) (table string, err error)
}

// Register adds the tile routes to e.
func (h *Handler) Register(e *echo.Echo) {
	get := []string{http.MethodGet, http.MethodHead}
	e.Match(get, "/tiles", h.catalogue)
	e.Match(get, "/tiles/:name", h.tileJSON)
	e.Match(get, "/tiles/:layers/:z/:x/:file", h.tile)
	e.POST("/admin/tiles/purge", h.purge)
}

// tile answers GET /tiles/{layers}/{z}/{x}/{y}.mvt (or .pbf).
func (h *Handler) tile(c echo.Context) error {
	names, err := PathParam(c, "layers")
	if err != nil {
		return err
	}
	layers, err := ParseLayers(names)
	if err != nil {
		return err
	}
	// z, x and the file name are read as sent: an escaped digit would give
	// one tile a second URL.
	file := c.Param("file")
	y, ext, ok := strings.Cut(file, ".")
	if !ok || (ext != "mvt" && ext != "pbf") {
		return geo.Invalid("y", "tile name %q: want {y}.mvt or {y}.pbf", file)
	}
	addr, err := geo.ParseTileAddr(c.Param("z"), c.Param("x"), y)
	if err != nil {
		return err
	}
	filters, err := ParseFilters(layers, c.QueryParams())
	if err != nil {
		return err
	}
	t, err := h.Service.Tile(c.Request().Context(), Request{Layers: layers, Addr: addr, Filters: filters})
	if err != nil {
		return err
	}
	return WriteTile(c, t, h.maxAge(layers))
}

// PathParam returns a path parameter decoded exactly once. Echo routes on
// the escaped path when it differs from the decoded one's default encoding
// (a client wrote %2C for a comma) and then hands out parameters as they
// were escaped; otherwise they are already decoded, and decoding again
// would read %252C as a comma.
func PathParam(c echo.Context, name string) (string, error) {
	v := c.Param(name)
	if c.Request().URL.RawPath == "" {
		return v, nil
	}
	d, err := url.PathUnescape(v)
	if err != nil {
		return "", geo.Invalid(name, "%s %q is not a valid escaped path segment", name, v)
	}
	return d, nil
}

// maxAge is the shortest Cache-Control max-age of the layers: the
// configured one (ONEMAP_TILE_MAX_AGE), else the catalogue's.
func (h *Handler) maxAge(layers []*geo.Layer) int {
	age := -1
	for _, l := range layers {
		a, ok := h.MaxAge[l.ID]
		if !ok {
			a = l.CacheMaxAge
		}
		if age < 0 || a < age {
			age = a
		}
	}
	return max(age, 0)
}

// WriteTile sends t in the encoding the client accepts (204 when it is
// empty), honouring If-None-Match, with Cache-Control max-age=age. It runs
// for every cached tile, so headers are assigned by their canonical keys from
// shared values rather than built per request.
func WriteTile(c echo.Context, t *Tile, age int) error {
	hdr := c.Response().Header()
	// Added, not set: the CORS middleware may already vary on Origin.
	hdr["Vary"] = append(hdr["Vary"], "Accept-Encoding")
	hdr["Cache-Control"] = cacheControl(age)
	if len(t.Truncated) > 0 {
		hdr.Set("X-Tile-Truncated", strings.Join(t.Truncated, ","))
	}
	gz := len(t.Gzip) > 0 && AcceptsGzip(c.Request().Header["Accept-Encoding"])
	// Each encoding is its own representation with its own strong validator.
	etag := t.ETag
	if gz {
		etag = t.ETagGzip
	}
	hdr["Etag"] = []string{etag}
	if inm := c.Request().Header["If-None-Match"]; len(inm) > 0 && etagMatches(strings.Join(inm, ","), etag) {
		return c.NoContent(http.StatusNotModified)
	}
	if len(t.Identity) == 0 {
		return c.NoContent(http.StatusNoContent)
	}
	body := t.Identity
	if gz {
		hdr["Content-Encoding"] = gzipEncoding
		body = t.Gzip
	}
	hdr["Content-Type"] = mediaType
	c.Response().WriteHeader(http.StatusOK)
	_, err := c.Response().Write(body)
	return err
}

// Header values shared by every response; net/http copies them out.
var (
	gzipEncoding = []string{"gzip"}
	mediaType    = []string{MediaType}
	cacheAges    sync.Map // max-age → []string{"public, max-age=N"}
)

func cacheControl(age int) []string {
	if v, ok := cacheAges.Load(age); ok {
		return v.([]string)
	}
	v, _ := cacheAges.LoadOrStore(age, []string{"public, max-age=" + strconv.Itoa(age)})
	return v.([]string)
}

// AcceptsGzip reads Accept-Encoding (RFC 9110 §12.5.3): gzip is used when it
// is listed with q > 0, or "*" is, and gzip is not refused with q=0.
func AcceptsGzip(values []string) bool {
	gzipQ, starQ := -1.0, -1.0
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			q := 1.0
			for _, p := range strings.Split(params, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
						q = f
					} else {
						q = 0
					}
				}
			}
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip", "x-gzip":
				gzipQ = q
			case "*":
				starQ = q
			}
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}

// etagMatches is the weak comparison of If-None-Match (RFC 9110 §13.1.2).
func etagMatches(header, etag string) bool {
	want := strings.TrimPrefix(etag, "W/")
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == want {
			return true
		}
	}
	return false
}

// baseURL is the public root of the service, for absolute URLs: the
// configured public URL, else the request's, as a reverse proxy forwards it
// (X-Forwarded-Proto, or X-Forwarded-Ssl: on; X-Forwarded-Host). Forwarded
// values that are not an http(s) scheme or a host[:port] are ignored, so a
// client cannot plant markup or another scheme in the URLs we hand out
// (echo's own Scheme() would take X-Url-Scheme as it is); and since the
// answer then depends on them, shared caches are told so (Vary).
func (h *Handler) baseURL(c echo.Context) string {
	if h.PublicURL != "" {
		return strings.TrimSuffix(h.PublicURL, "/")
	}
	r := c.Request()
	c.Response().Header().Add("Vary", "X-Forwarded-Proto, X-Forwarded-Ssl, X-Forwarded-Host")
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Ssl"), "on") {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p != "" {
		if p = strings.ToLower(strings.TrimSpace(strings.Split(p, ",")[0])); p == "http" || p == "https" {
			scheme = p
		}
	}
	host := r.Host
	if fh := r.Header.Get("X-Forwarded-Host"); fh != "" {
		if fh = strings.TrimSpace(strings.Split(fh, ",")[0]); validHost(fh) {
			host = fh
		}
	}
	if r.Header.Get("X-Forwarded-Proto") != "" || r.Header.Get("X-Forwarded-Ssl") != "" || r.Header.Get("X-Forwarded-Host") != "" {
		c.Set(forwardedKey, true)
	}
	return scheme + "://" + host
}

const forwardedKey = "onemap.forwarded"

// cacheURLs sets the Cache-Control of an answer that hands out URLs. Built
// from X-Forwarded-* headers, which any client can send, it is private: a
// shared cache that ignores Vary would otherwise give one client's URLs to
// all. A deployment behind a CDN sets ONEMAP_PUBLIC_URL and keeps it public.
func cacheURLs(c echo.Context) {
	if forwarded, _ := c.Get(forwardedKey).(bool); forwarded {
		c.Response().Header().Set("Cache-Control", "private, max-age=60")
		return
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=60")
}

// validHost reports whether s is a DNS name, an IPv4 or a bracketed IPv6
// address, with an optional port from 1 to 65535.
func validHost(s string) bool {
	m := forwardedHost.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	if port := strings.TrimPrefix(m[len(m)-1], ":"); port != "" {
		n, err := strconv.Atoi(port)
		return err == nil && n >= 1 && n <= 65535
	}
	return true
}

var forwardedHost = regexp.MustCompile(`^((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$`)

// catalogueEntry describes one layer in GET /tiles.
type catalogueEntry struct {
	ID           string              `json:"id"`
	Title        string              `json:"title"`
	TitleZH      string              `json:"title_zh"`
	Description  string              `json:"description"`
	GeometryType string              `json:"geometry_type"`
	MinZoom      int                 `json:"minzoom"`
	MaxZoom      int                 `json:"maxzoom"`
	ClusterBelow int                 `json:"cluster_below_zoom,omitempty"`
	Fields       map[string]string   `json:"fields"`
	Filters      map[string][]string `json:"filters"`
	TileJSON     string              `json:"tilejson"`
	Tiles        string              `json:"tiles"`
}

// AccessTokenKey is the echo context key under which the server's access
// guard leaves a token that came in the query (?token=): the URLs a
// catalogue or TileJSON hands out then carry it, for clients that can only
// put it there (GDAL, a style's tile URLs).
const AccessTokenKey = "onemap.access_token"

// CarryToken appends the request's query token to u, if it had one: for
// the URLs an answer hands out (tiles, TileJSON, a job's status).
func CarryToken(c echo.Context, u string) string {
	tok, _ := c.Get(AccessTokenKey).(string)
	if tok == "" {
		return u
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "token=" + url.QueryEscape(tok)
}

func (h *Handler) catalogue(c echo.Context) error {
	base := h.baseURL(c)
	var out []catalogueEntry
	for _, id := range geo.LayerIDs() {
		l := geo.Catalogue[id]
		out = append(out, catalogueEntry{
			ID: l.ID, Title: l.Title, TitleZH: l.TitleZH, Description: l.Description,
			GeometryType: string(l.Geometry), MinZoom: l.MinZoom, MaxZoom: l.MaxZoom, ClusterBelow: l.ClusterBelow,
			Fields: Fields(l), Filters: FilterValues(l),
			TileJSON: CarryToken(c, base+"/tiles/"+l.ID+".json"),
			Tiles:    CarryToken(c, base+"/tiles/"+l.ID+"/{z}/{x}/{y}.mvt"),
		})
	}
	for _, d := range h.Derived {
		query := ""
		if d.Query != "" {
			query = "?" + d.Query
		}
		out = append(out, catalogueEntry{
			ID: d.ID, Title: d.Title, TitleZH: d.TitleZH, Description: d.Description,
			GeometryType: d.GeometryType, MinZoom: d.MinZoom, MaxZoom: d.MaxZoom, Fields: d.Fields, Filters: d.Filters,
			TileJSON: CarryToken(c, base+"/tiles/"+d.ID+".json"+query), Tiles: CarryToken(c, base+"/tiles/"+d.ID+"/{z}/{x}/{y}."+d.Format+query),
		})
	}
	cacheURLs(c)
	return c.JSON(http.StatusOK, map[string]any{"layers": out})
}

// derivedTileJSON is the TileJSON of a derived layer; query parameters are
// carried into the tile URL as they are (the layer's own handler checks them).
func (h *Handler) derivedTileJSON(c echo.Context, d DerivedLayer) error {
	var bounds *[4]float64
	if d.Check != nil {
		table, err := d.Check(c.QueryParams())
		if err != nil {
			return err
		}
		if bounds, err = h.Extents.Extent(c.Request().Context(), table); err != nil {
			return err
		}
	}
	u := h.baseURL(c) + "/tiles/" + d.ID + "/{z}/{x}/{y}." + d.Format
	if q := c.QueryParams().Encode(); q != "" {
		u += "?" + q
	}
	u = CarryToken(c, u)
	tj := TileJSON{
		TileJSON: "3.0.0", Name: d.ID, Description: d.Description, Version: "1.0.0", Attribution: geo.Attribution,
		Scheme: "xyz", Tiles: []string{u}, MinZoom: d.MinZoom, MaxZoom: d.MaxZoom,
		VectorLayers: []VectorLayer{},
	}
	tj.Bounds, tj.Center = boundsAndCenter(bounds, d.MinZoom)
	if d.Format == "mvt" {
		tj.VectorLayers = []VectorLayer{{ID: d.ID, Description: d.Description, MinZoom: d.MinZoom, MaxZoom: d.MaxZoom, Fields: d.Fields}}
	}
	cacheURLs(c)
	return c.JSON(http.StatusOK, tj)
}

// boundsAndCenter are a TileJSON's bounds (the world's without data) and
// centre: the middle, at the zoom that shows the whole extent in one
// 512-pixel tile, but never below minZoom, the first zoom with data.
func boundsAndCenter(bounds *[4]float64, minZoom int) ([4]float64, [3]float64) {
	b := [4]float64{-180, -85.0511287798066, 180, 85.0511287798066}
	cz := minZoom
	if bounds != nil {
		b = *bounds
		for z := geo.MaxZoom; z >= 0; z-- {
			minX, minY, maxX, maxY := geo.TileRange(z, b)
			if maxX-minX <= 1 && maxY-minY <= 1 {
				cz = max(z, minZoom)
				break
			}
		}
	}
	return b, [3]float64{(b[0] + b[2]) / 2, (b[1] + b[3]) / 2, float64(cz)}
}

// Fields returns the attributes a layer's tiles carry, name → description,
// including those of its clusters.
func Fields(l *geo.Layer) map[string]string {
	f := map[string]string{}
	for _, c := range l.Columns {
		if c.Tile {
			f[c.Name] = c.Description
		}
	}
	if l.AreaLevel != "" {
		for k, v := range geo.AreaStatFields {
			f[k] = v
		}
	}
	if l.ClusterBelow > 0 {
		below := " (clusters, below zoom " + strconv.Itoa(l.ClusterBelow) + ")"
		f["count"] = "number of features in the cluster" + below
		f["cluster"] = "true for a cluster" + below
		f["bbox"] = "minLon,minLat,maxLon,maxLat of the cluster's features" + below
	}
	return f
}

// FilterValues lists the filter parameters of a layer and their values.
func FilterValues(l *geo.Layer) map[string][]string {
	out := map[string][]string{}
	for _, c := range l.Columns {
		if fc, ok := l.Filterable(c.Name); ok {
			if fc.Type == geo.Bool {
				out[c.Name] = []string{"true", "false"}
			} else {
				out[c.Name] = fc.Enum
			}
		}
	}
	if l.TimeColumn != "" {
		out["since"] = []string{"date or RFC 3339 time, inclusive, on " + l.TimeColumn + " (alias from)"}
		out["until"] = []string{"date or RFC 3339 time, exclusive, on " + l.TimeColumn + " (alias to)"}
	}
	if l.GridCell {
		for _, p := range geo.AreaParams {
			out[p] = []string{"comma-separated ids of " + areaPlurals[p]}
		}
	}
	for _, c := range l.Columns {
		if c.Type != geo.Ref {
			continue
		}
		for _, rc := range geo.Catalogue[c.RefLayer].Columns {
			if t, ok := l.FilterTarget(rc.Name); ok && t.Kind == geo.ViaRef {
				out[rc.Name] = t.Column.Enum
				if t.Column.Type == geo.Bool {
					out[rc.Name] = []string{"true", "false"}
				}
			}
		}
	}
	return out
}

// TileJSON is a TileJSON 3.0.0 document.
type TileJSON struct {
	TileJSON     string        `json:"tilejson"`
	Name         string        `json:"name"`
	Description  string        `json:"description"`
	Version      string        `json:"version"`
	Attribution  string        `json:"attribution"`
	Scheme       string        `json:"scheme"`
	Tiles        []string      `json:"tiles"`
	MinZoom      int           `json:"minzoom"`
	MaxZoom      int           `json:"maxzoom"`
	Bounds       [4]float64    `json:"bounds"`
	Center       [3]float64    `json:"center"`
	VectorLayers []VectorLayer `json:"vector_layers"`
}

// VectorLayer describes one layer of the tiles in TileJSON.
type VectorLayer struct {
	ID          string            `json:"id"`
	Description string            `json:"description"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
	Fields      map[string]string `json:"fields"`
}

// tileJSON answers GET /tiles/{layers}.json.
func (h *Handler) tileJSON(c echo.Context) error {
	name, err := PathParam(c, "name")
	if err != nil {
		return err
	}
	given, ok := strings.CutSuffix(name, ".json")
	if !ok {
		return geo.Errorf(geo.ENotFound, "no such resource /tiles/%s: want /tiles/{layers}.json or /tiles/{layers}/{z}/{x}/{y}.mvt", name)
	}
	for _, d := range h.Derived {
		if d.ID == given {
			return h.derivedTileJSON(c, d)
		}
	}
	layers, err := ParseLayers(given)
	if err != nil {
		return err
	}
	filters, err := ParseFilters(layers, c.QueryParams())
	if err != nil {
		return err
	}
	tj := TileJSON{
		TileJSON: "3.0.0", Name: ids(layers), Version: "1.0.0", Attribution: geo.Attribution, Scheme: "xyz",
		MinZoom: geo.MaxZoom, MaxZoom: 0,
	}
	var titles []string
	var bounds *[4]float64
	for _, l := range layers {
		titles = append(titles, l.Title)
		tj.MinZoom = min(tj.MinZoom, l.MinZoom)
		tj.MaxZoom = max(tj.MaxZoom, l.MaxZoom)
		tj.VectorLayers = append(tj.VectorLayers, VectorLayer{
			ID: l.ID, Description: l.Description, MinZoom: l.MinZoom, MaxZoom: l.MaxZoom, Fields: Fields(l),
		})
		b, err := h.Extents.Extent(c.Request().Context(), l.Table)
		if err != nil {
			return err
		}
		bounds = union(bounds, b)
	}
	tj.Description = strings.Join(titles, ", ")
	tj.Bounds, tj.Center = boundsAndCenter(bounds, tj.MinZoom)
	// Layer ids are catalogue names ([a-z_]) joined by literal commas, which
	// a path may carry as they are (RFC 3986 sub-delims); escaped, some
	// clients would not unescape them.
	u := h.baseURL(c) + "/tiles/" + ids(layers) + "/{z}/{x}/{y}.mvt"
	if q := filterQuery(filters); q != "" {
		u += "?" + q
	}
	tj.Tiles = []string{CarryToken(c, u)}
	cacheURLs(c)
	return c.JSON(http.StatusOK, tj)
}

var areaPlurals = map[string]string{"town": "towns", "community": "communities", "grid_cell": "grid cells"}

// filterQuery writes filters back as a query string, in canonical order.
func filterQuery(fs Filters) string {
	v := url.Values{}
	for _, f := range fs {
		v.Set(f.Param, strings.Join(f.Values, ","))
	}
	return v.Encode()
}

func union(a, b *[4]float64) *[4]float64 {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	return &[4]float64{min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])}
}

// purge answers POST /admin/tiles/purge?layer=..&bbox=..: it drops cached
// tiles of a layer (all layers without one) within a bbox (everywhere
// without one). It needs the admin bearer token.
func (h *Handler) purge(c echo.Context) error {
	if h.AdminToken == "" {
		return &geo.Error{Code: geo.EForbidden, Message: "admin endpoints are disabled: set ONEMAP_ADMIN_TOKEN to enable them"}
	}
	// The scheme is case-insensitive (RFC 9110 §11.1).
	scheme, token, ok := strings.Cut(strings.TrimSpace(c.Request().Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(h.AdminToken)) != 1 {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="onemap admin"`)
		return &geo.Error{Code: geo.EUnauthorized, Message: "a valid admin token is required", Detail: "Authorization"}
	}
	// A purge that read less than it was given would drop too much or too
	// little: each parameter once, none empty.
	for p, v := range c.QueryParams() {
		switch {
		case p != "layer" && p != "bbox":
			return geo.Invalid(p, "unknown parameter %q: purge takes layer and bbox", p)
		case len(v) > 1:
			return geo.Invalid(p, "%s given %d times; give it once (purge one layer, or all without layer, per request)", p, len(v))
		case strings.TrimSpace(v[0]) == "":
			return geo.Invalid(p, "%s is empty; leave it out to purge everywhere", p)
		}
	}
	layer := c.QueryParam("layer")
	if layer != "" {
		if _, err := geo.LookupLayer(layer); err != nil {
			return geo.Invalid("layer", "unknown layer %q", layer)
		}
	}
	var bbox *[4]float64
	if s := c.QueryParam("bbox"); s != "" {
		b, err := geo.ParseBBox(s)
		if err != nil {
			return err
		}
		bbox = &b
	}
	n := 0
	if h.Service.Cache() != nil {
		n = h.Service.Cache().Purge(layer, bbox)
	}
	if bbox == nil {
		// Without a bbox the whole layer's data is suspect: move it to a new
		// generation so that tiles being made now are not kept either.
		if layer == "" {
			h.Service.InvalidateAll()
		} else {
			h.Service.Invalidate(layer)
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"purged": n, "layer": layer, "bbox": bbox})
}
