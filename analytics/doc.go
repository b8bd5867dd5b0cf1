// Package analytics computes OneMap's analytics: quartic kernel density
// (QGIS/ArcGIS definitions, with ArcGIS's default bandwidth), Getis-Ord Gi*
// hot spots with Benjamini–Hochberg bins, hexagon binning identical to
// PostGIS ST_HexagonGrid, the heatmap colour ramp and PNG tiles, and grid
// downloads (ESRI ASCII grid, GeoTIFF) an analyst opens in QGIS.
//
// It is pure Go over plain slices in a metric CRS (EPSG:4549, see
// geo.ToGK120): no database, no HTTP. The formulas are those of
// shared/METHODS.md, and every one is tested against a brute-force
// computation written plainly in the tests.
package analytics
