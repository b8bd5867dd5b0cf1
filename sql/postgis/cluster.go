package postgis

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// DebianPackages are the packages that provide everything the embedded
// cluster needs; every "not installed" message names them.
const DebianPackages = "postgresql postgresql-15-postgis-3 postgresql-15-pgrouting"

// ClusterConfig says where and how to run a private PostgreSQL cluster.
type ClusterConfig struct {
	// Dir holds the cluster: pgdata/ (the data), run/ (the unix socket) and
	// postgres.log. It is created if missing.
	Dir string
	// BinDir, when set, is the only place the server binaries are looked for.
	BinDir string
	// Port is the TCP port on 127.0.0.1 to listen on as well as the socket;
	// 0 means the unix socket only.
	Port int
	// Detached leaves the server running when this process exits (the test
	// harness shares one cluster between test binaries). Otherwise the server
	// is this process's child and is told to shut down if the process dies.
	Detached bool
	// Durable false turns off fsync: for tests and throwaway clusters only.
	Durable bool
	Logger  *slog.Logger
}

// Cluster is a running private PostgreSQL server that this process started
// or adopted.
type Cluster struct {
	cfg     ClusterConfig
	bindir  string
	pgdata  string
	sockDir string
	port    int
	owner   *user.User // nil: the current user runs the server
	cmd     *exec.Cmd  // nil when adopted or detached
	exited  chan struct{}

	mu       sync.Mutex
	stopping bool // Stop was called: an exit is expected, not a crash
}

// FindBinaries returns the directory holding initdb and postgres: bindir if
// given, else `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin.
// It fails with a sentence naming the Debian packages to install.
func FindBinaries(bindir string) (string, error) {
	var candidates []string
	if bindir != "" {
		candidates = []string{bindir}
	} else {
		if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
			candidates = append(candidates, strings.TrimSpace(string(out)))
		}
		dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
		candidates = append(candidates, dirs...)
	}
	for _, dir := range candidates {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	where := "pg_config --bindir or /usr/lib/postgresql/*/bin"
	if bindir != "" {
		where = bindir
	}
	return "", fmt.Errorf("postgis: the PostgreSQL server (initdb, postgres) is not installed in %s: install the Debian packages %s (or run `make run`, which does)", where, DebianPackages)
}

// versionOf reads the major version from /usr/lib/postgresql/NN/bin.
func versionOf(bindir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(bindir)))
	return n
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// checkExtensions fails with a sentence naming the Debian packages when the
// server at bindir has no PostGIS or pgRouting extension files.
func checkExtensions(bindir string) error {
	share := ""
	if out, err := exec.Command(filepath.Join(bindir, "pg_config"), "--sharedir").Output(); err == nil {
		share = strings.TrimSpace(string(out))
	} else {
		share = filepath.Join("/usr/share/postgresql", filepath.Base(filepath.Dir(bindir)))
	}
	var missing []string
	for _, ext := range []string{"postgis", "pgrouting"} {
		if _, err := os.Stat(filepath.Join(share, "extension", ext+".control")); err != nil {
			missing = append(missing, ext)
		}
	}
	if len(missing) > 0 {
		v := filepath.Base(filepath.Dir(bindir))
		return fmt.Errorf("postgis: the %s extension is not installed for PostgreSQL %s: install the Debian packages postgresql-%s-postgis-3 postgresql-%s-pgrouting (or run `make run`, which does)",
			strings.Join(missing, " and "), v, v, v)
	}
	return nil
}

