package democity

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/paulmach/orb"

	"github.com/onemap-city/onemap/geo"
)

// The road network: arterials between town centres (a Gabriel graph, so
// they never run parallel and close), secondary roads linking villages,
// and dense street grids in the town cores. Everything drawn is cut at its
// crossings (planarize), joined into one connected component (connect) and
// merged into roads that run from junction to junction (chains).

// hash01 is a deterministic number in [0, 1) from the seed and some integers,
// for properties of lattice streets that must not depend on drawing order.
func hash01(seed uint64, vals ...int64) float64 {
	h := seed ^ 0x9e3779b97f4a7c15
	for _, v := range vals {
		h ^= uint64(v) + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2)
		h = splitmix(h)
	}
	return float64(h>>11) / (1 << 53)
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// roadPlan holds the built-up cores and the drawn lines.
type roadPlan struct {
	g       *grid
	seed    uint64
	scale   Scale
	attrs   []roadAttr
	lines   []line
	spacing float64 // street spacing in the cores
	angle   float64 // orientation of the street grid
	wobble  []float64
}

func (rp *roadPlan) addAttr(a roadAttr) int32 {
	rp.attrs = append(rp.attrs, a)
	return int32(len(rp.attrs) - 1)
}

// coreDepth is how deep p lies inside the built-up core of any mainland
// town: 1 at a centre, 0 at the edge of the core, negative outside. The
// core edge wobbles with the angle so that town shapes look organic.
func (rp *roadPlan) coreDepth(p vec) float64 {
	best := math.Inf(-1)
	for t, tw := range rp.g.towns {
		if tw.spec.island {
			continue
		}
		d := p.sub(tw.centre)
		phi := math.Atan2(d.Y, d.X)
		r := tw.core * rp.scale.BuiltUp * (1 + 0.18*math.Sin(3*phi+rp.wobble[t]) + 0.08*math.Sin(5*phi+2*rp.wobble[t]))
		best = math.Max(best, 1-d.len()/r)
	}
	return best
}

// buildable reports whether a road node may stand at p: on the mainland,
// inside the territory, and not in the river.
func (rp *roadPlan) buildable(p vec) bool {
	c := rp.g.locate(p)
	return c >= 0 && !rp.g.towns[rp.g.cells[c].town].spec.island && !rp.g.inRiver(p, 25)
}

func buildRoads(g *grid, rng *rand.Rand, sc Scale, seed uint64) (*roadPlan, *network) {
	rp := &roadPlan{g: g, seed: seed, scale: sc, spacing: sc.StreetSpacing, angle: 0.18 + 0.1*rng.Float64()}
	for range g.towns {
		rp.wobble = append(rp.wobble, rng.Float64()*2*math.Pi)
	}
	rp.streetGrid()
	rp.arterials(rng)
	rp.villageRoads(rng)
	link := rp.addAttr(roadAttr{class: "local", width: 6}) // unnamed links between street fragments
	nw := planarize(rp.attrs, rp.lines)
	return rp, connect(nw, link, 900)
}

