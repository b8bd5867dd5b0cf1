package analytics_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/onemap-city/onemap/analytics"
	"github.com/onemap-city/onemap/geo"
)

// bruteGiStar is the Gi* formula of METHODS.md term by term, O(n²):
// wᵢⱼ = 1 if dᵢⱼ ≤ band (j = i included), X̄ = Σx/n, S = √(Σx²/n − X̄²),
// Gi* = (Σⱼ wᵢⱼxⱼ − X̄ Σⱼ wᵢⱼ) / (S √((n Σⱼ wᵢⱼ² − (Σⱼ wᵢⱼ)²)/(n − 1))).
func bruteGiStar(xs, ys, v []float64, band float64) []analytics.GiResult {
	n := float64(len(v))
	var sum, sum2 float64
	for _, x := range v {
		sum += x
		sum2 += x * x
	}
	mean := sum / n
	s := math.Sqrt(sum2/n - mean*mean)
	out := make([]analytics.GiResult, len(v))
	for i := range v {
		var sw, sw2, swx float64
		m := 0
		for j := range v {
			w := 0.0
			if math.Hypot(xs[i]-xs[j], ys[i]-ys[j]) <= band {
				w = 1
				m++
			}
			sw += w
			sw2 += w * w
			swx += w * v[j]
		}
		z := (swx - mean*sw) / (s * math.Sqrt((n*sw2-sw*sw)/(n-1)))
		out[i] = analytics.GiResult{Z: z, P: math.Erfc(math.Abs(z) / math.Sqrt2), Neighbours: m}
	}
	return out
}

func compareGi(t *testing.T, name string, got, want []analytics.GiResult) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d results, want %d", name, len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Neighbours != w.Neighbours || math.Abs(g.Z-w.Z) > 1e-9*max(1, math.Abs(w.Z)) ||
			math.Abs(g.P-w.P) > 1e-9*max(1e-3, w.P) {
			t.Fatalf("%s: feature %d: got %+v, brute force %+v", name, i, g, w)
		}
	}
}

func TestGiStarMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 8))
	for range 40 {
		n := 3 + rng.IntN(600)
		xs, ys, v := make([]float64, n), make([]float64, n), make([]float64, n)
		size := 100 + 10000*rng.Float64()
		for i := range n {
			xs[i] = 500000 + size*rng.Float64()
			ys[i] = 3000000 + size*rng.Float64()
			v[i] = rng.ExpFloat64() * 10
			if i > 0 && rng.IntN(8) == 0 { // coincident features
				xs[i], ys[i] = xs[i-1], ys[i-1]
			}
		}
		band := size * (0.01 + 0.3*rng.Float64())
		got, err := analytics.GiStar(xs, ys, v, band)
		if err != nil {
			t.Fatal(err)
		}
		compareGi(t, "random", got, bruteGiStar(xs, ys, v, band))
	}
}

func TestGiStarLatticeMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	// Cell centroids of square grids (integer metres: distances like 100
	// and 200 are exact, so band = spacing is a clean rook neighbourhood).
	for _, c := range []struct {
		cols, rows int
		spacing    float64
		band       float64
	}{{5, 5, 1, 1}, {12, 9, 100, 100}, {20, 20, 100, 150}, {30, 17, 250, 500}, {40, 40, 100, 1000}} {
		var xs, ys, v []float64
		for r := range c.rows {
			for col := range c.cols {
				xs = append(xs, 564000+float64(col)*c.spacing)
				ys = append(ys, 3074000-float64(r)*c.spacing)
				v = append(v, float64(rng.IntN(6))) // counts, many ties
			}
		}
		got, err := analytics.GiStar(xs, ys, v, c.band)
		if err != nil {
			t.Fatal(err)
		}
		compareGi(t, "lattice", got, bruteGiStar(xs, ys, v, c.band))
	}
}

