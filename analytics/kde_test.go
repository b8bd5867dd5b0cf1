package analytics_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onemap-city/onemap/analytics"
	"github.com/onemap-city/onemap/geo"
)

// bruteRaw is the QGIS "Raw" quartic kernel written as plainly as it reads:
// Σ wᵢ·(1 − (dᵢ/r)²)² over the points with dᵢ < r.
func bruteRaw(points []analytics.Point, x, y, r float64) float64 {
	s := 0.0
	for _, p := range points {
		d := math.Hypot(x-p.X, y-p.Y)
		if d < r {
			u := d / r
			s += p.W * (1 - u*u) * (1 - u*u)
		}
	}
	return s
}

// near reports whether got equals want to 1e-9 relative; a zero want
// allows only rounding-level noise from kernels that end exactly at r.
func near(got, want, scale float64) bool {
	return math.Abs(got-want) <= 1e-9*math.Abs(want)+1e-15*scale
}

func TestKDEOracle(t *testing.T) {
	// One point, weight 1, r = 100 m: ArcGIS density 3/(π·100²) per m²,
	// 300/π = 95.4929… per km² at the point, and (1 − 0.5²)² = 0.5625 of it
	// 50 m away.
	pts := []analytics.Point{{X: 564000, Y: 3074000, W: 1}}
	const r = 100.0
	k, err := analytics.NewKDE(pts, r)
	if err != nil {
		t.Fatal(err)
	}
	peak := k.Raw(564000, 3074000) * analytics.PerKm2(r)
	if math.Abs(peak-95.4929658551372) > 1e-9 || math.Round(peak*100)/100 != 95.49 {
		t.Errorf("density at the point = %v per km², want 95.4929…", peak)
	}
	for _, at := range [][2]float64{{564050, 3074000}, {564000, 3073950}, {564000 + 50/math.Sqrt2, 3074000 + 50/math.Sqrt2}} {
		d := k.Raw(at[0], at[1]) * analytics.PerKm2(r)
		if math.Abs(d-0.5625*95.4929658551372) > 1e-9 {
			t.Errorf("density 50 m away at %v = %v, want 0.5625 × 95.49 = %v", at, d, 0.5625*95.4929658551372)
		}
	}
	if v := k.Raw(564100, 3074000); v != 0 {
		t.Errorf("density at d = r is %v, want 0", v)
	}
	// The same through Sample, Grid (a cell centred on the point and one
	// 50 m east) and the brute-force Raw.
	s := k.Sample([]float64{564000, 564050}, []float64{3074000, 3074000})
	g := k.Grid(563995, 3074005, 10, 10, 7, 1) // centres 564000, 564010, …, 564060
	for name, pair := range map[string][2]float64{
		"Sample": {s[0], s[1]}, "Grid": {g[0], g[5]},
		"Raw": {analytics.Raw(pts, 564000, 3074000, r), analytics.Raw(pts, 564050, 3074000, r)},
	} {
		if math.Abs(pair[0]*analytics.PerKm2(r)-95.4929658551372) > 1e-9 || math.Abs(pair[1]/pair[0]-0.5625) > 1e-12 {
			t.Errorf("%s: %v, %v; want peak 95.49/km² and ratio 0.5625", name, pair[0]*analytics.PerKm2(r), pair[1]/pair[0])
		}
	}
}

// The normalisation: a point's kernel, summed over a fine grid, spreads
// exactly its weight.
func TestKDEIntegratesToWeight(t *testing.T) {
	pts := []analytics.Point{{X: 0, Y: 0, W: 3}, {X: 40, Y: -25, W: 0.5}}
	const r, cell = 50.0, 0.5
	k, _ := analytics.NewKDE(pts, r)
	g := k.Grid(-100, 100, cell, cell, 400, 400)
	sum := 0.0
	for _, v := range g {
		sum += v
	}
	total := sum * cell * cell * analytics.PerKm2(r) / 1e6
	if math.Abs(total-3.5) > 3.5e-4 {
		t.Errorf("the surface holds %v, want the total weight 3.5", total)
	}
}

type kdeCase struct {
	pts  []analytics.Point
	r    float64
	x0   float64 // sampling box
	y0   float64
	size float64
}

func randomKDECase(rng *rand.Rand) kdeCase {
	c := kdeCase{r: 5 + 495*rng.Float64(), x0: 400000 + 200000*rng.Float64(), y0: 3000000 + 100000*rng.Float64()}
	c.size = 100 + 20000*rng.Float64()
	n := rng.IntN(1500)
	for range n {
		p := analytics.Point{X: c.x0 + c.size*rng.Float64(), Y: c.y0 + c.size*rng.Float64(), W: 0.01 + 5*rng.Float64()}
		if rng.IntN(5) == 0 && len(c.pts) > 0 { // clusters and exact duplicates
			q := c.pts[rng.IntN(len(c.pts))]
			p.X, p.Y = q.X+rng.NormFloat64()*c.r/3, q.Y+rng.NormFloat64()*c.r/3
			if rng.IntN(3) == 0 {
				p.X, p.Y = q.X, q.Y
			}
		}
		c.pts = append(c.pts, p)
	}
	return c
}

