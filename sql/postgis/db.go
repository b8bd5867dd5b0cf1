// Package postgis is OneMap's one door to PostgreSQL/PostGIS: it runs the
// embedded cluster, owns the connection pool and the migrations, loads data
// with COPY, and maps database failures to geo errors.
package postgis

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jackc/puddle/v2"
	"github.com/pressly/goose/v3"
	pgxgeom "github.com/twpayne/pgx-geom"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/migrations"
)

// DB is the connection pool to one OneMap database.
type DB struct {
	*pgxpool.Pool

	summariesMu sync.Mutex
	summaries   map[string]cachedSummary // by table
}

// PoolConfig tunes the pool; zero values take pgx's defaults.
type PoolConfig struct {
	MaxConns         int32
	StatementTimeout time.Duration // per statement, set on every connection
}

// Open connects to the database at url, checks that PostGIS is there and
// creates the extensions OneMap needs (postgis, pgrouting) if it may. It fails
// with a sentence saying what is missing.
func Open(ctx context.Context, url string, pc PoolConfig) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgis: bad database URL: %w", err)
	}
	if err := ensureExtensions(ctx, cfg.ConnConfig); err != nil {
		return nil, err
	}
	if pc.MaxConns > 0 {
		cfg.MaxConns = pc.MaxConns
	}
	if pc.StatementTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = fmt.Sprint(pc.StatementTimeout.Milliseconds())
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "onemap"
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		return pgxgeom.Register(ctx, conn)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgis: connect: %w", err)
	}
	return &DB{Pool: pool}, nil
}

// ensureExtensions creates postgis and pgrouting where missing and fails
// clearly when PostGIS cannot be had.
func ensureExtensions(ctx context.Context, cc *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cc.Copy())
	if err != nil {
		return fmt.Errorf("postgis: cannot connect to the database %s: %w", redact(cc), err)
	}
	defer conn.Close(ctx)
	for _, ext := range []string{"postgis", "pgrouting"} {
		var have bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = $1)", ext).Scan(&have); err != nil {
			return fmt.Errorf("postgis: check extension %s: %w", ext, err)
		}
		if have {
			continue
		}
		// Identifiers cannot be bound; ext comes from the list above.
		if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS "+ext+" CASCADE"); err != nil {
			return fmt.Errorf("postgis: the database %s has no %s extension and it could not be created (%v): install the Debian package postgresql-<version>-%s on the database server, or ask its administrator to run CREATE EXTENSION %s",
				redact(cc), ext, err, map[string]string{"postgis": "postgis-3", "pgrouting": "pgrouting"}[ext], ext)
		}
	}
	var version string
	if err := conn.QueryRow(ctx, "SELECT postgis_version()").Scan(&version); err != nil {
		return fmt.Errorf("postgis: postgis_version() is not available in the database %s: %w", redact(cc), err)
	}
	return nil
}

func redact(cc *pgx.ConnConfig) string {
	return fmt.Sprintf("%q on %s:%d", cc.Database, cc.Host, cc.Port)
}

// Migrate applies every pending migration, each in its own transaction.
func (db *DB) Migrate(ctx context.Context, log *slog.Logger) error {
	sqldb := stdlib.OpenDBFromPool(db.Pool)
	defer sqldb.Close()
	return migrate(ctx, sqldb, log)
}

func migrate(ctx context.Context, sqldb *sql.DB, log *slog.Logger) error {
	p, err := goose.NewProvider(goose.DialectPostgres, sqldb, migrations.FS)
	if err != nil {
		return fmt.Errorf("postgis: migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("postgis: migrate: %w", err)
	}
	for _, r := range results {
		if log != nil {
			log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration)
		}
	}
	return nil
}

// SchemaVersion returns the newest applied migration.
func (db *DB) SchemaVersion(ctx context.Context) (int64, error) {
	var v int64
	err := db.QueryRow(ctx, "SELECT COALESCE(max(version_id), 0) FROM goose_db_version WHERE is_applied").Scan(&v)
	return v, err
}

// EnsureDatabase creates database name on the server at adminURL if missing.
func EnsureDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("postgis: connect: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("postgis: look up database %q: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("postgis: create database %q: %w", name, err)
	}
	return nil
}

// Classify turns a database error into a geo.Error a handler can map to an
// HTTP status: the server unreachable is EUnavailable, a statement timeout
// ETimeout, a constraint violation EInvalid. Other errors are returned as
// they are.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	var ge *geo.Error
	if errors.As(err, &ge) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "57014", // query_canceled: statement_timeout
			// GEOS, interrupted by the statement timeout, reports its own error.
			pgErr.Code == "XX000" && strings.Contains(pgErr.Message, "GEOS Error: InterruptedException"):
			return &geo.Error{Code: geo.ETimeout, Message: "the database took too long", Err: err}
		case strings.HasPrefix(pgErr.Code, "08"), pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03":
			return &geo.Error{Code: geo.EUnavailable, Message: "the database is unavailable", Err: err}
		case strings.HasPrefix(pgErr.Code, "23"), strings.HasPrefix(pgErr.Code, "22"):
			return &geo.Error{Code: geo.EInvalid, Message: pgErr.Message, Detail: pgErr.ConstraintName, Err: err}
		}
		return err
	}
	var netErr net.Error
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || errors.As(err, &netErr) || pgconn.SafeToRetry(err) || errors.Is(err, puddle.ErrClosedPool) {
		return &geo.Error{Code: geo.EUnavailable, Message: "the database is unavailable", Err: err}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &geo.Error{Code: geo.ETimeout, Message: "the database took too long", Err: err}
	}
	return err
}