// A 5 × 5 lattice, spacing 1, band 1: each cell's neighbours are itself and
// its rook neighbours. All values 1 but a plus-shaped hot spot: the centre
// 10, its four rook neighbours 5.
//
//	n = 25, Σx = 10 + 4·5 + 20·1 = 50, X̄ = 2
//	Σx² = 100 + 4·25 + 20 = 220, S² = 220/25 − 2² = 4.8
//
// Centre (row 2, col 2): neighbours 10, 5, 5, 5, 5, Σw = Σw² = 5, Σwx = 30
//
//	Gi* = (30 − 2·5) / √(4.8 · (25·5 − 25)/24) = 20/√20 = √20 = 4.472136
//
// North of the centre (row 1, col 2), value 5: neighbours 5, 1 (north),
// 10 (south), 1, 1 (west, east): Σwx = 18, Σw = 5
//
//	Gi* = (18 − 10)/√20 = 1.788854
//
// Corner (row 0, col 0), value 1: neighbours 1, 1, 1: Σwx = 3, Σw = 3
//
//	Gi* = (3 − 6)/√(4.8 · (75 − 9)/24) = −3/√13.2 = −0.825723
func TestGiStar5x5ByHand(t *testing.T) {
	var xs, ys, v []float64
	for r := range 5 {
		for c := range 5 {
			xs = append(xs, float64(c))
			ys = append(ys, float64(4-r))
			val := 1.0
			switch {
			case r == 2 && c == 2:
				val = 10
			case (r == 2) != (c == 2) && (r-2)*(r-2)+(c-2)*(c-2) == 1:
				val = 5
			}
			v = append(v, val)
		}
	}
	got, err := analytics.GiStar(xs, ys, v, 1.0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		row, col, neighbours int
		z                    float64
	}{
		{2, 2, 5, math.Sqrt(20)}, // 4.472136
		{1, 2, 5, 8 / math.Sqrt(20)},
		{0, 0, 3, -3 / math.Sqrt(13.2)},
	} {
		g := got[c.row*5+c.col]
		if g.Neighbours != c.neighbours || math.Abs(g.Z-c.z) > 1e-12 {
			t.Errorf("cell (%d, %d): %+v, want Z %v with %d neighbours", c.row, c.col, g, c.z, c.neighbours)
		}
	}
	// The hand figures, to the digits in the comment.
	for i, want := range map[int]float64{12: 4.472136, 7: 1.788854, 0: -0.825723} {
		if math.Abs(got[i].Z-want) > 5e-7 {
			t.Errorf("cell %d: Z %v, hand figure %v", i, got[i].Z, want)
		}
	}
	// Two-sided p at z = √20: erfc(√10) = 7.74e-6.
	if p := got[12].P; math.Abs(p-math.Erfc(math.Sqrt(10))) > 1e-18 || p > 1e-5 {
		t.Errorf("centre p = %v", p)
	}
	if b := analytics.Bins(got, false); b[12] != 3 || b[7] != 1 || b[0] != 0 {
		t.Errorf("bins centre %d, north %d, corner %d; want 3, 1, 0 (north p = %.3f)", b[12], b[7], b[0], got[7].P)
	}
}

// PySAL's own test (pysal/esda, esda/tests/test_getisord.py,
// TestGLocal.test_star_binary): six points, DistanceBand(threshold=15),
// G_Local(y, w, transform="B", star=True).Zs[0] == -1.39727626.
//
// By hand: point 0 at (10, 10) has (20, 10) at 10 and (15, 20) at 11.18
// within 15, so Σw = 3, Σwx = 2 + 3 + 5 = 10; X̄ = 28.2/6 = 4.7,
// S² = 161.24/6 − 4.7² = 4.78333; Gi* = (10 − 14.1)/(2.18708·√((18 − 9)/5))
// = −4.1/2.93428 = −1.39728.
func TestGiStarPySAL(t *testing.T) {
	xs := []float64{10, 20, 40, 15, 30, 30}
	ys := []float64{10, 10, 10, 20, 20, 30}
	y := []float64{2, 3, 3.2, 5, 8, 7}
	got, err := analytics.GiStar(xs, ys, y, 15)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got[0].Z-(-1.39727626)) > 1e-8 {
		t.Errorf("Zs[0] = %.8f, PySAL -1.39727626", got[0].Z)
	}
	compareGi(t, "pysal", got, bruteGiStar(xs, ys, y, 15))
}

