package tiles_test

import (
	"context"
	"testing"
	"time"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/postgis/postgistest"
	"github.com/onemap-city/onemap/tiles"
)

// BenchmarkColdTile compares a tile made by the service with its cache off
// (query, concatenation, gzip, ETag) with the same statement run directly:
// the difference is what the service adds over PostGIS.
//
//	go test ./tiles -run '^$' -bench ColdTile -benchtime 200x
func BenchmarkColdTile(b *testing.B) {
	loadDemoB(b)
	lon, lat := townCoreB(b)
	req := tiles.Request{Layers: []*geo.Layer{geo.Catalogue["premises"]}, Addr: geo.TileOf(16, lon, lat)}
	db := postgistest.DB(b)
	b.Run("service", func(b *testing.B) {
		svc := tiles.NewService(db, tiles.Config{}, nil)
		for b.Loop() {
			if _, err := svc.Tile(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("direct-with-deadline", func(b *testing.B) {
		q, _ := tiles.BuildQuery(req, tiles.DefaultConfig.Limits())
		for b.Loop() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			var mvt []byte
			var truncated bool
			if err := db.ScanRow(ctx, q.SQL, q.Args, &mvt, &truncated); err != nil {
				b.Fatal(err)
			}
			cancel()
		}
	})
	b.Run("direct", func(b *testing.B) {
		q, _ := tiles.BuildQuery(req, tiles.DefaultConfig.Limits())
		for b.Loop() {
			var mvt []byte
			var truncated bool
			if err := db.ScanRow(context.Background(), q.SQL, q.Args, &mvt, &truncated); err != nil {
				b.Fatal(err)
			}
		}
	})
}
