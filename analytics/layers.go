package analytics

import (
	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/tiles"
)

// ruian is the demo city's extent, for the TileJSON of computed layers
// (they cover wherever the data is).
var ruian = [4]float64{119.9, 27.4, 121.3, 28.1}

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
			MinZoom:     derivedMinZoom, MaxZoom: derivedMaxZoom, Bounds: ruian, Filters: filters,
			Fields: map[string]string{"i": "hexagon column", "j": "hexagon row", "count": "hazards in the cell", "weight": "sum of weights",
				"density_km2": "hazards per km²", "weighted_density_km2": "weight per km²", "premises": "premises in the cell", "per_100_premises": "hazards per 100 premises",
				"residents": "residents (grid cell population spread by area)", "per_1000_residents": "hazards per 1,000 residents"},
		},
		{
			ID: "hotspots", Title: "Hot spots (Getis-Ord Gi*)", TitleZH: "热点分析", Format: "mvt", GeometryType: "Polygon",
			Description: "Getis-Ord Gi* on hexagon counts over the city, with Benjamini–Hochberg FDR bins ±3/±2/±1 (99/95/90%).",
			MinZoom:     derivedMinZoom, MaxZoom: derivedMaxZoom, Bounds: ruian, Filters: hot,
			Fields: map[string]string{"i": "hexagon column", "j": "hexagon row", "count": "points in the cell", "weight": "sum of weights",
				"density_km2": "points per km²", "weighted_density_km2": "weight per km²", "gi_z": "Gi* z-score", "gi_p": "two-sided p-value", "gi_bin": "confidence bin: ±3 99%, ±2 95%, ±1 90%, 0 not significant"},
		},
		{
			ID: "heatmap", Title: "Kernel density heatmap", TitleZH: "核密度热力图", Format: "png", GeometryType: "raster",
			Description: "Quartic-kernel density per km² (ArcGIS definition) as 256-pixel PNG tiles on one colour scale per selection.",
			MinZoom:     derivedMinZoom, MaxZoom: derivedMaxZoom, Bounds: ruian, Filters: heat, Fields: map[string]string{},
		},
	}
}
