package democity

import (
	"cmp"
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/paulmach/orb"
)

// The grid hierarchy is built bottom-up. Sites are scattered with a spacing
// that follows the population density (dense in town cores, sparse in the
// hills); each site inside the territory is one grid cell, its Voronoi cell.
// Communities are connected groups of cells grown from seed sites, towns
// connected groups of communities grown likewise, and every polygon above a
// cell is traced from the cells' shared Voronoi edges. Because neighbouring
// cells share their vertices exactly, cells tile communities and communities
// tile towns with neither gaps nor overlaps, and every polygon is valid.

const (
	landNone     = -1
	landMainland = 0
	landIsland   = 1
)

type site struct {
	p    vec
	land int8  // landNone for sites outside the territory (sea, neighbours, frame)
	cell int32 // index into grid.cells, -1 when not a territory cell
}

// gcell is one grid cell under construction.
type gcell struct {
	site       int32
	ring       polygon   // counter-clockwise, in the plane
	fan        []float64 // cumulative areas of the triangle fan from ring[0]
	area       float64   // m²
	town, comm int32
	density    float64 // persons/km² at the site
	land       float64 // share of the cell not under the river
	pop, hh    int
}

// grid is the built hierarchy in the plane, kept for placing everything else.
type grid struct {
	sites []site
	vor   *voronoi
	cells []gcell
	comms []gcomm
	towns []gtown
	loc   locator
	river []vec
	sp    []float64 // spacing at each site

	townOwner []int32 // per site, its town (-1 outside)
}

type gcomm struct {
	town   int32
	seed   int32 // site
	kind   string
	cells  []int32
	name   string
	code   string
	pop    int
	hh     int
	centre vec
}

type gtown struct {
	spec   townSpec
	centre vec
	core   float64 // radius of the built-up core, m
	seed   int32   // site
	comms  []int32
	pop    int
	hh     int
	class  string
}

// coreRadius is the radius of a town's built-up core at population pop.
func coreRadius(pop int) float64 { return 350 + 3.4*math.Sqrt(float64(pop)) }

// density is the resident density (persons/km²) the demo assumes at p:
// a rural floor rising from the western hills to the coastal plain, plus a
// Gaussian core around every town centre.
func (g *grid) density(p vec) float64 {
	ll := city.lonLat(p)
	t := smoothstep(120.47, 120.60, ll[0])
	d := 110 + 520*t
	for _, tw := range g.towns {
		s := tw.core * 0.75
		d2 := p.dist2(tw.centre)
		if d2 > 16*s*s {
			continue
		}
		peak := 0.55 * float64(tw.spec.pop) * 1000 / (2 * math.Pi * s * s / 1e6)
		d += peak * math.Exp(-d2/(2*s*s))
	}
	return d
}

func smoothstep(a, b, x float64) float64 {
	t := math.Max(0, math.Min(1, (x-a)/(b-a)))
	return t * t * (3 - 2*t)
}

// spacing is the distance between neighbouring grid-cell sites at p: a grid
// worker covers a few hundred households in town and a village in the hills.
func (g *grid) spacing(p vec) float64 {
	return math.Max(260, math.Min(1050, 1000*math.Sqrt(0.55*800/g.density(p))))
}

func toPlane(ll [][2]float64) polygon {
	pg := make(polygon, len(ll))
	for i, p := range ll {
		pg[i] = city.plane(p[0], p[1])
	}
	return pg
}

// newGrid builds the hierarchy: sites, Voronoi cells, communities, towns and
// their populations.
func newGrid(rng *rand.Rand) (*grid, error) {
	g := &grid{river: toPlane(river)}
	for _, ts := range towns {
		g.towns = append(g.towns, gtown{spec: ts, centre: city.plane(ts.lon, ts.lat), core: coreRadius(ts.pop * 1000)})
	}
	main, isl := toPlane(mainland), toPlane(island)
	g.sampleSites(rng, main, landMainland, 4000, 0)
	g.sampleSites(rng, isl, landIsland, 1500, 480)
	g.addFrame()
	g.sp = make([]float64, len(g.sites))
	for i, s := range g.sites {
		g.sp[i] = g.spacing(s.p)
	}

	pts := make([]vec, len(g.sites))
	for i, s := range g.sites {
		pts[i] = s.p
	}
	g.vor = triangulate(pts).voronoi()
	for i := range g.sites {
		if g.sites[i].land != landNone && g.vor.cells[i] == nil {
			g.sites[i].land = landNone // cannot happen inside the frame; be safe
		}
	}
	if err := g.growTowns(rng); err != nil {
		return nil, err
	}
	g.growCommunities(rng)
	g.makeCells(rng)
	g.loc = newLocator(g.sites)
	g.populate(rng)
	return g, nil
}

