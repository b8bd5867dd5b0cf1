package analytics

import (
	"math"
	"slices"
)

// pointGrid indexes planar points (EPSG:4549 metres) for the two questions
// coverage asks millions of times: which points lie within r of here, and
// which is nearest. A dense grid of square cells (points sorted by cell,
// compressed-row offsets) answers the first, and the nearest when it lies
// within one cell; a k-d tree answers the nearest when it is farther, where
// scanning empty cells would be slow.
type pointGrid struct {
	size       float64
	xs, ys     []float64
	x0, y0     float64 // lower-left corner of cell (0, 0)
	nx, ny     int
	start      []int32 // points of cell c: order[start[c]:start[c+1]]
	order      []int32
	tree       []int32 // k-d tree: point indices, median-split, implicit
	treeSplitX []bool
}

func newPointGrid(xs, ys []float64, size float64) *pointGrid {
	g := &pointGrid{size: size, xs: xs, ys: ys}
	if len(xs) == 0 {
		return g
	}
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for i := range xs {
		minX, minY, maxX, maxY = min(minX, xs[i]), min(minY, ys[i]), max(maxX, xs[i]), max(maxY, ys[i])
	}
	g.x0, g.y0 = minX, minY
	g.nx, g.ny = int((maxX-minX)/size)+1, int((maxY-minY)/size)+1
	counts := make([]int32, g.nx*g.ny+1)
	for i := range xs {
		counts[g.cell(xs[i], ys[i])+1]++
	}
	for c := 1; c < len(counts); c++ {
		counts[c] += counts[c-1]
	}
	g.start = counts
	g.order = make([]int32, len(xs))
	fill := slices.Clone(counts[:len(counts)-1])
	for i := range xs {
		c := g.cell(xs[i], ys[i])
		g.order[fill[c]] = int32(i)
		fill[c]++
	}
	g.tree = make([]int32, len(xs))
	for i := range g.tree {
		g.tree[i] = int32(i)
	}
	g.treeSplitX = make([]bool, len(xs))
	g.build(0, len(xs), true)
	return g
}

func (g *pointGrid) cell(x, y float64) int {
	return int((x-g.x0)/g.size) + int((y-g.y0)/g.size)*g.nx
}

// cellRange clamps the cells covering [x0, x1] × [y0, y1] to the grid; ok
// is false when the box misses it.
func (g *pointGrid) cellRange(x0, y0, x1, y1 float64) (cx0, cy0, cx1, cy1 int, ok bool) {
	cx0, cy0 = int(math.Floor((x0-g.x0)/g.size)), int(math.Floor((y0-g.y0)/g.size))
	cx1, cy1 = int(math.Floor((x1-g.x0)/g.size)), int(math.Floor((y1-g.y0)/g.size))
	cx0, cy0, cx1, cy1 = max(cx0, 0), max(cy0, 0), min(cx1, g.nx-1), min(cy1, g.ny-1)
	return cx0, cy0, cx1, cy1, cx0 <= cx1 && cy0 <= cy1
}

// within calls f with every point within r (planar) of (x, y).
func (g *pointGrid) within(x, y, r float64, f func(j int)) {
	if len(g.xs) == 0 {
		return
	}
	cx0, cy0, cx1, cy1, ok := g.cellRange(x-r, y-r, x+r, y+r)
	if !ok {
		return
	}
	for cy := cy0; cy <= cy1; cy++ {
		row := cy * g.nx
		for _, j := range g.order[g.start[row+cx0]:g.start[row+cx1+1]] {
			if dx, dy := g.xs[j]-x, g.ys[j]-y; dx*dx+dy*dy <= r*r {
				f(int(j))
			}
		}
	}
}

// nearest returns the point nearest to (x, y) within limit and its planar
// distance, or -1. Of equally near points, the lowest index.
func (g *pointGrid) nearest(x, y, limit float64) (int, float64) {
	if len(g.xs) == 0 {
		return -1, 0
	}
	best, bd2 := -1, math.Inf(1)
	if cx0, cy0, cx1, cy1, ok := g.cellRange(x-g.size, y-g.size, x+g.size, y+g.size); ok {
		for cy := cy0; cy <= cy1; cy++ {
			row := cy * g.nx
			for _, j := range g.order[g.start[row+cx0]:g.start[row+cx1+1]] {
				dx, dy := g.xs[j]-x, g.ys[j]-y
				if d2 := dx*dx + dy*dy; d2 < bd2 || (d2 == bd2 && int(j) < best) {
					best, bd2 = int(j), d2
				}
			}
		}
	}
	// Anything outside the block of cells within one cell size of (x, y)
	// is farther than the cell size.
	if best < 0 || bd2 > g.size*g.size {
		best, bd2 = g.treeNearest(x, y)
	}
	if bd := math.Sqrt(bd2); bd <= limit {
		return best, bd
	}
	return -1, 0
}

// build arranges tree[lo:hi] as a k-d tree: the median by the split axis
// at the middle, the smaller half before it.
func (g *pointGrid) build(lo, hi int, splitX bool) {
	if hi-lo <= 1 {
		if hi > lo {
			g.treeSplitX[lo] = splitX
		}
		return
	}
	mid := (lo + hi) / 2
	key := func(i int32) float64 {
		if splitX {
			return g.xs[i]
		}
		return g.ys[i]
	}
	part := g.tree[lo:hi]
	slices.SortFunc(part, func(a, b int32) int {
		ka, kb := key(a), key(b)
		switch {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return int(a - b)
	})
	g.treeSplitX[mid] = splitX
	g.build(lo, mid, !splitX)
	g.build(mid+1, hi, !splitX)
}

// treeNearest searches the k-d tree: the nearest point and its squared
// distance, the lowest index among equals.
func (g *pointGrid) treeNearest(x, y float64) (int, float64) {
	best, bd2 := -1, math.Inf(1)
	// A span of the tree and the squared distance from (x, y) to the
	// half-plane it lies in: it is searched only if that can still beat
	// the best so far (equality included, for the lowest-index rule).
	type span struct {
		lo, hi int
		d2     float64
	}
	stack := make([]span, 0, 64)
	stack = append(stack, span{0, len(g.tree), 0})
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if s.hi <= s.lo || s.d2 > bd2 {
			continue
		}
		mid := (s.lo + s.hi) / 2
		j := g.tree[mid]
		dx, dy := g.xs[j]-x, g.ys[j]-y
		if d2 := dx*dx + dy*dy; d2 < bd2 || (d2 == bd2 && int(j) < best) {
			best, bd2 = int(j), d2
		}
		diff := dy
		if g.treeSplitX[mid] {
			diff = dx
		}
		near, far := span{s.lo, mid, s.d2}, span{mid + 1, s.hi, max(s.d2, diff*diff)}
		if diff < 0 { // the point lies beyond the split: search that side first
			near, far = span{mid + 1, s.hi, s.d2}, span{s.lo, mid, max(s.d2, diff*diff)}
		}
		stack = append(stack, far, near)
	}
	return best, bd2
}
