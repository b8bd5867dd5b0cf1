// Command tilebench measures OneMap's tile serving on the city demo: it
// replays a viewport trace of planners panning and zooming (z10–z17 over the
// town cores) against a real `onemap serve` process over loopback, cold
// (tile cache purged) and warm, at several concurrencies; runs the very same
// tile SQL through pgx in a tight loop for comparison; and sweeps every layer
// and zoom for the largest tile. It prints a Markdown report and can write
// it into docs/BENCHMARKS.md.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/postgis"
	"github.com/onemap-city/onemap/tiles"
)

func main() {
	var (
		bin         = flag.String("onemap", "bin/onemap", "the onemap binary to benchmark")
		dir         = flag.String("data-dir", ".onemap-bench", "embedded cluster for the benchmark")
		scale       = flag.String("scale", "city", "demo scale")
		viewports   = flag.Int("viewports", 60, "viewports in the trace")
		conc        = flag.String("concurrency", "1,8,64", "client concurrencies")
		write       = flag.String("write", "", "Markdown file to write the report into (between tilebench markers)")
		sweepCities = flag.Bool("sweep", true, "sweep all layers and zooms for the largest tile")
		onlyAnalyt  = flag.Bool("analytics-only", false, "measure only the analytics endpoints (heatmap, hex density, hot spots, stats)")
		onlyCover   = flag.Bool("coverage-only", false, "measure only the coverage endpoints (coverage, service areas, 2SFCA, siting)")
		webmap      = flag.Bool("webmap", false, "measure only the web map's first paint in headless Chromium (needs node and frontend/node_modules)")
		runs        = flag.Int("runs", 7, "-webmap: page loads per view and cache state")
		traceOut    = flag.String("trace-out", "", "write the viewport trace's tile paths to this file, one a line (for wrk or curl by hand), and stop")
	)
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := context.Background()
	mode := ""
	switch {
	case *onlyAnalyt:
		mode = "analytics"
	case *onlyCover:
		mode = "coverage"
	case *webmap:
		mode = "webmap"
	}
	if *traceOut != "" {
		mode, *write = "trace", *traceOut
	}
	if err := run(ctx, log, *bin, *dir, *scale, *viewports, parseInts(*conc), *write, *sweepCities, mode, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "tilebench:", err)
		os.Exit(1)
	}
}

func parseInts(s string) []int {
	var out []int
	for _, p := range strings.Split(s, ",") {
		var n int
		fmt.Sscan(p, &n)
		if n > 0 {
			out = append(out, n)
		}
	}
	return out
}