// sampleSites scatters sites over the bounding box of outline (plus margin)
// by dart throwing with a variable spacing, or a fixed one when fixed > 0.
// Sites inside the outline belong to the territory; those outside shape its
// edge and are otherwise unused.
func (g *grid) sampleSites(rng *rand.Rand, outline polygon, land int8, margin, fixed float64) {
	lo, hi := bounds(outline)
	lo = lo.sub(vec{margin, margin})
	hi = hi.add(vec{margin, margin})
	sp := func(p vec) float64 {
		if fixed > 0 {
			return fixed
		}
		return g.spacing(p)
	}
	const bucket = 1500.0
	nx := int((hi.X-lo.X)/bucket) + 1
	ny := int((hi.Y-lo.Y)/bucket) + 1
	buckets := make([][]int32, nx*ny)
	var local []struct {
		p  vec
		sp float64
	}
	area := (hi.X - lo.X) * (hi.Y - lo.Y)
	tries := int(area / (300 * 300) * 4)
	if fixed > 0 {
		tries = int(area / (fixed * fixed) * 30)
	}
	for range tries {
		c := vec{lo.X + rng.Float64()*(hi.X-lo.X), lo.Y + rng.Float64()*(hi.Y-lo.Y)}
		sc := sp(c)
		bx, by := int((c.X-lo.X)/bucket), int((c.Y-lo.Y)/bucket)
		ok := true
		for y := max(0, by-1); y <= min(ny-1, by+1) && ok; y++ {
			for x := max(0, bx-1); x <= min(nx-1, bx+1) && ok; x++ {
				for _, k := range buckets[y*nx+x] {
					q := local[k]
					if c.dist(q.p) < 0.5*(sc+q.sp) {
						ok = false
						break
					}
				}
			}
		}
		if !ok {
			continue
		}
		buckets[by*nx+bx] = append(buckets[by*nx+bx], int32(len(local)))
		local = append(local, struct {
			p  vec
			sp float64
		}{c, sc})
	}
	for _, s := range local {
		l := int8(landNone)
		if outline.contains(s.p) {
			l = land
		}
		g.sites = append(g.sites, site{p: s.p, land: l, cell: -1})
	}
}

// addFrame surrounds all sites with far points so that every real site has a
// bounded Voronoi cell.
func (g *grid) addFrame() {
	pts := make([]vec, len(g.sites))
	for i, s := range g.sites {
		pts[i] = s.p
	}
	lo, hi := bounds(pts)
	lo = lo.sub(vec{20000, 20000})
	hi = hi.add(vec{20000, 20000})
	const step = 5000.0
	for x := lo.X; x < hi.X; x += step {
		g.sites = append(g.sites, site{p: vec{x, lo.Y}, land: landNone, cell: -1}, site{p: vec{x + step/2, hi.Y}, land: landNone, cell: -1})
	}
	for y := lo.Y + step/2; y < hi.Y; y += step {
		g.sites = append(g.sites, site{p: vec{lo.X, y}, land: landNone, cell: -1}, site{p: vec{hi.X, y + step/3}, land: landNone, cell: -1})
	}
}

// riverCrossing reports whether the segment ab crosses the river.
func (g *grid) riverCrossing(a, b vec) bool {
	for i := 1; i < len(g.river); i++ {
		if _, _, ok := segCross(a, b, g.river[i-1], g.river[i]); ok {
			return true
		}
	}
	return false
}

// inRiver reports whether p is on the water of the river, with a bank of
// margin metres.
func (g *grid) inRiver(p vec, margin float64) bool {
	best := math.Inf(1)
	for i := 1; i < len(g.river); i++ {
		d, _ := segDist(p, g.river[i-1], g.river[i])
		best = math.Min(best, d)
	}
	return best < riverWidth(p.X)/2+margin
}