// StartCluster starts (initialising on first use) the private cluster in
// cfg.Dir and waits until it accepts connections. A cluster of the same
// folder that is already running is adopted; a stale postmaster.pid left by a
// crash is removed. As root, the server runs as the OS user "postgres", since
// PostgreSQL refuses to run as root.
func StartCluster(ctx context.Context, cfg ClusterConfig) (*Cluster, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	bindir, err := FindBinaries(cfg.BinDir)
	if err != nil {
		return nil, err
	}
	if err := checkExtensions(bindir); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("postgis: data folder %q: %w", cfg.Dir, err)
	}
	c := &Cluster{cfg: cfg, bindir: bindir, pgdata: filepath.Join(dir, "pgdata"), sockDir: filepath.Join(dir, "run"), port: 5432}
	if cfg.Port > 0 {
		c.port = cfg.Port
	}
	if len(c.socketPath()) > 100 {
		return nil, fmt.Errorf("postgis: data folder %q is too deep for a unix socket path (at most about 80 characters): choose a shorter ONEMAP_DATA_DIR", dir)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("postgis: running as root, the database must run as the OS user \"postgres\", which does not exist: install the Debian packages %s (they create it)", DebianPackages)
		}
		c.owner = u
	}
	if err := c.prepareDirs(dir); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(c.pgdata, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := c.initdb(ctx); err != nil {
			return nil, err
		}
	}
	if pid, running := c.runningPID(); running && c.pidStatus() == "stopping" {
		// A server still shutting down (its onemap was just stopped or
		// killed) must not be adopted: it would vanish under us. Wait for
		// it to go, then start afresh.
		cfg.Logger.Info("waiting for the previous database server to finish stopping", "dir", dir, "pid", pid)
		if err := c.waitGone(ctx, 60*time.Second); err != nil {
			return nil, err
		}
	}
	if pid, running := c.runningPID(); running {
		cfg.Logger.Info("adopting running database cluster", "dir", dir, "pid", pid)
		if err := c.waitReadyOf(ctx, nil, 30*time.Second); err == nil {
			// Watched like a child of ours, so Supervise restarts it if it
			// exits (or had begun to stop after all).
			c.exited = c.watchPID(pid)
			return c, nil
		}
		// It is there but does not answer: stop it and start afresh.
		if err := c.stopPID(ctx, pid); err != nil {
			return nil, err
		}
	}
	c.removeStaleLocks()
	if err := c.start(); err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx, 60*time.Second); err != nil {
		_ = c.Stop(context.Background())
		return nil, err
	}
	cfg.Logger.Info("database cluster started", "dir", dir, "socket", c.sockDir, "port", c.port)
	return c, nil
}

func (c *Cluster) socketPath() string {
	return filepath.Join(c.sockDir, ".s.PGSQL."+strconv.Itoa(c.port))
}

// prepareDirs creates the cluster folders and, as root, hands them to the
// server's user.
func (c *Cluster) prepareDirs(dir string) error {
	for _, d := range []string{dir, c.sockDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("postgis: create %s: %w", d, err)
		}
		if err := os.Chmod(d, 0o700); err != nil {
			return fmt.Errorf("postgis: chmod %s: %w", d, err)
		}
	}
	if c.owner == nil {
		return nil
	}
	uid, gid := c.ids()
	// The folder itself stays the invoking user's; the server needs to enter it.
	if err := os.Chmod(dir, 0o711); err != nil {
		return fmt.Errorf("postgis: chmod %s: %w", dir, err)
	}
	for _, d := range []string{c.pgdata, c.sockDir} {
		if _, err := os.Stat(d); os.IsNotExist(err) {
			continue // pgdata before initdb: initdb makes it as the server's user
		}
		err := filepath.Walk(d, func(path string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(path, uid, gid)
		})
		if err != nil {
			return fmt.Errorf("postgis: hand %s to the postgres user: %w", d, err)
		}
	}
	// Every folder above must be enterable by the server's user.
	for p := filepath.Dir(dir); p != "/" && p != "."; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err == nil && st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("postgis: the postgres user cannot enter %s (mode %v): choose an ONEMAP_DATA_DIR under a folder others may enter", p, st.Mode().Perm())
		}
	}
	return nil
}

func (c *Cluster) ids() (int, int) {
	uid, _ := strconv.Atoi(c.owner.Uid)
	gid, _ := strconv.Atoi(c.owner.Gid)
	return uid, gid
}

// command builds a command for one of the server binaries, run as the
// server's user.
func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bindir, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if c.owner != nil {
		uid, gid := c.ids()
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		cmd.Env = append(os.Environ(), "HOME="+c.owner.HomeDir, "USER=postgres", "LOGNAME=postgres")
	}
	// The server's cwd must be readable by its user.
	cmd.Dir = c.pgdata
	return cmd
}

// initdb creates the cluster in a scratch folder and renames it into place
// when complete, so an interrupted first start never leaves a half-made
// cluster that later starts would take for a real one.
func (c *Cluster) initdb(ctx context.Context) error {
	c.cfg.Logger.Info("initialising database cluster", "pgdata", c.pgdata)
	if err := os.Remove(c.pgdata); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("postgis: %s exists but holds no cluster (no PG_VERSION): move it away or delete it", c.pgdata)
	}
	scratch := c.pgdata + ".initdb"
	if err := os.RemoveAll(scratch); err != nil {
		return fmt.Errorf("postgis: remove the leftover %s: %w", scratch, err)
	}
	// Made here, empty, and handed to the server's user, who may not create
	// folders in dir; initdb fills an empty folder it owns.
	if err := os.Mkdir(scratch, 0o700); err != nil {
		return fmt.Errorf("postgis: create %s: %w", scratch, err)
	}
	if c.owner != nil {
		uid, gid := c.ids()
		if err := os.Chown(scratch, uid, gid); err != nil {
			return fmt.Errorf("postgis: hand %s to the postgres user: %w", scratch, err)
		}
	}
	if err := c.runInitdb(ctx, scratch); err != nil {
		_ = os.RemoveAll(scratch)
		return err
	}
	if err := os.Rename(scratch, c.pgdata); err != nil {
		return fmt.Errorf("postgis: move the new cluster into place: %w", err)
	}
	return nil
}