// streetGrid draws one city-wide lattice of streets, slightly irregular,
// kept wherever it falls inside a town core. Every fifth line is a
// secondary road, two lines through the centre are the city's boulevards,
// and in the old town every other street is one-way, alternating.
func (rp *roadPlan) streetGrid() {
	s := rp.spacing
	ux := vec{math.Cos(rp.angle), math.Sin(rp.angle)}
	uy := ux.perp()
	node := func(i, j int) vec {
		jx := (hash01(rp.seed, 1, int64(i), int64(j)) - 0.5) * 0.24 * s
		jy := (hash01(rp.seed, 2, int64(i), int64(j)) - 0.5) * 0.24 * s
		return ux.scale(float64(i)*s + jx).add(uy.scale(float64(j)*s + jy))
	}
	// The lattice range covering every core.
	imin, imax, jmin, jmax := 0, 0, 0, 0
	for _, tw := range rp.g.towns {
		if tw.spec.island {
			continue
		}
		r := tw.core * rp.scale.BuiltUp * 1.3
		for _, c := range []vec{{-r, -r}, {r, -r}, {-r, r}, {r, r}} {
			p := tw.centre.add(c)
			i, j := int(math.Floor(p.dot(ux)/s)), int(math.Floor(p.dot(uy)/s))
			imin, imax = min(imin, i-1), max(imax, i+1)
			jmin, jmax = min(jmin, j-1), max(jmax, j+1)
		}
	}
	w := imax - imin + 1
	in := make([]bool, w*(jmax-jmin+1))
	at := func(i, j int) bool {
		if i < imin || i > imax || j < jmin || j > jmax {
			return false
		}
		return in[(j-jmin)*w+(i-imin)]
	}
	for j := jmin; j <= jmax; j++ {
		for i := imin; i <= imax; i++ {
			p := node(i, j)
			if rp.coreDepth(p) > 0 && rp.buildable(p) {
				in[(j-jmin)*w+(i-imin)] = true
			}
		}
	}
	// Street names: rows are 路, columns are 街, named once for the city.
	rowName := func(j int) string {
		return roadWords[int(hash01(rp.seed, 3, int64(j))*float64(len(roadWords)))] + []string{"路", "东路", "西路", "北路"}[int(hash01(rp.seed, 4, int64(j))*4)]
	}
	colName := func(i int) string {
		return roadWords[int(hash01(rp.seed, 5, int64(i))*float64(len(roadWords)))] + []string{"街", "巷", "街", "南路"}[int(hash01(rp.seed, 6, int64(i))*4)]
	}
	attrs := map[roadAttr]int32{}
	attrOf := func(a roadAttr) int32 {
		if id, ok := attrs[a]; ok {
			return id
		}
		id := rp.addAttr(a)
		attrs[a] = id
		return id
	}
	streetAttr := func(horizontal bool, k int, mid vec) roadAttr {
		name := colName(k)
		if horizontal {
			name = rowName(k)
		}
		switch {
		case k == 0 && horizontal:
			return roadAttr{class: "arterial", name: "罗阳大道", width: 62}
		case k == 0:
			return roadAttr{class: "arterial", name: "瑞安大道", width: 64}
		case k%5 == 0:
			return roadAttr{class: "secondary", name: name, width: 14 + math.Floor(hash01(rp.seed, 7, int64(k))*8)}
		}
		a := roadAttr{class: "local", name: name, width: 6 + math.Floor(hash01(rp.seed, 8, int64(k), btoi64(horizontal))*5)}
		// One-way streets alternate direction in the old town.
		if horizontal && mid.len() < 2600 && (k%4 == 1 || k%4 == 3) {
			a.oneway = true
		}
		return a
	}
	for j := jmin; j <= jmax; j++ {
		for i := imin; i <= imax; i++ {
			if !at(i, j) {
				continue
			}
			p := node(i, j)
			if at(i+1, j) {
				q := node(i+1, j)
				a := streetAttr(true, j, p.lerp(q, 0.5))
				if a.oneway && j%4 == 3 {
					p, q = q, p // westbound
				}
				if !rp.g.riverCrossing(p, q) || i%8 == 0 {
					rp.lines = append(rp.lines, line{pts: []vec{p, q}, attr: attrOf(a)})
				}
			}
			if at(i, j+1) {
				q := node(i, j+1)
				if !rp.g.riverCrossing(p, q) || i%6 == 0 {
					rp.lines = append(rp.lines, line{pts: []vec{p, q}, attr: attrOf(streetAttr(false, i, p.lerp(q, 0.5)))})
				}
			}
		}
	}
}

