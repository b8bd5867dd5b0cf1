package analytics_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onemap-city/onemap/analytics"
)

// hexRefs were computed by PostGIS 3.3.2 (a scratch cluster), as the cell
// of ST_HexagonGrid that intersects each point, with its centroid:
//
//	SELECT p.s, p.x, p.y, h.i, h.j, ST_X(ST_Centroid(h.geom)), ST_Y(ST_Centroid(h.geom))
//	FROM pts p CROSS JOIN LATERAL ST_HexagonGrid(p.s, ST_MakeEnvelope(p.x, p.y, p.x, p.y)) h
//	WHERE ST_Intersects(h.geom, ST_MakePoint(p.x, p.y));
var hexRefs = []struct {
	s, x, y float64
	i, j    int
	cx, cy  float64
}{
	{100, 0, 0, 0, 0, 0, 0},
	{100, 10, 90, 0, 1, 0, 173.20508075688775},
	{100, 140, 5, 1, 0, 150, 86.60254037844386},
	{100, 160, 5, 1, 0, 150, 86.60254037844386},
	{100, -160, -5, -1, -1, -150, -86.60254037844386},
	{100, -140, -95, -1, -1, -150, -86.60254037844386},
	{100, 250, 170, 2, 1, 300, 173.20508075688775},
	{100, -260, 100, -2, 1, -300, 173.20508075688775},
	{200, 564065.374814, 3074231.234778, 1880, 8875, 564000, 3074390.183434758},
	{533, 564065.374814, 3074231.234778, 706, 3330, 564447, 3074199.657845924},
	{201, 568860.628207, 3097530.976292, 1887, 8897, 568930.5000000001, 3097595.3341291617},
	{150, 259231.439533, 3344927.521521, 1152, 12875, 259200.00000000003, 3345023.1221173946},
	{50, -1234.5, 987.25, -17, 11, -1275, 995.9292143521045},
	{50, -77, -43, -1, -1, -75, -43.30127018922193},
}

func TestHexCellMatchesPostGIS(t *testing.T) {
	for _, r := range hexRefs {
		i, j := analytics.HexCell(r.x, r.y, r.s)
		if i != r.i || j != r.j {
			t.Errorf("HexCell(%v, %v, %v) = (%d, %d), PostGIS (%d, %d)", r.x, r.y, r.s, i, j, r.i, r.j)
		}
		cx, cy := analytics.HexCentre(r.i, r.j, r.s)
		if math.Abs(cx-r.cx) > 1e-6 || math.Abs(cy-r.cy) > 1e-6 {
			t.Errorf("HexCentre(%d, %d, %v) = %v, %v; PostGIS centroid %v, %v", r.i, r.j, r.s, cx, cy, r.cx, r.cy)
		}
	}
}

// insideHex reports whether x, y lies inside (or on) the flat-topped hexagon
// of edge s centred at cx, cy: vertices (±s, 0), (±s/2, ±√3·s/2).
func insideHex(x, y, cx, cy, s float64, slack float64) bool {
	dx, dy := math.Abs(x-cx), math.Abs(y-cy)
	return dy <= math.Sqrt(3)/2*s+slack && math.Sqrt(3)*dx+dy <= math.Sqrt(3)*s+slack
}

func TestHexCellRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 34))
	for range 200 {
		s := 1 + 999*rng.Float64()
		x0, y0 := -1e5+2e5*rng.Float64(), -1e5+2e5*rng.Float64()
		if rng.IntN(2) == 0 { // real EPSG:4549 coordinates
			x0, y0 = 500000+100000*rng.Float64(), 3000000+100000*rng.Float64()
		}
		counts := map[[2]int]int{}
		const n = 500
		for range n {
			x, y := x0+20*s*rng.Float64(), y0+20*s*rng.Float64()
			i, j := analytics.HexCell(x, y, s)
			counts[[2]int{i, j}]++
			cx, cy := analytics.HexCentre(i, j, s)
			if d := math.Hypot(x-cx, y-cy); d > s*(1+1e-12) {
				t.Fatalf("(%v, %v) s %v: cell (%d, %d) centre %v away, more than s", x, y, s, i, j, d)
			}
			if !insideHex(x, y, cx, cy, s, 1e-9*s) {
				t.Fatalf("(%v, %v) s %v: not inside its hexagon (%d, %d)", x, y, s, i, j)
			}
			// Among all nearby cells, exactly one hexagon holds the point
			// strictly inside, and it is ours; none has a nearer centre.
			holders := 0
			for di := -2; di <= 2; di++ {
				for dj := -2; dj <= 2; dj++ {
					ox, oy := analytics.HexCentre(i+di, j+dj, s)
					if insideHex(x, y, ox, oy, s, -1e-9*s) {
						holders++
						if di != 0 || dj != 0 {
							t.Fatalf("(%v, %v): inside (%d, %d) but assigned (%d, %d)", x, y, i+di, j+dj, i, j)
						}
					}
					if math.Hypot(x-ox, y-oy) < math.Hypot(x-cx, y-cy)-1e-9*s {
						t.Fatalf("(%v, %v): (%d, %d) is nearer than the assigned (%d, %d)", x, y, i+di, j+dj, i, j)
					}
				}
			}
			if holders > 1 {
				t.Fatalf("(%v, %v) is strictly inside %d hexagons", x, y, holders)
			}
		}
		total := 0
		for _, c := range counts {
			total += c
		}
		if total != n {
			t.Fatalf("counts add to %d, want %d", total, n)
		}
	}
}

func TestHexCentreRoundTrip(t *testing.T) {
	for i := -7; i <= 7; i++ {
		for j := -7; j <= 7; j++ {
			x, y := analytics.HexCentre(i, j, 37.5)
			if gi, gj := analytics.HexCell(x, y, 37.5); gi != i || gj != j {
				t.Errorf("HexCell(HexCentre(%d, %d)) = (%d, %d)", i, j, gi, gj)
			}
		}
	}
}

func TestHexArea(t *testing.T) {
	// Shoelace over the six vertices.
	const s = 533.0
	vx := []float64{-s, -s / 2, s / 2, s, s / 2, -s / 2}
	vy := []float64{0, -math.Sqrt(3) / 2 * s, -math.Sqrt(3) / 2 * s, 0, math.Sqrt(3) / 2 * s, math.Sqrt(3) / 2 * s}
	a := 0.0
	for k := range 6 {
		a += vx[k]*vy[(k+1)%6] - vx[(k+1)%6]*vy[k]
	}
	a /= 2
	if got := analytics.HexArea(s); math.Abs(got-a) > 1e-9*a || math.Abs(got/(s*s)-2.598) > 1e-3 {
		t.Errorf("HexArea(%v) = %v, shoelace %v", s, got, a)
	}
}
