package tiles_test

import (
	"testing"

	"github.com/onemap-city/onemap/sql/postgis/postgistest"
)

func TestMain(m *testing.M) { postgistest.Main(m) }

func loadDemo(t *testing.T) { loadDemoB(t) }

// loadDemoB loads the small demo city once for the package's tests.
func loadDemoB(t testing.TB) { postgistest.Demo(t, "small") }