func TestGiStarInvalid(t *testing.T) {
	x3, y3 := []float64{0, 1, 2}, []float64{0, 0, 0}
	for name, c := range map[string]struct {
		xs, ys, v []float64
		band      float64
	}{
		"too few":     {x3[:2], y3[:2], []float64{1, 2}, 1},
		"lengths":     {x3, y3[:2], []float64{1, 2, 3}, 1},
		"zero band":   {x3, y3, []float64{1, 2, 3}, 0},
		"NaN band":    {x3, y3, []float64{1, 2, 3}, math.NaN()},
		"constant":    {x3, y3, []float64{0.1, 0.1, 0.1}, 1},
		"NaN value":   {x3, y3, []float64{1, math.NaN(), 3}, 1},
		"Inf coord":   {[]float64{0, math.Inf(1), 2}, y3, []float64{1, 2, 3}, 1},
		"no variance": {x3, y3, []float64{7, 7, 7}, 1},
	} {
		if _, err := analytics.GiStar(c.xs, c.ys, c.v, c.band); geo.ErrorCode(err) != geo.EInvalid {
			t.Errorf("%s: error %v, want invalid", name, err)
		}
	}
	// A band holding everything: 0/0, reported as Z 0, P 1.
	got, err := analytics.GiStar(x3, y3, []float64{1, 2, 4}, 100)
	if err != nil || got[0].Z != 0 || got[0].P != 1 || got[0].Neighbours != 3 {
		t.Errorf("all-neighbour band: %+v, %v", got, err)
	}
}

func TestBinsPlain(t *testing.T) {
	rs := []analytics.GiResult{
		{Z: 2.6, P: 0.0093}, {Z: -2.6, P: 0.0093}, {Z: 2.0, P: 0.0455}, {Z: -1.7, P: 0.0891},
		{Z: 1.0, P: 0.3173}, {Z: 1.645, P: 0.1}, {Z: 0, P: 1}, {Z: 5, P: 5.7e-7},
	}
	want := []int{3, -3, 2, -1, 0, 0, 0, 3}
	if got := analytics.Bins(rs, false); !slices.Equal(got, want) {
		t.Errorf("Bins = %v, want %v", got, want)
	}
}

// bruteBH applies Benjamini–Hochberg separately at each level, as written in
// the textbooks: sort the p-values, find the largest rank k with
// p₍ₖ₎ ≤ k·α/n, reject the hypotheses of ranks 1…k.
func bruteBH(rs []analytics.GiResult) []int {
	n := len(rs)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return rs[idx[a]].P < rs[idx[b]].P })
	bins := make([]int, n)
	for level, alpha := range []float64{0.10, 0.05, 0.01} {
		kmax := 0
		for k := 1; k <= n; k++ {
			if rs[idx[k-1]].P <= float64(k)*alpha/float64(n) {
				kmax = k
			}
		}
		for _, i := range idx[:kmax] {
			bins[i] = level + 1
		}
	}
	for i := range bins {
		if rs[i].Z < 0 {
			bins[i] = -bins[i]
		}
	}
	return bins
}

