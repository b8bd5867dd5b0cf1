package main

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onemap-city/onemap/sql/postgis/postgistest"
)

// frontendDir is the web map's source folder, seen from this package.
var frontendDir = filepath.Join("..", "..", "frontend")

// needForWebMap skips the test when a tool of the web map's tests is missing
// (a developer without them), but fails it in CI, where .ci/deps.sh test has
// installed them.
func needForWebMap(t *testing.T) {
	t.Helper()
	missing := func(what string) {
		msg := what + " is missing: run .ci/deps.sh test (apt chromium fonts-wqy-microhei nodejs npm, npm ci in frontend/)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node")
	}
	if _, err := os.Stat(filepath.Join(frontendDir, "node_modules", "playwright-core")); err != nil {
		missing("frontend/node_modules")
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		missing("/usr/bin/chromium")
	}
}

// runNode runs node with args in the frontend folder and fails the test,
// with its output, if it exits non-zero or outlasts limit.
func runNode(t *testing.T, limit time.Duration, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = frontendDir
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("node %s: still running after %s\n%s", strings.Join(args, " "), limit, out)
	}
	if err != nil {
		t.Fatalf("node %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestWebMap runs the web map's own tests: its pure UI logic (URL state,
// style building, i18n, popups, tables) under `node --test`, then
// frontend/test/browser.mjs in headless Chromium against this server over
// the small demo city, at a town-core view over its busiest grid cell.
// Screenshots land in frontend/test/artifacts/ (or $ONEMAP_BROWSER_ARTIFACTS).
func TestWebMap(t *testing.T) {
	needForWebMap(t)
	t.Run("unit", func(t *testing.T) {
		t.Log(runNode(t, 2*time.Minute, "--test", "test/unit/"))
	})
	t.Run("browser", func(t *testing.T) {
		loadDemo(t)
		cfg := testConfig()
		cfg.StatementTimeout = 3 * time.Minute // coverage gaps are a long analysis
		srv := httptest.NewServer(newServer(cfg, postgistest.DB(t), quiet).Echo)
		defer srv.Close()
		var lon, lat float64
		err := postgistest.DB(t).QueryRow(context.Background(), `
			SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Collect(geom)) AS c FROM premises
			WHERE grid_cell_id = (SELECT grid_cell_id FROM premises GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1)) s`).Scan(&lon, &lat)
		if err != nil {
			t.Fatal(err)
		}
		artifacts := os.Getenv("ONEMAP_BROWSER_ARTIFACTS")
		if artifacts == "" {
			artifacts, _ = filepath.Abs(filepath.Join(frontendDir, "test", "artifacts"))
		}
		// About 3 minutes on a quiet 2-core machine; several times that when the
		// machine is busy (SwiftShader renders on the CPU). The limit only
		// catches a hang.
		out := runNode(t, 20*time.Minute, "test/browser.mjs", "--url", srv.URL+"/",
			"--view", fmt.Sprintf("%.6f,%.6f,14", lon, lat), "--artifacts", artifacts)
		t.Log(out)
		t.Logf("screenshots in %s", artifacts)

		// The same map behind access tokens: sign-in, then the data.
		const token = "browser-test-0123456789"
		guarded := testConfig()
		guarded.AccessTokens = token
		gsrv := httptest.NewServer(newServer(guarded, postgistest.DB(t), quiet).Echo)
		defer gsrv.Close()
		t.Log(runNode(t, 10*time.Minute, "test/signin.mjs", "--url", gsrv.URL+"/", "--token", token,
			"--view", fmt.Sprintf("%.6f,%.6f,14", lon, lat), "--artifacts", artifacts))
	})
}
