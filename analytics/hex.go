package analytics

import "math"

// Hexagon binning on PostGIS's ST_HexagonGrid(size, bounds) tiling, so a
// cell computed here names the same hexagon as the database's (i, j). The
// tiling (postgis/lwgeom_generate_grid.c, PostGIS 3.1+) is anchored at the
// CRS origin and flat-topped: with edge length s, column i is centred at
// x = 1.5·s·i, row j of column i at y = √3·s·(j + ½·(|i| mod 2)), so odd
// columns, negative ones included, sit half a row higher. Each hexagon has
// vertices at (±s, 0) and (±s/2, ±√3·s/2) from its centre. OneMap bins in
// EPSG:4549 metres.

// HexCell returns the (i, j) of the ST_HexagonGrid hexagon of edge s that
// holds x, y: the cell whose centre is nearest, since the hexagons are the
// Voronoi cells of their centres. A point on an edge shared by two cells
// (where ST_Intersects would match both) goes, up to rounding, to the one
// with the smaller i, then the smaller j. It returns (0, 0) for s not a
// positive finite number or non-finite x, y.
func HexCell(x, y, s float64) (i, j int) {
	if !(s > 0) || !finite(x) || !finite(y) || math.IsInf(s, 0) {
		return 0, 0
	}
	h := math.Sqrt(3) * s
	// Column i spans x ∈ [1.5·s·i − s, 1.5·s·i + s], so x lies in column
	// floor(x/1.5s) or the next one; in each, the nearest centre is the
	// nearest row (rounding half down, to the smaller j).
	c := int(math.Floor(x / (1.5 * s)))
	best := math.Inf(1)
	for _, ci := range [2]int{c, c + 1} {
		off := 0.5 * float64(absInt(ci)%2)
		rj := int(math.Ceil(y/h - off - 0.5))
		cx, cy := 1.5*s*float64(ci), h*(float64(rj)+off)
		if d := (x-cx)*(x-cx) + (y-cy)*(y-cy); d < best {
			best, i, j = d, ci, rj
		}
	}
	return i, j
}

// HexCentre returns the centre of ST_HexagonGrid cell (i, j) for edge s.
func HexCentre(i, j int, s float64) (x, y float64) {
	h := math.Sqrt(3) * s
	return 1.5 * s * float64(i), h * (float64(j) + 0.5*float64(absInt(i)%2))
}

// HexArea returns the area of a regular hexagon of edge s: (3√3/2)·s² ≈
// 2.598·s².
func HexArea(s float64) float64 { return 1.5 * math.Sqrt(3) * s * s }

func absInt(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
