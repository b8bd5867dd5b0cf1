package geo_test

import (
	"math"
	"testing"

	"github.com/onemap-city/onemap/geo"
)

// metres is the great-circle distance between two lon/lat points, good to
// millimetres over the few hundred metres these tests compare.
func metres(lon1, lat1, lon2, lat2 float64) float64 {
	const r = 6371008.8
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := p2-p1, (lon2-lon1)*math.Pi/180
	h := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Asin(math.Sqrt(h))
}

type pair struct {
	name                   string
	fromLon, fromLat       float64
	toLon, toLat           float64
	forward, inverse       func(lon, lat float64) (float64, float64)
	forwardTol, inverseTol float64 // metres
}

// Published test points:
//   - googollee/eviltransform, python/test.py (TESTS: WGS84 and GCJ-02 of
//     Shanghai, Shenzhen, Beijing) and matlab/test/testSuite.m (the
//     out-of-China edge cases; the gcj2bd pair, given to 5 decimals, so
//     within 1 m). Its TESTS_bd pairs are not used: they are 10–40 m from
//     the BD-09 formula that library and every other implements, and look
//     like output of Baidu's online service rather than of the formula.
//   - wandergis/coordtransform, test/app.js (wgs84togcj02 and gcj02tobd09
//     of 116.404, 39.915).
//   - hujiulong/gcoord, test/fixtures/china-cities.json (WGS84, GCJ-02 and
//     BD-09 of city centres; its WGS84/GCJ-02 pairs agree with the formula
//     to about 0.7 m, its BD-09 to millimetres).
//
// Forward conversions are closed formulas; each pair is checked both ways
// within the tolerance given, the inverse against the published source.
var pairs = []pair{
	{"eviltransform shanghai wgs84→gcj02", 121.5272106, 31.1774276, 121.531541859215, 31.17530398364597, geo.WGS84ToGCJ02, geo.GCJ02ToWGS84, 0.01, 0.01},
	{"eviltransform shenzhen wgs84→gcj02", 113.912316, 22.543847, 113.9171764808363, 22.540796131694766, geo.WGS84ToGCJ02, geo.GCJ02ToWGS84, 0.01, 0.01},
	{"eviltransform beijing wgs84→gcj02", 116.377817, 39.911954, 116.38404722455657, 39.91334545536069, geo.WGS84ToGCJ02, geo.GCJ02ToWGS84, 0.01, 0.01},
	{"eviltransform gcj02→bd09", 116.42703, 39.90245, 116.43351, 39.90851, geo.GCJ02ToBD09, geo.BD09ToGCJ02, 1, 1},
	{"eviltransform denver (out of China)", -104.9903, 39.7392, -104.9903, 39.7392, geo.WGS84ToGCJ02, geo.GCJ02ToWGS84, 0, 0},
	{"eviltransform brisbane (out of China)", 153.0251, -27.4698, 153.0251, -27.4698, geo.WGS84ToGCJ02, geo.GCJ02ToWGS84, 0, 0},
	{"eviltransform rio (out of China)", -43.1729, -22.9068, -43.1729, -22.9068, geo.WGS84ToGCJ02, geo.GCJ02ToWGS84, 0, 0},
	{"coordtransform wgs84→gcj02", 116.404, 39.915, 116.41024449916938, 39.91640428150164, geo.WGS84ToGCJ02, geo.GCJ02ToWGS84, 0.01, 0.01},
	{"coordtransform gcj02→bd09", 116.404, 39.915, 116.41036949371029, 39.92133699351021, geo.GCJ02ToBD09, geo.BD09ToGCJ02, 0.01, 0.01},
	{"gcoord jinhua wgs84→gcj02", 119.6427465, 29.0820414, 119.6474509, 29.0790641, geo.WGS84ToGCJ02, geo.GCJ02ToWGS84, 1, 1},
	{"gcoord jinhua gcj02→bd09", 119.6474509, 29.0790641, 119.6538875, 29.0854003, geo.GCJ02ToBD09, geo.BD09ToGCJ02, 0.01, 0.01},
	{"gcoord jinhua wgs84→bd09", 119.6427465, 29.0820414, 119.6538875, 29.0854003, geo.WGS84ToBD09, geo.BD09ToWGS84, 1, 1},
	{"gcoord taizhou wgs84→bd09", 119.9183831, 32.4580023, 119.9296902, 32.4615531, geo.WGS84ToBD09, geo.BD09ToWGS84, 1, 1},
	{"gcoord shenyang wgs84→bd09", 123.4253306, 41.8032629, 123.438095, 41.8114013, geo.WGS84ToBD09, geo.BD09ToWGS84, 1, 1},
	{"gcoord nagqu wgs84→bd09", 92.0499619, 31.4784436, 92.0576832, 31.4824421, geo.WGS84ToBD09, geo.BD09ToWGS84, 1, 1},
}

