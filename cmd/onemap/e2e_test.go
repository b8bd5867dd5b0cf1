package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onemap-city/onemap/sql/postgis/postgistest"
)

// buildBinary compiles onemap once for the end-to-end tests.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "onemap")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startServe(t *testing.T, bin, dataDir, addr string, extra ...string) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve"}, extra...)...)
	cmd.Env = append(os.Environ(), "ONEMAP_DATA_DIR="+dataDir, "ONEMAP_ADDR="+addr, "ONEMAP_DATABASE_URL=")
	logs := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, logs
}

func waitReady(t *testing.T, addr string, logs *strings.Builder) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("onemap did not become ready; its log:\n%s", logs)
}

func waitExit(t *testing.T, cmd *exec.Cmd, within time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(within):
		_ = cmd.Process.Kill()
		t.Fatalf("onemap did not exit within %v", within)
		return nil
	}
}

// TestServeEndToEnd runs the real binary as a user would: first start on an
// empty folder (initdb, migrate, demo load), SIGTERM (clean stop, no server
// left behind), SIGKILL (the server follows it down) and a restart after it.
func TestServeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds onemap and starts its own cluster")
	}
	bin := buildBinary(t)
	parent, err := os.MkdirTemp("", "onemap-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(parent)
	_ = os.Chmod(parent, 0o755)
	dataDir := filepath.Join(parent, "data")
	pidFile := filepath.Join(dataDir, "pgdata", "postmaster.pid")

	addr := freeAddr(t)
	cmd, logs := startServe(t, bin, dataDir, addr, "--demo", "small")
	waitReady(t, addr, logs)
	resp, err := http.Get("http://" + addr + "/api/v1/layers")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Layers []struct {
			ID       string `json:"id"`
			Features int64  `json:"features"`
		} `json:"layers"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	counts := map[string]int64{}
	for _, l := range body.Layers {
		counts[l.ID] = l.Features
	}
	if counts["towns"] != 23 || counts["premises"] == 0 || counts["hydrants"] == 0 {
		t.Fatalf("demo city not loaded: %v", counts)
	}

	// SIGTERM: graceful stop, database shut down, exit status 0.
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(t, cmd, time.Minute); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logs)
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Fatalf("postmaster.pid left after a clean stop: %v", err)
	}

	// Second start keeps the data (no demo reload) and SIGKILL takes the
	// server down with it.
	addr = freeAddr(t)
	cmd, logs = startServe(t, bin, dataDir, addr, "--demo", "small")
	waitReady(t, addr, logs)
	if !strings.Contains(logs.String(), "demo not loaded") {
		t.Errorf("second start reloaded the demo:\n%s", logs)
	}
	_ = cmd.Process.Kill()
	_ = waitExit(t, cmd, 10*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(pidFile); os.IsNotExist(err) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Fatalf("the database server outlived a killed onemap")
	}

	// And it comes back.
	addr = freeAddr(t)
	cmd, logs = startServe(t, bin, dataDir, addr)
	waitReady(t, addr, logs)

	// A second onemap on the same data folder (here a server whose port is
	// taken, as an import or an export would be) connects to the running
	// database and, when it ends, leaves it running: it is the first's.
	before, _ := os.ReadFile(pidFile)
	guest, guestLogs := startServe(t, bin, dataDir, addr)
	if err := waitExit(t, guest, time.Minute); err == nil {
		t.Fatalf("a second server on a taken port exited cleanly:\n%s", guestLogs)
	}
	time.Sleep(500 * time.Millisecond) // a stopped server would be gone by now
	if after, _ := os.ReadFile(pidFile); string(after) != string(before) || len(before) == 0 {
		t.Fatalf("the second onemap's exit took the first's database down (postmaster.pid %q, then %q):\n%s", before, after, guestLogs)
	}
	if resp, err := http.Get("http://" + addr + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("the first server is not ready after the second's exit: %v", err)
	} else {
		resp.Body.Close()
	}
	if strings.Contains(logs.String(), "exited unexpectedly") {
		t.Fatalf("the first server had to restart its database:\n%s", logs)
	}

	_ = cmd.Process.Signal(syscall.SIGINT)
	if err := waitExit(t, cmd, time.Minute); err != nil {
		t.Fatalf("exit after SIGINT: %v\n%s", err, logs)
	}
}

// TestServeWithoutPostgreSQLSaysWhatToInstall: no server binaries → one clear
// sentence naming the Debian packages, and a non-zero exit.
func TestServeWithoutPostgreSQLSaysWhatToInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds onemap")
	}
	bin := buildBinary(t)
	cmd := exec.Command(bin, "migrate", "--pg-bindir", t.TempDir(), "--data-dir", filepath.Join(t.TempDir(), "d"))
	cmd.Env = append(os.Environ(), "ONEMAP_DATABASE_URL=")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("migrate without PostgreSQL succeeded:\n%s", out)
	}
	if !strings.Contains(string(out), "postgresql-15-postgis-3") {
		t.Fatalf("message does not name the packages:\n%s", out)
	}
}

// TestExternalDatabaseWithoutPostGIS: ONEMAP_DATABASE_URL pointing at a
// database where PostGIS is absent and may not be created fails with a clear
// sentence; an unreachable one says it cannot connect.
func TestExternalDatabaseWithoutPostGIS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds onemap")
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, postgistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	for _, stmt := range []string{
		"DROP DATABASE IF EXISTS plain_db WITH (FORCE)", "DROP ROLE IF EXISTS plain_user",
		"CREATE ROLE plain_user LOGIN", "CREATE DATABASE plain_db OWNER plain_user",
	} {
		if _, err := admin.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	defer admin.Exec(ctx, "DROP DATABASE IF EXISTS plain_db WITH (FORCE)")
	cfg, _ := pgx.ParseConfig(postgistest.URL(t))
	bin := buildBinary(t)
	run := func(url string) string {
		cmd := exec.Command(bin, "migrate")
		cmd.Env = append(os.Environ(), "ONEMAP_DATABASE_URL="+url)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("migrate against %s succeeded:\n%s", url, out)
		}
		return string(out)
	}
	out := run(fmt.Sprintf("host=%s port=%d user=plain_user dbname=plain_db", cfg.Host, cfg.Port))
	if !strings.Contains(out, "has no postgis extension") || !strings.Contains(out, "postgis-3") {
		t.Errorf("no-PostGIS message unclear:\n%s", out)
	}
	out = run("host=/nonexistent/socket/dir dbname=onemap user=nobody connect_timeout=2")
	if !strings.Contains(out, "cannot connect to the database") {
		t.Errorf("unreachable-database message unclear:\n%s", out)
	}
}
