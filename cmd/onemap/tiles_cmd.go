package main

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/tiles"
)

func tilesCommand(cfg *Config) *cobra.Command {
	cmd := &cobra.Command{Use: "tiles", Short: "Vector tile tools"}
	cmd.AddCommand(tilesExportCommand(cfg))
	return cmd
}

func tilesExportCommand(cfg *Config) *cobra.Command {
	var layers, bbox string
	var minZoom, maxZoom int
	var filters []string
	cmd := &cobra.Command{
		Use:   "export --layers L1,L2 [--bbox minLon,minLat,maxLon,maxLat] [--minzoom Z] [--maxzoom Z] [--filter k=v] OUT.pmtiles",
		Short: "Pre-generate a tileset as a PMTiles v3 archive for offline use",
		Long: "Write the tiles the server would serve for the layers, area and zooms into one PMTiles v3\n" +
			"file that MapLibre (pmtiles:// protocol) and the pmtiles tools open without a server, so that\n" +
			"field teams carry the map when the network is down. Empty tiles are left out; the area\n" +
			"defaults to the layers' extent. Filters are the tile filters, e.g. --filter tag=red.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// The archive is PMTiles whatever the name says; a name that
			// promises another format would mislead whoever opens it.
			if ext := strings.ToLower(filepath.Ext(args[0])); ext != ".pmtiles" {
				return fmt.Errorf("%s: the archive is PMTiles v3; name it *.pmtiles (an MBTiles reader would not open it)", args[0])
			}
			if cmd.Flags().Changed("minzoom") && minZoom < 0 {
				return fmt.Errorf("--minzoom %d: want 0 or more", minZoom)
			}
			ls, err := tiles.ParseLayers(layers)
			if err != nil {
				return err
			}
			q := url.Values{}
			for _, f := range filters {
				k, v, ok := strings.Cut(f, "=")
				if !ok {
					return fmt.Errorf("--filter %q: want name=value", f)
				}
				q.Add(k, v)
			}
			fs, err := tiles.ParseFilters(ls, q)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("minzoom") {
				minZoom = geo.MaxZoom
				for _, l := range ls {
					minZoom = min(minZoom, l.MinZoom)
				}
			}
			log := cfg.Logger()
			db, err := openDatabase(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			defer db.Close()
			var box [4]float64
			if bbox != "" {
				if box, err = geo.ParseBBox(bbox); err != nil {
					return err
				}
			} else {
				var ext *[4]float64
				for _, l := range ls {
					e, err := db.Extent(cmd.Context(), l.Table)
					if err != nil {
						return err
					}
					if e != nil {
						if ext == nil {
							ext = e
						} else {
							ext = &[4]float64{min(ext[0], e[0]), min(ext[1], e[1]), max(ext[2], e[2]), max(ext[3], e[3])}
						}
					}
				}
				if ext == nil {
					return fmt.Errorf("the layers %s hold no data: nothing to export", layers)
				}
				box = *ext
			}
			out := args[0]
			tmp, err := os.CreateTemp(filepath.Dir(out), ".onemap-export-*")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name())
			svc := tiles.NewService(db, tiles.Config{FeatureCap: cfg.TileFeatureCap, ClusterAbove: cfg.TileClusterAbove, TileTimeout: 10 * cfg.TileTimeout}, nil)
			last := time.Now()
			start := time.Now()
			stats, err := svc.Export(cmd.Context(), tmp, tiles.ExportOptions{
				Layers: ls, Filters: fs, BBox: box, MinZoom: minZoom, MaxZoom: maxZoom, TmpDir: filepath.Dir(out),
				Progress: func(done, total int) {
					if time.Since(last) > 2*time.Second || done == total {
						fmt.Fprintf(cmd.ErrOrStderr(), "  %d/%d tiles\n", done, total)
						last = time.Now()
					}
				},
			})
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			// Renamed only when complete: a failed export never leaves half a file.
			if err := os.Rename(tmp.Name(), out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d tiles (%d distinct, %d empty left out), %.1f MB, zooms %d–%d, layers %s, in %v\n",
				out, stats.Tiles, stats.Unique, stats.Empty, float64(stats.Bytes)/1e6, stats.MinZoom, stats.MaxZoom,
				strings.Join(stats.Layers, ","), time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&layers, "layers", "", "comma-separated catalogue layers (required)")
	cmd.Flags().StringVar(&bbox, "bbox", "", "area minLon,minLat,maxLon,maxLat (default: the layers' extent)")
	cmd.Flags().IntVar(&minZoom, "minzoom", 0, "first zoom (default: the layers' least min zoom)")
	cmd.Flags().IntVar(&maxZoom, "maxzoom", 16, "last zoom")
	cmd.Flags().StringArrayVar(&filters, "filter", nil, "tile filter name=value (repeatable)")
	_ = cmd.MarkFlagRequired("layers")
	return cmd
}