// grow runs a multi-source Dijkstra over the Delaunay graph of the sites
// allowed by ok, from each source with its own speed, and returns for each
// site the index of the source that reaches it first (-1 for none). Regions
// grown this way are always connected.
func (g *grid) grow(sources []int32, speed []float64, ok func(int32) bool, cost func(a, b int32) float64) []int32 {
	owner := make([]int32, len(g.sites))
	dist := make([]float64, len(g.sites))
	for i := range owner {
		owner[i] = -1
		dist[i] = math.Inf(1)
	}
	q := &pqueue{}
	for k, s := range sources {
		dist[s] = 0
		owner[s] = int32(k)
		heap.Push(q, pqItem{site: s, d: 0, owner: int32(k)})
	}
	done := make([]bool, len(g.sites))
	for q.Len() > 0 {
		it := heap.Pop(q).(pqItem)
		if done[it.site] || it.owner != owner[it.site] || it.d > dist[it.site] {
			continue
		}
		done[it.site] = true
		for _, nb := range g.vor.adj[it.site] {
			if done[nb] || !ok(nb) {
				continue
			}
			d := it.d + cost(it.site, nb)/speed[it.owner]
			if d < dist[nb] {
				dist[nb] = d
				owner[nb] = it.owner
				heap.Push(q, pqItem{site: nb, d: d, owner: it.owner})
			}
		}
	}
	return owner
}

type pqItem struct {
	site, owner int32
	d           float64
}

type pqueue []pqItem

func (q pqueue) Len() int { return len(q) }
func (q pqueue) Less(i, j int) bool {
	if q[i].d != q[j].d {
		return q[i].d < q[j].d
	}
	return q[i].site < q[j].site // deterministic ties
}
func (q pqueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *pqueue) Push(x any)   { *q = append(*q, x.(pqItem)) }
func (q *pqueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}

func (g *grid) cellArea(s int32) float64 {
	ring := g.vor.cells[s]
	pg := make(polygon, len(ring))
	for i, v := range ring {
		pg[i] = g.vor.verts[v]
	}
	return pg.area()
}

// nearestSite is the territory site of the given land nearest to p.
func (g *grid) nearestSite(p vec, land int8) int32 {
	best, bd := int32(-1), math.Inf(1)
	for i, s := range g.sites {
		if s.land == land {
			if d := p.dist2(s.p); d < bd {
				best, bd = int32(i), d
			}
		}
	}
	return best
}

// growTowns assigns every territory site to a town by weighted growth from
// the town centres, tuning the weights so that the towns' areas approach
// their real proportions. The river is a barrier the growth rarely crosses.
func (g *grid) growTowns(rng *rand.Rand) error {
	seeds := make([]int32, len(g.towns))
	speed := make([]float64, len(g.towns))
	for t := range g.towns {
		land := int8(landMainland)
		if g.towns[t].spec.island {
			land = landIsland
		}
		seeds[t] = g.nearestSite(g.towns[t].centre, land)
		if seeds[t] < 0 {
			return fmt.Errorf("democity: town %s has no site", g.towns[t].spec.name)
		}
		g.towns[t].seed = seeds[t]
		speed[t] = math.Sqrt(g.towns[t].spec.area) * (0.95 + 0.1*rng.Float64())
	}
	areaOf := make([]float64, len(g.sites))
	var mainTotal float64
	for i, s := range g.sites {
		if s.land != landNone {
			areaOf[i] = g.cellArea(int32(i))
			if s.land == landMainland {
				mainTotal += areaOf[i]
			}
		}
	}
	var targetMain float64
	for _, t := range g.towns {
		if !t.spec.island {
			targetMain += t.spec.area
		}
	}
	ok := func(s int32) bool { return g.sites[s].land != landNone }
	cost := func(a, b int32) float64 {
		if g.sites[a].land != g.sites[b].land {
			return math.Inf(1)
		}
		d := g.sites[a].p.dist(g.sites[b].p)
		if g.riverCrossing(g.sites[a].p, g.sites[b].p) {
			d *= 6
		}
		return d
	}
	var owner []int32
	for iter := 0; iter < 12; iter++ {
		owner = g.grow(seeds, speed, ok, cost)
		got := make([]float64, len(g.towns))
		for i, o := range owner {
			if o >= 0 {
				got[o] += areaOf[i]
			}
		}
		for t := range g.towns {
			if g.towns[t].spec.island || got[t] == 0 {
				continue
			}
			want := g.towns[t].spec.area / targetMain * mainTotal
			speed[t] *= math.Pow(want/got[t], 0.35)
		}
	}
	for i, o := range owner {
		if o < 0 && g.sites[i].land != landNone {
			g.sites[i].land = landNone // a sliver cut off from every town
		}
	}
	g.townOwner = owner
	return nil
}

