package analytics

import (
	"context"
	"math"
	"testing"

	"github.com/onemap-city/onemap/sql/postgis/postgistest"
)

// TestResidentsAddUpToThePopulation: spreading grid-cell populations over
// hexagons loses and invents no one — over a box holding the whole city,
// the hexagons' residents sum to the cells' population.
func TestResidentsAddUpToThePopulation(t *testing.T) {
	postgistest.Demo(t, "small")
	db := postgistest.DB(t)
	ctx := context.Background()
	var total float64
	if err := db.QueryRow(ctx, "SELECT sum(population) FROM grid_cells").Scan(&total); err != nil {
		t.Fatal(err)
	}
	box := metricBox([4]float64{119.5, 27.0, 121.8, 28.6})
	s := NewDensityService(db, Limits{})
	res, err := s.residents(ctx, box, 3000)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, r := range res {
		sum += r
	}
	if total == 0 || math.Abs(sum-total) > 0.001*total {
		t.Fatalf("hexagons hold %.0f residents, the grid cells %.0f", sum, total)
	}
}