func TestChinaCRSPublishedPoints(t *testing.T) {
	for _, p := range pairs {
		lon, lat := p.forward(p.fromLon, p.fromLat)
		if d := metres(lon, lat, p.toLon, p.toLat); d > p.forwardTol {
			t.Errorf("%s: forward gives %.9f, %.9f, %.3f m from the published %.9f, %.9f", p.name, lon, lat, d, p.toLon, p.toLat)
		}
		lon, lat = p.inverse(p.toLon, p.toLat)
		if d := metres(lon, lat, p.fromLon, p.fromLat); d > p.inverseTol {
			t.Errorf("%s: inverse gives %.9f, %.9f, %.3f m from the published %.9f, %.9f", p.name, lon, lat, d, p.fromLon, p.fromLat)
		}
	}
}

// TestChinaCRSRoundTrip checks the iterative inverses over the whole of
// Zhejiang and beyond: forward then inverse returns the start within 1 cm,
// where the one-step inverse is off by metres.
func TestChinaCRSRoundTrip(t *testing.T) {
	worstOneStep := 0.0
	for lon := 73.0; lon <= 135; lon += 0.73 {
		for lat := 18.0; lat <= 53; lat += 0.61 {
			for _, c := range []struct {
				name     string
				forward  func(lon, lat float64) (float64, float64)
				toWGS84  func(lon, lat float64) (float64, float64)
				viaCRSOf geo.CRS
			}{
				{"gcj02", geo.WGS84ToGCJ02, geo.GCJ02ToWGS84, geo.GCJ02},
				{"bd09", geo.WGS84ToBD09, geo.BD09ToWGS84, geo.BD09},
			} {
				x, y := c.forward(lon, lat)
				bx, by := c.toWGS84(x, y)
				if d := metres(bx, by, lon, lat); d > 0.01 {
					t.Fatalf("%s round trip at %.2f, %.2f: %.4f m", c.name, lon, lat, d)
				}
				if cx, cy := c.viaCRSOf.ToWGS84(x, y); cx != bx || cy != by {
					t.Fatalf("CRS(%s).ToWGS84 differs from the function", c.viaCRSOf)
				}
			}
			// The naive inverse, for the record: metres off.
			gx, gy := geo.WGS84ToGCJ02(lon, lat)
			fx, fy := geo.WGS84ToGCJ02(gx, gy)
			worstOneStep = max(worstOneStep, metres(gx-(fx-gx), gy-(fy-gy), lon, lat))
		}
	}
	if worstOneStep < 1 {
		t.Errorf("the one-step inverse is off by at most %.2f m; expected metres (is the test grid too small?)", worstOneStep)
	}
}

func TestParseCRS(t *testing.T) {
	for in, want := range map[string]geo.CRS{
		"": geo.WGS84, "WGS84": geo.WGS84, "EPSG:4326": geo.WGS84, "cgcs2000": geo.CGCS2000,
		"EPSG:4490": geo.CGCS2000, "GCJ-02": geo.GCJ02, "gcj02": geo.GCJ02, "bd09": geo.BD09, "BD-09": geo.BD09,
	} {
		if got, err := geo.ParseCRS(in); err != nil || got != want {
			t.Errorf("ParseCRS(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"utm50n", "EPSG:3857", "mars"} {
		if _, err := geo.ParseCRS(in); geo.ErrorCode(err) != geo.EInvalid {
			t.Errorf("ParseCRS(%q): %v, want an EInvalid error", in, err)
		}
	}
	// CGCS2000 and WGS84 are taken as they are.
	if lon, lat := geo.CGCS2000.ToWGS84(120.65, 27.78); lon != 120.65 || lat != 27.78 {
		t.Errorf("cgcs2000 moved the point to %v, %v", lon, lat)
	}
}
