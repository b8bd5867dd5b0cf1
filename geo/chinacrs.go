package geo

import (
	"math"
	"strings"
)

// CRS names the coordinate system of longitude/latitude input. OneMap stores
// WGS84; the Chinese offset systems GCJ-02 (the national "Mars" obfuscation
// used by Gaode/Amap, Tencent and most Chinese web maps) and BD-09 (Baidu's
// further offset of GCJ-02) are converted on the way in, never stored.
type CRS string

const (
	WGS84    CRS = "wgs84"    // EPSG:4326
	CGCS2000 CRS = "cgcs2000" // EPSG:4490, within centimetres of WGS84: taken as is
	GCJ02    CRS = "gcj02"
	BD09     CRS = "bd09"
)

// CRSs lists the systems ParseCRS accepts, in the order to document them.
var CRSs = []CRS{WGS84, CGCS2000, GCJ02, BD09}

// ParseCRS returns the CRS named by s, ignoring case, "-" and "_" (so
// "GCJ-02" and "bd_09" are accepted), and the EPSG codes 4326 and 4490. An
// empty s is WGS84. Any other name is an EInvalid error listing the choices.
func ParseCRS(s string) (CRS, error) {
	k := strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(strings.TrimSpace(s)))
	switch k {
	case "", "wgs84", "epsg:4326", "4326":
		return WGS84, nil
	case "cgcs2000", "epsg:4490", "4490":
		return CGCS2000, nil
	case "gcj02":
		return GCJ02, nil
	case "bd09", "bd09ll":
		return BD09, nil
	}
	return "", Invalid("crs", "unknown coordinate system %q: use wgs84, cgcs2000, gcj02 or bd09", s)
}

// ToWGS84 converts a longitude/latitude in c to WGS84.
func (c CRS) ToWGS84(lon, lat float64) (float64, float64) {
	switch c {
	case GCJ02:
		return GCJ02ToWGS84(lon, lat)
	case BD09:
		return BD09ToWGS84(lon, lat)
	}
	return lon, lat
}

// The GCJ-02 constants: the Krasovsky 1940 ellipsoid the published algorithm
// is built on, and Baidu's scale for BD-09.
const (
	krasovskyA  = 6378245.0
	krasovskyE2 = 0.00669342162296594323
	bdXPi       = math.Pi * 3000.0 / 180.0
)

// OutOfChina reports whether a point lies outside the rectangle where GCJ-02
// applies an offset. This is the rule every open implementation uses (a box
// around China, not its border): outside it GCJ-02 equals WGS84.
func OutOfChina(lon, lat float64) bool {
	return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271
}

// WGS84ToGCJ02 applies the GCJ-02 offset (a few hundred metres in China).
func WGS84ToGCJ02(lon, lat float64) (float64, float64) {
	if OutOfChina(lon, lat) {
		return lon, lat
	}
	dLon, dLat := gcjDelta(lon, lat)
	return lon + dLon, lat + dLat
}

// gcjDelta is the GCJ-02 offset in degrees at a WGS84 point.
func gcjDelta(lon, lat float64) (dLon, dLat float64) {
	x, y := lon-105, lat-35
	dLat = -100 + 2*x + 3*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x)) + gcjWaves(x) +
		(20*math.Sin(y*math.Pi)+40*math.Sin(y/3*math.Pi))*2/3 +
		(160*math.Sin(y/12*math.Pi)+320*math.Sin(y*math.Pi/30))*2/3
	dLon = 300 + x + 2*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x)) + gcjWaves(x) +
		(20*math.Sin(x*math.Pi)+40*math.Sin(x/3*math.Pi))*2/3 +
		(150*math.Sin(x/12*math.Pi)+300*math.Sin(x/30*math.Pi))*2/3
	// From metres on the Krasovsky ellipsoid to degrees at this latitude.
	rad := lat / 180 * math.Pi
	magic := 1 - krasovskyE2*math.Sin(rad)*math.Sin(rad)
	sqrtMagic := math.Sqrt(magic)
	dLat = dLat * 180 / ((krasovskyA * (1 - krasovskyE2)) / (magic * sqrtMagic) * math.Pi)
	dLon = dLon * 180 / (krasovskyA / sqrtMagic * math.Cos(rad) * math.Pi)
	return dLon, dLat
}

func gcjWaves(x float64) float64 {
	return (20*math.Sin(6*x*math.Pi) + 20*math.Sin(2*x*math.Pi)) * 2 / 3
}

// GCJ02ToWGS84 removes the GCJ-02 offset. GCJ-02 has no closed-form inverse;
// the common one-step inverse (subtract the offset computed at the GCJ-02
// point) is off by up to a few metres, too much for hydrant spacing checks at
// 120 m, so the forward function is inverted by fixed-point iteration, which
// converges to well under a millimetre in a handful of steps because the
// offset changes slowly with position.
func GCJ02ToWGS84(lon, lat float64) (float64, float64) {
	if OutOfChina(lon, lat) {
		return lon, lat
	}
	return invert(WGS84ToGCJ02, lon, lat)
}

// GCJ02ToBD09 applies Baidu's BD-09 offset to a GCJ-02 point.
func GCJ02ToBD09(lon, lat float64) (float64, float64) {
	z := math.Hypot(lon, lat) + 0.00002*math.Sin(lat*bdXPi)
	theta := math.Atan2(lat, lon) + 0.000003*math.Cos(lon*bdXPi)
	return z*math.Cos(theta) + 0.0065, z*math.Sin(theta) + 0.006
}

// BD09ToGCJ02 removes Baidu's offset, by iteration like GCJ02ToWGS84: the
// published one-step inverse is off by decimetres.
func BD09ToGCJ02(lon, lat float64) (float64, float64) {
	return invert(GCJ02ToBD09, lon, lat)
}

// WGS84ToBD09 converts a WGS84 point to BD-09 (through GCJ-02, as Baidu does).
func WGS84ToBD09(lon, lat float64) (float64, float64) {
	return GCJ02ToBD09(WGS84ToGCJ02(lon, lat))
}

// BD09ToWGS84 converts a BD-09 point to WGS84.
func BD09ToWGS84(lon, lat float64) (float64, float64) {
	return GCJ02ToWGS84(BD09ToGCJ02(lon, lat))
}

// invert solves forward(x, y) = (lon, lat) for (x, y). Both offsets are small
// and nearly constant over their own size, so x ← x − (forward(x) − target)
// is a contraction; 1e-10° is about 0.01 mm.
func invert(forward func(lon, lat float64) (float64, float64), lon, lat float64) (float64, float64) {
	x, y := lon, lat
	for range 30 {
		fx, fy := forward(x, y)
		dx, dy := fx-lon, fy-lat
		x, y = x-dx, y-dy
		if math.Abs(dx) < 1e-10 && math.Abs(dy) < 1e-10 {
			break
		}
	}
	return x, y
}
