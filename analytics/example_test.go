package analytics_test

import (
	"fmt"

	"github.com/onemap-city/onemap/analytics"
	"github.com/onemap-city/onemap/geo"
)

// Density per km² around one hydrant call-out in Rui'an, radius 100 m.
func ExampleKDE() {
	x, y := geo.ToGK120(120.65, 27.78) // to EPSG:4549 metres
	k, err := analytics.NewKDE([]analytics.Point{{X: x, Y: y, W: 1}}, 100)
	if err != nil {
		fmt.Println(err)
		return
	}
	perKm2 := analytics.PerKm2(k.Radius())
	fmt.Printf("at the point: %.2f/km²\n", k.Raw(x, y)*perKm2)
	fmt.Printf("50 m east:    %.2f/km²\n", k.Raw(x+50, y)*perKm2)
	// Output:
	// at the point: 95.49/km²
	// 50 m east:    53.71/km²
}

// PySAL's six-point Gi* example (esda's test suite), band 15: feature 5 is
// significant at 95% alone, but not once FDR accounts for six tests.
func ExampleGiStar() {
	xs := []float64{10, 20, 40, 15, 30, 30}
	ys := []float64{10, 10, 10, 20, 20, 30}
	counts := []float64{2, 3, 3.2, 5, 8, 7}
	res, err := analytics.GiStar(xs, ys, counts, 15)
	if err != nil {
		fmt.Println(err)
		return
	}
	plain, fdr := analytics.Bins(res, false), analytics.Bins(res, true)
	for i, r := range res {
		fmt.Printf("%d: z %+.4f p %.4f neighbours %d bin %+d (FDR %+d)\n", i, r.Z, r.P, r.Neighbours, plain[i], fdr[i])
	}
	// Output:
	// 0: z -1.3973 p 0.1623 neighbours 3 bin +0 (FDR +0)
	// 1: z -0.2892 p 0.7724 neighbours 4 bin +0 (FDR +0)
	// 2: z +0.6506 p 0.5153 neighbours 2 bin +0 (FDR +0)
	// 3: z -0.2892 p 0.7724 neighbours 4 bin +0 (FDR +0)
	// 4: z +1.2345 p 0.2170 neighbours 5 bin +0 (FDR +0)
	// 5: z +2.0242 p 0.0429 neighbours 2 bin +2 (FDR +0)
}

// The hexagon of 200 m edge that holds a point, as PostGIS numbers it.
func ExampleHexCell() {
	i, j := analytics.HexCell(564065.374814, 3074231.234778, 200)
	cx, cy := analytics.HexCentre(i, j, 200)
	fmt.Printf("cell (%d, %d) centred at %.1f, %.1f, %.0f m²\n", i, j, cx, cy, analytics.HexArea(200))
	// Output:
	// cell (1880, 8875) centred at 564000.0, 3074390.2, 103923 m²
}