func weightSum(pts []analytics.Point) float64 {
	s := 0.0
	for _, p := range pts {
		s += math.Abs(p.W)
	}
	return s
}

func TestKDEMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := range 30 {
		c := randomKDECase(rng)
		k, err := analytics.NewKDE(c.pts, c.r)
		if err != nil {
			t.Fatal(err)
		}
		var xs, ys []float64
		for range 300 { // inside and around the points, out to beyond r
			xs = append(xs, c.x0-2*c.r+(c.size+4*c.r)*rng.Float64())
			ys = append(ys, c.y0-2*c.r+(c.size+4*c.r)*rng.Float64())
		}
		for i := 0; i < len(c.pts) && i < 50; i++ { // on the points themselves
			xs, ys = append(xs, c.pts[i].X), append(ys, c.pts[i].Y)
		}
		sample := k.Sample(xs, ys)
		scale := weightSum(c.pts)
		nonzero := 0
		for i := range xs {
			want := bruteRaw(c.pts, xs[i], ys[i], c.r)
			if want > 0 {
				nonzero++
			}
			if got := k.Raw(xs[i], ys[i]); !near(got, want, scale) {
				t.Fatalf("trial %d: KDE.Raw(%v, %v) = %v, brute force %v", trial, xs[i], ys[i], got, want)
			}
			if !near(sample[i], want, scale) {
				t.Fatalf("trial %d: Sample[%d] = %v, brute force %v", trial, i, sample[i], want)
			}
			if got := analytics.Raw(c.pts, xs[i], ys[i], c.r); !near(got, want, scale) {
				t.Fatalf("trial %d: Raw = %v, brute force %v", trial, got, want)
			}
		}
		if len(c.pts) > 100 && nonzero == 0 {
			t.Errorf("trial %d: every sample was zero: the test samples the wrong place", trial)
		}
	}
}

func TestKDEGridMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for trial := range 25 {
		c := randomKDECase(rng)
		k, _ := analytics.NewKDE(c.pts, c.r)
		cols, rows := 1+rng.IntN(60), 1+rng.IntN(40)
		cellW := c.size / float64(cols) * (0.3 + rng.Float64())
		cellH := c.size / float64(rows) * (0.3 + rng.Float64())
		if rng.IntN(2) == 0 { // cells much smaller than r
			cellW, cellH = c.r/7*(0.5+rng.Float64()), c.r/5*(0.5+rng.Float64())
		}
		ox := c.x0 - c.r + c.size*rng.Float64()/2
		oy := c.y0 + c.size + c.r - c.size*rng.Float64()/2
		g := k.Grid(ox, oy, cellW, cellH, cols, rows)
		if len(g) != cols*rows {
			t.Fatalf("Grid returned %d values for %d × %d", len(g), cols, rows)
		}
		scale := weightSum(c.pts)
		for row := range rows {
			for col := range cols {
				cx := ox + (float64(col)+0.5)*cellW
				cy := oy - (float64(row)+0.5)*cellH
				want := bruteRaw(c.pts, cx, cy, c.r)
				if got := g[row*cols+col]; !near(got, want, scale) {
					t.Fatalf("trial %d: cell (%d, %d) = %v, brute force %v", trial, col, row, got, want)
				}
			}
		}
	}
}

func TestKDEGridOrientationAndSeams(t *testing.T) {
	// A point near the north-west corner shows in row 0, column 0.
	k, _ := analytics.NewKDE([]analytics.Point{{X: 5, Y: 95, W: 1}}, 8)
	g := k.Grid(0, 100, 10, 10, 10, 10)
	if g[0] == 0 || g[9*10] != 0 {
		t.Errorf("row 0 should be north: top-left %v, bottom-left %v", g[0], g[90])
	}
	// Two adjacent tiles equal the halves of one raster over both: kernels
	// reach across the seam.
	rng := rand.New(rand.NewPCG(1, 1))
	var pts []analytics.Point
	for range 400 {
		pts = append(pts, analytics.Point{X: 1000 * rng.Float64(), Y: 1000 * rng.Float64(), W: 1})
	}
	k, _ = analytics.NewKDE(pts, 120)
	whole := k.Grid(0, 1000, 5, 5, 200, 200)
	left := k.Grid(0, 1000, 5, 5, 100, 200)
	right := k.Grid(500, 1000, 5, 5, 100, 200)
	for row := range 200 {
		for col := range 200 {
			half, c := left, col
			if col >= 100 {
				half, c = right, col-100
			}
			if whole[row*200+col] != half[row*100+c] {
				t.Fatalf("seam: cell (%d, %d) %v in the whole, %v in its tile", col, row, whole[row*200+col], half[row*100+c])
			}
		}
	}
}

