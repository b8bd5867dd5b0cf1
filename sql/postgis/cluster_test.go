package postgis_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onemap-city/onemap/sql/postgis"
)

// clusterDir makes a folder the postgres user may enter (t.TempDir is 0700).
func clusterDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "onemap-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "db")
}

func ping(t *testing.T, c *postgis.Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
}

func postmasterPID(t *testing.T, dir string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "pgdata", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.SplitN(string(data), "\n", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// TestClusterLifecycle starts a cluster from nothing, stops it, starts it
// again, then kills the server with SIGKILL (leaving a stale postmaster.pid)
// and checks that the next start recovers.
func TestClusterLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own PostgreSQL cluster")
	}
	ctx := context.Background()
	dir := clusterDir(t)
	cfg := postgis.ClusterConfig{Dir: dir}

	c, err := postgis.StartCluster(ctx, cfg)
	if err != nil {
		t.Fatalf("first start: %v", err)
	}
	ping(t, c)
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pgdata", "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatalf("postmaster.pid still there after a clean stop (err=%v)", err)
	}

	c, err = postgis.StartCluster(ctx, cfg)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	ping(t, c)

	// A crash: the server dies without cleaning up, and its pid file stays.
	pid := postmasterPID(t, dir)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if syscall.Kill(pid, 0) != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(dir, "pgdata", "postmaster.pid")); err != nil {
		t.Fatalf("expected a stale postmaster.pid after SIGKILL: %v", err)
	}
	// Children of the killed postmaster may linger a moment; the launcher must cope.
	c, err = postgis.StartCluster(ctx, cfg)
	if err != nil {
		t.Fatalf("start after a crash: %v", err)
	}
	ping(t, c)
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("final stop: %v", err)
	}
}

// TestClusterAdoptsRunningServer: a detached server (as left by a killed
// onemap) is adopted by the next start instead of failing on its pid file.
func TestClusterAdoptsRunningServer(t *testing.T) {
	ctx := context.Background()
	dir, first, pid := startDetached(t)
	second, err := postgis.StartCluster(ctx, postgis.ClusterConfig{Dir: dir})
	if err != nil {
		t.Fatalf("adopt: %v", err)
	}
	if got := postmasterPID(t, dir); got != pid {
		t.Fatalf("postmaster pid %d, want the adopted %d", got, pid)
	}
	ping(t, second)
	if err := second.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if syscall.Kill(pid, 0) == nil {
		t.Fatalf("server %d still running after Stop", pid)
	}
	_ = first
}

func TestMissingBinariesSaySo(t *testing.T) {
	empty := t.TempDir()
	_, err := postgis.StartCluster(context.Background(), postgis.ClusterConfig{Dir: clusterDir(t), BinDir: empty})
	if err == nil {
		t.Fatal("start with no server binaries succeeded")
	}
	msg := err.Error()
	for _, want := range []string{"not installed", "postgresql-15-postgis-3", "postgresql-15-pgrouting", empty} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	if strings.Count(msg, "\n") > 0 {
		t.Errorf("error should be one sentence, got %q", msg)
	}
}