func (c *Cluster) runInitdb(ctx context.Context, pgdata string) error {
	args := []string{"-D", pgdata, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"}
	if !c.cfg.Durable {
		args = append(args, "--no-sync")
	}
	cmd := c.command(ctx, "initdb", args...)
	cmd.Dir = "/"
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("postgis: initdb %s failed: %w\n%s", pgdata, err, lastLines(out, 15))
	}
	settings := []string{
		"# Written by onemap when it created this cluster.",
		"listen_addresses = ''",
		"unix_socket_permissions = 0700",
		"shared_buffers = 512MB",
		"work_mem = 64MB",
		"maintenance_work_mem = 512MB",
		"max_wal_size = 4GB",
		"checkpoint_timeout = 15min",
		"random_page_cost = 1.1",
		"effective_cache_size = 8GB",
		"jit = off",
		"logging_collector = off",
	}
	if !c.cfg.Durable {
		settings = append(settings, "fsync = off", "synchronous_commit = off", "full_page_writes = off", "shared_buffers = 128MB")
	}
	f, err := os.OpenFile(filepath.Join(pgdata, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("postgis: configure cluster: %w", err)
	}
	defer f.Close()
	_, err = f.WriteString("\n" + strings.Join(settings, "\n") + "\n")
	return err
}

// runningPID reports the postmaster of this cluster if one is alive. A
// postmaster.pid whose process is gone, or is not a postgres server, is stale.
func (c *Cluster) runningPID() (int, bool) {
	data, err := os.ReadFile(filepath.Join(c.pgdata, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	lines := strings.Split(string(data), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid <= 0 {
		return 0, false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return 0, false
	}
	args := bytes.Split(cmdline, []byte{0})
	if len(args) == 0 || !strings.HasPrefix(filepath.Base(string(args[0])), "postgres") {
		return 0, false
	}
	return pid, bytes.Contains(cmdline, []byte(c.pgdata))
}

// pidStatus returns the server's state as postmaster.pid records it
// ("starting", "ready", "stopping", "standby"), or "" when unknown.
func (c *Cluster) pidStatus() string {
	data, err := os.ReadFile(filepath.Join(c.pgdata, "postmaster.pid"))
	if err != nil {
		return ""
	}
	lines := strings.Split(string(data), "\n")
	if len(lines) < 8 {
		return ""
	}
	return strings.TrimSpace(lines[7])
}

// waitGone waits until no server of this cluster is running.
func (c *Cluster) waitGone(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, running := c.runningPID(); !running {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("postgis: the previous database server of %s is still stopping after %v; its log %s ends:\n%s", c.Dir(), timeout, c.logPath(), c.logTail())
}

// watchPID returns a channel closed when the adopted server pid exits. It
// is not our child, so it is polled.
func (c *Cluster) watchPID(pid int) chan struct{} {
	exited := make(chan struct{})
	go func() {
		for {
			if p, running := c.runningPID(); !running || p != pid {
				close(exited)
				return
			}
			time.Sleep(250 * time.Millisecond)
		}
	}()
	return exited
}

// removeStaleLocks deletes a postmaster.pid and socket lock left by a server
// that died without cleaning up, so that the next start is not refused.
func (c *Cluster) removeStaleLocks() {
	for _, p := range []string{filepath.Join(c.pgdata, "postmaster.pid"), c.socketPath() + ".lock", c.socketPath()} {
		if err := os.Remove(p); err == nil {
			c.cfg.Logger.Warn("removed a stale lock left by a crashed database server", "file", p)
		}
	}
}

func (c *Cluster) logPath() string { return filepath.Join(filepath.Dir(c.pgdata), "postgres.log") }

func (c *Cluster) start() error {
	logf, err := os.OpenFile(c.logPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("postgis: open server log: %w", err)
	}
	defer logf.Close()
	args := []string{"-D", c.pgdata, "-k", c.sockDir, "-p", strconv.Itoa(c.port)}
	if c.cfg.Port > 0 {
		args = append(args, "-c", "listen_addresses=127.0.0.1")
	}
	// Not bound to a context: the server outlives the call that starts it.
	cmd := c.command(context.Background(), "postgres", args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if c.cfg.Detached {
		cmd.SysProcAttr.Setpgid = false
		cmd.SysProcAttr.Setsid = true
	} else {
		// If onemap dies without stopping the server (kill -9), the kernel
		// tells the server to shut down fast. Setpgid keeps a terminal's ^C
		// away from it: onemap stops it in order on SIGINT/SIGTERM.
		cmd.SysProcAttr.Pdeathsig = syscall.SIGINT
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("postgis: start postgres: %w", err)
	}
	if c.cfg.Detached {
		go func() { _ = cmd.Wait() }() // reap it if it exits while we live
		return nil
	}
	// The caller holds c.mu or is the only goroutine that knows c.
	c.exited = make(chan struct{})
	c.cmd = cmd
	go func(exited chan struct{}) { _ = cmd.Wait(); close(exited) }(c.exited)
	return nil
}

// Supervise restarts the server whenever it exits without Stop having been
// called (a crash, an OOM kill, an operator's kill), until ctx is done. While
// it is down, queries fail and the service answers 503; the pool reconnects
// by itself once it is back.
func (c *Cluster) Supervise(ctx context.Context) {
	backoff := time.Second
	for {
		c.mu.Lock()
		exited := c.exited
		c.mu.Unlock()
		if exited == nil {
			return // detached: not ours to watch
		}
		select {
		case <-ctx.Done():
			return
		case <-exited:
		}
		c.mu.Lock()
		stopping := c.stopping
		c.mu.Unlock()
		if stopping {
			return
		}
		c.cfg.Logger.Error("the database server exited unexpectedly; restarting it", "log", c.logPath(), "tail", c.logTail())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		c.mu.Lock()
		if c.stopping {
			c.mu.Unlock()
			return
		}
		c.removeStaleLocksIfDead()
		err := c.start()
		exited = c.exited
		c.mu.Unlock()
		if err == nil {
			err = c.waitReadyOf(ctx, exited, 60*time.Second)
		}
		if err != nil {
			c.cfg.Logger.Error("restarting the database server failed", "err", err)
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = time.Second
		c.cfg.Logger.Info("database server restarted")
	}
}

func (c *Cluster) removeStaleLocksIfDead() {
	if _, running := c.runningPID(); !running {
		c.removeStaleLocks()
	}
}

// waitReady polls until the server accepts a connection, the server exits, or
// the timeout passes.
func (c *Cluster) waitReady(ctx context.Context, timeout time.Duration) error {
	return c.waitReadyOf(ctx, c.exited, timeout)
}

// waitReadyOf is waitReady for the server whose exit closes exited (nil when
// the server is not our child).
func (c *Cluster) waitReadyOf(ctx context.Context, exited chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if exited != nil {
			select {
			case <-exited:
				return fmt.Errorf("postgis: the database server exited while starting; its log %s ends:\n%s", c.logPath(), c.logTail())
			default:
			}
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(cctx, c.URL("postgres"))
		cancel()
		if err == nil {
			_ = conn.Close(ctx)
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("postgis: the database server did not accept connections within %v (%v); its log %s ends:\n%s", timeout, last, c.logPath(), c.logTail())
}

func (c *Cluster) logTail() string {
	data, _ := os.ReadFile(c.logPath())
	return lastLines(data, 15)
}

func lastLines(data []byte, n int) string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// URL returns a connection string for database db on this cluster's socket.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", c.sockDir, c.port, db)
}

// PsqlCommand returns the psql command line that opens database db.
func (c *Cluster) PsqlCommand(db string) string {
	return fmt.Sprintf("psql -h %s -p %d -U postgres %s", c.sockDir, c.port, db)
}

// Dir returns the folder that holds the cluster.
func (c *Cluster) Dir() string { return filepath.Dir(c.pgdata) }

// Stop shuts the server down (fast shutdown: open sessions are ended, data
// is checkpointed) and waits for it to exit.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	c.stopping = true
	cmd, exited := c.cmd, c.exited
	c.mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
			c.cfg.Logger.Info("database cluster stopped")
			return nil
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Signal(syscall.SIGQUIT)
			<-exited
			return errors.New("postgis: the database server did not stop within 60 s and was told to quit")
		}
	}
	pid, running := c.runningPID()
	if !running {
		return nil
	}
	return c.stopPID(ctx, pid)
}

// stopPID stops a server this process did not start (adopted or detached).
func (c *Cluster) stopPID(ctx context.Context, pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return nil
	}
	_ = p.Signal(syscall.SIGINT)
	for i := 0; i < 600; i++ {
		if _, running := c.runningPID(); !running {
			c.cfg.Logger.Info("database cluster stopped", "pid", pid)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	_ = p.Signal(syscall.SIGQUIT)
	return fmt.Errorf("postgis: the database server (pid %d) did not stop within 60 s and was told to quit", pid)
}
