package analytics

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"golang.org/x/sync/singleflight"

	"github.com/onemap-city/onemap/geo"
)

// pointSet is one selection's points in memory (EPSG:4549 metres) at one
// data version, indexed by a uniform grid of square buckets so that kernel
// sums, box queries and binnings read only the points near them. Points at
// identical coordinates are one location carrying their number and the sum
// of their weights: every analysis here is a sum over points of a term
// that depends only on the position (a kernel value, a bin), so merging is
// exact up to the rounding of the weight sums. A pointSet is immutable and
// safe for concurrent use.
type pointSet struct {
	locs  []Point // the locations, in bucket order; W is the summed weight
	ns    []int32 // points at each location
	count int     // points: Σ ns
	b     *buckets
}

// pointSetCell is the side of a pointSet's buckets, metres (larger for
// sparse sets, see newBuckets): small enough that the rows of buckets a
// kernel disc reaches hug the disc (the waste is about 2·cell/r of the
// points visited), large enough that a pixel does not walk many rows.
const pointSetCell = 32.0

// newPointSet indexes pts. It returns an EInvalid error if a point has a
// non-finite coordinate or weight.
func newPointSet(pts []Point) (*pointSet, error) {
	xs, ys := make([]float64, len(pts)), make([]float64, len(pts))
	for i, p := range pts {
		if !finite(p.X) || !finite(p.Y) || !finite(p.W) {
			return nil, geo.Invalid("points", "point %d has a non-finite coordinate or weight (%v, %v, %v)", i, p.X, p.Y, p.W)
		}
		xs[i], ys[i] = p.X, p.Y
	}
	b := newBuckets(xs, ys, pointSetCell)
	s := &pointSet{locs: make([]Point, 0, len(pts)), ns: make([]int32, 0, len(pts)), count: len(pts), b: b}
	start := make([]int32, len(b.start))
	var group []Point
	for c := 0; c+1 < len(b.start); c++ {
		start[c] = int32(len(s.locs))
		group = group[:0]
		for _, i := range b.order[b.start[c]:b.start[c+1]] {
			group = append(group, pts[i])
		}
		if len(group) > 1 {
			slices.SortFunc(group, func(p, q Point) int {
				if c := compareFloat(p.X, q.X); c != 0 {
					return c
				}
				return compareFloat(p.Y, q.Y)
			})
		}
		for k, p := range group {
			if k > 0 && p.X == group[k-1].X && p.Y == group[k-1].Y {
				s.locs[len(s.locs)-1].W += p.W
				s.ns[len(s.ns)-1]++
				continue
			}
			s.locs = append(s.locs, p)
			s.ns = append(s.ns, 1)
		}
	}
	start[len(start)-1] = int32(len(s.locs))
	b.start, b.order = start, nil
	// Give back what merging saved.
	s.locs, s.ns = slices.Clip(s.locs), slices.Clip(s.ns)
	return s, nil
}

// bytes is the memory the set holds.
func (s *pointSet) bytes() int64 {
	return int64(cap(s.locs))*24 + int64(cap(s.ns))*4 + int64(cap(s.b.start))*4 + 128
}

// raw returns the QGIS Raw density Σ w·(1 − (d/r)²)² at x, y over the
// points within r, visiting for each row of buckets only the chord of the
// disc. (1 − d²·(1/r²) differs from 1 − d²/r² by an ulp at most.)
func (s *pointSet) raw(x, y, r float64) float64 {
	_, _, r0, r1, ok := s.b.rangeQ(x, y, r)
	if !ok {
		return 0
	}
	r2, inv := r*r, 1/(r*r)
	sum := 0.0
	for row := r0; row <= r1; row++ {
		c0, c1, ok := s.b.rowSpan(row, x, y, r)
		if !ok {
			continue
		}
		base := row * s.b.cols
		for _, p := range s.locs[s.b.start[base+c0]:s.b.start[base+c1+1]] {
			dx, dy := x-p.X, y-p.Y
			if d2 := dx*dx + dy*dy; d2 < r2 {
				t := 1 - d2*inv
				sum += p.W * t * t
			}
		}
	}
	return sum
}

