// Package postgistest gives every test package a fresh OneMap database,
// created from the production migrations, on one embedded PostGIS cluster
// shared by all the test binaries of a `go test` run.
//
// The cluster lives in $ONEMAP_TEST_DATA_DIR (default: a folder under the
// system temp dir). Test binaries hold a shared lock on it while they run; the
// last one to finish stops the server.
package postgistest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onemap-city/onemap/sql/migrations"
	"github.com/onemap-city/onemap/sql/postgis"
)

var (
	db      *postgis.DB
	cluster *postgis.Cluster
	dbName  string
)

// Main starts (or joins) the shared cluster, creates this package's database,
// runs the tests and cleans up. Call it from TestMain.
func Main(m *testing.M) {
	os.Exit(run(m))
}

// Dir is the folder of the shared test cluster.
func Dir() string {
	if d := os.Getenv("ONEMAP_TEST_DATA_DIR"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("onemap-test-%d", os.Getuid()))
}

func run(m *testing.M) int {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	dir := Dir()
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "postgistest:", err)
		return 2
	}
	users, err := lockFile(dir+".users.lock", syscall.LOCK_SH)
	if err != nil {
		fmt.Fprintln(os.Stderr, "postgistest:", err)
		return 2
	}
	start, err := lockFile(dir+".start.lock", syscall.LOCK_EX)
	if err != nil {
		fmt.Fprintln(os.Stderr, "postgistest:", err)
		return 2
	}
	cluster, err = postgis.StartCluster(ctx, postgis.ClusterConfig{Dir: dir, Detached: true, Logger: log})
	if err == nil {
		dbName, err = createDatabase(ctx)
	}
	start.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "postgistest:", err)
		return 2
	}
	db, err = postgis.Open(ctx, cluster.URL(dbName), postgis.PoolConfig{MaxConns: 8})
	if err != nil {
		fmt.Fprintln(os.Stderr, "postgistest:", err)
		return 2
	}
	code := m.Run()
	db.Close()
	if err := dropDatabase(ctx, dbName); err != nil {
		fmt.Fprintln(os.Stderr, "postgistest:", err)
	}
	// The last test binary out stops the server.
	users.Close()
	if last, err := tryLock(dir+".users.lock", syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		_ = cluster.Stop(sctx)
		cancel()
		last.Close()
	}
	return code
}

func lockFile(path string, how int) (*os.File, error) {
	f, err := tryLock(path, how)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}

func tryLock(path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// createDatabase makes this package's database as a copy of a template that
// holds the current migrations (made once per set of migration files).
func createDatabase(ctx context.Context) (string, error) {
	tmpl := "onemap_tmpl_" + migrationsHash()
	if err := ensureTemplate(ctx, tmpl); err != nil {
		return "", err
	}
	name := fmt.Sprintf("t_%s_%d", packageName(), os.Getpid())
	conn, err := pgx.Connect(ctx, cluster.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+pgx.Identifier{tmpl}.Sanitize())
	if err != nil {
		return "", fmt.Errorf("create test database: %w", err)
	}
	return name, nil
}

func ensureTemplate(ctx context.Context, tmpl string) error {
	conn, err := pgx.Connect(ctx, cluster.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", tmpl).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	// Old templates (from older migrations) are dropped.
	rows, _ := conn.Query(ctx, "SELECT datname FROM pg_database WHERE datname LIKE 'onemap_tmpl_%'")
	old, _ := pgx.CollectRows(rows, pgx.RowTo[string])
	for _, o := range old {
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{o}.Sanitize()+" WITH (FORCE)")
	}
	building := tmpl + "_build"
	_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{building}.Sanitize()+" WITH (FORCE)")
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{building}.Sanitize()); err != nil {
		return err
	}
	tdb, err := postgis.Open(ctx, cluster.URL(building), postgis.PoolConfig{MaxConns: 2})
	if err != nil {
		return err
	}
	err = tdb.Migrate(ctx, nil)
	tdb.Close()
	if err != nil {
		return err
	}
	// Renamed only once complete, so a crash never leaves a half-made template.
	_, err = conn.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{building}.Sanitize()+" RENAME TO "+pgx.Identifier{tmpl}.Sanitize())
	return err
}

func dropDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, cluster.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

func migrationsHash() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, _ := fs.ReadFile(migrations.FS, path)
		h.Write([]byte(path))
		h.Write(data)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

func packageName() string {
	exe := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	return nonWord.ReplaceAllString(strings.ToLower(exe), "_")
}

// DB returns this package's database. It must be called from a test run by Main.
func DB(t testing.TB) *postgis.DB {
	t.Helper()
	if db == nil {
		t.Fatal("postgistest: call postgistest.Main(m) from TestMain")
	}
	return db
}

// URL returns the connection string of this package's database.
func URL(t testing.TB) string {
	t.Helper()
	DB(t)
	return cluster.URL(dbName)
}

// Truncate empties every OneMap layer table, for tests that need a clean slate.
func Truncate(t testing.TB) {
	t.Helper()
	_, err := DB(t).Exec(context.Background(), `TRUNCATE towns, communities, grid_cells, premises, hydrants,
		shelters, fire_stations, hazards, inspections, roads, road_nodes RESTART IDENTITY CASCADE`)
	if err != nil {
		t.Fatal(err)
	}
}

var (
	demoMu    sync.Mutex
	demoScale string
)

// Demo makes the demo city of scale (seed 1) the package database's data,
// loading it only when another scale, or none, is there. Tests that change
// rows must put them back.
func Demo(t testing.TB, scale string) {
	t.Helper()
	demoMu.Lock()
	defer demoMu.Unlock()
	if demoScale == scale {
		return
	}
	demoScale = ""
	if _, err := DB(t).LoadDemo(context.Background(), scale, 1, nil); err != nil {
		t.Fatalf("postgistest: load the %s demo: %v", scale, err)
	}
	demoScale = scale
}