func TestMissingExtensionSaysSo(t *testing.T) {
	// A bin dir with initdb and postgres but a pg_config whose share dir has
	// no extensions.
	bin := t.TempDir()
	share := t.TempDir()
	for _, name := range []string{"initdb", "postgres"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script := "#!/bin/sh\necho " + share + "\n"
	if err := os.WriteFile(filepath.Join(bin, "pg_config"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := postgis.StartCluster(context.Background(), postgis.ClusterConfig{Dir: clusterDir(t), BinDir: bin})
	if err == nil || !strings.Contains(err.Error(), "postgis and pgrouting extension is not installed") ||
		!strings.Contains(err.Error(), "-postgis-3") {
		t.Fatalf("want a message naming the missing extensions and packages, got %v", err)
	}
}

// TestSuperviseRestartsACrashedServer: the server is killed under a running
// OneMap; the supervisor brings it back without anyone's help.
func TestSuperviseRestartsACrashedServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own PostgreSQL cluster")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := clusterDir(t)
	c, err := postgis.StartCluster(ctx, postgis.ClusterConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(context.Background())
	go c.Supervise(ctx)
	pid := postmasterPID(t, dir)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		cctx, ccancel := context.WithTimeout(ctx, time.Second)
		conn, err := pgx.Connect(cctx, c.URL("postgres"))
		ccancel()
		if err == nil {
			conn.Close(ctx)
			if got := postmasterPID(t, dir); got != pid {
				return // a new server answers
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("the server was not restarted within 30 s")
}

// TestInterruptedInitdbLeavesNoHalfCluster: a first start killed while
// initdb runs leaves only a scratch folder, and the next start succeeds.
func TestInterruptedInitdbLeavesNoHalfCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own PostgreSQL cluster")
	}
	dir := clusterDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(150 * time.Millisecond); cancel() }()
	if c, err := postgis.StartCluster(ctx, postgis.ClusterConfig{Dir: dir}); err == nil {
		_ = c.Stop(context.Background()) // initdb was quicker than the cancel: nothing to prove
		t.Skip("initdb finished before it could be interrupted")
	}
	if _, err := os.Stat(filepath.Join(dir, "pgdata", "PG_VERSION")); err == nil {
		t.Fatal("an interrupted initdb left a pgdata that looks like a cluster")
	}
	c, err := postgis.StartCluster(context.Background(), postgis.ClusterConfig{Dir: dir})
	if err != nil {
		t.Fatalf("start after an interrupted initdb: %v", err)
	}
	ping(t, c)
	_ = c.Stop(context.Background())
}

// TestStartWaitsForAStoppingServer: a server still shutting down (its onemap
// was just stopped) is not adopted, which would leave the new onemap with a
// server that vanishes; the start waits for it to go and starts a new one.
func TestStartWaitsForAStoppingServer(t *testing.T) {
	ctx := context.Background()
	dir, first, old := startDetached(t)
	// A smart shutdown waits for open sessions: this one holds the old
	// server in "stopping" for as long as the test wants.
	conn, err := pgx.Connect(ctx, first.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(old, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "postmaster.pid to say stopping", func() bool {
		data, _ := os.ReadFile(filepath.Join(dir, "pgdata", "postmaster.pid"))
		lines := strings.Split(string(data), "\n")
		return len(lines) > 7 && strings.TrimSpace(lines[7]) == "stopping"
	})
	go func() { time.Sleep(time.Second); conn.Close(ctx) }()
	second, err := postgis.StartCluster(ctx, postgis.ClusterConfig{Dir: dir})
	if err != nil {
		t.Fatalf("start while the old server stops: %v", err)
	}
	defer second.Stop(ctx)
	if got := postmasterPID(t, dir); got == old {
		t.Fatalf("the stopping server %d was adopted", old)
	}
	ping(t, second)
}

// TestSuperviseRestartsAnAdoptedServer: a server adopted from an earlier
// onemap is watched like our own child and restarted when it dies.
func TestSuperviseRestartsAnAdoptedServer(t *testing.T) {
	dir, _, old := startDetached(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := postgis.StartCluster(ctx, postgis.ClusterConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(context.Background())
	go c.Supervise(ctx)
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "a new server to answer", func() bool {
		cctx, ccancel := context.WithTimeout(ctx, time.Second)
		defer ccancel()
		conn, err := pgx.Connect(cctx, c.URL("postgres"))
		if err != nil {
			return false
		}
		conn.Close(ctx)
		data, _ := os.ReadFile(filepath.Join(dir, "pgdata", "postmaster.pid"))
		pid, _ := strconv.Atoi(strings.SplitN(string(data), "\n", 2)[0])
		return pid != 0 && pid != old
	})
}

// startDetached starts a detached server in a new cluster folder, as a
// killed onemap leaves one, and returns the folder, the cluster and its pid.
func startDetached(t *testing.T) (string, *postgis.Cluster, int) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts its own PostgreSQL cluster")
	}
	dir := clusterDir(t)
	c, err := postgis.StartCluster(context.Background(), postgis.ClusterConfig{Dir: dir, Detached: true})
	if err != nil {
		t.Fatal(err)
	}
	return dir, c, postmasterPID(t, dir)
}

func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out after %v waiting for %s", timeout, what)
}
