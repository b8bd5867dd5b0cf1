package postgis

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// AreaStatsRefresher keeps the area_stats view (the statistics that the
// tiles of towns, communities and grid cells carry) in step with premises
// and hazards: Poke it on every change and it refreshes the view once the
// changes pause, one refresh at a time, then calls Refreshed.
type AreaStatsRefresher struct {
	DB        *DB
	Log       *slog.Logger
	Quiet     time.Duration // wait this long after the last change (default 1 s)
	Refreshed func()        // called after each refresh

	mu    sync.Mutex
	poked chan struct{}
}

// Poke records that premises or hazards changed.
func (r *AreaStatsRefresher) Poke() {
	r.mu.Lock()
	if r.poked == nil {
		r.poked = make(chan struct{}, 1)
	}
	p := r.poked
	r.mu.Unlock()
	select {
	case p <- struct{}{}:
	default: // a refresh is already due
	}
}

// Run refreshes after pokes until ctx is done. A failed refresh is logged
// and retried on the next poke.
func (r *AreaStatsRefresher) Run(ctx context.Context) {
	quiet := r.Quiet
	if quiet <= 0 {
		quiet = time.Second
	}
	r.Poke() // the view may be stale from writes made while no server ran
	r.mu.Lock()
	p := r.poked
	r.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p:
		}
		// Let a burst of writes (an import) finish first.
		for settled := false; !settled; {
			select {
			case <-ctx.Done():
				return
			case <-p:
			case <-time.After(quiet):
				settled = true
			}
		}
		start := time.Now()
		if err := r.DB.RefreshAreaStats(ctx); err != nil {
			r.Log.Warn("refreshing area statistics failed; will retry on the next change", "err", err)
			continue
		}
		r.Log.Debug("area statistics refreshed", "took", time.Since(start))
		if r.Refreshed != nil {
			r.Refreshed()
		}
	}
}

// RefreshAreaStats recomputes the area_stats view without blocking readers.
func (db *DB) RefreshAreaStats(ctx context.Context) error {
	_, err := db.Exec(ctx, "REFRESH MATERIALIZED VIEW CONCURRENTLY area_stats")
	return Classify(err)
}