// cellsPerCommunity is the mean number of grid cells in a village or
// community (~1,800 cells in ~450 communities).
const cellsPerCommunity = 4.0

// growCommunities splits every town into communities: seeds spread by
// farthest-point sampling (in units of the local cell spacing, so that
// communities hold similar numbers of cells), grown like the towns.
func (g *grid) growCommunities(rng *rand.Rand) {
	hop := func(a, b int32) float64 {
		d := g.sites[a].p.dist(g.sites[b].p) / (0.5 * (g.sp[a] + g.sp[b]))
		if g.riverCrossing(g.sites[a].p, g.sites[b].p) {
			d *= 6
		}
		return d
	}
	for t := range g.towns {
		tw := &g.towns[t]
		var members []int32
		for i, o := range g.townOwner {
			if o == int32(t) && g.sites[i].land != landNone {
				members = append(members, int32(i))
			}
		}
		k := max(1, int(math.Round(float64(len(members))/cellsPerCommunity)))
		if tw.spec.island {
			k = min(k, 3) // 北麂's three villages
		}
		jitter := make([]float64, len(members))
		minD := make([]float64, len(members))
		for i, m := range members {
			jitter[i] = 0.8 + 0.4*rng.Float64()
			minD[i] = hop(m, tw.seed) * jitter[i]
		}
		seeds := []int32{tw.seed}
		for len(seeds) < k {
			best := -1
			for i := range members {
				if best < 0 || minD[i] > minD[best] {
					best = i
				}
			}
			if minD[best] == 0 {
				break
			}
			s := members[best]
			seeds = append(seeds, s)
			for i, m := range members {
				minD[i] = math.Min(minD[i], hop(m, s)*jitter[i])
			}
		}
		ones := make([]float64, len(seeds))
		for i := range ones {
			ones[i] = 1
		}
		inTown := func(s int32) bool { return g.townOwner[s] == int32(t) && g.sites[s].land != landNone }
		owner := g.grow(seeds, ones, inTown, hop)
		first := int32(len(g.comms))
		used := map[string]bool{}
		nCommunity, nVillage := 0, 0
		for ci, s := range seeds {
			kind := "village"
			if g.density(g.sites[s].p) > 2500 {
				kind = "community"
			}
			c := gcomm{town: int32(t), seed: s, kind: kind, centre: g.sites[s].p}
			for {
				c.name = communityName(rng, kind)
				if !used[c.name] {
					used[c.name] = true
					break
				}
			}
			if kind == "community" {
				nCommunity++
				c.code = fmt.Sprintf("%s%03d", tw.spec.code, nCommunity)
			} else {
				nVillage++
				c.code = fmt.Sprintf("%s%03d", tw.spec.code, 200+nVillage)
			}
			tw.comms = append(tw.comms, first+int32(ci))
			g.comms = append(g.comms, c)
		}
		for _, m := range members {
			if o := owner[m]; o >= 0 {
				g.comms[first+o].cells = append(g.comms[first+o].cells, m)
			} else {
				g.sites[m].land = landNone // unreachable inside its town
			}
		}
	}
}

func communityName(rng *rand.Rand, kind string) string {
	if kind == "community" {
		return string(urbanFirst[rng.IntN(len(urbanFirst))]) + string(urbanSecond[rng.IntN(len(urbanSecond))]) + "社区"
	}
	return string(placeFirst[rng.IntN(len(placeFirst))]) + string(placeSecond[rng.IntN(len(placeSecond))]) + "村"
}

// makeCells turns every territory site into a grid cell, in community order
// and within a community from north-west to south-east.
func (g *grid) makeCells(rng *rand.Rand) {
	for ci := range g.comms {
		c := &g.comms[ci]
		slices.SortFunc(c.cells, func(a, b int32) int {
			pa, pb := g.sites[a].p, g.sites[b].p
			if r := cmp.Compare(pb.Y, pa.Y); r != 0 {
				return r
			}
			return cmp.Compare(pa.X, pb.X)
		})
		for _, s := range c.cells {
			ring := g.vor.cells[s]
			pg := make(polygon, len(ring))
			for i, v := range ring {
				pg[i] = g.vor.verts[v]
			}
			gc := gcell{site: s, ring: pg, town: c.town, comm: int32(ci), density: g.density(g.sites[s].p)}
			gc.fan = make([]float64, len(pg)-2)
			for i := 1; i+1 < len(pg); i++ {
				gc.area += orient(pg[0], pg[i], pg[i+1]) / 2
				gc.fan[i-1] = gc.area
			}
			g.sites[s].cell = int32(len(g.cells))
			g.cells = append(g.cells, gc)
		}
	}
	for i := range g.cells {
		c := &g.cells[i]
		wet := 0
		const samples = 16
		for range samples {
			if g.inRiver(c.sample(rng), 0) {
				wet++
			}
		}
		c.land = 1 - float64(wet)/samples
	}
}