func TestBinsFDRMatchesBH(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 200 {
		n := 1 + rng.IntN(400)
		rs := make([]analytics.GiResult, n)
		signal := rng.Float64() // share of real effects
		for i := range rs {
			z := rng.NormFloat64()
			if rng.Float64() < signal {
				z += 3 * (2*float64(rng.IntN(2)) - 1)
			}
			rs[i] = analytics.GiResult{Z: z, P: math.Erfc(math.Abs(z) / math.Sqrt2)}
		}
		got, want := analytics.Bins(rs, true), bruteBH(rs)
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d (n %d): FDR bins differ from BH\n got %v\nwant %v", trial, n, got, want)
		}
		// FDR never makes a feature more significant.
		plain := analytics.Bins(rs, false)
		for i := range got {
			if abs(got[i]) > abs(plain[i]) {
				t.Fatalf("trial %d: feature %d FDR bin %d above plain %d", trial, i, got[i], plain[i])
			}
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// bruteDefaultBand: for each feature, sort the distances to all others and
// take the k-th; average them.
func bruteDefaultBand(xs, ys []float64) float64 {
	n := len(xs)
	k := int(math.Round(0.05 * float64(n)))
	k = min(max(k, 3), 30, n-1)
	sum := 0.0
	for i := range n {
		var d []float64
		for j := range n {
			if j != i {
				d = append(d, math.Hypot(xs[i]-xs[j], ys[i]-ys[j]))
			}
		}
		sort.Float64s(d)
		sum += d[k-1]
	}
	return sum / float64(n)
}

func TestDefaultBandMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 1))
	for trial, n := range []int{2, 3, 4, 10, 59, 61, 100, 333, 700, 1200} {
		xs, ys := make([]float64, n), make([]float64, n)
		for i := range n {
			switch {
			case trial%3 == 0: // a lattice with gaps
				xs[i], ys[i] = float64(i%37)*100, float64(i/37)*100
			case i > 0 && rng.IntN(10) == 0: // duplicates
				xs[i], ys[i] = xs[i-1], ys[i-1]
			case rng.IntN(2) == 0: // a cluster
				xs[i], ys[i] = 5000+50*rng.NormFloat64(), 5000+50*rng.NormFloat64()
			default:
				xs[i], ys[i] = 20000*rng.Float64(), 8000*rng.Float64()
			}
		}
		got, want := analytics.DefaultBand(xs, ys), bruteDefaultBand(xs, ys)
		if math.Abs(got-want) > 1e-9*want {
			t.Errorf("n = %d: DefaultBand %v, brute force %v", n, got, want)
		}
	}
	if analytics.DefaultBand([]float64{1}, []float64{1}) != 0 {
		t.Error("one feature should give 0")
	}
}

// latticeCells returns the centroids of a side × side grid of 100 m cells
// with Poisson-ish counts rising towards a hot corner.
func latticeCells(side int) (xs, ys, v []float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	for r := range side {
		for c := range side {
			xs = append(xs, 550000+float64(c)*100+50)
			ys = append(ys, 3090000-float64(r)*100-50)
			v = append(v, math.Floor(rng.ExpFloat64()*(1+float64(r+c)/float64(side))))
		}
	}
	return xs, ys, v
}

// 100 000 cells must take well under a second on one core; this test
// allows for a loaded machine.
func TestGiStar100kIsFast(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	xs, ys, v := latticeCells(317) // 100 489 cells
	start := time.Now()
	band := analytics.DefaultBand(xs, ys)
	tBand := time.Since(start)
	res, err := analytics.GiStar(xs, ys, v, band)
	if err != nil {
		t.Fatal(err)
	}
	analytics.Bins(res, true)
	total := time.Since(start)
	t.Logf("%d cells: DefaultBand %v (band %.0f m, %d neighbours), GiStar+Bins %v", len(v), tBand, band, res[len(res)/2].Neighbours, total-tBand)
	if total > 3*time.Second {
		t.Errorf("100k cells took %v", total)
	}
}

func BenchmarkGiStar100k(b *testing.B) {
	xs, ys, v := latticeCells(317)
	for b.Loop() {
		analytics.GiStar(xs, ys, v, 150) // queen neighbours + self: 9
	}
}

func BenchmarkGiStar100kWideBand(b *testing.B) {
	xs, ys, v := latticeCells(317)
	for b.Loop() {
		analytics.GiStar(xs, ys, v, 300) // 29 neighbours, as DefaultBand picks
	}
}

func BenchmarkDefaultBand100k(b *testing.B) {
	xs, ys, _ := latticeCells(317)
	for b.Loop() {
		analytics.DefaultBand(xs, ys)
	}
}

func BenchmarkBinsFDR100k(b *testing.B) {
	xs, ys, v := latticeCells(317)
	res, _ := analytics.GiStar(xs, ys, v, 150)
	for b.Loop() {
		analytics.Bins(res, true)
	}
}
