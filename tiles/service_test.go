package tiles_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/postgis/postgistest"
	"github.com/onemap-city/onemap/tiles"
)

// countingDB passes queries to the real database, counting them and
// optionally holding each one for a while.
type countingDB struct {
	tiles.Database
	calls atomic.Int64
	delay time.Duration
}

func (c *countingDB) ScanRow(ctx context.Context, sql string, args []any, dest ...any) error {
	c.calls.Add(1)
	if c.delay > 0 {
		select {
		case <-time.After(c.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return c.Database.ScanRow(ctx, sql, args, dest...)
}

func premisesAt(t *testing.T, z int) tiles.Request {
	lon, lat := townCore(t)
	return tiles.Request{Layers: []*geo.Layer{geo.Catalogue["premises"]}, Addr: geo.TileOf(z, lon, lat)}
}

// TestBurstOfMissesRunsOneQuery: 32 concurrent requests for the same cold
// tile make one database query; later requests are cache hits.
func TestBurstOfMissesRunsOneQuery(t *testing.T) {
	loadDemo(t)
	db := &countingDB{Database: postgistest.DB(t), delay: 200 * time.Millisecond}
	svc := tiles.NewService(db, tiles.Config{CacheBytes: 64 << 20}, nil)
	req := premisesAt(t, 16)
	var wg sync.WaitGroup
	etags := make([]string, 32)
	for i := range etags {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tile, err := svc.Tile(context.Background(), req)
			if err != nil {
				t.Error(err)
				return
			}
			etags[i] = tile.ETag
		}()
	}
	wg.Wait()
	if n := db.calls.Load(); n != 1 {
		t.Fatalf("%d queries for one tile requested 32 times at once, want 1", n)
	}
	for _, e := range etags {
		if e != etags[0] {
			t.Fatal("coalesced callers got different tiles")
		}
	}
	if _, err := svc.Tile(context.Background(), req); err != nil || db.calls.Load() != 1 {
		t.Fatalf("warm request queried again (%d queries, %v)", db.calls.Load(), err)
	}
	// Another filter is another tile.
	red := req
	red.Filters = tiles.Filters{{Param: "tag", Values: []string{"red"}}}
	if _, err := svc.Tile(context.Background(), red); err != nil || db.calls.Load() != 2 {
		t.Fatalf("filtered tile served from the unfiltered one's cache (%d queries)", db.calls.Load())
	}
}

// TestInvalidateServesFreshData: a write to a layer's table followed by
// Invalidate (what the LISTEN feed calls) makes the next tile show it.
func TestInvalidateServesFreshData(t *testing.T) {
	loadDemo(t)
	ctx := context.Background()
	pg := postgistest.DB(t)
	db := &countingDB{Database: pg}
	svc := tiles.NewService(db, tiles.Config{CacheBytes: 64 << 20}, nil)
	var id int64
	var lon, lat float64
	if err := pg.QueryRow(ctx, "SELECT id, ST_X(geom), ST_Y(geom) FROM hydrants WHERE status = 'in_service' ORDER BY id LIMIT 1").Scan(&id, &lon, &lat); err != nil {
		t.Fatal(err)
	}
	l := geo.Catalogue["hydrants"]
	req := tiles.Request{Layers: []*geo.Layer{l}, Addr: geo.TileOf(16, lon, lat),
		Filters: tiles.Filters{{Param: "status", Values: []string{"out_of_service"}}}}
	before, err := svc.Tile(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pg.Exec(ctx, "UPDATE hydrants SET status = 'out_of_service' WHERE id = $1", id); err != nil {
		t.Fatal(err)
	}
	defer pg.Exec(ctx, "UPDATE hydrants SET status = 'in_service' WHERE id = $1", id)
	svc.Invalidate("hydrants")
	after, err := svc.Tile(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if after.ETag == before.ETag || len(after.Identity) <= len(before.Identity) {
		t.Fatalf("tile unchanged after the hydrant went out of service (%d → %d bytes)", len(before.Identity), len(after.Identity))
	}
}

// TestFeatureCapTruncatesAndSaysSo.
func TestFeatureCapTruncatesAndSaysSo(t *testing.T) {
	loadDemo(t)
	svc := tiles.NewService(postgistest.DB(t), tiles.Config{FeatureCap: 5}, nil)
	tile, err := svc.Tile(context.Background(), premisesAt(t, 16))
	if err != nil {
		t.Fatal(err)
	}
	if len(tile.Truncated) != 1 || tile.Truncated[0] != "premises" {
		t.Fatalf("truncated = %v, want [premises]", tile.Truncated)
	}
	file := t.TempDir() + "/cap.mvt"
	writeFile(t, file, tile.Identity)
	if n := len(decodeJS(t, file)[0].Layers["premises"].Features); n != 5 {
		t.Fatalf("%d features under a cap of 5", n)
	}
}

// TestSlowDatabaseTimesOut: a tile query beyond the tile timeout is ETimeout.
func TestSlowDatabaseTimesOut(t *testing.T) {
	loadDemo(t)
	db := &countingDB{Database: postgistest.DB(t), delay: 2 * time.Second}
	svc := tiles.NewService(db, tiles.Config{TileTimeout: 100 * time.Millisecond}, nil)
	start := time.Now()
	_, err := svc.Tile(context.Background(), premisesAt(t, 16))
	if geo.ErrorCode(err) != geo.ETimeout || time.Since(start) > time.Second {
		t.Fatalf("got %v after %v, want ETimeout at once", err, time.Since(start))
	}
}

// TestZoomAboveMaxIsInvalid and below min is empty.
func TestZoomRange(t *testing.T) {
	loadDemo(t)
	svc := tiles.NewService(postgistest.DB(t), tiles.Config{}, nil)
	l := geo.Catalogue["premises"]
	_, err := svc.Tile(context.Background(), tiles.Request{Layers: []*geo.Layer{l}, Addr: geo.TileAddr{Z: 23}})
	if geo.ErrorCode(err) != geo.EInvalid {
		t.Fatalf("z23: %v, want EInvalid", err)
	}
	tile, err := svc.Tile(context.Background(), tiles.Request{Layers: []*geo.Layer{l}, Addr: geo.TileOf(5, 120.65, 27.78)})
	if err != nil || len(tile.Identity) != 0 {
		t.Fatalf("below min zoom: %d bytes, %v; want an empty tile", len(tile.Identity), err)
	}
}

// TestSeveralLayersOneRoundTrip: a tile of several layers is one query, and
// decodes to each layer once, named by its id.
func TestSeveralLayersOneRoundTrip(t *testing.T) {
	loadDemo(t)
	db := &countingDB{Database: postgistest.DB(t)}
	svc := tiles.NewService(db, tiles.Config{}, nil)
	layers, err := tiles.ParseLayers("premises,hydrants,roads,grid_cells")
	if err != nil {
		t.Fatal(err)
	}
	req := premisesAt(t, 16)
	req.Layers = layers
	tile, err := svc.Tile(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if n := db.calls.Load(); n != 1 {
		t.Fatalf("%d queries for one tile of 4 layers, want 1", n)
	}
	file := t.TempDir() + "/multi.mvt"
	writeFile(t, file, tile.Identity)
	got := decodeJS(t, file)[0].Layers
	for _, l := range layers {
		if len(got[l.ID].Features) == 0 {
			t.Errorf("layer %s missing from the combined tile (has %d layers)", l.ID, len(got))
		}
	}
	// Each layer alone holds the same features as in the combined tile.
	for _, l := range layers {
		single, err := svc.Tile(context.Background(), tiles.Request{Layers: []*geo.Layer{l}, Addr: req.Addr})
		if err != nil {
			t.Fatal(err)
		}
		f := t.TempDir() + "/single.mvt"
		writeFile(t, f, single.Identity)
		if n := len(decodeJS(t, f)[0].Layers[l.ID].Features); n != len(got[l.ID].Features) {
			t.Errorf("%s: %d features alone, %d combined", l.ID, n, len(got[l.ID].Features))
		}
	}
}
