package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/onemap-city/onemap/sql/postgis"
)

// database is an open, migrated OneMap database and, when OneMap runs its
// own cluster, that cluster.
type database struct {
	*postgis.DB
	cluster *postgis.Cluster
	log     *slog.Logger
}

// openDatabase connects to ONEMAP_DATABASE_URL or, without one, starts the
// embedded cluster in ONEMAP_DATA_DIR; then it migrates the schema.
func openDatabase(ctx context.Context, cfg *Config, log *slog.Logger) (*database, error) {
	d := &database{log: log}
	url := cfg.DatabaseURL
	if url == "" {
		c, err := postgis.StartCluster(ctx, postgis.ClusterConfig{
			Dir: cfg.DataDir, BinDir: cfg.PGBinDir, Port: cfg.DBPort, Durable: true, Logger: log,
		})
		if err != nil {
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

// Close closes the pool and stops the embedded cluster, if any.
func (d *database) Close() {
	if d.DB != nil {
		d.DB.Close()
	}
	if d.cluster != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		if err := d.cluster.Stop(ctx); err != nil {
			d.log.Error("stopping the database cluster", "err", err)
		}
	}
}
