package analytics

import "math"

// buckets is a uniform grid over a point set, in compressed-row form: the
// points of bucket b are order[start[b]:start[b+1]]. Range queries visit
// only the buckets a search square touches, so a query with radius r costs
// the points within about r of the query point when the cell is ≥ r.
type buckets struct {
	minX, minY float64
	cell       float64
	cols, rows int
	start      []int32 // len cols*rows+1
	order      []int32 // point indices, grouped by bucket
}

// newBuckets groups the points xs[i], ys[i] (finite, checked by the caller)
// into square buckets of side at least cell. The side grows when needed to
// keep the bucket count near 2n, so points spread over a province with a
// 10 m radius do not allocate a billion empty buckets.
func newBuckets(xs, ys []float64, cell float64) *buckets {
	n := len(xs)
	b := &buckets{cell: cell, cols: 1, rows: 1}
	if n == 0 {
		b.start = []int32{0, 0}
		return b
	}
	minX, minY, maxX, maxY := xs[0], ys[0], xs[0], ys[0]
	for i := 1; i < n; i++ {
		minX, maxX = min(minX, xs[i]), max(maxX, xs[i])
		minY, maxY = min(minY, ys[i]), max(maxY, ys[i])
	}
	w, h := maxX-minX, maxY-minY
	maxBuckets := 2*float64(n) + 64
	if (w/cell+1)*(h/cell+1) > maxBuckets {
		// Solve (w/c+1)(h/c+1) ≈ maxBuckets for c, then round up safely.
		c := math.Sqrt(w * h / maxBuckets)
		c = max(c, (w+h)/maxBuckets, cell)
		for (w/c+1)*(h/c+1) > 2*maxBuckets {
			c *= 1.5
		}
		b.cell = c
	}
	b.minX, b.minY = minX, minY
	b.cols = int(w/b.cell) + 1
	b.rows = int(h/b.cell) + 1
	b.start = make([]int32, b.cols*b.rows+1)
	ids := make([]int32, n)
	for i := range n {
		id := int32(b.index(xs[i], ys[i]))
		ids[i] = id
		b.start[id+1]++
	}
	for i := 1; i < len(b.start); i++ {
		b.start[i] += b.start[i-1]
	}
	b.order = make([]int32, n)
	next := append([]int32(nil), b.start[:len(b.start)-1]...)
	for i, id := range ids {
		b.order[next[id]] = int32(i)
		next[id]++
	}
	return b
}

// index returns the bucket of a point inside the bounds.
func (b *buckets) index(x, y float64) int {
	c := min(int((x-b.minX)/b.cell), b.cols-1)
	r := min(int((y-b.minY)/b.cell), b.rows-1)
	return r*b.cols + c
}

// span returns the bucket columns (or rows) c0..c1 that the interval
// [v-r, v+r] touches along an axis starting at lo with n buckets; ok is
// false when it touches none.
func span(v, r, lo, cell float64, n int) (c0, c1 int, ok bool) {
	f0 := math.Floor((v - r - lo) / cell)
	f1 := math.Floor((v + r - lo) / cell)
	if !(f1 >= 0 && f0 <= float64(n-1)) { // also false for NaN
		return 0, 0, false
	}
	return int(max(f0, 0)), int(min(f1, float64(n-1))), true
}

// rowSpan returns the bucket columns of bucket row row that the disc of
// radius r around x, y can reach: the chord of the disc at the row's
// nearest edge, widened by a hair so rounding never drops a point within r.
// ok is false if the disc misses the row.
func (b *buckets) rowSpan(row int, x, y, r float64) (c0, c1 int, ok bool) {
	y0 := b.minY + float64(row)*b.cell
	dy := 0.0
	if y < y0 {
		dy = y0 - y
	} else if y1 := y0 + b.cell; y > y1 {
		dy = y - y1
	}
	slack := 1e-9 * b.cell
	dy = max(0, dy-slack)
	rem := r*r - dy*dy
	if rem < 0 {
		return 0, 0, false
	}
	return span(x, math.Sqrt(rem)+slack, b.minX, b.cell, b.cols)
}

// rangeQ returns the bucket column and row ranges touched by the square of
// half-side r around x, y.
func (b *buckets) rangeQ(x, y, r float64) (c0, c1, r0, r1 int, ok bool) {
	c0, c1, okc := span(x, r, b.minX, b.cell, b.cols)
	r0, r1, okr := span(y, r, b.minY, b.cell, b.rows)
	return c0, c1, r0, r1, okc && okr
}
