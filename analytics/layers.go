package analytics

import (
	"context"
	"maps"
	"net/url"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/tiles"
)

// The zoom range of the derived layers: below 8 a hexagon or a kernel is
// under a pixel; above 18 a tile is smaller than a building.
const derivedMinZoom, derivedMaxZoom = 8, 18

// DerivedLayers describes the tile layers analytics computes, for the tile
// catalogue and TileJSON, with the default limits.
func DerivedLayers() []tiles.DerivedLayer { return derivedLayers(DefaultLimits, DefaultLimits) }

// DerivedLayers describes the handler's tile layers, their TileJSON checked
// with the limits its services check tiles with.
func (h *Handler) DerivedLayers() []tiles.DerivedLayer {
	return derivedLayers(h.Density.Limits, h.KDE.Limits)
}

func derivedLayers(density, kde Limits) []tiles.DerivedLayer {
	checkDensity := func(q url.Values) (string, error) {
		sel, _, err := parseDensityTileQuery(q, density, 1)
		return tableOf(sel, err)
	}
	checkHotspot := func(q url.Values) (string, error) {
		hr, err := parseHotspotQuery(withLayer(q, "hazards"), density)
		return tableOf(hr.sel, err)
	}
	checkHeatmap := func(q url.Values) (string, error) {
		sel, err := parseHeatmapQuery(q, kde)
		return tableOf(sel, err)
	}
	hz := geo.Catalogue["hazards"]
	filters := tiles.FilterValues(hz)
	filters["cell"] = []string{"hexagon edge in metres (default: by zoom)"}
	hot := tiles.FilterValues(hz)
	hot["layer"] = PointLayers()
	hot["cell"] = []string{"hexagon edge in metres (default 200)"}
	hot["band"] = []string{"distance band in metres (default: ArcGIS's optimized hot spot rule)"}
	heat := map[string][]string{"layer": PointLayers(), "radius": {"kernel radius in metres (default: ArcGIS's bandwidth rule)"}, "weight": {"a named weight of the layer, e.g. severity"}}
	return []tiles.DerivedLayer{
		{
			ID: "hazard_density", Title: "Hazard density (hexagons)", TitleZH: "隐患密度", Format: "mvt", GeometryType: "Polygon",
			Description: "Hazards binned in flat-topped hexagons (EPSG:4549, anchored at its origin): count, weight and density per km².",
			MinZoom:     derivedMinZoom, MaxZoom: derivedMaxZoom, Filters: filters, Check: checkDensity,
			Fields: map[string]string{"i": "hexagon column", "j": "hexagon row", "count": "hazards in the cell", "weight": "sum of weights",
				"density_km2": "hazards per km²", "weighted_density_km2": "weight per km²", "premises": "premises in the cell", "per_100_premises": "hazards per 100 premises",
				"residents": "residents (grid cell population spread by area)", "per_1000_residents": "hazards per 1,000 residents"},
		},
		{
			ID: "hotspots", Title: "Hot spots (Getis-Ord Gi*)", TitleZH: "热点分析", Format: "mvt", GeometryType: "Polygon",
			Description: "Getis-Ord Gi* on hexagon counts over the city, with Benjamini–Hochberg FDR bins ±3/±2/±1 (99/95/90%).",
			MinZoom:     derivedMinZoom, MaxZoom: derivedMaxZoom, Filters: hot, Check: checkHotspot,
			Fields: map[string]string{"i": "hexagon column", "j": "hexagon row", "count": "points in the cell", "weight": "sum of weights",
				"density_km2": "points per km²", "weighted_density_km2": "weight per km²", "gi_z": "Gi* z-score", "gi_p": "two-sided p-value", "gi_bin": "confidence bin: ±3 99%, ±2 95%, ±1 90%, 0 not significant"},
		},
		{
			ID: "heatmap", Title: "Kernel density heatmap", TitleZH: "核密度热力图", Format: "png", GeometryType: "raster",
			Description: "Quartic-kernel density per km² (ArcGIS definition) as 256-pixel PNG tiles on one colour scale per selection.",
			MinZoom:     derivedMinZoom, MaxZoom: derivedMaxZoom, Filters: heat, Fields: map[string]string{}, Check: checkHeatmap,
			Query: "layer=hazards",
		},
	}
}

// The parsing of the derived layers' tile queries, shared by their tile
// handlers and their TileJSON checks, so that a TileJSON is refused exactly
// when its tiles would be.

// parseDensityTileQuery reads a hazard_density tile's query: hazards only,
// filters, and cell (def when not given).
func parseDensityTileQuery(q url.Values, lim Limits, def float64) (Selection, float64, error) {
	if q.Has("layer") {
		return Selection{}, 0, geo.Invalid("layer", "hazard_density tiles are of hazards; use /api/v1/density for other layers")
	}
	q = withLayer(q, "hazards")
	sel, err := ParseSelection(q, "cell")
	if err != nil {
		return Selection{}, 0, err
	}
	size, err := (&DensityService{Limits: lim}).CellSize(q.Get("cell"), def)
	return sel, size, err
}

// parseHotspotQuery reads a hot-spot query: the selection, cell (200 m by
// default), band and fdr; own are the caller's other parameters.
func parseHotspotQuery(q url.Values, lim Limits, own ...string) (hotspotRequest, error) {
	var hr hotspotRequest
	var err error
	if hr.sel, err = ParseSelection(q, append(own, "cell", "band", "fdr")...); err != nil {
		return hr, err
	}
	if hr.size, err = (&DensityService{Limits: lim}).CellSize(q.Get("cell"), 200); err != nil {
		return hr, err
	}
	hr.band, hr.fdr, err = hotspotParams(q)
	return hr, err
}

// parseHeatmapQuery reads a heatmap tile's query: the selection and, when
// given, the radius against the limits (the default one needs the data).
func parseHeatmapQuery(q url.Values, lim Limits) (Selection, error) {
	sel, err := ParseSelection(q, "radius")
	if err != nil {
		return Selection{}, err
	}
	if r := q.Get("radius"); r != "" {
		if _, err := (&KDEService{Limits: lim}).Radius(context.Background(), sel, r); err != nil {
			return Selection{}, err
		}
	}
	return sel, nil
}

// tableOf is the table a parsed selection shows, for a TileJSON's bounds.
func tableOf(sel Selection, err error) (string, error) {
	if err != nil {
		return "", err
	}
	return sel.Layer.Table, nil
}

// withLayer returns q with layer set to def when it has none: a copy, so
// the request's own query (which a TileJSON writes back) is left as given.
func withLayer(q url.Values, def string) url.Values {
	if q.Has("layer") {
		return q
	}
	c := maps.Clone(q)
	if c == nil {
		c = url.Values{}
	}
	c.Set("layer", def)
	return c
}