// sample is a uniform random point in the cell.
func (c *gcell) sample(rng *rand.Rand) vec {
	r := rng.Float64() * c.area
	i, _ := slices.BinarySearch(c.fan, r)
	i = min(i, len(c.fan)-1)
	a, b, d := c.ring[0], c.ring[i+1], c.ring[i+2]
	u, v := rng.Float64(), rng.Float64()
	if u+v > 1 {
		u, v = 1-u, 1-v
	}
	return a.add(b.sub(a).scale(u)).add(d.sub(a).scale(v))
}

// populate shares the city's 1.5 million residents among towns (by their
// real proportions) and, within a town, among its cells by area, density and
// dry land; households follow at 2.4–2.9 persons each.
func (g *grid) populate(rng *rand.Rand) {
	weights := make([]float64, len(g.towns))
	for t, tw := range g.towns {
		weights[t] = float64(tw.spec.pop)
	}
	townPop := apportion(totalPopulation, weights)
	for t := range g.towns {
		var cells []int
		var w []float64
		for i, c := range g.cells {
			if c.town == int32(t) {
				cells = append(cells, i)
				w = append(w, c.area/1e6*c.density*c.land+1e-9)
			}
		}
		for k, p := range apportion(townPop[t], w) {
			c := &g.cells[cells[k]]
			c.pop = p
			size := 2.5 + 0.4*smoothstep(3000, 300, c.density) + 0.2*(rng.Float64()-0.5)
			c.hh = int(math.Round(float64(p) / size))
		}
	}
	for _, c := range g.cells {
		g.comms[c.comm].pop += c.pop
		g.comms[c.comm].hh += c.hh
		g.towns[c.town].pop += c.pop
		g.towns[c.town].hh += c.hh
	}
	// Workload class: residents weighted by industry, the top six A, the
	// next nine B, the rest C.
	order := make([]int, len(g.towns))
	for i := range order {
		order[i] = i
	}
	load := func(t int) float64 { return float64(g.towns[t].pop) * (0.6 + 0.4*g.towns[t].spec.industry) }
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(load(b), load(a)) })
	for rank, t := range order {
		switch {
		case rank < 6:
			g.towns[t].class = "A"
		case rank < 15:
			g.towns[t].class = "B"
		default:
			g.towns[t].class = "C"
		}
	}
}

// apportion splits total into integer parts proportional to weights by the
// largest-remainder method, so that the parts sum to total exactly.
func apportion(total int, weights []float64) []int {
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	parts := make([]int, len(weights))
	rems := make([]int, len(weights))
	given := 0
	for i, w := range weights {
		exact := float64(total) * w / sum
		parts[i] = int(exact)
		given += parts[i]
		rems[i] = i
	}
	frac := func(i int) float64 { return float64(total)*weights[i]/sum - float64(parts[i]) }
	slices.SortStableFunc(rems, func(a, b int) int { return cmp.Compare(frac(b), frac(a)) })
	for k := 0; given < total; k++ {
		parts[rems[k%len(rems)]]++
		given++
	}
	return parts
}

// union traces the outline of a set of cells along their shared Voronoi
// edges: an edge is on the outline when the cell across it is not in the
// set. Vertices are shared exactly, so the rings close exactly; every
// Voronoi vertex joins three cells, so the rings never touch themselves.
func (g *grid) union(cells []int32) orb.MultiPolygon {
	type edge struct{ a, b int32 }
	in := make(map[edge]bool)
	var all []edge
	for _, ci := range cells {
		ring := g.vor.cells[g.cells[ci].site]
		for i := range ring {
			e := edge{ring[i], ring[(i+1)%len(ring)]}
			in[e] = true
			all = append(all, e)
		}
	}
	next := make(map[int32]int32)
	var starts []int32
	for _, e := range all {
		if !in[edge{e.b, e.a}] {
			next[e.a] = e.b
			starts = append(starts, e.a)
		}
	}
	type ring struct {
		pts  polygon
		area float64
	}
	var shells, holes []ring
	seen := make(map[int32]bool)
	for _, s := range starts {
		if seen[s] {
			continue
		}
		var pts polygon
		for v := s; !seen[v]; v = next[v] {
			seen[v] = true
			pts = append(pts, g.vor.verts[v])
		}
		r := ring{pts, pts.area()}
		if r.area > 0 {
			shells = append(shells, r)
		} else {
			holes = append(holes, r)
		}
	}
	polys := make([]orb.Polygon, len(shells))
	for i, s := range shells {
		polys[i] = orb.Polygon{toRing(s.pts)}
	}
	for _, h := range holes {
		best := -1
		for i, s := range shells {
			if s.pts.contains(h.pts[0].lerp(h.pts[1], 0.5)) && (best < 0 || s.area < shells[best].area) {
				best = i
			}
		}
		if best >= 0 {
			polys[best] = append(polys[best], toRing(h.pts))
		}
	}
	return orb.MultiPolygon(polys)
}

