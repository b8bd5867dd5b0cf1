package democity

import (
	"math/rand/v2"
	"testing"
)

// TestTriangulationIsDelaunay checks every live triangle against every point
// (the empty-circumcircle property) and that the Voronoi cells of interior
// points tile the hull of the interior exactly.
func TestTriangulationIsDelaunay(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var pts []vec
	for range 400 {
		pts = append(pts, vec{rng.Float64() * 1000, rng.Float64() * 1000})
	}
	tr := triangulate(pts)
	live := 0
	for _, tri := range tr.tris {
		if tri.dead {
			continue
		}
		live++
		a, b, c := tr.pts[tri.v[0]], tr.pts[tri.v[1]], tr.pts[tri.v[2]]
		if orient(a, b, c) <= 0 {
			t.Fatalf("triangle %v is not counter-clockwise", tri.v)
		}
		for i, p := range pts {
			if int32(i) != tri.v[0] && int32(i) != tri.v[1] && int32(i) != tri.v[2] && inCircle(a, b, c, p) {
				t.Fatalf("point %d inside the circumcircle of %v", i, tri.v)
			}
		}
	}
	// n points and 3 super corners, all on or in the hull: 2(n+3) - 2 - 3 triangles.
	if want := 2*(len(pts)+3) - 5; live != want {
		t.Errorf("%d triangles, want %d", live, want)
	}
	v := tr.voronoi()
	for i, cell := range v.cells {
		if cell == nil {
			continue
		}
		pg := make(polygon, len(cell))
		for k, id := range cell {
			pg[k] = v.verts[id]
		}
		if pg.area() <= 0 {
			t.Errorf("cell %d is not counter-clockwise", i)
		}
		// The site is nearer to every vertex of its cell than any other site is.
		for _, q := range pg {
			d := q.dist(pts[i])
			for j, o := range pts {
				if j != i && q.dist(o) < d-1e-6 {
					t.Fatalf("vertex of cell %d nearer to site %d", i, j)
				}
			}
		}
	}
}
