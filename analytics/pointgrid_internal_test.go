package analytics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPointGrid: nearest and within agree with a plain scan of every
// point, ties going to the lowest index, on clustered and sparse points.
func TestPointGrid(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for round := range 40 {
		n := 1 + rng.IntN(400)
		xs, ys := make([]float64, n), make([]float64, n)
		for i := range n {
			if i > 0 && rng.IntN(10) == 0 { // duplicates make ties
				xs[i], ys[i] = xs[i-1], ys[i-1]
				continue
			}
			xs[i], ys[i] = 500000+rng.NormFloat64()*800, 3000000+rng.NormFloat64()*800
		}
		size := 20 + rng.Float64()*200
		g := newPointGrid(xs, ys, size)
		for range 200 {
			x, y := 500000+rng.NormFloat64()*2000, 3000000+rng.NormFloat64()*2000
			limit := rng.Float64() * 3000
			want, wd := -1, math.Inf(1)
			for i := range n {
				if d := math.Hypot(xs[i]-x, ys[i]-y); d < wd {
					want, wd = i, d
				}
			}
			if wd > limit {
				want = -1
			}
			got, gd := g.nearest(x, y, limit)
			if got != want || (got >= 0 && math.Abs(gd-wd) > 1e-9) {
				t.Fatalf("round %d: nearest to (%.1f, %.1f) within %.1f: %d at %.3f, want %d at %.3f", round, x, y, limit, got, gd, want, wd)
			}
			r := rng.Float64() * 500
			var in, brute int
			g.within(x, y, r, func(int) { in++ })
			for i := range n {
				if dx, dy := xs[i]-x, ys[i]-y; dx*dx+dy*dy <= r*r {
					brute++
				}
			}
			if in != brute {
				t.Fatalf("round %d: %d points within %.1f, want %d", round, in, r, brute)
			}
		}
	}
}