func run(ctx context.Context, log *slog.Logger, bin, dir, scale string, viewports int, concs []int, write string, sweep bool, mode string, runs int) error {
	cluster, err := postgis.StartCluster(ctx, postgis.ClusterConfig{Dir: dir, Durable: true, Logger: log})
	if err != nil {
		return err
	}
	defer cluster.Stop(context.Background())
	if err := postgis.EnsureDatabase(ctx, cluster.URL("postgres"), "onemap"); err != nil {
		return err
	}
	url := cluster.URL("onemap")
	db, err := postgis.Open(ctx, url, postgis.PoolConfig{MaxConns: 16})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx, nil); err != nil {
		return err
	}
	var premises int64
	_ = db.QueryRow(ctx, "SELECT count(*) FROM premises").Scan(&premises)
	want := map[string]int64{"small": 1, "city": 50_000, "large": 500_000}[scale]
	if premises < want || (scale != "large" && premises > 500_000) {
		fmt.Fprintf(os.Stderr, "loading the %s demo…\n", scale)
		if _, err := db.LoadDemo(ctx, scale, 1, log); err != nil {
			return err
		}
	}
	_ = db.QueryRow(ctx, "SELECT count(*) FROM premises").Scan(&premises)

	trace, err := buildTrace(ctx, db, viewports)
	if err != nil {
		return err
	}
	if mode == "trace" {
		return os.WriteFile(write, tracePaths(trace), 0o644)
	}
	addr, stop, err := startServer(bin, url)
	if err != nil {
		return err
	}
	defer stop()

	var report bytes.Buffer
	host, _ := os.Hostname()
	if mode == "coverage" {
		fmt.Fprintf(&report, "Measured %s on %s (%d cores), demo `%s` (%d premises). Command: `go run ./cmd/tilebench -scale %s -data-dir <dir> -coverage-only`.\n\n",
			time.Now().Format("2006-01-02"), host, runtime.NumCPU(), scale, premises, scale)
		if err := coverageBench(ctx, db, addr, &report); err != nil {
			return err
		}
		fmt.Print(report.String())
		if write != "" {
			return writeSection(write, "coverage-"+scale, report.String())
		}
		return nil
	}
	if mode == "webmap" {
		fmt.Fprintf(&report, "Measured %s on %s (%d cores), demo `%s` (%d premises). Command: `make build && go run ./cmd/tilebench -webmap -data-dir .onemap-bench-web -write docs/BENCHMARKS.md`.\n\n",
			time.Now().Format("2006-01-02"), host, runtime.NumCPU(), scale, premises)
		if err := webmapBench(ctx, db, addr, runs, &report); err != nil {
			return err
		}
		fmt.Print(report.String())
		if write != "" {
			return writeSection(write, "webmap-"+scale, report.String())
		}
		return nil
	}
	if mode == "analytics" {
		fmt.Fprintf(&report, "Measured %s on %s (%d cores), demo `%s` (%d premises). Command: `go run ./cmd/tilebench -scale %s -analytics-only -write docs/BENCHMARKS.md`.\n\n",
			time.Now().Format("2006-01-02"), host, runtime.NumCPU(), scale, premises, scale)
		if err := analyticsBench(ctx, db, addr, &report); err != nil {
			return err
		}
		fmt.Print(report.String())
		if write != "" {
			return writeSection(write, "analytics-"+scale, report.String())
		}
		return nil
	}
	fmt.Fprintf(&report, "Measured %s on %s (%d cores, %s), demo `%s` (%d premises), trace of %d viewports = %d tile requests (z10–z17 over town cores, one request per visible layer, 1280×800 px viewports of 512 px tiles). `cold`: OneMap's tile cache purged before the run (PostgreSQL's own buffers warm); `warm`: the same trace again. `direct SQL`: the same statements through pgx with the same concurrency and a pool of 16, no HTTP. Command: `make bench`.\n\n",
		time.Now().Format("2006-01-02"), host, runtime.NumCPU(), runtime.Version(), scale, premises, viewports, len(trace))
	fmt.Fprintf(&report, "| run | concurrency | tiles/s | p50 ms | p99 ms | bytes/tile (gzip) | cold ÷ direct |\n|---|---|---|---|---|---|---|\n")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 0, DisableCompression: true}}
	wrkPath, _ := exec.LookPath("wrk")
	// A second server with its tile cache off: every request runs its
	// statement, so wrk can cycle the trace for a fixed time and measure the
	// uncached path without a Go HTTP client's CPU on the same two cores.
	var uncachedAddr, onePAddr string
	if wrkPath != "" {
		a, stopUncached, err := startServer(bin, url, "ONEMAP_TILE_CACHE_MB=0")
		if err != nil {
			return err
		}
		defer stopUncached()
		uncachedAddr = a
		// A third server, caching, on one P: wrk, sharing the two cores,
		// then has one of its own, as a client on another machine would,
		// and the saturation tail shows what the server itself adds.
		a, stopOneP, err := startServer(bin, url, "GOMAXPROCS=1")
		if err != nil {
			return err
		}
		defer stopOneP()
		onePAddr = a
	}
	for _, c := range concs {
		// Cold and direct alternate, three runs each, and the medians are
		// reported, so neither profits from running second.
		var colds, directs []result
		for range 3 {
			directs = append(directs, replaySQL(ctx, db, trace, c))
			if err := purge(client, addr); err != nil {
				return err
			}
			colds = append(colds, replay(client, addr, trace, c))
		}
		cold, direct := median(colds), median(directs)
		// The uncached server under wrk and the same statements through
		// pgx run the same way (the trace cycled for 10 s after a warm-up),
		// in turns, three pairs: the machine's drift between runs of 5–8 %
		// falls on both sides of each pair's ratio.
		var warm, uncached, cycled result
		var ratios []float64
		if wrkPath != "" {
			var uncacheds, cycleds []result
			for range 3 {
				u, err := replayWrk(wrkPath, uncachedAddr, trace, c, 0)
				if err != nil {
					return err
				}
				d := cycleSQL(ctx, db, trace, c, 10*time.Second)
				uncacheds, cycleds = append(uncacheds, u), append(cycleds, d)
				ratios = append(ratios, u.rate/d.rate)
			}
			uncached, cycled = median(uncacheds), median(cycleds)
			if warm, err = replayWrk(wrkPath, addr, trace, c, 0); err != nil {
				return err
			}
		} else {
			warm = replay(client, addr, trace, c)
		}
		fmt.Fprintf(&report, "| cold | %d | %.0f | %.2f | %.2f | %.0f | %.0f%% |\n", c, cold.rate, cold.p50, cold.p99, cold.bytes, 100*cold.rate/direct.rate)
		if wrkPath != "" {
			sort.Float64s(ratios)
			fmt.Fprintf(&report, "| uncached (wrk) | %d | %.0f | %.2f | %.2f | %.0f | %.0f%% (%.0f–%.0f%%) |\n", c, uncached.rate, uncached.p50, uncached.p99, uncached.bytes, 100*ratios[1], 100*ratios[0], 100*ratios[2])
		}
		fmt.Fprintf(&report, "| warm | %d | %.0f | %.2f | %.2f | %.0f | |\n", c, warm.rate, warm.p50, warm.p99, warm.bytes)
		if wrkPath != "" && c == 64 {
			// The target's load: 20,000 tiles/s over 64 connections, not
			// as many as the machine can take.
			paced, err := replayWrk(wrkPath, addr, trace, c, 20000)
			if err != nil {
				return err
			}
			fmt.Fprintf(&report, "| warm, 20,000/s offered | %d | %.0f | %.2f | %.2f | %.0f | |\n", c, paced.rate, paced.p50, paced.p99, paced.bytes)
			oneP, err := replayWrk(wrkPath, onePAddr, trace, c, 0)
			if err != nil {
				return err
			}
			fmt.Fprintf(&report, "| warm, server on one P | %d | %.0f | %.2f | %.2f | %.0f | |\n", c, oneP.rate, oneP.p50, oneP.p99, oneP.bytes)
		}
		fmt.Fprintf(&report, "| direct SQL | %d | %.0f | %.2f | %.2f | | |\n", c, direct.rate, direct.p50, direct.p99)
		if wrkPath != "" {
			fmt.Fprintf(&report, "| direct SQL, cycled | %d | %.0f | %.2f | %.2f | | |\n", c, cycled.rate, cycled.p50, cycled.p99)
		}
		if cold.errors+warm.errors+uncached.errors > 0 {
			fmt.Fprintf(&report, "\n(errors: %d in the cold run, %d uncached, %d warm)\n", cold.errors, uncached.errors, warm.errors)
		}
	}
	if wrkPath != "" {
		fmt.Fprintf(&report, "\n`cold` runs the trace once after a purge of the tile cache, through a Go HTTP client (whose CPU, about 0.15 ms a tile, shares the 2 cores with PostgreSQL). `uncached (wrk)` asks a second server whose tile cache is off, so every request runs its statement, with wrk cycling the trace for 10 s after a 3 s warm-up, in turn with `direct SQL, cycled` (the same statements through pgx, run the same way): three pairs, the median of each and of the three pairs' ratios (their range in brackets); `warm` is the same against the caching server, as fast as it answers (saturation); `warm, 20,000/s offered` paces the requests at 20,000 a second over the 64 connections (the target's load). `warm, server on one P` is the caching server with `GOMAXPROCS=1`, as fast as it answers: wrk then has a core of its own rather than time-slicing with two server threads, so its p99 is the server's tail, not the load generator's. wrk runs one thread. Direct SQL uses Go clients. Client and server share the machine's 2 cores.\n")
	}
	// The z14 premises tiles of the trace, cold, one at a time.
	if err := purge(client, addr); err != nil {
		return err
	}
	var z14 []request
	for _, r := range trace {
		if r.layer == "premises" && r.addr.Z == 14 {
			z14 = append(z14, r)
		}
	}
	if len(z14) > 0 {
		s := replay(client, addr, z14, 1)
		fmt.Fprintf(&report, "\nz14 `premises` tiles, cold, one at a time: %d tiles, p50 %.2f ms, p99 %.2f ms, %.0f bytes/tile (gzip).\n", len(z14), s.p50, s.p99, s.bytes)
	}
	if sweep {
		if err := sizeSweep(ctx, db, &report); err != nil {
			return err
		}
	}
	fmt.Print(report.String())
	if write != "" {
		return writeSection(write, "tilebench", report.String())
	}
	return nil
}

