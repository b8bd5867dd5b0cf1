package analytics

import (
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"sync"

	"github.com/onemap-city/onemap/geo"
)

// rampStops are the heatmap ramp's control points, sRGB, evenly spaced from
// 0 to 1: dark violet through crimson and orange to pale yellow, our own
// approximation of matplotlib's perceptually uniform "inferno". Their
// luminance rises strictly from stop to stop, and the ramp interpolates in
// linear light, where luminance is linear, so lightness rises monotonically
// along the whole ramp (tested via CIE L*).
var rampStops = [...][3]uint8{
	{0, 0, 4},
	{31, 12, 72},
	{85, 15, 109},
	{136, 34, 106},
	{186, 54, 85},
	{227, 89, 51},
	{249, 140, 10},
	{249, 201, 50},
	{252, 255, 164},
}

// rampFadeIn is the share of the scale over which alpha rises from 0 to
// opaque, so that the faint edge of a density surface fades into the map.
const rampFadeIn = 0.12

// rampSize is the number of colours precomputed along the ramp: finer than
// 8-bit output can show.
const rampSize = 1024

var rampLUT = sync.OnceValue(func() *[rampSize][3]uint8 {
	lut := new([rampSize][3]uint8)
	last := len(rampStops) - 1
	for i := range lut {
		t := float64(i) / (rampSize - 1) * float64(last)
		k := min(int(t), last-1)
		f := t - float64(k)
		for c := range 3 {
			a := srgbToLinear(float64(rampStops[k][c]) / 255)
			b := srgbToLinear(float64(rampStops[k+1][c]) / 255)
			lut[i][c] = uint8(math.Round(255 * linearToSRGB(a+(b-a)*f)))
		}
	}
	return lut
})

// Colour returns the heatmap colour of value v on a scale from 0 to vmax:
// fully transparent for v ≤ 0 (and for NaN, or vmax ≤ 0), then the ramp
// colour at v/vmax with alpha rising linearly to opaque over the first 12%
// of the scale; values above vmax are clamped to the top colour. It does
// not fail.
func Colour(v, vmax float64) color.NRGBA {
	if !(v > 0) || !(vmax > 0) {
		return color.NRGBA{}
	}
	t := math.Min(v/vmax, 1)
	if math.IsNaN(t) { // +Inf/+Inf
		t = 1
	}
	rgb := rampLUT()[int(math.Round(t*(rampSize-1)))]
	a := uint8(math.Round(255 * math.Min(t/rampFadeIn, 1)))
	return color.NRGBA{R: rgb[0], G: rgb[1], B: rgb[2], A: a}
}

// EncodePNG writes values (row-major, width × height, row 0 at the top) as
// a heatmap PNG coloured by Colour on the scale 0 to vmax, with the fastest
// compression level (a 256 × 256 tile takes a few milliseconds, mostly in
// image/png's row filters). It returns an EInvalid error if width or height
// is not positive or values does not hold width × height numbers, and the
// writer's error if writing fails.
func EncodePNG(w io.Writer, values []float64, width, height int, vmax float64) error {
	if width <= 0 || height <= 0 || len(values) != width*height {
		return geo.Invalid("values", "a %d × %d image needs %d values, got %d", width, height, max(width*height, 0), len(values))
	}
	img := image.NewNRGBA(image.Rect(0, 0, width, height))
	for y := range height {
		row := img.Pix[y*img.Stride : y*img.Stride+4*width]
		for x, v := range values[y*width : (y+1)*width] {
			c := Colour(v, vmax)
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = c.R, c.G, c.B, c.A
		}
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	return enc.Encode(w, img)
}

func srgbToLinear(c float64) float64 {
	if c <= 0.04045 {
		return c / 12.92
	}
	return math.Pow((c+0.055)/1.055, 2.4)
}

func linearToSRGB(c float64) float64 {
	if c <= 0.0031308 {
		return 12.92 * c
	}
	return 1.055*math.Pow(c, 1/2.4) - 0.055
}