// raw4 returns raw at four places at once, reading each point near them
// once: the places of a 2×2 block of pixels. It visits the chords of the
// disc around the block's centre that holds all four discs, so each place
// sums the same terms in the same order as raw: the results are identical.
func (s *pointSet) raw4(xs, ys *[4]float64, r float64) (out [4]float64) {
	x0, x1 := min(xs[0], xs[1], xs[2], xs[3]), max(xs[0], xs[1], xs[2], xs[3])
	y0, y1 := min(ys[0], ys[1], ys[2], ys[3]), max(ys[0], ys[1], ys[2], ys[3])
	cx, cy := (x0+x1)/2, (y0+y1)/2
	// The farthest corner of the box from its centre, rounded up.
	reach := r + math.Hypot(x1-x0, y1-y0)/2*(1+1e-9) + 1e-9*r
	_, _, r0, r1, ok := s.b.rangeQ(cx, cy, reach)
	if !ok {
		return out
	}
	r2, inv := r*r, 1/(r*r)
	ax, ay, bx, by := xs[0], ys[0], xs[1], ys[1]
	cx2, cy2, dx2, dy2 := xs[2], ys[2], xs[3], ys[3]
	var sa, sb, sc, sd float64
	for row := r0; row <= r1; row++ {
		c0, c1, ok := s.b.rowSpan(row, cx, cy, reach)
		if !ok {
			continue
		}
		base := row * s.b.cols
		for _, p := range s.locs[s.b.start[base+c0]:s.b.start[base+c1+1]] {
			if dx, dy := ax-p.X, ay-p.Y; dx*dx+dy*dy < r2 {
				t := 1 - (dx*dx+dy*dy)*inv
				sa += p.W * t * t
			}
			if dx, dy := bx-p.X, by-p.Y; dx*dx+dy*dy < r2 {
				t := 1 - (dx*dx+dy*dy)*inv
				sb += p.W * t * t
			}
			if dx, dy := cx2-p.X, cy2-p.Y; dx*dx+dy*dy < r2 {
				t := 1 - (dx*dx+dy*dy)*inv
				sc += p.W * t * t
			}
			if dx, dy := dx2-p.X, dy2-p.Y; dx*dx+dy*dy < r2 {
				t := 1 - (dx*dx+dy*dy)*inv
				sd += p.W * t * t
			}
		}
	}
	return [4]float64{sa, sb, sc, sd}
}

// sample returns raw at every xs[i], ys[i], split over the cores.
func (s *pointSet) sample(xs, ys []float64, r float64) []float64 {
	out := make([]float64, len(xs))
	inBlocks(len(xs), 256, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			out[i] = s.raw(xs[i], ys[i], r)
		}
	})
	return out
}

// sampleGrid returns raw at places given row by row, width per row (a
// tile's pixel centres), evaluating 2×2 blocks with raw4: the same values
// as sample, in about half the time.
func (s *pointSet) sampleGrid(xs, ys []float64, width int, r float64) []float64 {
	if width < 2 || len(xs)%width != 0 || (len(xs)/width)%2 != 0 || width%2 != 0 {
		return s.sample(xs, ys, r)
	}
	out := make([]float64, len(xs))
	// Work in pairs of rows.
	inBlocks(len(xs)/(2*width), 1, func(lo, hi int) {
		for pr := lo; pr < hi; pr++ {
			top := 2 * pr * width
			for col := 0; col < width; col += 2 {
				idx := [4]int{top + col, top + col + 1, top + width + col, top + width + col + 1}
				var bx, by [4]float64
				for k, i := range idx {
					bx[k], by[k] = xs[i], ys[i]
				}
				v := s.raw4(&bx, &by, r)
				for k, i := range idx {
					out[i] = v[k]
				}
			}
		}
	})
	return out
}

// inBlocks calls f on the blocks [lo, hi) of [0, n), block items each,
// interleaved over the cores so dense and empty parts even out.
func inBlocks(n, block int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), max(1, n/block))
	if workers <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lo := w * block; lo < n; lo += workers * block {
				f(lo, min(lo+block, n))
			}
		}()
	}
	wg.Wait()
}

// each calls f with every location inside box (inclusive) and its number
// of points.
func (s *pointSet) each(box [4]float64, f func(p Point, n int32)) {
	if s.count == 0 {
		return
	}
	// One bucket of slack each way: the test below is exact.
	c0, c1, okc := bucketRange(box[0], box[2], s.b.minX, s.b.cell, s.b.cols)
	r0, r1, okr := bucketRange(box[1], box[3], s.b.minY, s.b.cell, s.b.rows)
	if !okc || !okr {
		return
	}
	for row := r0; row <= r1; row++ {
		base := row * s.b.cols
		lo, hi := s.b.start[base+c0], s.b.start[base+c1+1]
		for j := lo; j < hi; j++ {
			p := s.locs[j]
			if p.X >= box[0] && p.X <= box[2] && p.Y >= box[1] && p.Y <= box[3] {
				f(p, s.ns[j])
			}
		}
	}
}

// bucketRange returns the buckets [i0, i1] of an axis starting at lo with n
// buckets that may hold values in [v0, v1], with one bucket of slack; ok is
// false if none.
func bucketRange(v0, v1, lo, cell float64, n int) (i0, i1 int, ok bool) {
	f0 := math.Floor((v0-lo)/cell) - 1
	f1 := math.Floor((v1-lo)/cell) + 1
	if !(f1 >= 0 && f0 <= float64(n-1)) {
		return 0, 0, false
	}
	return int(max(f0, 0)), int(min(f1, float64(n-1))), true
}

