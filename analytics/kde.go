package analytics

import (
	"math"
	"slices"

	"github.com/onemap-city/onemap/geo"
)

// Point is one input point of a density surface: X, Y in metres in a metric
// CRS (EPSG:4549 in OneMap) and a weight W (ArcGIS's "population field"; 1
// for plain counts).
type Point struct{ X, Y, W float64 }

// Raw returns the QGIS "Raw" quartic kernel density at x, y:
// Σ wᵢ·(1 − (dᵢ/r)²)² over the points with dᵢ < r. It visits every point:
// it is the reference the fast KDE is tested against, and fine for a few
// samples. It returns 0 for r ≤ 0 or no points within r.
func Raw(points []Point, x, y, r float64) float64 {
	if !(r > 0) {
		return 0
	}
	r2 := r * r
	s := 0.0
	for _, p := range points {
		dx, dy := x-p.X, y-p.Y
		if d2 := dx*dx + dy*dy; d2 < r2 {
			t := 1 - d2/r2
			s += p.W * t * t
		}
	}
	return s
}

// PerKm2 returns the factor that turns a Raw value for radius r (metres)
// into ArcGIS's kernel density per square kilometre: 3/(π r²) per m², times
// 10⁶. The quartic kernel integrates to π r²/3, so a point of weight w
// spreads exactly w over its disc. It returns +Inf for r = 0.
func PerKm2(r float64) float64 { return 3e6 / (math.Pi * r * r) }

// KDE is a quartic kernel density surface over a fixed point set and
// radius, indexed by a uniform bucket grid so each evaluation visits only
// the points near it. Build it once with NewKDE; it is safe for concurrent
// use. All its values are QGIS Raw values: multiply by PerKm2 for ArcGIS
// densities per km².
type KDE struct {
	r, r2      float64
	b          *buckets
	xs, ys, ws []float64 // the points, in bucket order
}

// NewKDE indexes points for kernel density with radius (bandwidth) r in
// metres. It returns an EInvalid error if r is not a positive finite number
// or a point has a non-finite coordinate or weight. No points is valid: the
// surface is zero everywhere.
func NewKDE(points []Point, r float64) (*KDE, error) {
	if !(r > 0) || math.IsInf(r, 0) {
		return nil, geo.Invalid("radius", "the kernel radius must be a positive number of metres, got %v", r)
	}
	xs := make([]float64, len(points))
	ys := make([]float64, len(points))
	for i, p := range points {
		if !finite(p.X) || !finite(p.Y) || !finite(p.W) {
			return nil, geo.Invalid("points", "point %d has a non-finite coordinate or weight (%v, %v, %v)", i, p.X, p.Y, p.W)
		}
		xs[i], ys[i] = p.X, p.Y
	}
	// Buckets of r/2 and a chord per bucket row keep the points visited
	// close to the disc itself (about 1.5 π r² instead of 9 r² for r-sized
	// buckets and a square).
	b := newBuckets(xs, ys, r/2)
	k := &KDE{r: r, r2: r * r, b: b,
		xs: make([]float64, len(points)), ys: make([]float64, len(points)), ws: make([]float64, len(points))}
	for j, i := range b.order {
		k.xs[j], k.ys[j], k.ws[j] = points[i].X, points[i].Y, points[i].W
	}
	return k, nil
}

// Radius returns the kernel radius in metres.
func (k *KDE) Radius() float64 { return k.r }

// Raw returns the QGIS Raw density at x, y, as the package function Raw
// does, visiting only the buckets within r. It returns 0 far from every
// point and for non-finite x, y.
func (k *KDE) Raw(x, y float64) float64 {
	_, _, r0, r1, ok := k.b.rangeQ(x, y, k.r)
	if !ok {
		return 0
	}
	s := 0.0
	for row := r0; row <= r1; row++ {
		c0, c1, ok := k.b.rowSpan(row, x, y, k.r)
		if !ok {
			continue
		}
		base := row * k.b.cols
		for j := k.b.start[base+c0]; j < k.b.start[base+c1+1]; j++ {
			dx, dy := x-k.xs[j], y-k.ys[j]
			if d2 := dx*dx + dy*dy; d2 < k.r2 {
				t := 1 - d2/k.r2
				s += k.ws[j] * t * t
			}
		}
	}
	return s
}

// Sample returns the Raw density at each sample point xs[i], ys[i] (for a
// tile, the pixel centres projected to EPSG:4549, which are not a regular
// grid in metres). It returns nil if xs and ys differ in length.
func (k *KDE) Sample(xs, ys []float64) []float64 {
	if len(xs) != len(ys) {
		return nil
	}
	out := make([]float64, len(xs))
	for i := range xs {
		out[i] = k.Raw(xs[i], ys[i])
	}
	return out
}

