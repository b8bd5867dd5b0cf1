package tiles

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/onemap-city/onemap/geo"
)

// Database runs a tile's statement. *postgis.DB satisfies it.
type Database interface {
	// ScanRow runs sql with args and scans its one row into dest. Failures
	// are geo errors where they can be classified (EUnavailable, ETimeout).
	ScanRow(ctx context.Context, sql string, args []any, dest ...any) error
}

// Config tunes a Service.
type Config struct {
	CacheBytes   int64         // cache budget; 0 disables the cache
	FeatureCap   int           // most features (or clusters) per layer per tile
	ClusterAbove int           // a point layer denser than this in a tile is clustered there (< 0: never)
	TileTimeout  time.Duration // longest a tile's query may run (then ETimeout)
}

// DefaultConfig is what a Service uses for zero fields. 3,000 points keep the
// densest tile of the large demo well under 500 KB.
var DefaultConfig = Config{CacheBytes: 256 << 20, FeatureCap: 20000, ClusterAbove: 3000, TileTimeout: 10 * time.Second}

// Limits returns the per-tile limits of the configuration.
func (c Config) Limits() Limits {
	return Limits{FeatureCap: c.FeatureCap, ClusterAbove: c.ClusterAbove}
}

// Service makes tiles: from the cache when it can, else with one coalesced
// query per distinct tile.
type Service struct {
	db      Database
	cfg     Config
	cache   *Cache
	flights singleflight.Group
	metrics *Metrics

	// generations are bumped when a layer's data changes. The catalogue is
	// fixed at start, so the map is built once and read without a lock.
	generations map[string]*atomic.Uint64
}

// NewService returns a tile service over db. metrics may be nil.
func NewService(db Database, cfg Config, metrics *Metrics) *Service {
	if cfg.FeatureCap <= 0 {
		cfg.FeatureCap = DefaultConfig.FeatureCap
	}
	if cfg.ClusterAbove == 0 {
		cfg.ClusterAbove = DefaultConfig.ClusterAbove
	}
	if cfg.TileTimeout <= 0 {
		cfg.TileTimeout = DefaultConfig.TileTimeout
	}
	if metrics == nil {
		metrics = NewMetrics(nil)
	}
	s := &Service{db: db, cfg: cfg, metrics: metrics, generations: map[string]*atomic.Uint64{}}
	for _, id := range geo.LayerIDs() {
		s.generations[id] = new(atomic.Uint64)
	}
	if cfg.CacheBytes > 0 {
		s.cache = NewCache(cfg.CacheBytes)
	}
	return s
}

// Cache returns the service's tile cache (nil when disabled).
func (s *Service) Cache() *Cache { return s.cache }

// Invalidate forgets every cached tile of layer: its data changed. Tiles
// being made from the old data when it is called are not cached under the
// new generation, so no stale tile is served after it returns.
func (s *Service) Invalidate(layer string) {
	if g := s.generations[layer]; g != nil {
		g.Add(1)
	}
	if s.cache != nil {
		s.cache.Purge(layer, nil)
	}
}

// InvalidateAll forgets every cached tile, for when changes may have been
// missed (the change feed was interrupted).
func (s *Service) InvalidateAll() {
	for _, g := range s.generations {
		g.Add(1)
	}
	if s.cache != nil {
		s.cache.Purge("", nil)
	}
}

// key is the request's cache key, including the data generation of each of
// its layers. It is on every request's path, so it is built in one buffer.
func (s *Service) key(r Request) string {
	b := make([]byte, 0, 96)
	for i, l := range r.Layers {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, l.ID...)
	}
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(r.Addr.Z), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(r.Addr.X), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(r.Addr.Y), 10)
	b = append(b, '?')
	if len(r.Filters) > 0 {
		b = append(b, r.Filters.Key()...)
	}
	for _, l := range r.Layers {
		b = append(b, '#')
		var gen uint64
		if g := s.generations[l.ID]; g != nil {
			gen = g.Load()
		}
		b = strconv.AppendUint(b, gen, 10)
	}
	return string(b)
}

