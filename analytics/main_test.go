package analytics_test

import (
	"testing"

	"github.com/onemap-city/onemap/sql/postgis/postgistest"
)

func TestMain(m *testing.M) { postgistest.Main(m) }

// loadDemo loads the small demo city (seed 1) for the package's tests.
func loadDemo(t testing.TB) { loadDemoScale(t, "small") }

// loadDemoScale makes the demo city of scale (seed 1) the package's data,
// loading it only if another scale (or none) is there.
func loadDemoScale(t testing.TB, scale string) { postgistest.Demo(t, scale) }
