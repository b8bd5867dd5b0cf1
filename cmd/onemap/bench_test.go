package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/onemap-city/onemap/sql/postgis/postgistest"
)

// BenchmarkWarmTile is the server's own cost of a cached tile: routing,
// middleware, validation, cache lookup and writing, without the network.
//
//	go test ./cmd/onemap -run '^$' -bench WarmTile -benchmem
func BenchmarkWarmTile(b *testing.B) {
	loadDemoB(b)
	e := newServer(testConfig(), postgistest.DB(b), quiet).Echo
	var lon, lat float64
	_ = postgistest.DB(b).QueryRow(b.Context(), "SELECT ST_X(geom), ST_Y(geom) FROM premises ORDER BY id LIMIT 1").Scan(&lon, &lat)
	url := fmt.Sprintf("/tiles/premises/16/%d/%d.mvt", lonToX(lon, 16), latToY(lat, 16))
	req := httptest.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != 200 {
		b.Fatalf("%s: %d", url, rec.Code)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
		}
	})
}
