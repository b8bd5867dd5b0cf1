package analytics_test

import (
	"context"
	"sync"
	"testing"

	"github.com/onemap-city/onemap/sql/postgis/postgistest"
)

func TestMain(m *testing.M) { postgistest.Main(m) }

var (
	demoMu    sync.Mutex
	demoScale string // the demo city now in the package's database
)

// loadDemo loads the small demo city (seed 1) for the package's tests, once
// unless a benchmark has since loaded another scale.
func loadDemo(t testing.TB) {
	t.Helper()
	loadDemoScale(t, "small")
}

// loadDemoScale makes the demo city of scale (seed 1) the package's data,
// loading it only if another scale (or none) is there.
func loadDemoScale(t testing.TB, scale string) {
	t.Helper()
	demoMu.Lock()
	defer demoMu.Unlock()
	if demoScale == scale {
		return
	}
	demoScale = ""
	if _, err := postgistest.DB(t).LoadDemo(context.Background(), scale, 1, nil); err != nil {
		t.Fatalf("load %s demo: %v", scale, err)
	}
	demoScale = scale
}