// points returns the locations inside box with their summed weights (the
// kernel input: merged points give the same sums).
func (s *pointSet) points(box [4]float64) []Point {
	var out []Point
	s.each(box, func(p Point, _ int32) { out = append(out, p) })
	return out
}

// DefaultPointCacheBytes bounds the points a PointCache keeps when its
// limit is zero: 1 GiB. The large demo's 2M hazards take about 50 MB.
const DefaultPointCacheBytes = 1 << 30

// PointCache keeps the points of recently used selections in memory, one
// copy per selection at its current data version (the versions of the
// layer and of every table its filters read), least recently used dropped
// first once the total passes MaxBytes. Heatmap tiles, hexagon binnings and
// hot-spot counts then cost arithmetic, not a read of millions of rows.
// The points are read through points.sql with filtersql, so a filter means
// what it means everywhere else. Safe for concurrent use; concurrent misses
// of one selection read it once.
type PointCache struct {
	DB       Database
	MaxBytes int64 // 0: DefaultPointCacheBytes

	mu      sync.Mutex
	entries map[string]*pointEntry
	used    int64
	tick    uint64
	flight  singleflight.Group
	loads   int // sets read from the database, for tests
}

type pointEntry struct {
	version int64
	set     *pointSet
	last    uint64
}

// NewPointCache returns a cache reading db, keeping up to maxBytes (0:
// DefaultPointCacheBytes).
func NewPointCache(db Database, maxBytes int64) *PointCache {
	return &PointCache{DB: db, MaxBytes: maxBytes}
}

// selectionTables lists the tables whose data a selection's points depend
// on: its layer's, those its filters look up, and the grid hierarchy for
// area filters.
func selectionTables(sel Selection) []string {
	tables := []string{sel.Layer.Table}
	for _, f := range sel.Filters {
		t, ok := sel.Layer.FilterTarget(f.Param)
		if !ok {
			continue
		}
		switch t.Kind {
		case geo.ViaRef:
			tables = append(tables, t.To.Table)
		case geo.InArea:
			tables = append(tables, "grid_cells", "communities")
		}
	}
	slices.Sort(tables[1:])
	return slices.Compact(tables)
}

// selectionVersion is one number for the data versions of the tables a
// selection reads: cached results of it are good while it is unchanged.
func selectionVersion(ctx context.Context, db Database, sel Selection) (int64, error) {
	_, v, err := dataVersions(ctx, db, selectionTables(sel))
	return v, err
}

// get returns the selection's points at their current data version.
func (c *PointCache) get(ctx context.Context, sel Selection) (*pointSet, int64, error) {
	v, err := selectionVersion(ctx, c.DB, sel)
	if err != nil {
		return nil, 0, err
	}
	s, err := c.at(ctx, sel, v)
	return s, v, err
}

// at returns the selection's points, known to be at version v.
func (c *PointCache) at(ctx context.Context, sel Selection, v int64) (*pointSet, error) {
	key := sel.Key()
	c.mu.Lock()
	if e, ok := c.entries[key]; ok && e.version == v {
		c.tick++
		e.last = c.tick
		c.mu.Unlock()
		return e.set, nil
	}
	c.mu.Unlock()
	got, err, _ := c.flight.Do(fmt.Sprintf("%s\x00%d", key, v), func() (any, error) {
		pts, err := allPoints(ctx, c.DB, sel)
		if err != nil {
			return nil, err
		}
		s, err := newPointSet(pts)
		if err != nil {
			return nil, err
		}
		c.keep(key, v, s)
		return s, nil
	})
	if err != nil {
		return nil, err
	}
	return got.(*pointSet), nil
}

// keep stores s as key's points at version v, replacing an older version,
// then drops the least recently used sets until the total fits. A set
// larger than the whole limit is used but not kept.
func (c *PointCache) keep(key string, v int64, s *pointSet) {
	limit := c.MaxBytes
	if limit <= 0 {
		limit = DefaultPointCacheBytes
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.loads++
	if c.entries == nil {
		c.entries = map[string]*pointEntry{}
	}
	if old, ok := c.entries[key]; ok {
		c.used -= old.set.bytes()
		delete(c.entries, key)
	}
	size := s.bytes()
	if size > limit {
		return
	}
	for c.used+size > limit {
		oldest, at := "", uint64(math.MaxUint64)
		for k, e := range c.entries {
			if e.last < at {
				oldest, at = k, e.last
			}
		}
		c.used -= c.entries[oldest].set.bytes()
		delete(c.entries, oldest)
	}
	c.tick++
	c.entries[key] = &pointEntry{version: v, set: s, last: c.tick}
	c.used += size
}

// Bytes returns the memory the cached points hold.
func (c *PointCache) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}
