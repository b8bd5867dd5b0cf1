package geo

import "math"

// EPSG:4549, "CGCS2000 / 3-degree Gauss-Kruger CM 120E": a transverse
// Mercator on the CGCS2000 ellipsoid, central meridian 120°E, scale 1,
// false easting 500 000 m. OneMap's metric CRS for analytics. Its scale
// error, k − 1 ≈ (Δλ·cos φ)²/2, is 5e-5 at Rui'an (120.65°E, 27.8°N) and at
// most 3.4e-4 at 1.5° and 1.4e-3 at 3° from the meridian.
//
// The projection is the Krüger series to sixth order in the third flattening
// n, as in Karney (2011), "Transverse Mercator with an accuracy of a few
// nanometers", J. Geodesy 85, eqs. 7–14 (forward) and 15–22, 36 (inverse);
// PROJ's default tmerc algorithm (Poder/Engsager) is the same series. Its
// truncation error is a few nanometres within 4 000 km of the meridian, so
// within the zone the result is limited by float64 rounding (~1e-9 m).
const (
	gkA    = 6378137.0       // CGCS2000 semi-major axis, metres
	gkInvF = 298.257222101   // CGCS2000 inverse flattening
	gkLon0 = 120.0           // central meridian, degrees
	gkFE   = 500000.0        // false easting, metres
	gkK0   = 1.0             // scale on the central meridian
	gkDeg  = math.Pi / 180   // radians per degree
	gkF    = 1 / gkInvF      // flattening
	gkN    = gkF / (2 - gkF) // third flattening
	gkE2   = gkF * (2 - gkF) // first eccentricity squared
	gkE2m  = 1 - gkE2        // 1 − e²
)

// gkEcc is the first eccentricity e.
var gkEcc = math.Sqrt(gkE2)

// gk holds the series coefficients, worked out once from n.
var gk = newGKSeries()

type gkSeries struct {
	rect        float64    // k0 times the rectifying radius A
	alpha, beta [6]float64 // Karney's α₁…α₆ (forward) and β₁…β₆ (inverse)
}

func newGKSeries() gkSeries {
	n := gkN
	n2, n3, n4, n5, n6 := n*n, n*n*n, n*n*n*n, n*n*n*n*n, n*n*n*n*n*n
	var s gkSeries
	s.rect = gkK0 * gkA / (1 + n) * (1 + n2/4 + n4/64 + n6/256)
	s.alpha = [6]float64{
		n/2 - 2*n2/3 + 5*n3/16 + 41*n4/180 - 127*n5/288 + 7891*n6/37800,
		13*n2/48 - 3*n3/5 + 557*n4/1440 + 281*n5/630 - 1983433*n6/1935360,
		61*n3/240 - 103*n4/140 + 15061*n5/26880 + 167603*n6/181440,
		49561*n4/161280 - 179*n5/168 + 6601661*n6/7257600,
		34729*n5/80640 - 3418889*n6/1995840,
		212378941 * n6 / 319334400,
	}
	s.beta = [6]float64{
		n/2 - 2*n2/3 + 37*n3/96 - n4/360 - 81*n5/512 + 96199*n6/604800,
		n2/48 + n3/15 - 437*n4/1440 + 46*n5/105 - 1118711*n6/3870720,
		17*n3/480 - 37*n4/840 - 209*n5/4480 + 5569*n6/90720,
		4397*n4/161280 - 11*n5/504 - 830251*n6/7257600,
		4583*n5/161280 - 108847*n6/3991680,
		20648693 * n6 / 638668800,
	}
	return s
}

// ToGK120 projects a CGCS2000 (or WGS84: the two agree to centimetres)
// longitude/latitude in degrees to EPSG:4549 easting x and northing y in
// metres. It is accurate to well under a millimetre within ±3° of 120°E and
// usable, with growing scale error, far beyond; it does not fail, but
// returns NaN or ±Inf for non-finite input and for points 90° from the
// meridian on the equator.
func ToGK120(lon, lat float64) (x, y float64) {
	lam := (lon - gkLon0) * gkDeg
	phi := lat * gkDeg
	sl, cl := math.Sincos(lam)
	// Conformal latitude, as τ' = tan χ (Karney eq. 7–9).
	taup := gkTaup(math.Tan(phi))
	xip := math.Atan2(taup, cl)
	etap := math.Asinh(sl / math.Hypot(taup, cl))
	xi, eta := xip, etap
	for j := 1; j <= 6; j++ {
		s, c := math.Sincos(2 * float64(j) * xip)
		a := gk.alpha[j-1]
		xi += a * s * math.Cosh(2*float64(j)*etap)
		eta += a * c * math.Sinh(2*float64(j)*etap)
	}
	return gkFE + gk.rect*eta, gk.rect * xi
}

// FromGK120 is the inverse of ToGK120: it returns the CGCS2000 longitude
// and latitude in degrees of the EPSG:4549 point x, y (metres). Within the
// zone it round-trips ToGK120 to about 1e-12 degrees. It does not fail; it
// returns NaN for non-finite input.
func FromGK120(x, y float64) (lon, lat float64) {
	xi := y / gk.rect
	eta := (x - gkFE) / gk.rect
	xip, etap := xi, eta
	for j := 1; j <= 6; j++ {
		s, c := math.Sincos(2 * float64(j) * xi)
		b := gk.beta[j-1]
		xip -= b * s * math.Cosh(2*float64(j)*eta)
		etap -= b * c * math.Sinh(2*float64(j)*eta)
	}
	sxi, cxi := math.Sincos(xip)
	she := math.Sinh(etap)
	taup := sxi / math.Hypot(she, cxi)
	lam := math.Atan2(she, cxi)
	tau := gkTau(taup)
	return gkLon0 + lam/gkDeg, math.Atan(tau) / gkDeg
}

// gkTaup returns τ' = tan(conformal latitude) for τ = tan φ (Karney eq. 7–9).
func gkTaup(tau float64) float64 {
	if math.IsInf(tau, 0) {
		return tau
	}
	tau1 := math.Hypot(1, tau)
	sig := math.Sinh(gkEcc * math.Atanh(gkEcc*tau/tau1))
	return tau*math.Hypot(1, sig) - sig*tau1
}

// gkTau inverts gkTaup by Newton's method (Karney eqs. 19–21); it converges
// to full precision in two or three steps.
func gkTau(taup float64) float64 {
	if math.IsInf(taup, 0) || math.IsNaN(taup) {
		return taup
	}
	tau := taup / gkE2m // a good first guess (Karney, GeographicLib)
	for range 8 {
		tp := gkTaup(tau)
		d := (taup - tp) / math.Hypot(1, tp) * (1 + gkE2m*tau*tau) / (gkE2m * math.Hypot(1, tau))
		tau += d
		if math.Abs(d) <= 1e-15*math.Max(1, math.Abs(tau)) {
			break
		}
	}
	return tau
}
