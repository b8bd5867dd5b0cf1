package democity

import (
	"cmp"
	"math"
	"slices"
)

// roadAttr is what a road line carries into the network.
type roadAttr struct {
	class  string
	name   string
	width  float64
	oneway bool // in the direction the line was drawn
}

// classRank orders classes so that where two drawn roads coincide the more
// important one is kept.
func classRank(class string) int {
	switch class {
	case "arterial":
		return 3
	case "secondary":
		return 2
	}
	return 1
}

// line is a road as drawn, before it is cut at intersections.
type line struct {
	pts  []vec
	attr int32 // index into the network's attrs
}

// network is a planar road graph: every crossing of two drawn roads is a
// node, and every edge runs between two nodes without crossing another.
type network struct {
	attrs []roadAttr
	nodes []vec
	edges []nedge
}

// nedge is one straight piece of road between two nodes; a one-way edge may
// be driven from a to b only.
type nedge struct {
	a, b int32
	attr int32
}

// snapTolerance merges points closer than this (metres) into one node.
const snapTolerance = 0.5

// nodeIndex hands out node ids, merging points within snapTolerance.
type nodeIndex struct {
	nodes   []vec
	buckets map[[2]int64][]int32
}

func (ix *nodeIndex) id(p vec) int32 {
	const size = 4 * snapTolerance
	bx, by := int64(math.Floor(p.X/size)), int64(math.Floor(p.Y/size))
	for y := by - 1; y <= by+1; y++ {
		for x := bx - 1; x <= bx+1; x++ {
			for _, n := range ix.buckets[[2]int64{x, y}] {
				if ix.nodes[n].dist2(p) < snapTolerance*snapTolerance {
					return n
				}
			}
		}
	}
	n := int32(len(ix.nodes))
	ix.nodes = append(ix.nodes, p)
	k := [2]int64{bx, by}
	ix.buckets[k] = append(ix.buckets[k], n)
	return n
}

// planarize cuts the drawn lines at every crossing and every T-junction and
// returns the resulting graph. Where two lines share a piece, the one of the
// higher class is kept. Processing follows the order of lines and segments,
// so the result is deterministic.
func planarize(attrs []roadAttr, lines []line) *network {
	type seg struct {
		a, b   vec
		attr   int32
		splits []float64
	}
	var segs []seg
	for _, l := range lines {
		for i := 1; i < len(l.pts); i++ {
			if l.pts[i-1].dist2(l.pts[i]) > 0 {
				segs = append(segs, seg{a: l.pts[i-1], b: l.pts[i], attr: l.attr})
			}
		}
	}
	const bucket = 400.0
	buckets := make(map[[2]int64][]int32)
	keys := func(s seg) (x0, y0, x1, y1 int64) {
		return int64(math.Floor(math.Min(s.a.X, s.b.X) / bucket)), int64(math.Floor(math.Min(s.a.Y, s.b.Y) / bucket)),
			int64(math.Floor(math.Max(s.a.X, s.b.X) / bucket)), int64(math.Floor(math.Max(s.a.Y, s.b.Y) / bucket))
	}
	for i, s := range segs {
		x0, y0, x1, y1 := keys(s)
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				buckets[[2]int64{x, y}] = append(buckets[[2]int64{x, y}], int32(i))
			}
		}
	}
	checked := make([]int32, len(segs))
	for i := range checked {
		checked[i] = -1
	}
	// onSeg records a T-junction: an end of one segment lying on another.
	onSeg := func(p vec, s *seg) {
		if d, t := segDist(p, s.a, s.b); d < snapTolerance && t > 0 && t < 1 {
			s.splits = append(s.splits, t)
		}
	}
	for i := range segs {
		x0, y0, x1, y1 := keys(segs[i])
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				for _, j := range buckets[[2]int64{x, y}] {
					if int(j) <= i || checked[j] == int32(i) {
						continue
					}
					checked[j] = int32(i)
					si, sj := &segs[i], &segs[j]
					if t, u, ok := segCross(si.a, si.b, sj.a, sj.b); ok {
						si.splits = append(si.splits, t)
						sj.splits = append(sj.splits, u)
						continue
					}
					onSeg(sj.a, si)
					onSeg(sj.b, si)
					onSeg(si.a, sj)
					onSeg(si.b, sj)
				}
			}
		}
	}
	ix := &nodeIndex{buckets: make(map[[2]int64][]int32)}
	type key struct{ a, b int32 }
	kept := make(map[key]int) // unordered node pair -> index in edges
	var edges []nedge
	for _, s := range segs {
		ts := append([]float64{0, 1}, s.splits...)
		slices.Sort(ts)
		prev := ix.id(s.a)
		for _, t := range ts[1:] {
			n := ix.id(s.a.lerp(s.b, t))
			if n == prev {
				continue
			}
			k := key{min(prev, n), max(prev, n)}
			if at, ok := kept[k]; ok {
				if classRank(attrs[s.attr].class) > classRank(attrs[edges[at].attr].class) {
					edges[at] = nedge{prev, n, s.attr}
				}
			} else {
				kept[k] = len(edges)
				edges = append(edges, nedge{prev, n, s.attr})
			}
			prev = n
		}
	}
	return &network{attrs: attrs, nodes: ix.nodes, edges: edges}
}