// Grid returns the Raw density at the centres of a raster of cols × rows
// cells of cellW × cellH metres whose top-left (north-west) corner is
// originX, originY: value [row*cols+col] is at
// (originX + (col+0.5)·cellW, originY − (row+0.5)·cellH), row 0 at the top.
// Each point adds its kernel to the cells within r of it (a scatter), which
// costs points × cells per disc rather than cells × points. It returns nil
// if cols or rows is not positive or a cell size is not a positive finite
// number.
func (k *KDE) Grid(originX, originY, cellW, cellH float64, cols, rows int) []float64 {
	if cols <= 0 || rows <= 0 || !(cellW > 0) || !(cellH > 0) || math.IsInf(cellW, 0) || math.IsInf(cellH, 0) ||
		!finite(originX) || !finite(originY) {
		return nil
	}
	out := make([]float64, cols*rows)
	for j := range k.xs {
		px, py, w := k.xs[j], k.ys[j], k.ws[j]
		// Rows whose centre may lie within r, widened by one for rounding;
		// the d² test below is exact.
		ro0, ro1, ok := cellRange(originY-py, k.r, cellH, rows)
		if !ok {
			continue
		}
		for row := ro0; row <= ro1; row++ {
			cy := originY - (float64(row)+0.5)*cellH
			dy := cy - py
			rem := k.r2 - dy*dy
			if rem <= 0 {
				continue
			}
			co0, co1, ok := cellRange(px-originX, math.Sqrt(rem), cellW, cols)
			if !ok {
				continue
			}
			line := out[row*cols : (row+1)*cols]
			for col := co0; col <= co1; col++ {
				dx := originX + (float64(col)+0.5)*cellW - px
				if d2 := dx*dx + dy*dy; d2 < k.r2 {
					t := 1 - d2/k.r2
					line[col] += w * t * t
				}
			}
		}
	}
	return out
}

// cellRange returns the cells i in [0, n) whose centre (i+0.5)·cell may lie
// within half of v, padded by one cell for rounding; ok is false if none.
func cellRange(v, half, cell float64, n int) (i0, i1 int, ok bool) {
	f0 := math.Ceil((v-half)/cell-0.5) - 1
	f1 := math.Floor((v+half)/cell-0.5) + 1
	if !(f1 >= 0 && f0 <= float64(n-1)) {
		return 0, 0, false
	}
	return int(max(f0, 0)), int(min(f1, float64(n-1))), true
}

// DefaultBandwidth returns ArcGIS's default kernel radius (ArcGIS 10.2.1
// and later, "How Kernel Density works"), a spatial variant of Silverman's
// rule of thumb that resists outliers:
//
//	h = 0.9 · min(SD, √(1/ln 2) · Dm) · n^(−0.2)
//
// with the mean centre, the distances to it, their median Dm and the
// standard distance SD = √(Σ(xᵢ−X̄)²/n + Σ(yᵢ−Ȳ)²/n). As ArcGIS does with a
// population field, every step is weighted by W: the weighted mean centre,
// the weighted median (the distance at which the cumulative weight, in
// order of distance, first exceeds half the total; the mean of two
// distances where it equals half exactly, so unit weights give the ordinary
// median), the weighted SD (sums of W·d², divided by ΣW), and n = ΣW, the
// sum of the population values. With every W = 1 this is exactly the
// unweighted rule with n the number of points.
//
// It returns an EInvalid error for fewer than 2 points, a negative or
// non-finite weight, a zero total weight, non-finite coordinates, or points
// that all coincide (SD = 0) or put half their weight on the mean centre
// (Dm = 0), where no bandwidth can be derived.
func DefaultBandwidth(points []Point) (float64, error) {
	if len(points) < 2 {
		return 0, geo.Invalid("points", "a default radius needs at least 2 points, got %d", len(points))
	}
	var sw, sx, sy float64
	for i, p := range points {
		if !finite(p.X) || !finite(p.Y) || !finite(p.W) || p.W < 0 {
			return 0, geo.Invalid("points", "point %d has a non-finite coordinate or a negative or non-finite weight (%v, %v, %v)", i, p.X, p.Y, p.W)
		}
		sw += p.W
		sx += p.W * p.X
		sy += p.W * p.Y
	}
	if !(sw > 0) {
		return 0, geo.Invalid("points", "the weights add up to %v: a default radius needs a positive total", sw)
	}
	mx, my := sx/sw, sy/sw
	type wd struct{ d, w float64 }
	ds := make([]wd, len(points))
	var ss float64 // Σ W·d², the weighted sum of squared deviations
	for i, p := range points {
		dx, dy := p.X-mx, p.Y-my
		d2 := dx*dx + dy*dy
		ss += p.W * d2
		ds[i] = wd{math.Sqrt(d2), p.W}
	}
	sd := math.Sqrt(ss / sw)
	slices.SortFunc(ds, func(a, b wd) int { return compareFloat(a.d, b.d) })
	dm := weightedMedian(ds, sw, func(v wd) (float64, float64) { return v.d, v.w })
	h := 0.9 * min(sd, math.Sqrt(1/math.Ln2)*dm) * math.Pow(sw, -0.2)
	if !(h > 0) {
		return 0, geo.Invalid("points", "the points coincide (standard distance %v, median distance %v): give a radius", sd, dm)
	}
	return h, nil
}

// weightedMedian returns the weighted median of values sorted ascending,
// with total weight sw: the first value at which the cumulative weight
// exceeds sw/2, or the mean of it and the next positive-weight value where
// the cumulative weight equals sw/2 exactly.
func weightedMedian[T any](vs []T, sw float64, get func(T) (v, w float64)) float64 {
	half := sw / 2
	cum := 0.0
	for i, e := range vs {
		v, w := get(e)
		if w == 0 {
			continue
		}
		cum += w
		if cum > half {
			return v
		}
		if cum == half {
			for _, f := range vs[i+1:] {
				if v2, w2 := get(f); w2 > 0 {
					return (v + v2) / 2
				}
			}
			return v
		}
	}
	v, _ := get(vs[len(vs)-1])
	return v
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
