package analytics

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/quadtree"
)

// pointGrid indexes planar points (EPSG:4549 metres) for the two questions
// coverage asks millions of times: which points lie within r of here, and
// which is nearest. A hash grid of square cells answers the first and
// the nearest when it is within one cell; a quadtree (orb) answers the
// nearest when it is farther, where scanning empty cells would be slow.
type pointGrid struct {
	size   float64
	xs, ys []float64
	cells  map[[2]int32][]int32
	tree   *quadtree.Quadtree
}

type indexedPoint struct {
	p orb.Point
	i int32
}

func (p indexedPoint) Point() orb.Point { return p.p }

func newPointGrid(xs, ys []float64, size float64) *pointGrid {
	g := &pointGrid{size: size, xs: xs, ys: ys, cells: map[[2]int32][]int32{}}
	b := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	for i := range xs {
		k := g.key(xs[i], ys[i])
		g.cells[k] = append(g.cells[k], int32(i))
		b = b.Extend(orb.Point{xs[i], ys[i]})
	}
	if len(xs) > 0 {
		g.tree = quadtree.New(b.Pad(1))
		for i := range xs {
			_ = g.tree.Add(indexedPoint{orb.Point{xs[i], ys[i]}, int32(i)}) // inside b: cannot fail
		}
	}
	return g
}

func (g *pointGrid) key(x, y float64) [2]int32 {
	return [2]int32{int32(math.Floor(x / g.size)), int32(math.Floor(y / g.size))}
}

// within calls f with every point within r (planar) of (x, y).
func (g *pointGrid) within(x, y, r float64, f func(j int)) {
	lo, hi := g.key(x-r, y-r), g.key(x+r, y+r)
	for cx := lo[0]; cx <= hi[0]; cx++ {
		for cy := lo[1]; cy <= hi[1]; cy++ {
			for _, j := range g.cells[[2]int32{cx, cy}] {
				if dx, dy := g.xs[j]-x, g.ys[j]-y; dx*dx+dy*dy <= r*r {
					f(int(j))
				}
			}
		}
	}
}

// nearest returns the point nearest to (x, y) within limit and its planar
// distance, or -1. Of equally near points, the lowest index.
func (g *pointGrid) nearest(x, y, limit float64) (int, float64) {
	best, bd := -1, math.Inf(1)
	k := g.key(x, y)
	for cx := k[0] - 1; cx <= k[0]+1; cx++ {
		for cy := k[1] - 1; cy <= k[1]+1; cy++ {
			for _, j := range g.cells[[2]int32{cx, cy}] {
				d := math.Hypot(g.xs[j]-x, g.ys[j]-y)
				if d < bd || (d == bd && int(j) < best) {
					best, bd = int(j), d
				}
			}
		}
	}
	// Anything outside the 3×3 block is more than one cell away.
	if best < 0 || bd > g.size {
		if g.tree == nil {
			return -1, 0
		}
		p := g.tree.Find(orb.Point{x, y})
		if p == nil {
			return -1, 0
		}
		j := int(p.(indexedPoint).i)
		best, bd = j, math.Hypot(g.xs[j]-x, g.ys[j]-y)
		// The quadtree breaks ties its own way; make them deterministic.
		g.within(x, y, bd, func(i int) {
			if i < best && math.Hypot(g.xs[i]-x, g.ys[i]-y) == bd {
				best = i
			}
		})
	}
	if bd > limit {
		return -1, 0
	}
	return best, bd
}
