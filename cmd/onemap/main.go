// Command onemap is OneMap's one binary: the HTTP server of the fire-safety
// "one map", its embedded PostGIS, migrations, the demo city and data import.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/postgis"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			if dirty {
				rev += "-dirty"
			}
			return "dev-" + rev
		}
	}
	return "dev"
}

// exitError carries a process exit code out of a command.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := newRootCommand().ExecuteContext(ctx)
	stop()
	if err != nil {
		code := 1
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		if err.Error() != "" {
			fmt.Fprintln(os.Stderr, "onemap:", err)
		}
		os.Exit(code)
	}
}

func newRootCommand() *cobra.Command {
	cfg := &Config{}
	root := &cobra.Command{
		Use:           "onemap",
		Short:         "OneMap: the fire-safety and emergency one map server",
		Long:          "OneMap serves a city's fire-safety and emergency data (premises, hydrants, shelters,\nfire stations, hazards, roads and the grid hierarchy) from PostGIS: vector tiles,\nanalytics and a web map. Without ONEMAP_DATABASE_URL it runs its own PostGIS in ONEMAP_DATA_DIR.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cfg.BindFlags(root.PersistentFlags())
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		return cfg.Validate()
	}
	root.AddCommand(serveCommand(cfg), migrateCommand(cfg), demoCommand(cfg), importCommand(cfg), tilesCommand(cfg), versionCommand())
	return root
}

func serveCommand(cfg *Config) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP server (starting the embedded PostGIS unless ONEMAP_DATABASE_URL is set)",
		Long: "Run the HTTP server on ONEMAP_ADDR. Without ONEMAP_DATABASE_URL it starts its own\n" +
			"PostgreSQL+PostGIS cluster in ONEMAP_DATA_DIR, migrates it and, with --demo SCALE,\n" +
			"loads the demo city when the database is empty. SIGINT/SIGTERM stop it gracefully.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			log := cfg.Logger()
			log.Info("starting onemap", "version", buildVersion(), "config", cfg)
			db, err := openDatabase(ctx, cfg, log)
			if err != nil {
				return err
			}
			defer db.Close()
			go db.Supervise(ctx)
			if cfg.Demo != "" {
				if err := loadDemoIfEmpty(ctx, db, cfg, log); err != nil {
					return err
				}
			}
			return serve(ctx, cfg, db.DB, log)
		},
	}
}

// serve runs the HTTP server until ctx is cancelled, then drains it.
func serve(ctx context.Context, cfg *Config, db *postgis.DB, log *slog.Logger) error {
	e := newServer(cfg, db, log)
	watchCtx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	go e.watchChanges(watchCtx)
	go e.frontend.warm()
	errc := make(chan error, 1)
	go func() { errc <- e.Start(cfg.Addr) }()
	log.Info("serving", "addr", cfg.Addr, "url", "http://localhost"+portOf(cfg.Addr)+"/")
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve on %s: %w", cfg.Addr, err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := e.Shutdown(sctx); err != nil {
		log.Warn("shutdown: requests still running were cut off", "err", err)
	}
	return nil
}

func portOf(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[i:]
		}
	}
	return ""
}

// loadDemoIfEmpty loads the demo city when the database has no towns, so
// that the first `make run` shows a city and later runs keep what is there.
func loadDemoIfEmpty(ctx context.Context, db *database, cfg *Config, log *slog.Logger) error {
	var towns int64
	if err := db.QueryRow(ctx, "SELECT count(*) FROM towns").Scan(&towns); err != nil {
		return postgis.Classify(err)
	}
	if towns > 0 {
		log.Info("database already holds data: demo not loaded", "towns", towns)
		return nil
	}
	log.Info("empty database: loading the demo city", "scale", cfg.Demo, "seed", cfg.DemoSeed)
	rep, err := db.LoadDemo(ctx, cfg.Demo, cfg.DemoSeed, log)
	if err != nil {
		return err
	}
	log.Info("demo city loaded", "took", rep.Took, "rows", rep.Rows)
	return nil
}