// request is one tile request of the trace.
type request struct {
	layer string
	addr  geo.TileAddr
}

func (r request) path() string {
	return fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", r.layer, r.addr.Z, r.addr.X, r.addr.Y)
}

// buildTrace makes a deterministic viewport trace over the busiest grid
// cells: each viewport a zoom in 10–17 and the tiles it shows, one request per
// layer visible at that zoom. A tile is asked for once (as a browser's cache
// would have it), so the cold run is all misses.
func buildTrace(ctx context.Context, db *postgis.DB, n int) ([]request, error) {
	rows, err := db.Query(ctx, `SELECT ST_X(c), ST_Y(c) FROM (
		SELECT ST_Centroid(ST_Collect(geom)) AS c, count(*) AS n FROM premises
		WHERE grid_cell_id IS NOT NULL GROUP BY grid_cell_id ORDER BY n DESC, grid_cell_id LIMIT 25) s`)
	if err != nil {
		return nil, err
	}
	var cores [][2]float64
	for rows.Next() {
		var p [2]float64
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, err
		}
		cores = append(cores, p)
	}
	if len(cores) == 0 {
		return nil, fmt.Errorf("no premises: load a demo first")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[request]bool{}
	var trace []request
	for i := 0; i < n; i++ {
		core := cores[rng.IntN(len(cores))]
		z := 10 + rng.IntN(8)
		// Jitter the centre by up to half a viewport.
		span := 360.0 / float64(int(1)<<z) // degrees per 512 px tile, roughly
		lon := core[0] + (rng.Float64()-0.5)*span*1.25
		lat := core[1] + (rng.Float64()-0.5)*span*0.8
		c := geo.TileOf(z, lon, lat)
		for dx := -1; dx <= 2; dx++ {
			for dy := -1; dy <= 1; dy++ {
				a := geo.TileAddr{Z: z, X: c.X + dx, Y: c.Y + dy}
				for _, id := range geo.LayerIDs() {
					l := geo.Catalogue[id]
					if id == "inspections" || z < l.MinZoom || z > l.MaxZoom {
						continue
					}
					r := request{layer: id, addr: a}
					if !seen[r] {
						seen[r] = true
						trace = append(trace, r)
					}
				}
			}
		}
	}
	return trace, nil
}