// components labels each node with its connected component and returns the
// labels and the size of each component.
func (nw *network) components() ([]int32, []int) {
	parent := make([]int32, len(nw.nodes))
	for i := range parent {
		parent[i] = int32(i)
	}
	var find func(int32) int32
	find = func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	for _, e := range nw.edges {
		ra, rb := find(e.a), find(e.b)
		if ra != rb {
			parent[max(ra, rb)] = min(ra, rb)
		}
	}
	label := make([]int32, len(nw.nodes))
	ids := map[int32]int32{}
	var sizes []int
	for i := range nw.nodes {
		r := find(int32(i))
		id, ok := ids[r]
		if !ok {
			id = int32(len(sizes))
			ids[r] = id
			sizes = append(sizes, 0)
		}
		label[i] = id
		sizes[id]++
	}
	return label, sizes
}

// asLines turns the graph back into drawn lines (one per edge), to be
// planarized again together with new lines.
func (nw *network) asLines() []line {
	ls := make([]line, 0, len(nw.edges))
	for _, e := range nw.edges {
		ls = append(ls, line{pts: []vec{nw.nodes[e.a], nw.nodes[e.b]}, attr: e.attr})
	}
	return ls
}

// connect makes the network one connected component: every smaller
// component is joined to the largest by a short link from its node nearest
// to it, or dropped when none is within maxLink metres. Links may cross other
// roads, so the graph is planarized again until it is connected.
func connect(nw *network, linkAttr int32, maxLink float64) *network {
	for round := 0; ; round++ {
		label, sizes := nw.components()
		if len(sizes) <= 1 {
			return nw
		}
		mainC := int32(0)
		for c, n := range sizes {
			if n > sizes[mainC] {
				mainC = int32(c)
			}
		}
		// Index the main component's nodes.
		const bucket = 500.0
		grid := map[[2]int64][]int32{}
		for i, p := range nw.nodes {
			if label[i] == mainC {
				k := [2]int64{int64(math.Floor(p.X / bucket)), int64(math.Floor(p.Y / bucket))}
				grid[k] = append(grid[k], int32(i))
			}
		}
		type link struct {
			from, to int32
			d        float64
		}
		best := make([]link, len(sizes))
		for c := range best {
			best[c] = link{-1, -1, math.Inf(1)}
		}
		reach := int64(math.Ceil(maxLink / bucket))
		for i, p := range nw.nodes {
			c := label[i]
			if c == mainC {
				continue
			}
			bx, by := int64(math.Floor(p.X/bucket)), int64(math.Floor(p.Y/bucket))
			for y := by - reach; y <= by+reach; y++ {
				for x := bx - reach; x <= bx+reach; x++ {
					for _, m := range grid[[2]int64{x, y}] {
						if d := p.dist(nw.nodes[m]); d < best[c].d {
							best[c] = link{int32(i), m, d}
						}
					}
				}
			}
		}
		lines := []line{}
		for _, e := range nw.edges {
			c := label[e.a]
			if c != mainC && (best[c].d > maxLink || round >= 3) {
				continue // an island of streets too far to link: drop it
			}
			lines = append(lines, line{pts: []vec{nw.nodes[e.a], nw.nodes[e.b]}, attr: e.attr})
		}
		if round < 3 {
			for c, l := range best {
				if int32(c) != mainC && l.d <= maxLink {
					lines = append(lines, line{pts: []vec{nw.nodes[l.from], nw.nodes[l.to]}, attr: linkAttr})
				}
			}
		}
		nw = planarize(nw.attrs, lines)
	}
}

