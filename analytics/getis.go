package analytics

import (
	"math"
	"slices"

	"github.com/onemap-city/onemap/geo"
)

// GiResult is the Getis-Ord Gi* of one feature: its z-score, the two-sided
// p-value of Z under the standard normal, and the number of neighbours
// within the band, the feature itself included (Σⱼ wᵢⱼ).
type GiResult struct {
	Z, P       float64
	Neighbours int
}

// GiStar returns the Getis-Ord Gi* z-score of every feature i at xs[i],
// ys[i] (metres) with value values[i], with binary distance-band weights:
// wᵢⱼ = 1 if feature j is within band metres of i (distance ≤ band), i
// itself included, else 0. With n features, X̄ = Σx/n and
// S = √(Σx²/n − X̄²),
//
//	Gi* = (Σⱼ wᵢⱼxⱼ − X̄ Σⱼ wᵢⱼ) / (S √((n Σⱼ wᵢⱼ² − (Σⱼ wᵢⱼ)²) / (n − 1)))
//
// as in ArcGIS's Hot Spot Analysis with a fixed distance band and PySAL's
// G_Local(star=True, transform='B').Zs. (S² and the numerator are summed
// as deviations from X̄, which is the same number with less rounding.) A
// feature whose band holds every feature has 0/0; its Z is 0 and P 1.
//
// It returns an EInvalid error if the slices differ in length, there are
// fewer than 3 features, band is not a positive finite number, a
// coordinate or value is not finite, or all values are equal (S = 0).
func GiStar(xs, ys, values []float64, band float64) ([]GiResult, error) {
	n := len(values)
	if len(xs) != n || len(ys) != n {
		return nil, geo.Invalid("values", "got %d x, %d y and %d values: they must be as many", len(xs), len(ys), n)
	}
	if n < 3 {
		return nil, geo.Invalid("values", "Gi* needs at least 3 features, got %d", n)
	}
	if !(band > 0) || math.IsInf(band, 0) {
		return nil, geo.Invalid("band", "the distance band must be a positive number of metres, got %v", band)
	}
	mean := 0.0
	for i := range n {
		if !finite(xs[i]) || !finite(ys[i]) || !finite(values[i]) {
			return nil, geo.Invalid("values", "feature %d has a non-finite coordinate or value (%v, %v, %v)", i, xs[i], ys[i], values[i])
		}
		mean += values[i]
	}
	mean /= float64(n)
	ss := 0.0
	for _, v := range values {
		ss += (v - mean) * (v - mean)
	}
	s := math.Sqrt(ss / float64(n))
	if !(s > 0) || s <= 1e-14*math.Abs(mean) {
		return nil, geo.Invalid("values", "all %d values are equal (%v): Gi* is undefined without variation", n, mean)
	}

	b := newBuckets(xs, ys, band)
	px := make([]float64, n)
	py := make([]float64, n)
	dev := make([]float64, n) // xⱼ − X̄, in bucket order
	for j, i := range b.order {
		px[j], py[j], dev[j] = xs[i], ys[i], values[i]-mean
	}
	band2 := band * band
	nf := float64(n)
	out := make([]GiResult, n)
	for q, i := range b.order {
		x, y := px[q], py[q]
		c0, c1, r0, r1, _ := b.rangeQ(x, y, band)
		m := 0
		num := 0.0
		for row := r0; row <= r1; row++ {
			base := row * b.cols
			for j := b.start[base+c0]; j < b.start[base+c1+1]; j++ {
				dx, dy := x-px[j], y-py[j]
				if dx*dx+dy*dy <= band2 {
					m++
					num += dev[j]
				}
			}
		}
		// Binary weights: Σw = Σw² = m.
		mf := float64(m)
		den := s * math.Sqrt((nf*mf-mf*mf)/(nf-1))
		r := GiResult{Z: 0, P: 1, Neighbours: m}
		if m < n {
			r.Z = num / den
			r.P = pNormal2(r.Z)
		}
		out[i] = r
	}
	return out, nil
}

// pNormal2 returns the two-sided p-value of a standard normal z-score.
func pNormal2(z float64) float64 { return math.Erfc(math.Abs(z) / math.Sqrt2) }

// Confidence levels of the hot-spot bins: bin ±3 at 99%, ±2 at 95%, ±1 at
// 90% confidence, two-sided.
var binAlphas = [3]float64{0.10, 0.05, 0.01}