// toRing converts a ring of the plane to a closed longitude/latitude ring.
func toRing(pg polygon) orb.Ring {
	r := make(orb.Ring, len(pg)+1)
	for i, p := range pg {
		r[i] = city.lonLat(p)
	}
	r[len(pg)] = r[0]
	return r
}

// locator finds the site nearest to a point: the grid cell containing a
// point is the Voronoi cell of its nearest site.
type locator struct {
	sites   []site
	lo      vec
	size    float64
	nx, ny  int
	buckets [][]int32
	far     []int32 // sites outside the bucketed box (the frame)
}

func newLocator(sites []site) locator {
	l := locator{sites: sites, size: 1000}
	// Bucket the territory's neighbourhood; the frame goes to far.
	var near []vec
	for _, s := range sites {
		if s.land != landNone {
			near = append(near, s.p)
		}
	}
	lo, hi := bounds(near)
	l.lo = lo.sub(vec{8000, 8000})
	hi = hi.add(vec{8000, 8000})
	l.nx = int((hi.X-l.lo.X)/l.size) + 1
	l.ny = int((hi.Y-l.lo.Y)/l.size) + 1
	l.buckets = make([][]int32, l.nx*l.ny)
	for i, s := range sites {
		bx, by := int(math.Floor((s.p.X-l.lo.X)/l.size)), int(math.Floor((s.p.Y-l.lo.Y)/l.size))
		if bx < 0 || by < 0 || bx >= l.nx || by >= l.ny {
			l.far = append(l.far, int32(i))
			continue
		}
		l.buckets[by*l.nx+bx] = append(l.buckets[by*l.nx+bx], int32(i))
	}
	return l
}

// nearest2 returns the two sites nearest to p and their squared distances.
func (l *locator) nearest2(p vec) (i1, i2 int32, d1, d2 float64) {
	i1, i2 = -1, -1
	d1, d2 = math.Inf(1), math.Inf(1)
	consider := func(i int32) {
		d := p.dist2(l.sites[i].p)
		switch {
		case d < d1:
			i2, d2 = i1, d1
			i1, d1 = i, d
		case d < d2:
			i2, d2 = i, d
		}
	}
	for _, i := range l.far {
		consider(i)
	}
	bx, by := int(math.Floor((p.X-l.lo.X)/l.size)), int(math.Floor((p.Y-l.lo.Y)/l.size))
	for r := 0; r < max(l.nx, l.ny); r++ {
		for y := by - r; y <= by+r; y++ {
			for x := bx - r; x <= bx+r; x++ {
				if (y != by-r && y != by+r && x != bx-r && x != bx+r) || x < 0 || y < 0 || x >= l.nx || y >= l.ny {
					continue
				}
				for _, i := range l.buckets[y*l.nx+x] {
					consider(i)
				}
			}
		}
		// Every site within r bucket widths of p has been seen.
		if reach := float64(r) * l.size; d2 <= reach*reach {
			break
		}
	}
	return i1, i2, d1, d2
}

// locate returns the grid cell containing p, or -1 when p is outside the
// territory or within a metre of a cell edge (so that a point's cell never
// depends on rounding).
func (g *grid) locate(p vec) int32 {
	i1, i2, d1, d2 := g.loc.nearest2(p)
	if i1 < 0 || i2 < 0 || g.sites[i1].cell < 0 {
		return -1
	}
	if (d2-d1)/(2*g.sites[i1].p.dist(g.sites[i2].p)) < 1 {
		return -1
	}
	return g.sites[i1].cell
}
