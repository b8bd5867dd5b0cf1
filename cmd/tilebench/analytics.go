package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/postgis"
)

// analyticsBench times the density and hot-spot endpoints and the grid
// statistics one request at a time, separating three costs:
//
//   - first: the first request after a write to the hazards (a statement
//     that changes no value but bumps the layer's data version), which
//     rereads the selection's points and whatever is derived from them;
//   - cold: a tile never requested before (each URL is asked once: no
//     rendered-tile memo can answer), with the points already in memory;
//   - reused: a new band of hot spots over counts already binned.
//
// Statistics are always computed afresh (no result cache is involved).
func analyticsBench(ctx context.Context, db *postgis.DB, addr string, report *bytes.Buffer) error {
	var hazards int64
	if err := db.QueryRow(ctx, "SELECT count(*) FROM hazards").Scan(&hazards); err != nil {
		return err
	}
	// Hot spots: the grid cells with the most hazards; their centres give
	// distinct tiles at each zoom.
	rows, err := db.Query(ctx, `SELECT ST_X(c), ST_Y(c) FROM (
		SELECT ST_Centroid(ST_Collect(geom)) AS c, count(*) AS n FROM hazards
		WHERE grid_cell_id IS NOT NULL GROUP BY grid_cell_id ORDER BY n DESC, grid_cell_id LIMIT 2000) s`)
	if err != nil {
		return err
	}
	var cores [][2]float64
	for rows.Next() {
		var p [2]float64
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			rows.Close()
			return err
		}
		cores = append(cores, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	distinct := func(z, n int) []geo.TileAddr {
		seen := map[geo.TileAddr]bool{}
		var out []geo.TileAddr
		for _, c := range cores {
			a := geo.TileOf(z, c[0], c[1])
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
			if len(out) == n {
				break
			}
		}
		return out
	}
	client := &http.Client{Timeout: 5 * time.Minute}
	get := func(u string) (float64, error) {
		return timedRequest(ctx, client, addr, http.MethodGet, u, "")
	}
	timeAll := func(urls []string) ([]float64, error) {
		var ms []float64
		for _, u := range urls {
			t, err := get(u)
			if err != nil {
				return nil, err
			}
			ms = append(ms, t)
		}
		return ms, nil
	}
	// touch bumps the hazards' data version without changing a value.
	touch := func() error {
		_, err := db.Exec(ctx, "UPDATE hazards SET updated_at = updated_at WHERE id = (SELECT min(id) FROM hazards)")
		return err
	}
	// The server refreshes the area_stats view a second after premises or
	// hazards change (and when it starts): a request made right after a
	// write shares the cores with that refresh. settle waits until no
	// refresh runs.
	settle := func() {
		time.Sleep(1500 * time.Millisecond)
		for range 600 {
			var n int
			_ = db.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE query ILIKE 'REFRESH MATERIALIZED VIEW%' AND state = 'active'`).Scan(&n)
			if n == 0 {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	firstAfterWrite := func(u string) (float64, error) {
		if err := touch(); err != nil {
			return 0, err
		}
		t, err := get(u)
		settle() // the refresh the write set off, before the next run
		return t, err
	}
	firstAfterSettledWrite := func(u string) (float64, error) {
		if err := touch(); err != nil {
			return 0, err
		}
		settle()
		return get(u)
	}
	// afterWrites alternates the two over urls: the even ones first after a
	// write, the odd ones after a write whose refresh has finished.
	afterWrites := func(urls []string) (firsts, settled []float64, err error) {
		for k, u := range urls {
			f := firstAfterWrite
			if k%2 == 1 {
				f = firstAfterSettledWrite
			}
			t, err := f(u)
			if err != nil {
				return nil, nil, err
			}
			if k%2 == 1 {
				settled = append(settled, t)
			} else {
				firsts = append(firsts, t)
			}
		}
		return firsts, settled, nil
	}
	settle() // the refresh at the server's start
	row := func(name string, ms []float64, note string) {
		sort.Float64s(ms)
		fmt.Fprintf(report, "| %s | %d | %.0f | %.0f | %s |\n", name, len(ms), ms[len(ms)/2], ms[len(ms)-1], note)
	}
	// pointsNear is the median number of hazards within r of a tile's
	// pixels (its envelope grown by r): what a tile's kernel sums read.
	pointsNear := func(ts []geo.TileAddr, r float64) int64 {
		var ns []int64
		for _, a := range ts {
			var n int64
			_ = db.QueryRow(ctx, `SELECT count(*) FROM hazards
				WHERE geom_m && ST_Expand(ST_Transform(ST_TileEnvelope($1, $2, $3), 4549), $4)`, a.Z, a.X, a.Y, r).Scan(&n)
			ns = append(ns, n)
		}
		sort.Slice(ns, func(i, j int) bool { return ns[i] < ns[j] })
		return ns[len(ns)/2]
	}
	heatURL := func(a geo.TileAddr) string {
		return fmt.Sprintf("/tiles/heatmap/%d/%d/%d.png?layer=hazards&radius=300", a.Z, a.X, a.Y)
	}
	hexURL := func(a geo.TileAddr) string {
		return fmt.Sprintf("/tiles/hazard_density/%d/%d/%d.mvt", a.Z, a.X, a.Y)
	}

	fmt.Fprintf(report, "%d hazards. `first`: the first request after a write to the hazards; `cold`: tiles never requested before, each asked once.\n\n", hazards)
	fmt.Fprintf(report, "| request | runs | p50 ms | max ms | note |\n|---|---|---|---|---|\n")

	// Heatmap: the first tile after a write reads the points and computes
	// the colour scale; then distinct never-rendered tiles at z11–z13.
	heat := map[int][]geo.TileAddr{11: distinct(11, 9), 12: distinct(12, 18), 13: distinct(13, 15)}
	firsts, settled, err := afterWrites(urls(heat[12][:6], heatURL))
	if err != nil {
		return err
	}
	row("z12 heatmap PNG tile over a hot spot, first after a write (radius 300 m)", firsts, "reads every hazard, computes the colour scale, renders; the view refresh the write sets off runs alongside")
	row("the same, once that refresh is done", settled, "")
	heat[12] = heat[12][6:]
	for _, z := range []int{11, 12, 13} {
		ms, err := timeAll(urls(heat[z], heatURL))
		if err != nil {
			return err
		}
		row(fmt.Sprintf("z%d heatmap PNG tile over a hot spot, cold (radius 300 m)", z), ms,
			fmt.Sprintf("%d distinct tiles; median %d hazards within r", len(heat[z]), pointsNear(heat[z], 300)))
	}

	// Hexagon density: the first tile after a write bins the territory;
	// then distinct never-requested tiles.
	hex := distinct(13, 21)
	if firsts, settled, err = afterWrites(urls(hex[:6], hexURL)); err != nil {
		return err
	}
	row("z13 hazard_density tile, first after a write", firsts, "reads every hazard, bins the territory (premises and residents kept); refresh alongside")
	row("the same, once that refresh is done", settled, "")
	hex = hex[6:]
	ms, err := timeAll(urls(hex, hexURL))
	if err != nil {
		return err
	}
	row("z13 hazard_density tile over a hot spot, cold", ms, fmt.Sprintf("%d distinct tiles", len(hex)))

	// Hot spots: the study area of each cell size once (it depends on the
	// towns only), then the first run after a write and new bands.
	for _, cell := range []int{100, 200, 400} {
		if _, err := get(fmt.Sprintf("/api/v1/hotspots?layer=hazards&cell=%d&band=%d", cell, 5*cell)); err != nil {
			return err
		}
	}
	var bands []string
	for i := range 6 {
		bands = append(bands, fmt.Sprintf("/api/v1/hotspots?layer=hazards&cell=200&band=%d", 1000+10*i))
	}
	if firsts, settled, err = afterWrites(bands); err != nil {
		return err
	}
	row("Gi* hot spots, whole city, 200 m hexagons, first after a write", firsts, "reads every hazard, bins, Gi*, FDR; refresh alongside")
	row("the same, once that refresh is done", settled, "")
	for _, cell := range []int{100, 200, 400} {
		var us []string
		for i := range 3 {
			us = append(us, fmt.Sprintf("/api/v1/hotspots?layer=hazards&cell=%d&band=%d", cell, 3*cell+10*i))
		}
		if ms, err = timeAll(us); err != nil {
			return err
		}
		row(fmt.Sprintf("Gi* hot spots, whole city, %d m hexagons, new band", cell), ms, "counts of this data version reused")
	}

	// Statistics: computed afresh every time.
	var us []string
	for range 5 {
		us = append(us, "/api/v1/stats?level=grid_cell")
	}
	if ms, err = timeAll(us); err != nil {
		return err
	}
	row("`GET /api/v1/stats?level=grid_cell` (every grid cell)", ms, "computed afresh each time")
	us = us[:0]
	for range 3 {
		us = append(us, "/api/v1/stats?level=town")
	}
	if ms, err = timeAll(us); err != nil {
		return err
	}
	row("`GET /api/v1/stats?level=town`", ms, "computed afresh each time")
	return nil
}

func urls(ts []geo.TileAddr, f func(geo.TileAddr) string) []string {
	out := make([]string, len(ts))
	for i, a := range ts {
		out[i] = f(a)
	}
	return out
}