// chain is a road of the final network: a run of edges with the same
// attributes between two nodes where roads meet (or end).
type chain struct {
	nodes []int32 // along the road; first and last are junctions
	attr  int32
}

// chains merges runs of edges through nodes of degree two that carry the
// same attributes (and, one-way, the same direction) into single roads, so
// that roads are split at intersections and nowhere else.
func (nw *network) chains() []chain {
	inc := make([][]int32, len(nw.nodes))
	for i, e := range nw.edges {
		inc[e.a] = append(inc[e.a], int32(i))
		inc[e.b] = append(inc[e.b], int32(i))
	}
	// A node is a junction unless exactly two edges of the same attributes
	// meet there, consistently directed when one-way.
	junction := make([]bool, len(nw.nodes))
	for n, es := range inc {
		if len(es) != 2 {
			junction[n] = true
			continue
		}
		e1, e2 := nw.edges[es[0]], nw.edges[es[1]]
		if e1.attr != e2.attr {
			junction[n] = true
			continue
		}
		if nw.attrs[e1.attr].oneway {
			// Through n, one must arrive and the other leave.
			in1, in2 := e1.b == int32(n), e2.b == int32(n)
			if in1 == in2 {
				junction[n] = true
			}
		}
	}
	used := make([]bool, len(nw.edges))
	var out []chain
	walk := func(start int32, ei int32) chain {
		c := chain{nodes: []int32{start}, attr: nw.edges[ei].attr}
		cur := start
		for {
			used[ei] = true
			e := nw.edges[ei]
			next := e.b
			if next == cur {
				next = e.a
			}
			c.nodes = append(c.nodes, next)
			if junction[next] || next == start {
				return c
			}
			cur = next
			ei = -1
			for _, x := range inc[cur] {
				if !used[x] {
					ei = x
				}
			}
			if ei < 0 {
				return c
			}
		}
	}
	for n := range nw.nodes {
		if !junction[n] {
			continue
		}
		for _, ei := range inc[n] {
			if !used[ei] {
				out = append(out, walk(int32(n), ei))
			}
		}
	}
	// Loops with no junction at all: cut each at its lowest node.
	for ei := range nw.edges {
		if !used[ei] {
			e := nw.edges[ei]
			junction[e.a] = true
			out = append(out, walk(e.a, int32(ei)))
		}
	}
	// A one-way road runs in its direction of travel.
	for i := range out {
		c := &out[i]
		if !nw.attrs[c.attr].oneway {
			continue
		}
		first := nw.edges[edgeBetween(nw, inc, c.nodes[0], c.nodes[1])]
		if first.a != c.nodes[0] {
			slices.Reverse(c.nodes)
		}
	}
	slices.SortStableFunc(out, func(x, y chain) int {
		if r := cmp.Compare(x.nodes[0], y.nodes[0]); r != 0 {
			return r
		}
		return cmp.Compare(x.nodes[len(x.nodes)-1], y.nodes[len(y.nodes)-1])
	})
	return out
}

func edgeBetween(nw *network, inc [][]int32, a, b int32) int32 {
	for _, ei := range inc[a] {
		e := nw.edges[ei]
		if (e.a == a && e.b == b) || (e.a == b && e.b == a) {
			return ei
		}
	}
	return -1
}