// tracePaths lists the trace's tile paths, one a line.
func tracePaths(trace []request) []byte {
	var b bytes.Buffer
	for _, r := range trace {
		b.WriteString(r.path() + "\n")
	}
	return b.Bytes()
}

const adminToken = "tilebench"

// startServer runs `onemap serve` against the benchmark database.
func startServer(bin, url string, env ...string) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "ONEMAP_DATABASE_URL="+url, "ONEMAP_ADDR="+addr, "ONEMAP_ADMIN_TOKEN="+adminToken,
		"ONEMAP_DB_MAX_CONNS=16",
		"ONEMAP_LOG_LEVEL=warn", "ONEMAP_TILE_CACHE_MB=1024")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start %s: %w (run `make build` first)", bin, err)
	}
	stop := func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }
	for i := 0; i < 300; i++ {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return addr, stop, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	return "", nil, fmt.Errorf("onemap serve did not become ready")
}

func purge(client *http.Client, addr string) error {
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/admin/tiles/purge", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("purge: %s", resp.Status)
	}
	return nil
}

// median returns the run with the median rate.
func median(rs []result) result {
	sort.Slice(rs, func(i, j int) bool { return rs[i].rate < rs[j].rate })
	return rs[len(rs)/2]
}

// replayWrk cycles the trace with wrk for a fixed time: the warm run, where
// a Go client would take as much CPU as the server it measures. With rate >
// 0 the requests are paced at rate per second over the c connections
// (request k is due k/rate after the first, whichever connection is free):
// the latency at a given load rather than at saturation.
func replayWrk(wrk, addr string, trace []request, c int, rate float64) (result, error) {
	dir, err := os.MkdirTemp("", "tilebench-")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "trace.lua")
	lua := `local paths = {}
for line in io.lines("` + filepath.Join(dir, "paths.txt") + `") do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], {["Accept-Encoding"] = "gzip"})
end
`
	if rate > 0 {
		// wrk's Lua is LuaJIT: the monotonic clock comes through its FFI.
		lua += fmt.Sprintf(`local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } tilebench_timespec;
int clock_gettime(int clk_id, tilebench_timespec *tp);
]]
local ts = ffi.new("tilebench_timespec")
local k, t0, interval = 0, nil, 1000 / %g
delay = function()
  ffi.C.clock_gettime(1, ts)
  local t = tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
  t0 = t0 or t
  k = k + 1
  return math.max(0, t0 + k * interval - t)
end
`, rate)
	}
	if err := os.WriteFile(filepath.Join(dir, "paths.txt"), tracePaths(trace), 0o644); err != nil {
		return result{}, err
	}
	if err := os.WriteFile(script, []byte(lua), 0o644); err != nil {
		return result{}, err
	}
	args := func(d string) []string {
		// The timeout is the server's own tile timeout and more: a slow tile
		// is slow, not a socket error (wrk's default is 2 s).
		return []string{"-t1", fmt.Sprintf("-c%d", c), "-d" + d, "--timeout", "15s", "-s", script, "--latency", "http://" + addr}
	}
	if out, err := exec.Command(wrk, args("3s")...).CombinedOutput(); err != nil {
		return result{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	out, err := exec.Command(wrk, args("10s")...).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	var r result
	var transfer float64
	var unit string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			fmt.Sscan(f[1], &r.rate)
		case len(f) == 2 && f[0] == "Transfer/sec:":
			fmt.Sscanf(f[1], "%f%s", &transfer, &unit)
		case len(f) == 2 && f[0] == "50%":
			r.p50 = wrkMillis(f[1])
		case len(f) == 2 && f[0] == "99%":
			r.p99 = wrkMillis(f[1])
		case len(f) == 5 && f[0] == "Non-2xx":
			fmt.Sscan(f[4], &r.errors)
		}
		if strings.HasPrefix(line, "  Socket errors:") {
			r.errors++
		}
	}
	mult := map[string]float64{"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}[unit]
	if r.rate > 0 {
		r.bytes = transfer * mult / r.rate
	}
	return r, nil
}

