package democity

import "math"

// triangulation is a Delaunay triangulation built by Bowyer–Watson insertion
// with neighbour links, so that locating a point is a walk and the cavity a
// breadth-first search. It exists for the Voronoi cells of the grid: each
// Voronoi vertex is the circumcentre of one triangle, computed once, so that
// neighbouring cells share their vertices bit for bit and unions of cells can
// be traced exactly.
type triangulation struct {
	pts  []vec // the input points, then the three super-triangle corners
	tris []tri
	last int32 // a live triangle to start the next walk from
}

type tri struct {
	v    [3]int32 // counter-clockwise corners
	n    [3]int32 // n[i] is the neighbour across the edge opposite v[i]; -1 on the hull
	dead bool
}

// triangulate returns the Delaunay triangulation of pts. The points must be
// distinct; the caller surrounds them with a frame so that every point it
// cares about is interior.
func triangulate(pts []vec) *triangulation {
	lo, hi := bounds(pts)
	c := lo.lerp(hi, 0.5)
	r := math.Max(hi.X-lo.X, hi.Y-lo.Y) * 8
	n := int32(len(pts))
	t := &triangulation{pts: append(append([]vec(nil), pts...),
		vec{c.X - 2*r, c.Y - r}, vec{c.X + 2*r, c.Y - r}, vec{c.X, c.Y + 2*r})}
	t.tris = append(t.tris, tri{v: [3]int32{n, n + 1, n + 2}, n: [3]int32{-1, -1, -1}})
	for i := range n {
		t.insert(i)
	}
	return t
}

// locate walks from the last triangle towards p and returns the triangle
// containing it.
func (t *triangulation) locate(p vec) int32 {
	cur := t.last
	for steps := 0; ; steps++ {
		tr := &t.tris[cur]
		moved := false
		for i := range 3 {
			a, b := t.pts[tr.v[(i+1)%3]], t.pts[tr.v[(i+2)%3]]
			if orient(a, b, p) < 0 && tr.n[i] >= 0 {
				cur = tr.n[i]
				moved = true
				break
			}
		}
		if !moved || steps > len(t.tris) {
			return cur
		}
	}
}

// inCircle reports whether p lies strictly inside the circumcircle of the
// counter-clockwise triangle abc (coordinates taken relative to p to keep
// the determinant well-conditioned).
func inCircle(a, b, c, p vec) bool {
	ax, ay := a.X-p.X, a.Y-p.Y
	bx, by := b.X-p.X, b.Y-p.Y
	cx, cy := c.X-p.X, c.Y-p.Y
	det := (ax*ax+ay*ay)*(bx*cy-cx*by) - (bx*bx+by*by)*(ax*cy-cx*ay) + (cx*cx+cy*cy)*(ax*by-bx*ay)
	return det > 0
}

func (t *triangulation) insert(pi int32) {
	p := t.pts[pi]
	start := t.locate(p)
	// The cavity: every triangle whose circumcircle holds p; it is connected
	// and star-shaped from p.
	bad := []int32{start}
	isBad := map[int32]bool{start: true}
	for k := 0; k < len(bad); k++ {
		tr := t.tris[bad[k]]
		for _, nb := range tr.n {
			if nb < 0 || isBad[nb] {
				continue
			}
			o := t.tris[nb]
			if inCircle(t.pts[o.v[0]], t.pts[o.v[1]], t.pts[o.v[2]], p) {
				isBad[nb] = true
				bad = append(bad, nb)
			}
		}
	}
	// Fan p to every boundary edge of the cavity.
	type edge struct{ a, b, out int32 }
	var boundary []edge
	for _, bi := range bad {
		tr := t.tris[bi]
		for i := range 3 {
			if nb := tr.n[i]; nb < 0 || !isBad[nb] {
				boundary = append(boundary, edge{tr.v[(i+1)%3], tr.v[(i+2)%3], nb})
			}
		}
		t.tris[bi].dead = true
	}
	byStart := make(map[int32]int32, len(boundary))
	byEnd := make(map[int32]int32, len(boundary))
	first := int32(len(t.tris))
	for k, e := range boundary {
		id := first + int32(k)
		// Triangle (a, b, p): the edge opposite p is the boundary edge.
		t.tris = append(t.tris, tri{v: [3]int32{e.a, e.b, pi}, n: [3]int32{-1, -1, e.out}})
		byStart[e.a] = id
		byEnd[e.b] = id
		if e.out >= 0 {
			o := &t.tris[e.out]
			for j := range 3 {
				if o.v[(j+1)%3] == e.b && o.v[(j+2)%3] == e.a {
					o.n[j] = id
				}
			}
		}
	}
	for k, e := range boundary {
		id := first + int32(k)
		tr := &t.tris[id]
		tr.n[0] = byStart[e.b] // across (b, p), opposite a
		tr.n[1] = byEnd[e.a]   // across (p, a), opposite b
	}
	t.last = first
}

// circumcentre of the triangle abc.
func circumcentre(a, b, c vec) vec {
	bx, by := b.X-a.X, b.Y-a.Y
	cx, cy := c.X-a.X, c.Y-a.Y
	d := 2 * (bx*cy - by*cx)
	b2, c2 := bx*bx+by*by, cx*cx+cy*cy
	return vec{a.X + (cy*b2-by*c2)/d, a.Y + (bx*c2-cx*b2)/d}
}

// voronoi holds the Voronoi cells of the triangulation's interior points.
// Vertex k is the circumcentre of triangle k.
type voronoi struct {
	verts []vec
	cells [][]int32 // per input point, its cell's vertex ids counter-clockwise; nil on the hull
	adj   [][]int32 // per input point, its Delaunay neighbours (input points only)
}

func (t *triangulation) voronoi() *voronoi {
	n := len(t.pts) - 3
	v := &voronoi{verts: make([]vec, len(t.tris)), cells: make([][]int32, n), adj: make([][]int32, n)}
	incident := make([]int32, n)
	for i := range incident {
		incident[i] = -1
	}
	for ti, tr := range t.tris {
		if tr.dead {
			continue
		}
		v.verts[ti] = circumcentre(t.pts[tr.v[0]], t.pts[tr.v[1]], t.pts[tr.v[2]])
		for _, c := range tr.v {
			if int(c) < n {
				incident[c] = int32(ti)
			}
		}
	}
	for p := range n {
		start := incident[p]
		if start < 0 {
			continue
		}
		var ring, nbs []int32
		cur := start
		hull := false
		for {
			tr := t.tris[cur]
			k := 0
			for tr.v[k] != int32(p) {
				k++
			}
			ring = append(ring, cur)
			if a := tr.v[(k+1)%3]; int(a) < n {
				nbs = append(nbs, a)
			} else {
				hull = true
			}
			// Counter-clockwise around p: across the edge (v[k+2], p).
			cur = tr.n[(k+1)%3]
			if cur < 0 {
				hull = true
				break
			}
			if cur == start {
				break
			}
		}
		v.adj[p] = nbs
		if !hull {
			v.cells[p] = ring
		}
	}
	return v
}
