package postgis

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/onemap-city/onemap/geo"
)

// ChangeChannel is the NOTIFY channel the layer-version triggers announce on.
const ChangeChannel = "onemap_layer_changed"

// ScanRow runs sql with args and scans its single row into dest. Database
// failures come back classified (see Classify).
func (db *DB) ScanRow(ctx context.Context, sql string, args []any, dest ...any) error {
	return Classify(db.QueryRow(ctx, sql, args...).Scan(dest...))
}

// Extent returns the bounds (minLon, minLat, maxLon, maxLat) of a catalogue
// table's geometries, or nil when it is empty. Extents are cached until the
// table's data version changes.
func (db *DB) Extent(ctx context.Context, table string) (*[4]float64, error) {
	if _, ok := geo.Catalogue[table]; !ok {
		return nil, fmt.Errorf("postgis: %q is not a catalogue table", table)
	}
	var version int64
	if err := db.QueryRow(ctx, "SELECT COALESCE((SELECT version FROM layer_versions WHERE layer = $1), 0)", table).Scan(&version); err != nil {
		return nil, Classify(err)
	}
	s, err := db.tableSummary(ctx, table, version)
	return s.bounds, err
}

// tableSummary returns a catalogue table's row count and extent at data
// version `version`: counted once per version, since counting a large table
// takes a scan of it (0.1–1 s on the city demo's biggest tables).
func (db *DB) tableSummary(ctx context.Context, table string, version int64) (cachedSummary, error) {
	db.summariesMu.Lock()
	s, ok := db.summaries[table]
	db.summariesMu.Unlock()
	if ok && s.version == version {
		return s, nil
	}
	s = cachedSummary{version: version}
	var minx, miny, maxx, maxy *float64
	if err := db.QueryRow(ctx, query("table_summary.sql", table)).Scan(&s.features, &minx, &miny, &maxx, &maxy); err != nil {
		return s, Classify(err)
	}
	if minx != nil {
		s.bounds = &[4]float64{*minx, *miny, *maxx, *maxy}
	}
	// Rows written after the version was read are counted under the older
	// version; the next call sees the newer version and counts again.
	db.summariesMu.Lock()
	if db.summaries == nil {
		db.summaries = map[string]cachedSummary{}
	}
	db.summaries[table] = s
	db.summariesMu.Unlock()
	return s, nil
}

type cachedSummary struct {
	version  int64
	features int64
	bounds   *[4]float64
}

// ListenLayerChanges calls onChange with the layer's table name each time
// its data changes (the triggers NOTIFY on every write), until ctx is done.
// It holds one connection of its own and reconnects after failures; after a
// reconnect it calls onGap, since changes may have been missed meanwhile.
func (db *DB) ListenLayerChanges(ctx context.Context, log *slog.Logger, onChange func(table string), onGap func()) {
	backoff := time.Second
	first := true
	for ctx.Err() == nil {
		err := db.listenOnce(ctx, func() {
			if !first {
				onGap()
			}
			first = false
			backoff = time.Second
		}, onChange)
		if ctx.Err() != nil {
			return
		}
		log.Warn("layer change feed interrupted; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

func (db *DB) listenOnce(ctx context.Context, onListening func(), onChange func(string)) error {
	pooled, err := db.Acquire(ctx)
	if err != nil {
		return err
	}
	// A listening connection never goes back to the pool: its session state
	// (LISTEN) must not leak into other queries.
	conn := pooled.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ChangeChannel}.Sanitize()); err != nil {
		return err
	}
	onListening()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		onChange(n.Payload)
	}
}

// PoolCollector exports the pool's statistics as Prometheus metrics.
type PoolCollector struct {
	db    *DB
	descs map[string]*prometheus.Desc
}

// NewPoolCollector returns a collector of db's pool statistics.
func NewPoolCollector(db *DB) *PoolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("onemap_db_pool_"+name, help, nil, nil)
	}
	return &PoolCollector{db: db, descs: map[string]*prometheus.Desc{
		"acquired":       d("acquired_conns", "Connections in use."),
		"idle":           d("idle_conns", "Idle connections."),
		"total":          d("total_conns", "Open connections."),
		"max":            d("max_conns", "Largest number of connections."),
		"acquires":       d("acquires_total", "Connections handed out."),
		"empty_acquires": d("empty_acquires_total", "Acquires that had to wait for a connection."),
		"wait_seconds":   d("acquire_wait_seconds_total", "Time spent waiting for a connection."),
	}}
}

// Describe implements prometheus.Collector.
func (p *PoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range p.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (p *PoolCollector) Collect(ch chan<- prometheus.Metric) {
	s := p.db.Stat()
	gauge := func(k string, v float64) {
		ch <- prometheus.MustNewConstMetric(p.descs[k], prometheus.GaugeValue, v)
	}
	counter := func(k string, v float64) {
		ch <- prometheus.MustNewConstMetric(p.descs[k], prometheus.CounterValue, v)
	}
	gauge("acquired", float64(s.AcquiredConns()))
	gauge("idle", float64(s.IdleConns()))
	gauge("total", float64(s.TotalConns()))
	gauge("max", float64(s.MaxConns()))
	counter("acquires", float64(s.AcquireCount()))
	counter("empty_acquires", float64(s.EmptyAcquireCount()))
	counter("wait_seconds", s.AcquireDuration().Seconds())
}

// QueryRows runs sql with args and streams its rows. Failures to start are
// classified (see Classify); the caller must Close the rows.
func (db *DB) QueryRows(ctx context.Context, sql string, args ...any) (geo.Rows, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, Classify(err)
	}
	return rows, nil
}