// wrkMillis reads a wrk latency such as 812.00us, 2.34ms or 1.01s.
func wrkMillis(s string) float64 {
	var v float64
	for _, u := range []struct {
		suffix string
		ms     float64
	}{{"us", 0.001}, {"ms", 1}, {"s", 1000}} {
		if strings.HasSuffix(s, u.suffix) {
			fmt.Sscan(strings.TrimSuffix(s, u.suffix), &v)
			return v * u.ms
		}
	}
	return 0
}

type result struct {
	rate, p50, p99, bytes float64
	errors                int
}

func summarize(lat []time.Duration, total time.Duration, bytes int64, ok int, errors int) result {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	r := result{rate: float64(len(lat)) / total.Seconds(), p50: pct(0.50), p99: pct(0.99), errors: errors}
	if ok > 0 {
		r.bytes = float64(bytes) / float64(ok)
	}
	return r
}

// each runs f(i) for every i in [0, n), c at a time, and returns how long
// that took.
func each(n, c int, f func(i int)) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				f(i)
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// replay sends the trace with c clients and measures each request.
func replay(client *http.Client, addr string, trace []request, c int) result {
	lat := make([]time.Duration, len(trace))
	var bytes, ok, errs atomic.Int64
	took := each(len(trace), c, func(i int) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+trace[i].path(), nil)
		req.Header.Set("Accept-Encoding", "gzip")
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			errs.Add(1)
			return
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lat[i] = time.Since(t0)
		switch resp.StatusCode {
		case 200:
			bytes.Add(n)
			ok.Add(1)
		case 204:
		default:
			errs.Add(1)
		}
	})
	return summarize(lat, took, bytes.Load(), int(ok.Load()), int(errs.Load()))
}

// replaySQL runs each request's tile statement through pgx, c at a time.
func replaySQL(ctx context.Context, db *postgis.DB, trace []request, c int) result {
	queries := traceQueries(trace)
	lat := make([]time.Duration, len(trace))
	took := each(len(trace), c, func(i int) {
		t0 := time.Now()
		runQuery(ctx, db, queries[i])
		lat[i] = time.Since(t0)
	})
	return summarize(lat, took, 0, 0, 0)
}

