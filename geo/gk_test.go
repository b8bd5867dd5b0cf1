package geo_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onemap-city/onemap/geo"
)

// gkRefs are EPSG:4490 → EPSG:4549 conversions computed by PROJ 9.1.1 (its
// default, "exact" tmerc), with
//
//	awk '{print $2, $1}' pts.txt | cs2cs -f %.6f EPSG:4490 EPSG:4549
//
// and the first one also through PostGIS 3.3.2 (same PROJ):
//
//	SELECT ST_AsText(ST_Transform(ST_SetSRID(ST_MakePoint(120.65,27.78),4490),4549),6)
//	→ POINT(564065.374814 3074231.234778)
//
// (from EPSG:4326 PostGIS gives the same numbers: PROJ applies no datum shift
// between WGS84 and CGCS2000).
var gkRefs = []struct{ lon, lat, x, y float64 }{
	{120.65, 27.78, 564065.374814, 3074231.234778}, // Rui'an
	{120, 27.78, 500000.000000, 3074061.857700},    // on the central meridian
	{117.5, 30.2, 259231.439533, 3344927.521521},
	{122.9, 25.1, 792598.392394, 2780274.465869},
	{121.5, 40, 628093.358960, 4430606.951570},
	{118.1, 20.3, 301522.116915, 2246720.123493},
	{123, 45, 736540.642360, 4989325.234673},
	{117, 18, 182166.753053, 1993554.894731}, // 3° out, near the equator
	{120.70, 27.99, 568860.628207, 3097530.976292},
}

func TestToGK120MatchesPROJ(t *testing.T) {
	for _, r := range gkRefs {
		x, y := geo.ToGK120(r.lon, r.lat)
		// PROJ's figures are rounded to the micrometre; we agree to < 1 µm.
		if d := math.Hypot(x-r.x, y-r.y); d > 1e-5 || math.IsNaN(d) {
			t.Errorf("ToGK120(%v, %v) = %.6f, %.6f; PROJ %.6f, %.6f (off by %.3g m)", r.lon, r.lat, x, y, r.x, r.y, d)
		}
	}
}

// gkInverseRefs are EPSG:4549 → EPSG:4490 by PROJ 9.1.1:
//
//	printf '3074231.234778 564065.374814\n...' | cs2cs -f %.12f EPSG:4549 EPSG:4490
var gkInverseRefs = []struct{ x, y, lon, lat float64 }{
	{564065.374814, 3074231.234778, 120.650000000004, 27.780000000004},
	{300000, 2500000, 118.055354479191, 22.586048338924},
	{700000, 4000000, 122.221096852132, 36.109697960498},
	{500000, 3300000, 120.000000000000, 29.818554517395},
}

func TestFromGK120MatchesPROJ(t *testing.T) {
	for _, r := range gkInverseRefs {
		lon, lat := geo.FromGK120(r.x, r.y)
		// 1e-9° is 0.1 mm; PROJ's figures carry 12 decimals.
		if math.Abs(lon-r.lon) > 1e-9 || math.Abs(lat-r.lat) > 1e-9 {
			t.Errorf("FromGK120(%v, %v) = %.12f, %.12f; PROJ %.12f, %.12f", r.x, r.y, lon, lat, r.lon, r.lat)
		}
	}
}

func TestGK120RoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	worst := 0.0
	for range 20000 {
		lon := 117 + 6*rng.Float64()
		lat := -60 + 140*rng.Float64()
		x, y := geo.ToGK120(lon, lat)
		lon2, lat2 := geo.FromGK120(x, y)
		worst = max(worst, math.Abs(lon2-lon), math.Abs(lat2-lat))
	}
	if worst > 1e-9 {
		t.Errorf("round trip off by up to %.3g°, want < 1e-9°", worst)
	}
	t.Logf("worst round-trip error %.3g°", worst)
}

// The projection is conformal with scale 1 on the central meridian: a short
// east-west step there is as long in metres as on the ellipsoid, N·cos φ·Δλ.
func TestGK120ScaleOnMeridian(t *testing.T) {
	const a, f = 6378137.0, 1 / 298.257222101
	e2 := f * (2 - f)
	for _, lat := range []float64{0, 20, 27.78, 45, 70} {
		phi := lat * math.Pi / 180
		nu := a / math.Sqrt(1-e2*math.Sin(phi)*math.Sin(phi))
		const dl = 1e-6 // degrees
		x0, _ := geo.ToGK120(120-dl/2, lat)
		x1, _ := geo.ToGK120(120+dl/2, lat)
		want := nu * math.Cos(phi) * dl * math.Pi / 180
		if got := x1 - x0; math.Abs(got/want-1) > 1e-8 {
			t.Errorf("at %v°N, east-west scale %v, want 1", lat, got/want)
		}
	}
	// Symmetry about the meridian and the equator.
	x1, y1 := geo.ToGK120(121.3, 31.2)
	x2, y2 := geo.ToGK120(118.7, -31.2)
	if math.Abs((x1-500000)+(x2-500000)) > 1e-9 || math.Abs(y1+y2) > 1e-9 {
		t.Errorf("not symmetric: (%v, %v) vs (%v, %v)", x1, y1, x2, y2)
	}
}
