package analytics

import (
	"testing"

	"github.com/paulmach/orb"
)

// TestSnapToGridDropsCollapsedRings: a hexagon clipped to a sliver at the
// buffer's edge rounds to a ring of no area, which is no polygon; one that
// keeps an area stays, on the integer grid.
func TestSnapToGridDropsCollapsedRings(t *testing.T) {
	sliver := orb.Polygon{{{-64, 2110.2}, {-64.3, 2110.1}, {-64.2, 2110.4}, {-64, 2110.2}}}
	if p := snapToGrid(sliver); p != nil {
		t.Errorf("sliver kept: %v", p)
	}
	square := orb.Polygon{
		{{0.2, 0.1}, {10.4, 0}, {10, 9.6}, {0, 10.3}, {0.2, 0.1}},
		{{5, 5}, {5.2, 5.1}, {5.1, 4.9}, {5, 5}}, // a hole that collapses
	}
	p := snapToGrid(square)
	if len(p) != 1 || p[0][1] != (orb.Point{10, 0}) || p[0].Orientation() == 0 {
		t.Errorf("square: %v, want its exterior on the grid and the collapsed hole gone", p)
	}
}