// cycleSQL runs the trace's statements through pgx c at a time, cycling the
// trace for a 3 s warm-up and then for d: the same shape of run as wrk's
// against the uncached server, so the two can be paired.
func cycleSQL(ctx context.Context, db *postgis.DB, trace []request, c int, d time.Duration) result {
	queries := traceQueries(trace)
	run := func(d time.Duration) ([]time.Duration, time.Duration) {
		var next atomic.Int64
		var mu sync.Mutex
		var lat []time.Duration
		var wg sync.WaitGroup
		start := time.Now()
		end := start.Add(d)
		for range c {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []time.Duration
				for time.Now().Before(end) {
					t0 := time.Now()
					runQuery(ctx, db, queries[int(next.Add(1)-1)%len(queries)])
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		return lat, time.Since(start)
	}
	run(3 * time.Second)
	lat, took := run(d)
	return summarize(lat, took, 0, 0, 0)
}

// traceQueries builds each request's statement beforehand, as wrk's paths
// are, so that building it is not timed.
func traceQueries(trace []request) []tiles.Query {
	queries := make([]tiles.Query, len(trace))
	for i, r := range trace {
		queries[i], _ = tiles.BuildQuery(tiles.Request{Layers: []*geo.Layer{geo.Catalogue[r.layer]}, Addr: r.addr}, tiles.DefaultConfig.Limits())
	}
	return queries
}

// runQuery runs one tile statement and reads its MVT bytes.
func runQuery(ctx context.Context, db *postgis.DB, q tiles.Query) {
	if q.SQL == "" {
		return
	}
	var mvt []byte
	var truncated bool
	_ = db.ScanRow(ctx, q.SQL, q.Args, &mvt, &truncated)
}

// sizeSweep finds the largest tile of every layer: every tile of the city at
// z ≤ 12, and around the 25 busiest cores at z13–17.
func sizeSweep(ctx context.Context, db *postgis.DB, report *bytes.Buffer) error {
	svc := tiles.NewService(db, tiles.Config{}, nil)
	var cores []geo.TileAddr
	rows, err := db.Query(ctx, `SELECT ST_X(c), ST_Y(c) FROM (
		SELECT ST_Centroid(ST_Collect(geom)) AS c, count(*) AS n FROM premises
		WHERE grid_cell_id IS NOT NULL GROUP BY grid_cell_id ORDER BY n DESC LIMIT 25) s`)
	if err != nil {
		return err
	}
	var pts [][2]float64
	for rows.Next() {
		var p [2]float64
		_ = rows.Scan(&p[0], &p[1])
		pts = append(pts, p)
	}
	ext, err := db.Extent(ctx, "towns")
	if err != nil || ext == nil {
		return fmt.Errorf("sweep: no towns extent: %v", err)
	}
	fmt.Fprintf(report, "\nLargest tile per layer (identity bytes; every tile of the city up to z12, 3×3 tiles around the 25 busiest cores at z13–z17):\n\n| layer | largest tile | at | tiles swept | truncated |\n|---|---|---|---|---|\n")
	overall := 0
	for _, id := range geo.LayerIDs() {
		l := geo.Catalogue[id]
		biggest, at, n, trunc := 0, geo.TileAddr{}, 0, 0
		for z := max(l.MinZoom, 6); z <= 17; z++ {
			cores = cores[:0]
			if z <= 12 {
				minX, minY, maxX, maxY := geo.TileRange(z, *ext)
				for x := minX; x <= maxX; x++ {
					for y := minY; y <= maxY; y++ {
						cores = append(cores, geo.TileAddr{Z: z, X: x, Y: y})
					}
				}
			} else {
				seen := map[geo.TileAddr]bool{}
				for _, p := range pts {
					c := geo.TileOf(z, p[0], p[1])
					for dx := -1; dx <= 1; dx++ {
						for dy := -1; dy <= 1; dy++ {
							a := geo.TileAddr{Z: z, X: c.X + dx, Y: c.Y + dy}
							if !seen[a] {
								seen[a] = true
								cores = append(cores, a)
							}
						}
					}
				}
			}
			for _, a := range cores {
				t, err := svc.Tile(ctx, tiles.Request{Layers: []*geo.Layer{l}, Addr: a})
				if err != nil {
					return err
				}
				n++
				if len(t.Truncated) > 0 {
					trunc++
				}
				if len(t.Identity) > biggest {
					biggest, at = len(t.Identity), a
				}
			}
		}
		overall = max(overall, biggest)
		fmt.Fprintf(report, "| %s | %.1f KB | %v | %d | %d |\n", id, float64(biggest)/1000, at, n, trunc)
	}
	fmt.Fprintf(report, "\nLargest tile of all: %.1f KB (limit 500 KB).\n", float64(overall)/1000)
	return nil
}

// coverageBench times the coverage engine one request at a time. "cold"
// runs follow a write to the supply table, so the engine reloads demand and
// supply and recomputes everything (as after any edit); "warm" runs ask a
// new threshold of data already in memory. Service areas are computed on
// every request.
func coverageBench(ctx context.Context, db *postgis.DB, addr string, report *bytes.Buffer) error {
	var counts [5]int64
	_ = db.QueryRow(ctx, `SELECT (SELECT count(*) FROM premises), (SELECT count(*) FROM hydrants WHERE status = 'in_service'),
		(SELECT count(*) FROM roads), (SELECT count(*) FROM road_nodes), (SELECT count(*) FROM grid_cells)`).
		Scan(&counts[0], &counts[1], &counts[2], &counts[3], &counts[4])
	fmt.Fprintf(report, "Data: %d premises, %d in-service hydrants, %d road edges, %d road nodes, %d grid cells.\n\n",
		counts[0], counts[1], counts[2], counts[3], counts[4])
	client := &http.Client{Timeout: 10 * time.Minute}
	call := func(method, u, body string) (float64, error) {
		return timedRequest(ctx, client, addr, method, u, body)
	}
	touch := func(table string) error {
		_, err := db.Exec(ctx, "UPDATE "+pgx.Identifier{table}.Sanitize()+" SET updated_at = updated_at WHERE id = (SELECT min(id) FROM "+pgx.Identifier{table}.Sanitize()+")")
		return err
	}
	fmt.Fprintf(report, "| request | runs | p50 ms | max ms |\n|---|---|---|---|\n")
	row := func(name string, ms []float64) {
		sort.Float64s(ms)
		fmt.Fprintf(report, "| %s | %d | %.0f | %.0f |\n", name, len(ms), ms[len(ms)/2], ms[len(ms)-1])
	}
	type bench struct {
		name, method, url, body, touch string
		runs                           int
	}
	for _, b := range []bench{
		{"hydrant coverage (150 m), per grid cell, cold", "GET", "/api/v1/coverage/hydrants?level=grid_cell", "", "hydrants", 3},
		{"hydrant coverage, another threshold, warm", "GET", "/api/v1/coverage/hydrants?level=grid_cell&threshold=%d", "", "", 3},
		{"hydrant gap polygons, cold", "GET", "/api/v1/coverage/hydrants/gaps", "", "hydrants", 3},
		{"station coverage (240 s on the network), per grid cell, cold", "GET", "/api/v1/coverage/stations?level=grid_cell", "", "fire_stations", 3},
		{"240 s service areas of all stations (first-due districts), cold", "GET", "/api/v1/service-areas?minutes=4", "", "fire_stations", 3},
		{"3, 4 and 8 min service areas of all stations, cold", "GET", "/api/v1/service-areas?minutes=3,4,8", "", "fire_stations", 3},
		{"shelter 2SFCA (500 m) for all grid cells, cold", "GET", "/api/v1/coverage/shelters?level=grid_cell", "", "shelters", 3},
		{"siting 20 hydrants (candidates every 120 m of road), cold", "POST", "/api/v1/siting/hydrants", `{"count": 20}`, "hydrants", 3},
		{"siting 3 stations (candidates at road nodes), cold", "POST", "/api/v1/siting/stations", `{"count": 3, "candidates": "road_nodes"}`, "fire_stations", 3},
	} {
		var ms []float64
		for i := range b.runs {
			if b.touch != "" {
				if err := touch(b.touch); err != nil {
					return err
				}
			}
			u := b.url
			if strings.Contains(u, "%d") {
				u = fmt.Sprintf(u, 100+10*i)
			}
			t, err := call(b.method, u, b.body)
			if err != nil {
				ms = nil
				fmt.Fprintf(report, "| %s | %d | failed: %v | |\n", b.name, i+1, err)
				break
			}
			ms = append(ms, t)
		}
		if ms != nil {
			row(b.name, ms)
		}
	}
	return nil
}

// webmapBench loads the web map in headless Chromium through
// frontend/test/firstpaint.mjs, runs times per view and cache state, and
// reports the medians: the first frame with our tiles drawn and the first
// idle with every default layer rendered, from navigation start.
func webmapBench(ctx context.Context, db *postgis.DB, addr string, runs int, report *bytes.Buffer) error {
	var lon, lat float64
	err := db.QueryRow(ctx, `SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Collect(geom)) AS c FROM premises
		WHERE grid_cell_id = (SELECT grid_cell_id FROM premises GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1)) s`).Scan(&lon, &lat)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "node", "test/firstpaint.mjs", "--url", "http://"+addr+"/", "--runs", fmt.Sprint(runs),
		"--view", fmt.Sprintf("%.6f,%.6f,14", lon, lat), "--admin-token", adminToken)
	cmd.Dir = "frontend"
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("node test/firstpaint.mjs (run from the repository root, after npm ci in frontend/): %w", err)
	}
	type load struct {
		Tiles, Idle, Render, Catalogue, Lib, DCL float64
		PageBytes, Requests, TileRequests        float64
	}
	var res struct {
		Views []struct {
			Name string
			Runs map[string][]load
		}
		Errors, Empty []string
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return fmt.Errorf("firstpaint output: %w", err)
	}
	med := func(ls []load, f func(load) float64) float64 {
		v := make([]float64, len(ls))
		for i, l := range ls {
			v[i] = f(l)
		}
		sort.Float64s(v)
		return v[len(v)/2]
	}
	fmt.Fprintf(report, "Headless Chromium (Debian's, playwright-core) at 1280×800 px, WebGL on SwiftShader (the CPU, sharing the 2 cores with the server and PostgreSQL), `reducedMotion` off, over loopback. Each row is the median of %d page loads; times are from navigation start. `first visit`: a fresh browser context (empty HTTP cache), the server's tile cache warm from earlier loads; `first visit, server cold`: the same after purging the server's tile cache; `reload`: the same context reloaded (warm HTTP cache). `city` opens `/` (the whole city, as a first visit does); `town core` opens a permalink at z14 over the busiest grid cell. `first map paint`: the first frame with features of our tiles drawn; `idle`: the map's first `idle` event, with every default layer visible at that zoom rendered (`queryRenderedFeatures` > 0).\n\n", runs)
	fmt.Fprintf(report, "| view | load | first map paint ms | idle ms | MapLibre loaded ms | catalogue ms | page requests | tile requests | page KB transferred |\n|---|---|---|---|---|---|---|---|---|\n")
	names := map[string]string{"cold_server": "first visit, server cold", "cold": "first visit", "warm": "reload"}
	for _, v := range res.Views {
		for _, kind := range []string{"cold_server", "cold", "warm"} {
			ls := v.Runs[kind]
			if len(ls) == 0 {
				continue
			}
			fmt.Fprintf(report, "| %s | %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |\n", v.Name, names[kind],
				med(ls, func(l load) float64 { return l.Tiles }), med(ls, func(l load) float64 { return l.Idle }),
				med(ls, func(l load) float64 { return l.Lib }), med(ls, func(l load) float64 { return l.Catalogue }),
				med(ls, func(l load) float64 { return l.Requests }), med(ls, func(l load) float64 { return l.TileRequests }),
				med(ls, func(l load) float64 { return l.PageBytes })/1000)
		}
	}
	if len(res.Errors) > 0 {
		fmt.Fprintf(report, "\nConsole errors: %s\n", strings.Join(res.Errors, "; "))
	}
	if len(res.Empty) > 0 {
		fmt.Fprintf(report, "\nDefault layers not drawn at the first idle: %s\n", strings.Join(res.Empty, ", "))
	}
	return nil
}

// writeSection replaces the text between <!-- name:start --> and
// <!-- name:end --> in file (appending the markers if missing).
func writeSection(file, name, body string) error {
	old, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	start, end := "<!-- "+name+":start -->", "<!-- "+name+":end -->"
	s := string(old)
	i, j := strings.Index(s, start), strings.Index(s, end)
	section := start + "\n" + body + end
	if i >= 0 && j > i {
		s = s[:i] + section + s[j+len(end):]
	} else {
		s += "\n" + section + "\n"
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	return os.WriteFile(file, []byte(s), 0o644)
}

// timedRequest sends one request to the server at addr and returns how long
// the whole response took, in milliseconds; a status of 400 or more is an
// error.
func timedRequest(ctx context.Context, client *http.Client, addr, method, u, body string) (float64, error) {
	t0 := time.Now()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+u, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return 0, fmt.Errorf("%s %s: %s", method, u, resp.Status)
	}
	return float64(time.Since(t0).Microseconds()) / 1000, nil
}
