package analytics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randomPoints draws clustered points (EPSG:4549-like coordinates) with
// weights 1 or 3, about a fifth of them repeating an earlier point's
// position exactly, as hazards repeat their premise's.
func randomPoints(rng *rand.Rand, n int, spread float64) []Point {
	pts := make([]Point, n)
	for i := range pts {
		w := float64(1 + 2*rng.IntN(2))
		if i > 0 && rng.IntN(5) == 0 {
			p := pts[rng.IntN(i)]
			pts[i] = Point{p.X, p.Y, w}
			continue
		}
		pts[i] = Point{500000 + rng.NormFloat64()*spread, 3100000 + rng.NormFloat64()*spread, w}
	}
	return pts
}

// TestPointSetRawMatchesBruteForce: kernel sums over the merged, indexed
// points equal the sum over every point (METHODS.md's formula, distances by
// math.Hypot) to 1e-9, for radii from below the bucket size to far above,
// and sampling in parallel gives the same values.
func TestPointSetRawMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for round := range 12 {
		pts := randomPoints(rng, 200+rng.IntN(3000), 50+rng.Float64()*2000)
		s, err := newPointSet(pts)
		if err != nil {
			t.Fatal(err)
		}
		if s.count != len(pts) || len(s.locs) >= len(pts) {
			t.Fatalf("round %d: %d points, count %d, %d locations: duplicates not merged", round, len(pts), s.count, len(s.locs))
		}
		r := []float64{10, 25, 90, 300, 1200, 4000}[round%6]
		xs, ys := make([]float64, 300), make([]float64, 300)
		for i := range xs {
			p := pts[rng.IntN(len(pts))]
			xs[i], ys[i] = p.X+rng.NormFloat64()*r, p.Y+rng.NormFloat64()*r
		}
		xs[0], ys[0] = pts[0].X, pts[0].Y // on a point
		got := s.sample(xs, ys, r)
		for i := range xs {
			want := 0.0
			for _, p := range pts {
				if d := math.Hypot(xs[i]-p.X, ys[i]-p.Y); d < r {
					u := d / r
					want += p.W * (1 - u*u) * (1 - u*u)
				}
			}
			if math.Abs(got[i]-want) > 1e-9*math.Max(want, 1e-300) && math.Abs(got[i]-want) > 1e-12 {
				t.Fatalf("round %d r %g sample %d: %.15g, brute force %.15g", round, r, i, got[i], want)
			}
			if one := s.raw(xs[i], ys[i], r); one != got[i] {
				t.Fatalf("parallel sample %g differs from one evaluation %g", got[i], one)
			}
		}
	}
}

// TestPointSetGridIsSample: sampling a grid of places in 2×2 blocks gives
// exactly (bit for bit) what sampling each place alone gives, on a grid
// rotated and stretched like a tile's pixel centres in EPSG:4549.
func TestPointSetGridIsSample(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	pts := randomPoints(rng, 6000, 400)
	s, err := newPointSet(pts)
	if err != nil {
		t.Fatal(err)
	}
	for _, px := range []float64{2, 17, 34, 140} {
		const w = 48
		xs, ys := make([]float64, w*w), make([]float64, w*w)
		a := 0.02 + rng.Float64()*0.05 // rotation, radians
		for row := range w {
			for col := range w {
				u, v := (float64(col)-w/2)*px, -(float64(row)-w/2)*px*1.003
				xs[row*w+col] = 500000 + u*math.Cos(a) - v*math.Sin(a)
				ys[row*w+col] = 3100000 + u*math.Sin(a) + v*math.Cos(a)
			}
		}
		for _, r := range []float64{15, 300, 900} {
			want := s.sample(xs, ys, r)
			got := s.sampleGrid(xs, ys, w, r)
			nonzero := 0
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("pixel %g m, r %g, place %d: blocks %.17g, alone %.17g", px, r, i, got[i], want[i])
				}
				if want[i] > 0 {
					nonzero++
				}
			}
			if nonzero == 0 {
				t.Fatalf("pixel %g m, r %g: every value is zero: nothing compared", px, r)
			}
		}
	}
}

