package geo

import (
	"errors"
	"math"
	"testing"
)

func TestParseTileAddr(t *testing.T) {
	good := map[[3]string]TileAddr{
		{"0", "0", "0"}:         {0, 0, 0},
		{"14", "13703", "7010"}: {14, 13703, 7010},
		{"24", "16777215", "0"}: {24, 16777215, 0},
	}
	for in, want := range good {
		got, err := ParseTileAddr(in[0], in[1], in[2])
		if err != nil || got != want {
			t.Errorf("ParseTileAddr%v = %v, %v; want %v", in, got, err, want)
		}
	}
	bad := map[[3]string]string{
		{"a", "0", "0"}:                    "z",
		{"1.5", "0", "0"}:                  "z",
		{"-1", "0", "0"}:                   "z",
		{"25", "0", "0"}:                   "z",
		{"1", "2", "0"}:                    "x",
		{"1", "0", "2"}:                    "y",
		{"1", "-1", "0"}:                   "x",
		{"3", "0", "x"}:                    "y",
		{"2", "", "0"}:                     "x",
		{"+9", "0", "0"}:                   "z",
		{"09", "0", "0"}:                   "z",
		{"9", "0427", "0"}:                 "x",
		{"9", "0", "99999999999999999999"}: "y",
	}
	for in, param := range bad {
		_, err := ParseTileAddr(in[0], in[1], in[2])
		var ge *Error
		if !errors.As(err, &ge) || ge.Code != EInvalid || ge.Detail != param {
			t.Errorf("ParseTileAddr%v = %v; want EInvalid naming %q", in, err, param)
		}
	}
}

func TestTileOfAndBounds(t *testing.T) {
	// Rui'an centre at z14 (checked against the slippy-map formula by hand).
	tile := TileOf(14, 120.65, 27.78)
	b := tile.Bounds3857()
	x := 120.65 * earthHalfCircumference / 180
	y := math.Log(math.Tan((90+27.78)*math.Pi/360)) * earthHalfCircumference / math.Pi
	if x < b[0] || x > b[2] || y < b[1] || y > b[3] {
		t.Fatalf("point %v,%v not inside its tile %v bounds %v", x, y, tile, b)
	}
	if w := b[2] - b[0]; math.Abs(w-PixelSize(14, 256)*256) > 1e-6 {
		t.Fatalf("tile width %v, pixel size says %v", w, PixelSize(14, 256)*256)
	}
	if got := TileOf(0, 0, 0); got != (TileAddr{0, 0, 0}) {
		t.Fatalf("TileOf(0,0,0) = %v", got)
	}
}