func migrateCommand(cfg *Config) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply the schema migrations and exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := cfg.Logger()
			db, err := openDatabase(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			defer db.Close()
			v, err := db.SchemaVersion(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "schema is at version %d\n", v)
			return nil
		},
	}
}

func demoCommand(cfg *Config) *cobra.Command {
	var scale string
	var seed int64
	cmd := &cobra.Command{
		Use:   "demo [--scale small|city|large] [--seed N]",
		Short: "(Re)generate the demo city and load it, replacing all layer data",
		Long: "Generate the deterministic demo city modelled on Rui'an, Zhejiang, and load it with COPY,\n" +
			"replacing the data of every layer in one transaction. small: a few thousand premises (tests);\n" +
			"city: ~100k premises, ~200k hazards (default); large: ~1M premises, ~2M hazards (benchmarks).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch scale {
			case "small", "city", "large":
			default:
				return fmt.Errorf("--scale %q: want small, city or large", scale)
			}
			log := cfg.Logger()
			db, err := openDatabase(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			defer db.Close()
			rep, err := db.LoadDemo(cmd.Context(), scale, seed, log)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "demo city (scale %s, seed %d) loaded in %v\n", rep.Scale, rep.Seed, rep.Took.Round(1e6))
			for _, id := range geo.LayerIDs() {
				fmt.Fprintf(cmd.OutOrStdout(), "  %-14s %9d\n", id, rep.Rows[geo.Catalogue[id].Table])
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&scale, "scale", "city", "small, city or large")
	cmd.Flags().Int64Var(&seed, "seed", 1, "random seed; the same seed gives the same city")
	return cmd
}

func importCommand(cfg *Config) *cobra.Command {
	opts := postgis.ImportOptions{}
	cmd := &cobra.Command{
		Use:   "import --layer LAYER [--crs wgs84|cgcs2000|gcj02|bd09] [--id-field F] [--all-or-nothing] FILE",
		Short: "Load a GeoJSON, newline-delimited GeoJSON or CSV file into a layer",
		Long: "Validate every row of FILE against the layer's catalogue entry and upsert the good rows by\n" +
			"their external id (re-importing the same file changes nothing). Prints a report with the\n" +
			"number and reason of every rejected row, and exits 1 if any row was rejected (2 on usage or\n" +
			"database errors). With --all-or-nothing nothing is loaded unless every row is good.\n" +
			"Layers: " + fmt.Sprint(geo.LayerIDs()) + ". See docs/IMPORT.md.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := geo.LookupLayer(opts.Layer); err != nil {
				return &exitError{code: 2, msg: fmt.Sprintf("--layer %q: unknown layer; want one of %v", opts.Layer, geo.LayerIDs())}
			}
			opts.Path = args[0]
			log := cfg.Logger()
			db, err := openDatabase(cmd.Context(), cfg, log)
			if err != nil {
				return &exitError{code: 2, msg: err.Error()}
			}
			defer db.Close()
			rep, err := db.ImportFile(cmd.Context(), opts)
			if rep != nil {
				rep.Write(cmd.OutOrStdout())
			}
			if err != nil {
				return &exitError{code: 2, msg: err.Error()}
			}
			if rep.Rejected > 0 {
				return &exitError{code: 1, msg: fmt.Sprintf("%d of %d rows rejected", rep.Rejected, rep.Read)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.Layer, "layer", "", "catalogue layer to load into (required)")
	cmd.Flags().StringVar(&opts.CRS, "crs", "wgs84", "coordinates of the file: wgs84, cgcs2000, gcj02 or bd09")
	cmd.Flags().StringVar(&opts.IDField, "id-field", "", "property holding the stable external id (default: ext_id, then id)")
	cmd.Flags().StringVar(&opts.Format, "format", "", "geojson, ndjson or csv (default: from the file extension)")
	cmd.Flags().BoolVar(&opts.AllOrNothing, "all-or-nothing", false, "load nothing unless every row is good")
	_ = cmd.MarkFlagRequired("layer")
	return cmd
}

func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of onemap",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "onemap %s\n", buildVersion())
			return nil
		},
	}
}
