package tiles_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/onemap-city/onemap/sql/postgis/postgistest"
)

func TestMain(m *testing.M) { postgistest.Main(m) }

var (
	demoOnce sync.Once
	demoErr  error
)

// loadDemo loads the small demo city once for the package's tests.
func loadDemo(t *testing.T) { loadDemoB(t) }

func loadDemoB(t testing.TB) {
	t.Helper()
	demoOnce.Do(func() {
		_, demoErr = postgistest.DB(t).LoadDemo(context.Background(), "small", 1, slog.New(slog.NewTextHandler(io.Discard, nil)))
	})
	if demoErr != nil {
		t.Fatalf("load demo: %v", demoErr)
	}
}