// Bins returns ArcGIS's Gi_Bin for each result: ±3, ±2, ±1 for a z-score
// significant at 99%, 95% or 90% confidence (two-sided p < 0.01, 0.05,
// 0.10), with the sign of Z (+ hot, − cold), and 0 otherwise.
//
// With fdr, significance is decided as ArcGIS's "Apply False Discovery Rate
// correction" does, by the Benjamini–Hochberg step-up procedure at each
// level α ∈ {0.10, 0.05, 0.01} separately: with the n p-values sorted
// ascending, p₍₁₎ ≤ … ≤ p₍ₙ₎, find the largest k with p₍ₖ₎ ≤ (k/n)·α; the
// features with p ≤ p₍ₖ₎ are significant at α. A feature's bin is the
// highest confidence at which it is significant. FDR only moves bins; Z
// and P are unchanged. Bins does not fail; a NaN p-value is never
// significant.
func Bins(results []GiResult, fdr bool) []int {
	n := len(results)
	bins := make([]int, n)
	if n == 0 {
		return bins
	}
	// cut[l] is the largest p significant at level l (α = binAlphas[l]).
	var cut [3]float64
	strict := !fdr // the plain rule is p < α; BH's is p ≤ p₍ₖ₎
	if fdr {
		ps := make([]float64, 0, n)
		for _, r := range results {
			if !math.IsNaN(r.P) {
				ps = append(ps, r.P)
			}
		}
		slices.Sort(ps)
		for l, a := range binAlphas {
			cut[l] = math.Inf(-1)
			for k := len(ps); k >= 1; k-- {
				if ps[k-1] <= float64(k)/float64(n)*a {
					cut[l] = ps[k-1]
					break
				}
			}
		}
	} else {
		cut = binAlphas
	}
	for i, r := range results {
		level := 0
		for l, c := range cut {
			if (strict && r.P < c) || (!strict && r.P <= c) {
				level = l + 1
			}
		}
		if r.Z < 0 {
			level = -level
		}
		bins[i] = level
	}
	return bins
}

// DefaultBand returns the distance band Optimized Hot Spot Analysis falls
// back on when it finds no peak of spatial autocorrelation: the mean, over
// all features, of the distance to each feature's k-th nearest neighbour,
// with k = 5% of the number of features (rounded) clamped to [3, 30], and
// to n − 1 for very few features. Coincident features count as neighbours
// at distance 0. It returns 0 for fewer than 2 features or any non-finite
// coordinate; GiStar rejects a band of 0.
func DefaultBand(xs, ys []float64) float64 {
	n := min(len(xs), len(ys))
	if n < 2 {
		return 0
	}
	for i := range n {
		if !finite(xs[i]) || !finite(ys[i]) {
			return 0
		}
	}
	k := int(math.Round(0.05 * float64(n)))
	k = min(max(k, 3), 30, n-1)
	xs, ys = xs[:n], ys[:n]

	// Buckets sized for about two points each, searched in growing rings
	// until the k-th best distance found is closer than any unvisited ring.
	minX, minY, maxX, maxY := xs[0], ys[0], xs[0], ys[0]
	for i := 1; i < n; i++ {
		minX, maxX = min(minX, xs[i]), max(maxX, xs[i])
		minY, maxY = min(minY, ys[i]), max(maxY, ys[i])
	}
	cell := math.Sqrt((maxX - minX) * (maxY - minY) * 2 / float64(n))
	cell = max(cell, (maxX-minX+maxY-minY)/float64(n), 1e-9)
	b := newBuckets(xs, ys, cell)
	px := make([]float64, n)
	py := make([]float64, n)
	for j, i := range b.order {
		px[j], py[j] = xs[i], ys[i]
	}
	best := make(maxHeap, 0, k)
	sum := 0.0
	for q := range n {
		x, y := px[q], py[q]
		best = best[:0]
		cx := min(int((x-b.minX)/b.cell), b.cols-1)
		cy := min(int((y-b.minY)/b.cell), b.rows-1)
		for ring := 0; ; ring++ {
			// Points in ring ≥ 1 are at least (ring−1)·cell away.
			if len(best) == k && ring >= 1 && float64(ring-1)*b.cell > math.Sqrt(best[0]) {
				break
			}
			if ring > b.cols && ring > b.rows {
				break
			}
			for row := cy - ring; row <= cy+ring; row++ {
				if row < 0 || row >= b.rows {
					continue
				}
				edge := row == cy-ring || row == cy+ring
				for col := cx - ring; col <= cx+ring; col++ {
					if col < 0 || col >= b.cols {
						continue
					}
					if !edge && col != cx-ring && col != cx+ring {
						continue
					}
					id := row*b.cols + col
					for j := b.start[id]; j < b.start[id+1]; j++ {
						if int(j) == q {
							continue
						}
						dx, dy := x-px[j], y-py[j]
						d2 := dx*dx + dy*dy
						best.offer(d2, k)
					}
				}
			}
		}
		sum += math.Sqrt(best[0])
	}
	return sum / float64(n)
}

// maxHeap keeps the k smallest squared distances seen, the largest of them
// on top (index 0). It is hand-rolled: container/heap would box every
// float64 in an interface.
type maxHeap []float64

// offer adds d to the heap if it holds fewer than k values or d is smaller
// than its largest.
func (h *maxHeap) offer(d float64, k int) {
	a := *h
	if len(a) < k {
		a = append(a, d)
		for i := len(a) - 1; i > 0; {
			p := (i - 1) / 2
			if a[p] >= a[i] {
				break
			}
			a[p], a[i] = a[i], a[p]
			i = p
		}
		*h = a
		return
	}
	if d >= a[0] {
		return
	}
	a[0] = d
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(a) && a[l] > a[m] {
			m = l
		}
		if r < len(a) && a[r] > a[m] {
			m = r
		}
		if m == i {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
}
