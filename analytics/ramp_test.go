package analytics_test

import (
	"bytes"
	"image/color"
	"image/png"
	"math"
	"testing"

	"github.com/onemap-city/onemap/analytics"
	"github.com/onemap-city/onemap/geo"
)

// lightness returns CIE L* (D65) of an 8-bit sRGB colour.
func lightness(c color.NRGBA) float64 {
	lin := func(v uint8) float64 {
		f := float64(v) / 255
		if f <= 0.04045 {
			return f / 12.92
		}
		return math.Pow((f+0.055)/1.055, 2.4)
	}
	y := 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
	if y > 216.0/24389 {
		return 116*math.Cbrt(y) - 16
	}
	return 24389.0 / 27 * y
}

func TestRampLightnessMonotone(t *testing.T) {
	const steps = 2000
	prev := -1.0
	for k := 1; k <= steps; k++ {
		c := analytics.Colour(float64(k), steps)
		l := lightness(c)
		// 8-bit rounding of single channels may dip L* by a hair between
		// neighbouring samples; over the ramp it must rise steadily.
		if l < prev-0.25 {
			t.Fatalf("L* falls from %.2f to %.2f at %d/%d (%v)", prev, l, k, steps, c)
		}
		prev = max(prev, l)
	}
	// Coarser steps rise strictly, and the ramp spans dark to light.
	lo, hi := lightness(analytics.Colour(1e-9, 1)), lightness(analytics.Colour(1, 1))
	if lo > 5 || hi < 95 {
		t.Errorf("ramp L* from %.1f to %.1f, want ~0 to ~100", lo, hi)
	}
	last := -1.0
	for k := 0; k <= 40; k++ {
		l := lightness(analytics.Colour(float64(k)/40+1e-12, 1))
		if l <= last {
			t.Errorf("L* at %d/40 is %.2f, not above %.2f", k, l, last)
		}
		last = l
	}
}

func TestColourAlphaAndBounds(t *testing.T) {
	for _, v := range []float64{0, -1, math.NaN(), math.Inf(-1)} {
		if c := analytics.Colour(v, 10); c.A != 0 {
			t.Errorf("Colour(%v) alpha %d, want 0", v, c.A)
		}
	}
	if c := analytics.Colour(5, 0); c.A != 0 {
		t.Errorf("a zero scale should be transparent, got %v", c)
	}
	top := analytics.Colour(10, 10)
	for _, v := range []float64{10, 11, 1e9, math.Inf(1)} {
		if c := analytics.Colour(v, 10); c != top {
			t.Errorf("Colour(%v, 10) = %v, want the clamped top %v", v, c, top)
		}
	}
	if top.A != 255 {
		t.Errorf("top alpha %d", top.A)
	}
	// Alpha fades in over the first 12% of the scale, then stays opaque.
	prev := uint8(0)
	for k := 1; k <= 100; k++ {
		a := analytics.Colour(float64(k), 100).A
		if a < prev {
			t.Fatalf("alpha falls at %d%%", k)
		}
		if k < 12 && a == 255 || k >= 12 && a != 255 {
			t.Errorf("alpha %d at %d%% of the scale", a, k)
		}
		prev = a
	}
	if a := analytics.Colour(1, 100).A; a == 0 || a > 30 {
		t.Errorf("alpha at 1%% is %d: small values should be faint but visible", a)
	}
}

func TestEncodePNG(t *testing.T) {
	const w, h = 256, 256
	vals := make([]float64, w*h)
	for i := range vals {
		vals[i] = float64(i%w) * float64(i/w) / 300
	}
	var buf bytes.Buffer
	if err := analytics.EncodePNG(&buf, vals, w, h, 100); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("decoded %v, want %d × %d", b, w, h)
	}
	for _, p := range [][2]int{{0, 0}, {5, 3}, {100, 20}, {255, 255}, {30, 200}} {
		got := color.NRGBAModel.Convert(img.At(p[0], p[1])).(color.NRGBA)
		want := analytics.Colour(vals[p[1]*w+p[0]], 100)
		if want.A == 0 {
			want = color.NRGBA{}
		}
		if got != want {
			t.Errorf("pixel %v = %v, want %v", p, got, want)
		}
	}
	if err := analytics.EncodePNG(&buf, vals[:10], w, h, 1); geo.ErrorCode(err) != geo.EInvalid {
		t.Errorf("short values: error %v, want invalid", err)
	}
}

func BenchmarkEncodePNG256(b *testing.B) {
	vals := make([]float64, 256*256)
	for i := range vals {
		x, y := float64(i%256)-128, float64(i/256)-128
		vals[i] = math.Max(0, 1-(x*x+y*y)/(100*100))
	}
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		analytics.EncodePNG(&buf, vals, 256, 256, 1)
	}
}
