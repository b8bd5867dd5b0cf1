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
// catalogue and TileJSON.
func DerivedLayers() []tiles.DerivedLayer {
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
			MinZoom:     derivedMinZoom, MaxZoom: derivedMaxZoom, Filters: filters, Check: checkDensityQuery,
			Fields: map[string]string{"i": "hexagon column", "j": "hexagon row", "count": "hazards in the cell", "weight": "sum of weights",
				"density_km2": "hazards per km²", "weighted_density_km2": "weight per km²", "premises": "premises in the cell", "per_100_premises": "hazards per 100 premises",
				"residents": "residents (grid cell population spread by area)", "per_1000_residents": "hazards per 1,000 residents"},
		},
		{
			ID: "hotspots", Title: "Hot spots (Getis-Ord Gi*)", TitleZH: "热点分析", Format: "mvt", GeometryType: "Polygon",
			Description: "Getis-Ord Gi* on hexagon counts over the city, with Benjamini–Hochberg FDR bins ±3/±2/±1 (99/95/90%).",
			MinZoom:     derivedMinZoom, MaxZoom: derivedMaxZoom, Filters: hot, Check: checkHotspotQuery,
			Fields: map[string]string{"i": "hexagon column", "j": "hexagon row", "count": "points in the cell", "weight": "sum of weights",
				"density_km2": "points per km²", "weighted_density_km2": "weight per km²", "gi_z": "Gi* z-score", "gi_p": "two-sided p-value", "gi_bin": "confidence bin: ±3 99%, ±2 95%, ±1 90%, 0 not significant"},
		},
		{
			ID: "heatmap", Title: "Kernel density heatmap", TitleZH: "核密度热力图", Format: "png", GeometryType: "raster",
			Description: "Quartic-kernel density per km² (ArcGIS definition) as 256-pixel PNG tiles on one colour scale per selection.",
			MinZoom:     derivedMinZoom, MaxZoom: derivedMaxZoom, Filters: heat, Fields: map[string]string{}, Check: checkHeatmapQuery,
		},
	}
}

// The checks of the derived layers' TileJSON queries: what their tile
// handlers check before computing anything (the selection, cell, band, fdr,
// radius), returning the table the tiles show.

func checkDensityQuery(q url.Values) (string, error) {
	if q.Has("layer") {
		return "", geo.Invalid("layer", "hazard_density tiles are of hazards; use /api/v1/density for other layers")
	}
	q = cloneWith(q, "layer", "hazards")
	sel, err := ParseSelection(q, "cell")
	if err != nil {
		return "", err
	}
	_, err = (&DensityService{Limits: DefaultLimits}).CellSize(q.Get("cell"), 1)
	return sel.Layer.Table, err
}

func checkHotspotQuery(q url.Values) (string, error) {
	if !q.Has("layer") {
		q = cloneWith(q, "layer", "hazards")
	}
	sel, err := ParseSelection(q, "cell", "band", "fdr")
	if err != nil {
		return "", err
	}
	if _, err = (&DensityService{Limits: DefaultLimits}).CellSize(q.Get("cell"), 1); err != nil {
		return "", err
	}
	_, _, err = hotspotParams(q)
	return sel.Layer.Table, err
}

func checkHeatmapQuery(q url.Values) (string, error) {
	sel, err := ParseSelection(q, "radius")
	if err != nil {
		return "", err
	}
	if r := q.Get("radius"); r != "" {
		// A given radius is checked against the limits without data.
		if _, err := (&KDEService{Limits: DefaultLimits}).Radius(context.Background(), sel, r); err != nil {
			return "", err
		}
	}
	return sel.Layer.Table, nil
}

// cloneWith returns a copy of q with key set to value.
func cloneWith(q url.Values, key, value string) url.Values {
	c := maps.Clone(q)
	if c == nil {
		c = url.Values{}
	}
	c.Set(key, value)
	return c
}