func btoi64(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// gabriel returns the Gabriel graph of pts (pairs with no other point in the
// circle on their segment as diameter), found among the Delaunay edges.
func gabriel(pts []vec) [][2]int {
	frame := append([]vec(nil), pts...)
	lo, hi := bounds(pts)
	pad := math.Max(hi.X-lo.X, hi.Y-lo.Y)
	for k := range 12 {
		a := float64(k) * math.Pi / 6
		frame = append(frame, lo.lerp(hi, 0.5).add(vec{math.Cos(a), math.Sin(a)}.scale(3*pad)))
	}
	v := triangulate(frame).voronoi()
	var out [][2]int
	for a := range pts {
		for _, b32 := range v.adj[a] {
			b := int(b32)
			if b <= a || b >= len(pts) {
				continue
			}
			m := pts[a].lerp(pts[b], 0.5)
			r2 := pts[a].dist2(m)
			ok := true
			for c := range pts {
				if c != a && c != b && pts[c].dist2(m) < r2 {
					ok = false
					break
				}
			}
			if ok {
				out = append(out, [2]int{a, b})
			}
		}
	}
	return out
}

// wiggly draws a road from a to b with a gentle curve, a vertex every
// ~250 m, its ends exactly at a and b.
func wiggly(rng *rand.Rand, a, b vec, amp float64) []vec {
	d := b.sub(a)
	n := max(1, int(d.len()/250))
	side := d.perp().unit()
	a1 := (rng.Float64()*2 - 1) * amp * d.len()
	a2 := (rng.Float64()*2 - 1) * amp * 0.4 * d.len()
	pts := make([]vec, n+1)
	for k := 0; k <= n; k++ {
		t := float64(k) / float64(n)
		off := a1*math.Sin(math.Pi*t) + a2*math.Sin(2*math.Pi*t)
		pts[k] = a.lerp(b, t).add(side.scale(off))
	}
	pts[0], pts[n] = a, b
	return pts
}

// named is the arterial names for some pairs of towns; others are named by
// the first characters of their towns, as county roads are (塘莘线).
var named = map[[2]string]string{
	{"塘下镇", "汀田街道"}: "104国道", {"汀田街道", "锦湖街道"}: "104国道", {"安阳街道", "玉海街道"}: "虹桥路",
	{"玉海街道", "飞云街道"}: "飞云江大桥", {"塘下镇", "莘塍街道"}: "塘下大道", {"上望街道", "莘塍街道"}: "莘塍大道",
	{"东山街道", "上望街道"}: "滨海大道", {"安阳街道", "锦湖街道"}: "万松路", {"玉海街道", "东山街道"}: "沿江路",
}

func (rp *roadPlan) arterials(rng *rand.Rand) {
	var pts []vec
	var idx []int
	for t, tw := range rp.g.towns {
		if !tw.spec.island {
			pts = append(pts, tw.centre)
			idx = append(idx, t)
		}
	}
	for _, e := range gabriel(pts) {
		ta, tb := rp.g.towns[idx[e[0]]].spec, rp.g.towns[idx[e[1]]].spec
		name, ok := named[[2]string{ta.name, tb.name}]
		if !ok {
			name, ok = named[[2]string{tb.name, ta.name}]
		}
		if !ok {
			name = string([]rune(ta.name)[:1]) + string([]rune(tb.name)[:1]) + "线"
		}
		urban := ta.street && tb.street
		width := 16 + math.Floor(rng.Float64()*8)
		if urban {
			width = 30 + math.Floor(rng.Float64()*16)
		}
		attr := rp.addAttr(roadAttr{class: "arterial", name: name, width: width})
		amp := 0.05
		if urban {
			amp = 0.02
		}
		rp.lines = append(rp.lines, line{pts: wiggly(rng, pts[e[0]], pts[e[1]], amp), attr: attr})
	}
}

// villageRoads links the villages to each other and to the towns: the
// Gabriel graph of village and town centres, without the long links, the
// links inside cores (the street grid serves there) and most river
// crossings (a few are bridges).
func (rp *roadPlan) villageRoads(rng *rand.Rand) {
	var pts []vec
	var names []string
	for _, tw := range rp.g.towns {
		if !tw.spec.island {
			pts = append(pts, tw.centre)
			names = append(names, "")
		}
	}
	for _, c := range rp.g.comms {
		if rp.g.towns[c.town].spec.island || !rp.buildable(c.centre) {
			continue
		}
		pts = append(pts, c.centre)
		names = append(names, strings.TrimSuffix(strings.TrimSuffix(c.name, "村"), "社区"))
	}
	for _, e := range gabriel(pts) {
		a, b := pts[e[0]], pts[e[1]]
		if a.dist(b) > 4200 {
			continue
		}
		if rp.coreDepth(a) > 0 && rp.coreDepth(b) > 0 {
			continue
		}
		if rp.g.riverCrossing(a, b) && (a.dist(b) > 1500 || rng.Float64() > 0.35) {
			continue
		}
		name := names[e[0]]
		if name == "" {
			name = names[e[1]]
		}
		if name == "" {
			continue // two town centres: an arterial links them
		}
		attr := rp.addAttr(roadAttr{class: "secondary", name: name + "路", width: 8 + math.Floor(rng.Float64()*6)})
		rp.lines = append(rp.lines, line{pts: wiggly(rng, a, b, 0.08), attr: attr})
	}
}

// roadRows turns the network into road and node rows. A road that closes on
// itself is cut in two so that no road starts and ends at the same node.
func (c *City) roadRows(nw *network) {
	var chains []chain
	for _, ch := range nw.chains() {
		if n := len(ch.nodes); ch.nodes[0] == ch.nodes[n-1] {
			mid := n / 2
			chains = append(chains, chain{nodes: ch.nodes[:mid+1], attr: ch.attr}, chain{nodes: ch.nodes[mid:], attr: ch.attr})
			continue
		}
		chains = append(chains, ch)
	}
	c.net, c.chains = nw, chains
	c.nodeID = make([]int64, len(nw.nodes))
	pts := make([]orb.Point, len(nw.nodes))
	for i, p := range nw.nodes {
		pts[i] = city.lonLat(p)
	}
	id := func(n int32) int64 {
		if c.nodeID[n] == 0 {
			c.Nodes = append(c.Nodes, Node{ID: int64(len(c.Nodes) + 1), Point: pts[n]})
			c.nodeID[n] = int64(len(c.Nodes))
		}
		return c.nodeID[n]
	}
	for _, ch := range chains {
		a := nw.attrs[ch.attr]
		ls := make(orb.LineString, len(ch.nodes))
		for i, n := range ch.nodes {
			ls[i] = pts[n]
		}
		rid := int64(len(c.Roads) + 1)
		c.Roads = append(c.Roads, Road{
			ID: rid, ExtID: fmt.Sprintf("demo-road-%06d", rid), Name: a.name, Class: a.class,
			SpeedKmh: geo.DefaultRoadSpeed[a.class], Oneway: a.oneway, WidthM: a.width,
			Source: id(ch.nodes[0]), Target: id(ch.nodes[len(ch.nodes)-1]), Line: ls,
		})
	}
	c.fixOneWays()
}

// fixOneWays makes the directed network strongly connected, so that a fire
// engine can reach every node from every other: while more than one strongly
// connected component remains, every one-way road between two components is
// opened both ways.
func (c *City) fixOneWays() {
	for {
		comp := c.strongComponents()
		changed := false
		for i := range c.Roads {
			r := &c.Roads[i]
			if r.Oneway && comp[r.Source-1] != comp[r.Target-1] {
				r.Oneway = false
				changed = true
			}
		}
		if !changed {
			return
		}
	}
}

// strongComponents labels every node (by ID-1) with its strongly connected
// component (iterative Tarjan).
func (c *City) strongComponents() []int {
	n := len(c.Nodes)
	out := make([][]int, n)
	for _, r := range c.Roads {
		s, t := int(r.Source-1), int(r.Target-1)
		out[s] = append(out[s], t)
		if !r.Oneway {
			out[t] = append(out[t], s)
		}
	}
	index := make([]int, n)
	low := make([]int, n)
	comp := make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	next, ncomp := 0, 0
	type frame struct{ v, edge int }
	for root := range n {
		if index[root] >= 0 {
			continue
		}
		call := []frame{{root, 0}}
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			if f.edge < len(out[f.v]) {
				w := out[f.v][f.edge]
				f.edge++
				if index[w] < 0 {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{w, 0})
				} else if onStack[w] {
					low[f.v] = min(low[f.v], index[w])
				}
				continue
			}
			v := f.v
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := call[len(call)-1].v
				low[p] = min(low[p], low[v])
			}
			if low[v] == index[v] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = ncomp
					if w == v {
						break
					}
				}
				ncomp++
			}
		}
	}
	return comp
}