func TestKDEInvalid(t *testing.T) {
	for _, r := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if _, err := analytics.NewKDE(nil, r); geo.ErrorCode(err) != geo.EInvalid {
			t.Errorf("NewKDE(r = %v) error %v, want invalid", r, err)
		}
	}
	if _, err := analytics.NewKDE([]analytics.Point{{X: math.NaN(), W: 1}}, 10); geo.ErrorCode(err) != geo.EInvalid {
		t.Errorf("NaN point: error %v, want invalid", err)
	}
	k, err := analytics.NewKDE(nil, 10)
	if err != nil || k.Raw(0, 0) != 0 || len(k.Grid(0, 0, 1, 1, 3, 3)) != 9 {
		t.Errorf("an empty KDE should be zero everywhere (err %v)", err)
	}
	if k.Grid(0, 0, 0, 1, 3, 3) != nil || k.Grid(0, 0, 1, 1, 0, 3) != nil || k.Sample([]float64{1}, nil) != nil {
		t.Error("bad grid or sample arguments should give nil")
	}
}

// Points spread far apart with a tiny radius must not allocate a bucket per
// square radius (this one would need 10¹⁰).
func TestKDESparseExtent(t *testing.T) {
	pts := []analytics.Point{{X: 0, Y: 0, W: 1}, {X: 1e6, Y: 1e6, W: 1}, {X: 5e5, Y: 2e5, W: 2}}
	k, err := analytics.NewKDE(pts, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pts {
		if got := k.Raw(p.X+3, p.Y-4); !near(got, bruteRaw(pts, p.X+3, p.Y-4, 10), 4) {
			t.Errorf("at %v: %v, want %v", p, got, bruteRaw(pts, p.X+3, p.Y-4, 10))
		}
	}
}

func TestDefaultBandwidthByHand(t *testing.T) {
	sqrtInvLn2 := math.Sqrt(1 / math.Ln2) // 1.2011224…
	cases := []struct {
		name string
		pts  []analytics.Point
		want float64
	}{
		{
			// Mean centre (0, 0). Distances 1, 1, 1, 1, 10, 10: median Dm = 1
			// (the mean would be 4). SD = √((1+1+0+0+100+100)/6 + (0+0+1+1+0+0)/6)
			// = √34 = 5.831. √(1/ln 2)·Dm = 1.2011 < SD, so
			// h = 0.9 · 1.2011 · 6^(−0.2) = 0.9 · 1.2011 · 0.69883 = 0.75544.
			// With the mean instead of the median: 0.9 · 4.8045 · 0.69883 = 3.0218.
			"six, median branch",
			pts(1, 0, -1, 0, 0, 1, 0, -1, 10, 0, -10, 0),
			0.9 * sqrtInvLn2 * 1 * math.Pow(6, -0.2),
		},
		{
			// Mean centre (0, 0). Distances 1, 1, 2, 2, 3, 3, 20, 20: even
			// count, Dm = (2 + 3)/2 = 2.5 (mean 6.5). SD = √((1+1+9+9)/8 +
			// (4+4+400+400)/8) = √103.5 = 10.17. h = 0.9 · 1.2011 · 2.5 · 8^(−0.2)
			// = 0.9 · 3.0028 · 0.65975 = 1.7830.
			"eight, even median",
			pts(1, 0, -1, 0, 0, 2, 0, -2, 3, 0, -3, 0, 0, 20, 0, -20),
			0.9 * sqrtInvLn2 * 2.5 * math.Pow(8, -0.2),
		},
		{
			// Mean centre (10, 10). Distances 0, 3, 4, 3, 4: Dm = 3 (mean 2.8).
			// SD = √((0+9+0+9+0)/5 + (0+0+16+0+16)/5) = √10 = 3.1623 <
			// 1.2011 · 3 = 3.6034, so the SD branch: h = 0.9 · √10 · 5^(−0.2)
			// = 0.9 · 3.1623 · 0.72478 = 2.0627.
			"five, SD branch",
			pts(10, 10, 13, 10, 10, 14, 7, 10, 10, 6),
			0.9 * math.Sqrt(10) * math.Pow(5, -0.2),
		},
	}
	for _, c := range cases {
		h, err := analytics.DefaultBandwidth(c.pts)
		if err != nil || math.Abs(h-c.want) > 1e-12*c.want {
			t.Errorf("%s: DefaultBandwidth = %v, %v; want %v", c.name, h, err, c.want)
		}
	}
	// Sanity of the comments' figures.
	if h, _ := analytics.DefaultBandwidth(cases[0].pts); math.Abs(h-0.75544) > 1e-4 {
		t.Errorf("six points: %v, hand figure 0.75544", h)
	}
	if h, _ := analytics.DefaultBandwidth(cases[1].pts); math.Abs(h-1.7830) > 1e-3 {
		t.Errorf("eight points: %v, hand figure 1.7830", h)
	}
}

func pts(xy ...float64) []analytics.Point {
	var out []analytics.Point
	for i := 0; i+1 < len(xy); i += 2 {
		out = append(out, analytics.Point{X: xy[i], Y: xy[i+1], W: 1})
	}
	return out
}

func TestDefaultBandwidthWeighted(t *testing.T) {
	// Weight 2 everywhere: same centre, median and SD, n = ΣW = 12.
	p := pts(1, 0, -1, 0, 0, 1, 0, -1, 10, 0, -10, 0)
	for i := range p {
		p[i].W = 2
	}
	want := 0.9 * math.Sqrt(1/math.Ln2) * 1 * math.Pow(12, -0.2)
	if h, err := analytics.DefaultBandwidth(p); err != nil || math.Abs(h-want) > 1e-12 {
		t.Errorf("all weights 2: %v, %v; want %v", h, err, want)
	}
	// A point of weight 3 counts as three coincident points of weight 1.
	rng := rand.New(rand.NewPCG(4, 4))
	for range 20 {
		var weighted, expanded []analytics.Point
		for range 2 + rng.IntN(30) {
			q := analytics.Point{X: 100 * rng.Float64(), Y: 100 * rng.Float64(), W: float64(1 + rng.IntN(4))}
			weighted = append(weighted, q)
			for range int(q.W) {
				expanded = append(expanded, analytics.Point{X: q.X, Y: q.Y, W: 1})
			}
		}
		a, err1 := analytics.DefaultBandwidth(weighted)
		b, err2 := analytics.DefaultBandwidth(expanded)
		if err1 != nil || err2 != nil || math.Abs(a-b) > 1e-9*b {
			t.Fatalf("weighted %v (%v) ≠ expanded %v (%v)", a, err1, b, err2)
		}
	}
}

func TestDefaultBandwidthInvalid(t *testing.T) {
	for name, p := range map[string][]analytics.Point{
		"none":       nil,
		"one":        pts(1, 1),
		"coincident": pts(5, 5, 5, 5, 5, 5),
		"negative":   {{X: 0, Y: 0, W: 1}, {X: 1, Y: 1, W: -1}},
		"zero total": {{X: 0, Y: 0, W: 0}, {X: 1, Y: 1, W: 0}},
		"NaN":        {{X: 0, Y: 0, W: 1}, {X: math.NaN(), Y: 1, W: 1}},
	} {
		if _, err := analytics.DefaultBandwidth(p); geo.ErrorCode(err) != geo.EInvalid {
			t.Errorf("%s: error %v, want invalid", name, err)
		}
	}
}

// benchPoints returns n points clustered like incidents in a city of
// 20 × 20 km: half around a few centres, half uniform.
func benchPoints(n int) []analytics.Point {
	rng := rand.New(rand.NewPCG(9, 9))
	out := make([]analytics.Point, n)
	for i := range out {
		if i%2 == 0 {
			c := float64(i%7) * 2500
			out[i] = analytics.Point{X: 555000 + c + 800*rng.NormFloat64(), Y: 3070000 + c + 800*rng.NormFloat64(), W: 1}
		} else {
			out[i] = analytics.Point{X: 550000 + 20000*rng.Float64(), Y: 3065000 + 20000*rng.Float64(), W: 1}
		}
	}
	return out
}

// A 256 × 256 raster of 40 m cells (10 km) over 10 000 points, r = 500 m
// (a disc of ~490 cells).
func BenchmarkKDEGrid256(b *testing.B) {
	k, _ := analytics.NewKDE(benchPoints(10000), 500)
	for b.Loop() {
		k.Grid(553000, 3078000, 40, 40, 256, 256)
	}
}

// The same 65 536 pixel centres through Sample (as for a tile).
func BenchmarkKDESample256(b *testing.B) {
	k, _ := analytics.NewKDE(benchPoints(10000), 500)
	xs := make([]float64, 0, 256*256)
	ys := make([]float64, 0, 256*256)
	for row := range 256 {
		for col := range 256 {
			xs = append(xs, 553000+(float64(col)+0.5)*40)
			ys = append(ys, 3078000-(float64(row)+0.5)*40)
		}
	}
	for b.Loop() {
		k.Sample(xs, ys)
	}
}

func BenchmarkNewKDE10k(b *testing.B) {
	p := benchPoints(10000)
	for b.Loop() {
		analytics.NewKDE(p, 500)
	}
}
