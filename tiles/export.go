package tiles

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/onemap-city/onemap/geo"
)

// ExportOptions say which tileset to pre-generate.
type ExportOptions struct {
	Layers           []*geo.Layer
	Filters          Filters
	BBox             [4]float64 // minLon, minLat, maxLon, maxLat
	MinZoom, MaxZoom int
	TmpDir           string // spool folder for tile data ("" = system temp)
	Workers          int    // tiles made at once (default 4)
	// Progress, if set, is told how many tiles of the total are done.
	Progress func(done, total int)
}

// ExportStats say what an export wrote.
type ExportStats struct {
	Tiles    int // addressed tiles (non-empty)
	Empty    int // tiles with no feature, left out as the spec allows
	Unique   int // distinct tile contents stored
	Bytes    int64
	MinZoom  int
	MaxZoom  int
	Layers   []string
	Filtered string
}

// Export writes the tiles of opts as a PMTiles v3 archive to w: exactly the
// tiles GET /tiles/{layers}/{z}/{x}/{y}.mvt would serve (gzip-compressed), the
// empty ones left out. It returns EInvalid for zooms the layers cannot serve.
func (s *Service) Export(ctx context.Context, w io.Writer, opts ExportOptions) (*ExportStats, error) {
	if opts.MinZoom < 0 || opts.MaxZoom < opts.MinZoom {
		return nil, geo.Invalid("minzoom", "zoom range %d–%d is empty", opts.MinZoom, opts.MaxZoom)
	}
	for _, l := range opts.Layers {
		if opts.MaxZoom > l.MaxZoom {
			return nil, geo.Invalid("maxzoom", "maxzoom %d is above the %s layer's maximum %d", opts.MaxZoom, l.ID, l.MaxZoom)
		}
	}
	var addrs []geo.TileAddr
	for z := opts.MinZoom; z <= opts.MaxZoom; z++ {
		minX, minY, maxX, maxY := geo.TileRange(z, opts.BBox)
		if n := (maxX - minX + 1) * (maxY - minY + 1); len(addrs)+n > 5_000_000 {
			return nil, geo.Invalid("maxzoom", "more than 5 million tiles up to zoom %d: choose a smaller area or maxzoom", z)
		}
		for x := minX; x <= maxX; x++ {
			for y := minY; y <= maxY; y++ {
				addrs = append(addrs, geo.TileAddr{Z: z, X: x, Y: y})
			}
		}
	}
	sort.Slice(addrs, func(i, j int) bool { return TileID(addrs[i]) < TileID(addrs[j]) })

	pw, err := NewPMTilesWriter(w, opts.TmpDir)
	if err != nil {
		return nil, err
	}
	stats := &ExportStats{MinZoom: opts.MinZoom, MaxZoom: opts.MaxZoom, Filtered: opts.Filters.Key()}
	for _, l := range opts.Layers {
		stats.Layers = append(stats.Layers, l.ID)
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = 4
	}
	// Tiles are made in parallel a chunk at a time, then added in order.
	const chunk = 256
	results := make([]*Tile, chunk)
	for start := 0; start < len(addrs); start += chunk {
		part := addrs[start:min(start+chunk, len(addrs))]
		var wg sync.WaitGroup
		errs := make([]error, len(part))
		next := make(chan int)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					results[i], errs[i] = s.make(ctx, Request{Layers: opts.Layers, Addr: part[i], Filters: opts.Filters})
				}
			}()
		}
		for i := range part {
			next <- i
		}
		close(next)
		wg.Wait()
		for i, a := range part {
			if errs[i] != nil {
				return nil, fmt.Errorf("tiles: export tile %v: %w", a, errs[i])
			}
			t := results[i]
			if len(t.Identity) == 0 {
				stats.Empty++
				continue
			}
			if err := pw.Add(a, t.Gzip, sha256.Sum256(t.Identity)); err != nil {
				return nil, err
			}
			stats.Tiles++
			stats.Bytes += int64(len(t.Gzip))
		}
		if opts.Progress != nil {
			opts.Progress(start+len(part), len(addrs))
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	stats.Unique = int(pw.contents)
	meta := map[string]any{
		"name": ids(opts.Layers), "description": "OneMap tiles of " + ids(opts.Layers), "attribution": geo.Attribution,
		"type": "overlay", "format": "pbf", "filters": opts.Filters.Key(),
	}
	var vls []VectorLayer
	for _, l := range opts.Layers {
		vls = append(vls, VectorLayer{ID: l.ID, Description: l.Description, MinZoom: max(l.MinZoom, opts.MinZoom), MaxZoom: opts.MaxZoom, Fields: Fields(l)})
	}
	meta["vector_layers"] = vls
	raw, _ := json.Marshal(meta)
	b := opts.BBox
	center := [3]float64{(b[0] + b[2]) / 2, (b[1] + b[3]) / 2, float64(opts.MinZoom)}
	if stats.Tiles == 0 {
		pw.data.Close()
		return stats, geo.Invalid("bbox", "no tile in the area and zooms has a feature: nothing to export")
	}
	if err := pw.Close(PMTilesMeta{Bounds: b, Center: center, Metadata: raw}); err != nil {
		return nil, err
	}
	return stats, nil
}