// Tile returns r's tile. Failures are geo errors: EInvalid for a zoom above
// a layer's max, EUnavailable or ETimeout from the database.
func (s *Service) Tile(ctx context.Context, r Request) (*Tile, error) {
	if err := r.Addr.Validate(); err != nil {
		return nil, err
	}
	for _, l := range r.Layers {
		if r.Addr.Z > l.MaxZoom {
			return nil, geo.Invalid("z", "zoom %d is above the %s layer's maximum %d", r.Addr.Z, l.ID, l.MaxZoom)
		}
	}
	start := time.Now()
	key := s.key(r)
	if s.cache != nil {
		if t, ok := s.cache.Get(key); ok {
			s.metrics.observe(r, "hit", t, time.Since(start))
			return t, nil
		}
	}
	v, err, _ := s.flights.Do(key, func() (any, error) {
		// The first caller's cancellation must not fail the others waiting
		// on the same tile, so the query runs on its own deadline.
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.TileTimeout)
		defer cancel()
		t, err := s.make(qctx, r)
		if err != nil {
			return nil, err
		}
		if s.cache != nil {
			ids := make([]string, len(r.Layers))
			for i, l := range r.Layers {
				ids[i] = l.ID
			}
			s.cache.Set(key, ids, r.Addr, t)
		}
		return t, nil
	})
	if err != nil {
		return nil, err
	}
	t := v.(*Tile)
	s.metrics.observe(r, "miss", t, time.Since(start))
	return t, nil
}

// make runs the tile's statement and encodes the result.
func (s *Service) make(ctx context.Context, r Request) (*Tile, error) {
	q, kept := BuildQuery(r, s.cfg.Limits())
	t := &Tile{}
	if len(kept) > 0 {
		dest := make([]any, 0, 2*len(kept))
		mvts := make([][]byte, len(kept))
		truncated := make([]bool, len(kept))
		for i := range kept {
			dest = append(dest, &mvts[i], &truncated[i])
		}
		if err := s.db.ScanRow(ctx, q.SQL, q.Args, dest...); err != nil {
			if ctx.Err() == context.DeadlineExceeded {
				return nil, &geo.Error{Code: geo.ETimeout, Message: fmt.Sprintf("tile %s took longer than %v", r.Addr, s.cfg.TileTimeout), Err: err}
			}
			return nil, fmt.Errorf("tiles: tile %s/%s: %w", r.LayerIDs(), r.Addr, err)
		}
		// An MVT tile is the concatenation of its layers' messages; one
		// layer's bytes are the tile as they are.
		if len(mvts) == 1 {
			t.Identity = mvts[0]
		} else {
			t.Identity = bytes.Join(mvts, nil)
		}
		for i, l := range kept {
			if truncated[i] {
				t.Truncated = append(t.Truncated, l.ID)
			}
		}
	}
	t.encode()
	return t, nil
}

// Encode makes a tile of MVT bytes made elsewhere (the analytics' derived
// layers), so it is sent exactly as the catalogue's tiles are: gzip when
// accepted, one validator per encoding, 204 when empty.
func Encode(mvt []byte) *Tile {
	t := &Tile{Identity: mvt}
	t.encode()
	return t
}

// encode fills in t's gzip bytes and validators from its identity bytes.
func (t *Tile) encode() {
	if len(t.Identity) > 0 {
		t.Gzip = gzipTile(t.Identity)
	}
	// A 64-bit content hash: collisions between two versions of one tile
	// are out of reach, and it costs a microsecond, not a SHA's tens.
	var sum [8]byte
	binary.BigEndian.PutUint64(sum[:], xxhash.Sum64(t.Identity))
	t.ETag = `"` + base64.RawURLEncoding.EncodeToString(sum[:]) + `"`
	t.ETagGzip = strings.TrimSuffix(t.ETag, `"`) + `-gz"`
}

