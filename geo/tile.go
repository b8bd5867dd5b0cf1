package geo

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MaxZoom is the deepest zoom level any layer can be served at.
const MaxZoom = 24

// earthHalfCircumference is half the Web Mercator world width, in metres.
const earthHalfCircumference = 20037508.342789244

// TileAddr is the address of one XYZ tile (Web Mercator, y down from the north).
type TileAddr struct {
	Z, X, Y int
}

func (t TileAddr) String() string { return fmt.Sprintf("%d/%d/%d", t.Z, t.X, t.Y) }

// ParseTileAddr reads z, x and y from path segments. It returns an EInvalid
// error naming the first segment that is not an integer or is out of range.
func ParseTileAddr(z, x, y string) (TileAddr, error) {
	var t TileAddr
	for _, p := range []struct {
		name string
		s    string
		v    *int
	}{{"z", z, &t.Z}, {"x", x, &t.X}, {"y", y, &t.Y}} {
		// Digits only, without a sign or leading zeros: one tile has one
		// URL, so caches (ours, a CDN's, a browser's) hold it once.
		if p.s == "" || strings.Trim(p.s, "0123456789") != "" {
			return TileAddr{}, Invalid(p.name, "%s must be a whole number, got %q", p.name, p.s)
		}
		if len(p.s) > 1 && p.s[0] == '0' {
			return TileAddr{}, Invalid(p.name, "%s %q: write it without leading zeros", p.name, p.s)
		}
		n, err := strconv.Atoi(p.s)
		if err != nil || n > 1<<30 {
			return TileAddr{}, Invalid(p.name, "%s %s is out of range", p.name, p.s)
		}
		*p.v = n
	}
	return t, t.Validate()
}

// Validate checks that z is within [0, MaxZoom] and x, y within [0, 2^z).
func (t TileAddr) Validate() error {
	if t.Z < 0 || t.Z > MaxZoom {
		return Invalid("z", "zoom %d is out of range 0–%d", t.Z, MaxZoom)
	}
	n := 1 << t.Z
	if t.X < 0 || t.X >= n {
		return Invalid("x", "x %d is out of range 0–%d at zoom %d", t.X, n-1, t.Z)
	}
	if t.Y < 0 || t.Y >= n {
		return Invalid("y", "y %d is out of range 0–%d at zoom %d", t.Y, n-1, t.Z)
	}
	return nil
}

// Bounds3857 returns the tile's envelope in EPSG:3857 metres: minX, minY, maxX, maxY.
func (t TileAddr) Bounds3857() [4]float64 {
	size := 2 * earthHalfCircumference / float64(int(1)<<t.Z)
	minX := -earthHalfCircumference + float64(t.X)*size
	maxY := earthHalfCircumference - float64(t.Y)*size
	return [4]float64{minX, maxY - size, minX + size, maxY}
}

// PixelSize returns the size in EPSG:3857 metres of one pixel of a tile at
// zoom z that is tileSize pixels wide.
func PixelSize(z, tileSize int) float64 {
	return 2 * earthHalfCircumference / float64(int(1)<<z) / float64(tileSize)
}

// TileOf returns the tile at zoom z that holds the point lon, lat (EPSG:4326).
func TileOf(z int, lon, lat float64) TileAddr {
	n := float64(int(1) << z)
	lat = math.Max(math.Min(lat, 85.0511287798), -85.0511287798)
	x := int(math.Floor((lon + 180) / 360 * n))
	r := lat * math.Pi / 180
	y := int(math.Floor((1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * n))
	clamp := func(v int) int { return max(0, min(int(n)-1, v)) }
	return TileAddr{Z: z, X: clamp(x), Y: clamp(y)}
}

// TileRange returns the tiles at zoom z that cover the EPSG:4326 box
// minLon, minLat, maxLon, maxLat: the first and last x and y.
func TileRange(z int, bbox [4]float64) (minX, minY, maxX, maxY int) {
	a := TileOf(z, bbox[0], bbox[3]) // north-west
	b := TileOf(z, bbox[2], bbox[1]) // south-east
	return a.X, a.Y, b.X, b.Y
}
