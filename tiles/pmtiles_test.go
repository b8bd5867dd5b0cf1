package tiles

import (
	"testing"

	"github.com/onemap-city/onemap/geo"
)

// TestTileID checks the ids the PMTiles v3 spec lists, and that the Hilbert
// order numbers every tile of a zoom once.
func TestTileID(t *testing.T) {
	want := map[geo.TileAddr]uint64{
		{Z: 0, X: 0, Y: 0}: 0,
		{Z: 1, X: 0, Y: 0}: 1,
		{Z: 1, X: 0, Y: 1}: 2,
		{Z: 1, X: 1, Y: 1}: 3,
		{Z: 1, X: 1, Y: 0}: 4,
		{Z: 2, X: 0, Y: 0}: 5,
	}
	for a, id := range want {
		if got := TileID(a); got != id {
			t.Errorf("TileID(%v) = %d, want %d", a, got, id)
		}
	}
	for z := 0; z <= 6; z++ {
		seen := map[uint64]bool{}
		first := TileID(geo.TileAddr{Z: z})
		n := 1 << z
		for x := 0; x < n; x++ {
			for y := 0; y < n; y++ {
				id := TileID(geo.TileAddr{Z: z, X: x, Y: y})
				if seen[id] || id < first || id >= first+uint64(n*n) {
					t.Fatalf("z%d: id %d repeated or outside the zoom's range", z, id)
				}
				seen[id] = true
			}
		}
	}
}