// TestPointSetBoxCounts: the points of a box, counted and weighed through
// the merged locations, are exactly those a scan finds, boundaries
// included.
func TestPointSetBoxCounts(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 1))
	pts := randomPoints(rng, 5000, 800)
	s, err := newPointSet(pts)
	if err != nil {
		t.Fatal(err)
	}
	for k := range 200 {
		p := pts[rng.IntN(len(pts))]
		box := [4]float64{p.X - rng.Float64()*600, p.Y - rng.Float64()*600, p.X + rng.Float64()*600, p.Y + rng.Float64()*600}
		if k%3 == 0 {
			box[0] = p.X // a point on the boundary
		}
		if k == 0 {
			box = world
		}
		wantN, wantW := 0, 0.0
		for _, q := range pts {
			if q.X >= box[0] && q.X <= box[2] && q.Y >= box[1] && q.Y <= box[3] {
				wantN++
				wantW += q.W
			}
		}
		gotN, gotW := 0, 0.0
		s.each(box, func(q Point, n int32) { gotN += int(n); gotW += q.W })
		if gotN != wantN || math.Abs(gotW-wantW) > 1e-9*wantW {
			t.Fatalf("box %v: %d points weighing %g, scan %d weighing %g", box, gotN, gotW, wantN, wantW)
		}
	}
	if _, err := newPointSet([]Point{{1, math.NaN(), 1}}); err == nil {
		t.Error("a NaN coordinate was accepted")
	}
}

// TestBinHexesCountsEveryPointOnce: binning the merged locations gives
// each hexagon the number and weight of the points HexCell puts in it.
func TestBinHexesCountsEveryPointOnce(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	pts := randomPoints(rng, 4000, 1500)
	s, err := newPointSet(pts)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []float64{25, 100, 400} {
		want := map[hexKey][2]float64{}
		for _, p := range pts {
			i, j := HexCell(p.X, p.Y, size)
			w := want[hexKey{i, j}]
			want[hexKey{i, j}] = [2]float64{w[0] + 1, w[1] + p.W}
		}
		got := binHexes(s, world, size)
		total := 0
		for _, c := range got {
			w := want[hexKey{c.I, c.J}]
			if float64(c.Count) != w[0] || math.Abs(c.Weight-w[1]) > 1e-9*w[1] {
				t.Errorf("size %g cell (%d,%d): %d weighing %g, want %v", size, c.I, c.J, c.Count, c.Weight, w)
			}
			total += c.Count
		}
		if total != len(pts) || len(got) != len(want) {
			t.Errorf("size %g: %d cells holding %d points, want %d cells holding %d", size, len(got), total, len(want), len(pts))
		}
	}
}

// TestPointCacheKeepsWithinBytes: the cache drops the least recently used
// selection once the next one would pass its limit, and does not keep a
// set larger than the whole limit.
func TestPointCacheKeepsWithinBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	mk := func(n int) *pointSet {
		s, err := newPointSet(randomPoints(rng, n, 500))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b, c := mk(1000), mk(1000), mk(1000)
	limit := a.bytes() + b.bytes() + c.bytes()/2
	pc := NewPointCache(nil, limit)
	pc.keep("a", 1, a)
	pc.keep("b", 1, b)
	pc.mu.Lock()
	pc.tick++
	pc.entries["a"].last = pc.tick // a used after b
	pc.mu.Unlock()
	pc.keep("c", 1, c)
	if _, ok := pc.entries["b"]; ok {
		t.Error("b, least recently used, was kept past the limit")
	}
	if _, ok := pc.entries["a"]; !ok {
		t.Error("a, used recently, was dropped")
	}
	if pc.Bytes() > limit || pc.Bytes() != a.bytes()+c.bytes() {
		t.Errorf("holding %d bytes, limit %d, want %d", pc.Bytes(), limit, a.bytes()+c.bytes())
	}
	pc.keep("a", 2, a) // a new version replaces the old
	if pc.Bytes() != a.bytes()+c.bytes() || pc.entries["a"].version != 2 {
		t.Errorf("a new version: %d bytes, version %d", pc.Bytes(), pc.entries["a"].version)
	}
	pc.keep("huge", 1, mk(20000))
	if _, ok := pc.entries["huge"]; ok || pc.Bytes() > limit {
		t.Error("a set larger than the limit was kept")
	}
}