// gzipWriters are reused: a compressor holds about a megabyte of state,
// and making one per tile cost more than the tile's query. Their output
// buffers are reused too, and each tile gets one exact-size copy.
var (
	gzipWriters = sync.Pool{New: func() any {
		w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
		return w
	}}
	gzipBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// gzipTile compresses a tile at the fastest level: it is done once per
// cached tile, on the cold path, where latency counts most.
func gzipTile(b []byte) []byte {
	buf := gzipBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	w := gzipWriters.Get().(*gzip.Writer)
	w.Reset(buf)
	_, _ = w.Write(b)
	_ = w.Close()
	gzipWriters.Put(w)
	out := bytes.Clone(buf.Bytes())
	if buf.Cap() <= 1<<20 { // a rare huge tile's buffer is not kept
		gzipBuffers.Put(buf)
	}
	return out
}

// Metrics are the service's Prometheus metrics.
type Metrics struct {
	latency     *prometheus.HistogramVec
	cache       *prometheus.CounterVec
	size        *prometheus.HistogramVec
	truncations *prometheus.CounterVec

	// Resolved children, so that a tile's request does not hash label
	// values: (layer, zoom) → latency observer, layer → size observer.
	observers sync.Map
	sizes     sync.Map
	hit, miss prometheus.Counter
}

type observerKey struct {
	layer string
	zoom  int
}

// NewMetrics creates the tile metrics and registers them with reg (none when nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "onemap_tile_duration_seconds", Help: "Time to answer a tile, by layer (or 'multi') and zoom.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"layer", "zoom"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onemap_tile_cache_requests_total", Help: "Tile requests by cache result (hit, miss).",
		}, []string{"result"}),
		size: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "onemap_tile_bytes", Help: "Size of the catalogue's tiles made (identity encoding), by layer (or 'multi').",
			Buckets: prometheus.ExponentialBuckets(256, 4, 8),
		}, []string{"layer"}),
		truncations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onemap_tile_truncations_total", Help: "Tiles in which a layer hit the feature cap.",
		}, []string{"layer"}),
	}
	if reg != nil {
		reg.MustRegister(m.latency, m.cache, m.size, m.truncations)
	}
	m.hit, m.miss = m.cache.WithLabelValues("hit"), m.cache.WithLabelValues("miss")
	m.TrackTruncations(geo.LayerIDs()...)
	return m
}

// observer returns the latency histogram of (layer, zoom).
func (m *Metrics) observer(layer string, zoom int) prometheus.Observer {
	k := observerKey{layer: layer, zoom: zoom}
	o, ok := m.observers.Load(k)
	if !ok {
		o, _ = m.observers.LoadOrStore(k, m.latency.WithLabelValues(layer, strconv.Itoa(zoom)))
	}
	return o.(prometheus.Observer)
}

// sizeObserver returns the tile size histogram of layer.
func (m *Metrics) sizeObserver(layer string) prometheus.Observer {
	o, ok := m.sizes.Load(layer)
	if !ok {
		o, _ = m.sizes.LoadOrStore(layer, m.size.WithLabelValues(layer))
	}
	return o.(prometheus.Observer)
}

// ObserveDerived records the time to answer a tile of a layer made outside
// the service (the analytics' heatmap, hexagons and hot spots), in the same
// histogram as the catalogue's layers.
func (m *Metrics) ObserveDerived(layer string, zoom int, took time.Duration) {
	m.observer(layer, zoom).Observe(took.Seconds())
}

// TrackTruncations makes the layers' truncation counts exist from the
// start, at zero, so that a rate or an alert over them has a series before
// the first truncation.
func (m *Metrics) TrackTruncations(layers ...string) {
	for _, id := range layers {
		m.truncations.WithLabelValues(id)
	}
}

// CountTruncation counts a tile of a layer made outside the service that
// hit the feature cap.
func (m *Metrics) CountTruncation(layer string) {
	m.truncations.WithLabelValues(layer).Inc()
}

func (m *Metrics) observe(r Request, result string, t *Tile, took time.Duration) {
	layer := "multi"
	if len(r.Layers) == 1 {
		layer = r.Layers[0].ID
	}
	m.observer(layer, r.Addr.Z).Observe(took.Seconds())
	if result == "hit" {
		m.hit.Inc()
		return
	}
	m.miss.Inc()
	m.sizeObserver(layer).Observe(float64(len(t.Identity)))
	for _, l := range t.Truncated {
		m.truncations.WithLabelValues(l).Inc()
	}
}
