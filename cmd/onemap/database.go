package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/onemap-city/onemap/sql/postgis"
)

// database is an open, migrated OneMap database and, when OneMap runs its
// own cluster, that cluster.
type database struct {
	*postgis.DB
	cluster *postgis.Cluster
	// owner holds the data folder's lock: this process runs the cluster
	// (started it, or adopted one whose onemap is gone) and stops it at
	// the end. Without it another onemap runs it, and this one (an import,
	// an export, a second server) only connects: stopping it would take the
	// other's database away.
	owner *os.File
	log   *slog.Logger
}

// ownerLock is the file whose lock marks the onemap that runs the cluster.
const ownerLock = "onemap.lock"

// lockDataDir takes the data folder's lock if no other onemap holds it.
func lockDataDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, ownerLock), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, err
	}
	return f, nil
}

// Supervise restarts the embedded cluster when it exits unasked, if this
// process runs it (see owner).
func (d *database) Supervise(ctx context.Context) {
	if d.cluster != nil && d.owner != nil {
		d.cluster.Supervise(ctx)
	}
}

// openDatabase connects to ONEMAP_DATABASE_URL or, without one, starts the
// embedded cluster in ONEMAP_DATA_DIR; then it migrates the schema.
func openDatabase(ctx context.Context, cfg *Config, log *slog.Logger) (*database, error) {
	d := &database{log: log}
	url := cfg.DatabaseURL
	if url == "" {
		owner, err := lockDataDir(cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", filepath.Join(cfg.DataDir, ownerLock), err)
		}
		d.owner = owner
		if owner == nil {
			log.Info("another onemap runs the database in this data folder: connecting to it, leaving it running", "dir", cfg.DataDir)
		}
		c, err := postgis.StartCluster(ctx, postgis.ClusterConfig{
			Dir: cfg.DataDir, BinDir: cfg.PGBinDir, Port: cfg.DBPort, Durable: true, Logger: log,
			// A guest that has to start the server (the owner's is between
			// restarts) leaves it to outlive this process.
			Detached: owner == nil,
		})
		if err != nil {
			d.Close()
			return nil, err
		}
		d.cluster = c
		if err := postgis.EnsureDatabase(ctx, c.URL("postgres"), "onemap"); err != nil {
			d.Close()
			return nil, err
		}
		url = c.URL("onemap")
		log.Info("embedded PostGIS ready", "psql", c.PsqlCommand("onemap"))
	}
	db, err := postgis.Open(ctx, url, postgis.PoolConfig{MaxConns: int32(cfg.DBMaxConns), StatementTimeout: cfg.StatementTimeout})
	if err != nil {
		d.Close()
		return nil, err
	}
	d.DB = db
	if err := db.Migrate(ctx, log); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Close closes the pool and stops the embedded cluster if this process runs
// it.
func (d *database) Close() {
	if d.DB != nil {
		d.DB.Close()
	}
	if d.cluster != nil && d.owner != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		if err := d.cluster.Stop(ctx); err != nil {
			d.log.Error("stopping the database cluster", "err", err)
		}
	}
	if d.owner != nil {
		d.owner.Close() // and with it the lock
	}
}
