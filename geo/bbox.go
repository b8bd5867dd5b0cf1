package geo

import (
	"math"
	"strconv"
	"strings"
)

// ParseBBox reads "minLon,minLat,maxLon,maxLat" in EPSG:4326. It returns an
// EInvalid error naming the parameter "bbox" when the text is not four
// numbers, a coordinate is out of range, or min exceeds max.
func ParseBBox(s string) ([4]float64, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return [4]float64{}, Invalid("bbox", "bbox %q: want minLon,minLat,maxLon,maxLat", s)
	}
	var b [4]float64
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return [4]float64{}, Invalid("bbox", "bbox %q: %q is not a number", s, p)
		}
		b[i] = v
	}
	if b[0] < -180 || b[2] > 180 || b[1] < -90 || b[3] > 90 {
		return [4]float64{}, Invalid("bbox", "bbox %q: longitudes must be within ±180 and latitudes within ±90", s)
	}
	if b[0] > b[2] || b[1] > b[3] {
		return [4]float64{}, Invalid("bbox", "bbox %q: min must not exceed max", s)
	}
	return b, nil
}
