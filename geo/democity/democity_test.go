package democity_test

import (
	"crypto/sha256"
	"fmt"
	"hash"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/geo/democity"
)

// smallCity is generated once for the tests that only read it.
var smallCity = sync.OnceValues(func() (*democity.City, error) {
	sc, _ := democity.LookupScale("small")
	return democity.New(sc, 1)
})

func small(t *testing.T) *democity.City {
	t.Helper()
	c, err := smallCity()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ExampleNew() {
	sc, _ := democity.LookupScale("small")
	c, err := democity.New(sc, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	pop := 0
	for _, t := range c.Towns {
		pop += t.Population
	}
	fmt.Println(len(c.Towns), "towns,", pop, "residents; the largest is", c.Towns[12].Name)
	// Output: 23 towns, 1500000 residents; the largest is 塘下镇
}

func TestLookupScale(t *testing.T) {
	for _, name := range []string{"small", "city", "large"} {
		if sc, ok := democity.LookupScale(name); !ok || sc.Name != name {
			t.Errorf("LookupScale(%q) = %v, %v", name, sc, ok)
		}
	}
	if _, ok := democity.LookupScale("huge"); ok {
		t.Error("LookupScale(huge) found a scale")
	}
}

// digest hashes every row of every table the city yields.
func digest(c *democity.City) string {
	h := sha256.New()
	write := func(h hash.Hash, v any) { fmt.Fprintf(h, "%v\n", v) }
	for _, v := range c.Towns {
		write(h, v)
	}
	for _, v := range c.Communities {
		write(h, v)
	}
	for _, v := range c.Cells {
		write(h, v)
	}
	for _, v := range c.Nodes {
		write(h, v)
	}
	for _, v := range c.Roads {
		write(h, v)
	}
	for _, v := range c.Hydrants {
		write(h, v)
	}
	for _, v := range c.Shelters {
		write(h, v)
	}
	for _, v := range c.Stations {
		write(h, v)
	}
	for v := range c.Premises() {
		write(h, v)
	}
	for v := range c.Hazards() {
		write(h, v)
	}
	for v := range c.Inspections() {
		write(h, v)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestSameSeedSameCity(t *testing.T) {
	sc, _ := democity.LookupScale("small")
	a := digest(small(t))
	again, err := democity.New(sc, 1)
	if err != nil {
		t.Fatal(err)
	}
	if b := digest(again); a != b {
		t.Error("seed 1 generated twice differs")
	}
	other, err := democity.New(sc, 2)
	if err != nil {
		t.Fatal(err)
	}
	if b := digest(other); a == b {
		t.Error("seeds 1 and 2 generate the same city")
	}
}

func TestHierarchy(t *testing.T) {
	c := small(t)
	if len(c.Towns) != 23 || len(c.Communities) < 400 || len(c.Communities) > 500 || len(c.Cells) < 1600 || len(c.Cells) > 2000 {
		t.Fatalf("%d towns, %d communities, %d cells", len(c.Towns), len(c.Communities), len(c.Cells))
	}
	var pop [3]int
	var area [3]float64
	for _, x := range c.Towns {
		pop[0] += x.Population
		area[0] += planar.Area(x.Geom)
	}
	commArea := map[int64]float64{}
	for _, x := range c.Communities {
		pop[1] += x.Population
		area[1] += planar.Area(x.Geom)
		commArea[x.ID] = planar.Area(x.Geom)
	}
	cellArea := map[int64]float64{}
	for _, x := range c.Cells {
		pop[2] += x.Population
		area[2] += planar.Area(x.Geom)
		cellArea[x.CommunityID] += planar.Area(x.Geom)
	}
	for i := range 3 {
		if pop[i] != 1_500_000 {
			t.Errorf("level %d: population %d", i, pop[i])
		}
		if math.Abs(area[i]-area[0]) > 1e-9*area[0] {
			t.Errorf("level %d: area %g, towns %g", i, area[i], area[0])
		}
	}
	for id, a := range commArea {
		if math.Abs(cellArea[id]-a) > 1e-9*a {
			t.Errorf("community %d: area %g, its cells %g", id, a, cellArea[id])
		}
	}
}

// cellOf checks that p lies in the cell with the given id.
func inCell(c *democity.City, id int64, p orb.Point) bool {
	return id >= 1 && int(id) <= len(c.Cells) && planar.MultiPolygonContains(c.Cells[id-1].Geom, p)
}

func TestPointsInTheirCells(t *testing.T) {
	c := small(t)
	for _, h := range c.Hydrants {
		if !inCell(c, h.CellID, h.Point) {
			t.Errorf("hydrant %d outside cell %d", h.ID, h.CellID)
		}
	}
	for _, s := range c.Shelters {
		if !inCell(c, s.CellID, s.Point) {
			t.Errorf("shelter %d outside cell %d", s.ID, s.CellID)
		}
	}
	for _, s := range c.Stations {
		if !inCell(c, s.CellID, s.Point) {
			t.Errorf("station %d outside cell %d", s.ID, s.CellID)
		}
	}
	n := 0
	for p := range c.Premises() {
		n++
		if !inCell(c, p.CellID, p.Point) {
			t.Errorf("premise %d outside cell %d", p.ID, p.CellID)
		}
	}
	if n != 3000 {
		t.Errorf("%d premises, want 3000", n)
	}
}

func TestPremises(t *testing.T) {
	c := small(t)
	rental := []string{"rental_housing", "group_rental", "detached_house", "mixed_use", "basement"}
	kinds := map[string]int{}
	tags := map[string]int{}
	for p := range c.Premises() {
		kinds[p.Kind]++
		if slices.Contains(rental, p.Kind) != (p.Tag != "") {
			t.Errorf("premise %d (%s) tagged %q", p.ID, p.Kind, p.Tag)
		}
		tags[p.Tag]++
		if !slices.Contains(geo.PremiseKinds, p.Kind) {
			t.Errorf("premise %d: unknown kind %q", p.ID, p.Kind)
		}
		if p.Kind == "group_rental" && p.Occupants < 10 {
			t.Errorf("group rental %d with %d occupants", p.ID, p.Occupants)
		}
		if !p.LastInspectedAt.IsZero() && !p.LastInspectedAt.Before(democity.Reference) {
			t.Errorf("premise %d inspected in the future", p.ID)
		}
	}
	if kinds["rental_housing"] < kinds["small_enterprise"] || kinds["small_enterprise"] < 150 {
		t.Errorf("kinds %v", kinds)
	}
	tagged := float64(tags["red"] + tags["yellow"] + tags["green"])
	if r := float64(tags["red"]) / tagged; r < 0.05 || r > 0.12 {
		t.Errorf("red share %.3f", r)
	}
}

func TestHazards(t *testing.T) {
	c := small(t)
	start := democity.Reference.AddDate(-2, 0, 0)
	n, closed := 0, 0
	for h := range c.Hazards() {
		n++
		if int(h.ID) != n {
			t.Fatalf("hazard %d is number %d", h.ID, n)
		}
		if (h.Status == "closed") != !h.ClosedAt.IsZero() || (!h.ClosedAt.IsZero() && h.ClosedAt.Before(h.ReportedAt)) {
			t.Errorf("hazard %d: %s, reported %v, closed %v", h.ID, h.Status, h.ReportedAt, h.ClosedAt)
		}
		if h.ReportedAt.Before(start) || !h.ReportedAt.Before(democity.Reference) || !h.ClosedAt.Before(democity.Reference) {
			t.Errorf("hazard %d outside the two years: %v %v", h.ID, h.ReportedAt, h.ClosedAt)
		}
		if !slices.Contains(geo.HazardCategories, h.Category) || !slices.Contains(geo.HazardStatuses, h.Status) {
			t.Errorf("hazard %d: %s %s", h.ID, h.Category, h.Status)
		}
		if h.Listed && h.Severity != "major" {
			t.Errorf("hazard %d listed but %s", h.ID, h.Severity)
		}
		if h.Status == "closed" {
			closed++
		}
	}
	if n < 4000 || n > 9000 || float64(closed)/float64(n) < 0.8 {
		t.Errorf("%d hazards, %d closed", n, closed)
	}
}

func TestRoadNetwork(t *testing.T) {
	c := small(t)
	adj := make([][]int64, len(c.Nodes)+1)
	for _, r := range c.Roads {
		if r.Source == r.Target || !c.Nodes[r.Source-1].Point.Equal(r.Line[0]) || !c.Nodes[r.Target-1].Point.Equal(r.Line[len(r.Line)-1]) {
			t.Fatalf("road %d: ends do not match nodes %d and %d", r.ID, r.Source, r.Target)
		}
		if r.SpeedKmh != geo.DefaultRoadSpeed[r.Class] {
			t.Errorf("road %d: %s at %v km/h", r.ID, r.Class, r.SpeedKmh)
		}
		adj[r.Source] = append(adj[r.Source], r.Target)
		adj[r.Target] = append(adj[r.Target], r.Source)
	}
	// One connected component.
	seen := make([]bool, len(c.Nodes)+1)
	queue := []int64{1}
	seen[1] = true
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, m := range adj[n] {
			if !seen[m] {
				seen[m] = true
				queue = append(queue, m)
			}
		}
	}
	for id := 1; id <= len(c.Nodes); id++ {
		if !seen[id] {
			t.Fatalf("node %d is not connected to node 1", id)
		}
	}
}

func TestResources(t *testing.T) {
	c := small(t)
	kinds := map[string]int{}
	for _, s := range c.Stations {
		kinds[s.Kind]++
	}
	if kinds["full_time"] != 17 || kinds["volunteer"] != 24 || kinds["micro"] != 60 || kinds["forest"] != 6 {
		t.Errorf("stations %v", kinds)
	}
	levels := map[string]int{}
	standard, below := 0, 0
	minimum := map[string]int{"county": 200, "township": 100, "village": 50}
	for _, s := range c.Shelters {
		levels[s.Level]++
		if s.Standardised {
			standard++
		}
		if s.Capacity < minimum[s.Level] {
			below++
		}
	}
	if standard != 105 || below == 0 || below > len(c.Shelters)/10 || len(c.Shelters) < 430 || len(c.Shelters) > 530 {
		t.Errorf("%d shelters %v, %d standardised, %d below the minimum", len(c.Shelters), levels, standard, below)
	}
	status := map[string]int{}
	for _, h := range c.Hydrants {
		status[h.Status]++
	}
	if out := float64(status["faulty"]+status["out_of_service"]) / float64(len(c.Hydrants)); out < 0.02 || out > 0.1 {
		t.Errorf("hydrants %v", status)
	}
}

// BenchmarkCity generates the city scale: the fixed layers and one pass
// over each streamed table, as LoadDemo does.
//
//	go test ./geo/democity/ -run XXX -bench City -benchtime 3x
func BenchmarkCity(b *testing.B) {
	sc, _ := democity.LookupScale("city")
	for b.Loop() {
		c, err := democity.New(sc, 1)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for range c.Premises() {
			n++
		}
		for range c.Hazards() {
			n++
		}
		for range c.Inspections() {
			n++
		}
		b.ReportMetric(float64(n), "rows")
	}
}
