package tiles_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/postgis/postgistest"
	"github.com/onemap-city/onemap/tiles"
)

// TestExportPMTilesHoldsExactlyTheServedTiles exports a small area and reads
// the archive back with Protomaps' JS library: every tile the server would
// serve is there, byte for byte, and no other.
func TestExportPMTilesHoldsExactlyTheServedTiles(t *testing.T) {
	loadDemo(t)
	ctx := context.Background()
	svc := tiles.NewService(postgistest.DB(t), tiles.Config{}, nil)
	layers, _ := tiles.ParseLayers("premises,hydrants,roads")
	lon, lat := townCore(t)
	bbox := [4]float64{lon - 0.02, lat - 0.015, lon + 0.02, lat + 0.015}
	file := filepath.Join(t.TempDir(), "core.pmtiles")
	out, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	stats, err := svc.Export(ctx, out, tiles.ExportOptions{Layers: layers, BBox: bbox, MinZoom: 12, MaxZoom: 15, TmpDir: t.TempDir()})
	out.Close()
	if err != nil {
		t.Fatal(err)
	}
	if stats.Tiles == 0 {
		t.Fatal("nothing exported")
	}
	var want []string
	served := map[string][]byte{}
	for z := 12; z <= 15; z++ {
		minX, minY, maxX, maxY := geo.TileRange(z, bbox)
		// One tile beyond the area on each side must be absent.
		for x := minX - 1; x <= maxX+1; x++ {
			for y := minY - 1; y <= maxY+1; y++ {
				a := geo.TileAddr{Z: z, X: x, Y: y}
				key := fmt.Sprintf("%d/%d/%d", z, x, y)
				want = append(want, key)
				if x < minX || x > maxX || y < minY || y > maxY {
					continue
				}
				tile, err := svc.Tile(ctx, tiles.Request{Layers: layers, Addr: a})
				if err != nil {
					t.Fatal(err)
				}
				if len(tile.Identity) > 0 {
					served[key] = tile.Identity
				}
			}
		}
	}
	script, _ := filepath.Abs("testdata/decoder/pmtiles.mjs")
	raw, err := exec.Command("node", append([]string{script, file}, want...)...).Output()
	if err != nil {
		t.Fatalf("node pmtiles.mjs: %v", err)
	}
	var got struct {
		Header   map[string]any     `json:"header"`
		Metadata map[string]any     `json:"metadata"`
		Tiles    map[string]*string `json:"tiles"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got.Header["specVersion"] != float64(3) || got.Header["minZoom"] != float64(12) || got.Header["maxZoom"] != float64(15) {
		t.Errorf("header %v", got.Header)
	}
	if n := got.Header["numAddressedTiles"]; n != float64(len(served)) {
		t.Errorf("archive addresses %v tiles, the server serves %d non-empty ones", n, len(served))
	}
	if vl, ok := got.Metadata["vector_layers"].([]any); !ok || len(vl) != 3 {
		t.Errorf("metadata vector_layers: %v", got.Metadata["vector_layers"])
	}
	for _, key := range want {
		b64 := got.Tiles[key]
		srv, isServed := served[key]
		switch {
		case b64 == nil && isServed:
			t.Errorf("tile %s served but missing from the archive", key)
		case b64 != nil && !isServed:
			t.Errorf("tile %s in the archive but not served", key)
		case b64 != nil:
			data, _ := base64.StdEncoding.DecodeString(*b64)
			if !bytes.Equal(data, srv) {
				t.Errorf("tile %s differs from the served tile (%d vs %d bytes)", key, len(data), len(srv))
			}
		}
	}
}
