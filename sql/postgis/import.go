package postgis

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/encoding/wkb"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/geo/ingest"
)

// ImportOptions say what to import and how.
type ImportOptions struct {
	Layer string // catalogue id
	// Path is the file. Its extension gives the format unless Format is set:
	// .geojson/.json a FeatureCollection, .ndjson/.geojsonl/.geojsons one
	// Feature per line, .csv a header row then rows.
	Path   string
	Format string // "", "geojson", "ndjson" or "csv"
	// CRS is the coordinate system of the file: "wgs84" (the default),
	// "cgcs2000" (taken as WGS84, centimetres apart), "gcj02" or "bd09"
	// (converted to WGS84).
	CRS string
	// IDField is the property holding each row's stable external id. Empty
	// means "ext_id", then "id", then the GeoJSON Feature's id.
	IDField string
	// AllOrNothing writes nothing when any row is rejected.
	AllOrNothing bool
}

// Rejection is a row the import refused: Row is the feature's position in a
// FeatureCollection, else the line number (a CSV header is line 1).
type Rejection = ingest.Rejection

// Repair is a row that was loaded after its geometry was repaired.
type Repair struct {
	Row   int    // as in Rejection
	Field string // "geometry"
	What  string
}

// ImportReport says what an import did, row by row where rows were refused.
type ImportReport struct {
	Layer  string
	Path   string
	Format string // geojson, ndjson or csv
	// Read rows = Inserted + Updated + Unchanged + Rejected, unless the
	// import was rolled back, when only Read and Rejected count.
	Read, Inserted, Updated, Unchanged, Rejected int
	// Repaired rows were loaded after ST_MakeValid fixed their polygons.
	Repaired   int
	Rejections []Rejection // by row; a row can have several
	Repairs    []Repair
	// RolledBack is true when AllOrNothing found rejections and wrote nothing.
	RolledBack bool
	Took       time.Duration
}

// The fixed steps of an import, run against the staging table import_rows.
var (
	//go:embed import/geometry.sql
	geometrySQL string
	//go:embed import/grid_cell.sql
	gridCellSQL string
	//go:embed import/table_rules.sql
	tableRulesSQL string
	//go:embed import/report.sql
	reportSQL string
	//go:embed import/roads_old_nodes.sql
	roadsOldNodesSQL string
	//go:embed import/roads_ends.sql
	roadsEndsSQL string
	//go:embed import/roads_topology.sql
	roadsTopologySQL string
)

// ImportFile opens opts.Path and imports it; see Import.
func (db *DB) ImportFile(ctx context.Context, opts ImportOptions) (*ImportReport, error) {
	f, err := os.Open(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("postgis: import %s: %w", opts.Layer, &geo.Error{Code: geo.EInvalid, Message: "cannot open the file", Err: err})
	}
	defer f.Close()
	return db.Import(ctx, opts, f)
}

// Import loads the features read from r into opts.Layer, upserting on the
// stable external id, in one transaction: every row is validated (in Go,
// then against the database: references, geometry validity, the table's
// constraints), rows that fail are reported, and the others inserted,
// updated if they differ, or left alone if they do not, so that importing
// the same file twice changes nothing.
//
// A report with Rejected > 0 is not an error: the good rows were loaded (or,
// with AllOrNothing, nothing was, and RolledBack says so). Import returns an
// error, and writes nothing, when the options are wrong or the file cannot
// be read as its format (an EInvalid geo.Error), or on any database failure.
func (db *DB) Import(ctx context.Context, opts ImportOptions, r io.Reader) (rep *ImportReport, err error) {
	start := time.Now()
	defer func() {
		if err != nil {
			from := ""
			if opts.Path != "" {
				from = " from " + filepath.Base(opts.Path)
			}
			err = fmt.Errorf("postgis: import %s%s: %w", opts.Layer, from, Classify(err))
		}
	}()
	layer, err := geo.LookupLayer(opts.Layer)
	if err != nil {
		return nil, &geo.Error{Code: geo.EInvalid, Message: fmt.Sprintf("unknown layer %q: use one of %s", opts.Layer, strings.Join(geo.LayerIDs(), ", ")), Detail: "layer"}
	}
	crs, err := geo.ParseCRS(opts.CRS)
	if err != nil {
		return nil, err
	}
	var format ingest.Format
	switch {
	case opts.Format != "":
		format, err = ingest.ParseFormat(opts.Format)
	case opts.Path != "":
		format, err = ingest.FormatOf(opts.Path)
	default:
		err = geo.Invalid("format", "no format: give the file's path or its format")
	}
	if err != nil {
		return nil, err
	}
	rd, err := ingest.NewReader(r, layer, ingest.Options{Format: format, CRS: crs, IDField: opts.IDField})
	if err != nil {
		return nil, err
	}
	rep = &ImportReport{Layer: layer.ID, Path: opts.Path, Format: string(format)}

	tx, err := db.Begin(ctx)
	if err != nil {
		return nil, err
	}
	// Rolled back on every way out but the commit: never half an import.
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	im := &importer{tx: tx, layer: layer, rep: rep, unit: format.RowUnit()}
	if err := im.run(ctx, rd, opts.AllOrNothing); err != nil {
		return nil, err
	}
	if !rep.RolledBack {
		if err := tx.Commit(ctx); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(rep.Rejections, func(i, j int) bool { return rep.Rejections[i].Row < rep.Rejections[j].Row })
	rep.Took = time.Since(start)
	return rep, nil
}

// importer is one import in its transaction.
type importer struct {
	tx    pgx.Tx
	layer *geo.Layer
	rep   *ImportReport
	unit  string // what a row number counts
}

func (im *importer) run(ctx context.Context, rd *ingest.Reader, allOrNothing bool) error {
	// An import is a batch job: its deadline is the caller's context, not
	// the pool's per-statement timeout meant for map requests.
	if _, err := im.tx.Exec(ctx, "SET LOCAL statement_timeout = 0"); err != nil {
		return err
	}
	if _, err := im.tx.Exec(ctx, im.stagingDDL()); err != nil {
		return fmt.Errorf("create staging table: %w", err)
	}
	src := &copySource{rd: rd, rep: im.rep}
	if _, err := im.tx.CopyFrom(ctx, pgx.Identifier{"import_rows"}, im.stagingColumns(), src); err != nil {
		if src.err != nil {
			return src.err // the file, not the database
		}
		return fmt.Errorf("copy into staging: %w", err)
	}
	if _, err := im.tx.Exec(ctx, "ANALYZE import_rows"); err != nil {
		return err
	}
	if err := im.check(ctx); err != nil {
		return err
	}
	if err := im.collect(ctx); err != nil {
		return err
	}
	if allOrNothing && im.rep.Rejected > 0 {
		im.rep.RolledBack = true
		return nil
	}
	if err := im.upsert(ctx); err != nil {
		return err
	}
	if im.routable() {
		return im.roadTopology(ctx)
	}
	return nil
}

// routable reports whether the layer is the road network, whose topology
// the import maintains; the topology SQL names its tables.
func (im *importer) routable() bool { return im.layer.Table == "roads" }

// Staging: a temporary table with the layer's columns under their own names
// (so that the table's CHECK expressions read the same on it), the ref
// columns' ext_ids beside them, and bookkeeping columns starting with _.

func sqlType(t geo.ColumnType) string {
	switch t {
	case geo.Int:
		return "integer"
	case geo.Float:
		return "double precision"
	case geo.Bool:
		return "boolean"
	case geo.Date:
		return "date"
	case geo.Timestamp:
		return "timestamptz"
	case geo.Ref:
		return "bigint"
	}
	return "text"
}

func refColumn(c geo.Column) string { return "_ref_" + c.Name }

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

func (im *importer) stagingDDL() string {
	var b strings.Builder
	b.WriteString("CREATE TEMP TABLE import_rows (_row integer NOT NULL, ext_id text NOT NULL")
	for _, c := range im.layer.Columns {
		fmt.Fprintf(&b, ", %s %s", ident(c.Name), sqlType(c.Type))
		if c.Type == geo.Ref {
			fmt.Fprintf(&b, ", %s text", ident(refColumn(c)))
		}
	}
	b.WriteString(`, grid_cell_id bigint, props jsonb NOT NULL, _wkb bytea, geom geometry,
		_reject_field text, _reject_reason text, _repair text) ON COMMIT DROP;
		CREATE TEMP TABLE import_changed (id bigint, inserted boolean) ON COMMIT DROP`)
	return b.String()
}

// stagingColumns are the columns COPY fills, in copySource's value order.
func (im *importer) stagingColumns() []string {
	cols := []string{"_row", "ext_id"}
	for _, c := range im.layer.Columns {
		if c.Type == geo.Ref {
			cols = append(cols, refColumn(c))
		} else {
			cols = append(cols, c.Name)
		}
	}
	return append(cols, "props", "_wkb")
}

// copySource feeds the rows that pass validation in Go to COPY and records
// the others in the report.
type copySource struct {
	rd   *ingest.Reader
	rep  *ImportReport
	vals []any
	err  error // the file could not be read on
}

func (s *copySource) Next() bool {
	for {
		row, err := s.rd.Next()
		if err == io.EOF {
			return false
		}
		if err != nil {
			s.err = err
			return false
		}
		s.rep.Read++
		if !row.OK() {
			s.rep.Rejected++
			s.rep.Rejections = append(s.rep.Rejections, row.Rejections...)
			continue
		}
		g, err := wkb.Marshal(row.Geom)
		if err != nil {
			s.err = fmt.Errorf("row %d: encode geometry: %w", row.Num, err)
			return false
		}
		s.vals = append(append(append(s.vals[:0], row.Num, row.ExtID), row.Values...), row.Props, g)
		return true
	}
}

func (s *copySource) Values() ([]any, error) { return s.vals, nil }
func (s *copySource) Err() error             { return s.err }

// check runs the database's checks on the staged rows. Each marks the rows
// it rejects; a row keeps the first reason found.
func (im *importer) check(ctx context.Context) error {
	if _, err := im.tx.Exec(ctx, geometrySQL); err != nil {
		return fmt.Errorf("check geometries: %w", err)
	}
	if err := im.resolveRefs(ctx); err != nil {
		return err
	}
	if err := im.tableRules(ctx); err != nil {
		return err
	}
	if im.layer.GridCell {
		if _, err := im.tx.Exec(ctx, gridCellSQL); err != nil {
			return fmt.Errorf("locate grid cells: %w", err)
		}
	}
	return nil
}

// resolveRefs turns each ref column's ext_id into the id of the referenced
// row; an ext_id with no row is a rejection.
func (im *importer) resolveRefs(ctx context.Context) error {
	for _, c := range im.layer.Columns {
		if c.Type != geo.Ref {
			continue
		}
		ref, err := geo.LookupLayer(c.RefLayer)
		if err != nil {
			return err
		}
		col, ext := ident(c.Name), ident(refColumn(c))
		resolve := fmt.Sprintf(`UPDATE import_rows s SET %s = t.id FROM %s t WHERE t.ext_id = s.%s`, col, ident(ref.Table), ext)
		if _, err := im.tx.Exec(ctx, resolve); err != nil {
			return fmt.Errorf("resolve %s: %w", c.ImportName(), err)
		}
		reject := fmt.Sprintf(`UPDATE import_rows SET _reject_field = $1, _reject_reason = format('no %%s with ext_id %%L', $2::text, %s)
			WHERE %s IS NOT NULL AND %s IS NULL AND _reject_reason IS NULL`, ext, ext, col)
		if _, err := im.tx.Exec(ctx, reject, c.ImportName(), ref.ID); err != nil {
			return fmt.Errorf("resolve %s: %w", c.ImportName(), err)
		}
	}
	return nil
}

// tableRules applies to the staged rows what an INSERT into the table
// would: NOT NULL defaults are filled in, and rows that would break a NOT
// NULL, CHECK or UNIQUE constraint are rejected, by name, instead of failing
// the whole import. The catalogue mirrors most rules already; this catches
// the rest (a closed hazard needs closed_at; a town code is unique).
//
// Only constraints over catalogue columns are applied; the column names in
// SQL are the catalogue's. Defaults and CHECK expressions are SQL text read
// from the schema's own catalog (pg_attrdef, pg_constraint), never input.
func (im *importer) tableRules(ctx context.Context) error {
	rows, err := im.tx.Query(ctx, tableRulesSQL, ident(im.layer.Table))
	if err != nil {
		return fmt.Errorf("read the rules of %s: %w", im.layer.Table, err)
	}
	type rule struct {
		kind, name string
		expr       *string
		columns    []string
	}
	var rules []rule
	var r rule
	_, err = pgx.ForEachRow(rows, []any{&r.kind, &r.name, &r.expr, &r.columns}, func() error {
		rules = append(rules, r)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the rules of %s: %w", im.layer.Table, err)
	}
	var (
		defaults  []string // col = COALESCE(col, default)
		defaulted []string // col IS NULL
		checks    []string // SQL conditions that are false for a bad row
		args      []any    // field and reason of each check
	)
	addCheck := func(cond string, cols []geo.Column, reason string) {
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = c.ImportName()
		}
		args = append(args, strings.Join(names, ","), reason)
		checks = append(checks, cond)
	}
	for _, r := range rules {
		cols, ok := im.columns(r.columns)
		if !ok {
			continue // involves ext_id, geom, props...: handled elsewhere
		}
		switch {
		case r.kind == "n" && cols[0].Required:
			// Go rejected rows without it already.
		case r.kind == "n" && r.expr != nil:
			defaults = append(defaults, fmt.Sprintf("%s = COALESCE(%[1]s, %s)", ident(cols[0].Name), *r.expr))
			defaulted = append(defaulted, ident(cols[0].Name)+" IS NULL")
		case r.kind == "n":
			addCheck(ident(cols[0].Name)+" IS NOT NULL", cols, fmt.Sprintf("missing, and the %s table requires it", im.layer.Table))
		case r.kind == "c" && r.expr != nil:
			addCheck(*r.expr, cols, fmt.Sprintf("breaks the rule %s: CHECK %s", r.name, *r.expr))
		case r.kind == "u":
			if err := im.unique(ctx, cols); err != nil {
				return err
			}
		}
	}
	if len(defaults) > 0 {
		q := "UPDATE import_rows SET " + strings.Join(defaults, ", ") + " WHERE " + strings.Join(defaulted, " OR ")
		if _, err := im.tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("fill defaults: %w", err)
		}
	}
	if len(checks) == 0 {
		return nil
	}
	// One pass over the staging table for all checks: the first that fails
	// names the row's fault.
	var field, reason, fails strings.Builder
	for i, cond := range checks {
		fmt.Fprintf(&field, " WHEN (%s) IS FALSE THEN $%d::text", cond, 2*i+1)
		fmt.Fprintf(&reason, " WHEN (%s) IS FALSE THEN $%d::text", cond, 2*i+2)
		if i > 0 {
			fails.WriteString(" OR ")
		}
		fmt.Fprintf(&fails, "(%s) IS FALSE", cond)
	}
	q := fmt.Sprintf("UPDATE import_rows SET _reject_field = CASE%s END, _reject_reason = CASE%s END WHERE _reject_reason IS NULL AND (%s)",
		field.String(), reason.String(), fails.String())
	if _, err := im.tx.Exec(ctx, q, args...); err != nil {
		return fmt.Errorf("check constraints: %w", err)
	}
	return nil
}

// columns maps table column names to the layer's catalogue columns; ok is
// false when any is not a catalogue column.
func (im *importer) columns(names []string) ([]geo.Column, bool) {
	cols := make([]geo.Column, len(names))
	for i, n := range names {
		c, ok := im.layer.Column(n)
		if !ok {
			return nil, false
		}
		cols[i] = c
	}
	return cols, len(cols) > 0
}

// unique rejects rows whose value of a UNIQUE constraint (other than ext_id)
// repeats an earlier row of the file, or belongs to another row of the
// table. Values swapped between two rows in one import are therefore
// refused, where an INSERT would fail outright.
func (im *importer) unique(ctx context.Context, cols []geo.Column) error {
	var list, notNull, join []string
	for _, c := range cols {
		list = append(list, "s."+ident(c.Name))
		notNull = append(notNull, "s."+ident(c.Name)+" IS NOT NULL")
		join = append(join, fmt.Sprintf("t.%s = s.%[1]s", ident(c.Name)))
	}
	value := "ROW(" + strings.Join(list, ", ") + ")::text"
	if len(cols) == 1 {
		value = "quote_literal(" + list[0] + "::text)"
	}
	field := cols[0].ImportName()
	for _, c := range cols[1:] {
		field += "," + c.ImportName()
	}
	// Rows taking a value another row of the table has go first, so that
	// a row re-imported with its own value is not a duplicate of them.
	inTable := fmt.Sprintf(`UPDATE import_rows s SET _reject_field = $1, _reject_reason = format('%%s %%s already belongs to ext_id %%L', $1::text, %s, t.ext_id)
		FROM %s t WHERE %s AND t.ext_id <> s.ext_id AND s._reject_reason IS NULL`, value, ident(im.layer.Table), strings.Join(join, " AND "))
	if _, err := im.tx.Exec(ctx, inTable, field); err != nil {
		return fmt.Errorf("check %s is unique: %w", field, err)
	}
	inFile := fmt.Sprintf(`UPDATE import_rows r SET _reject_field = $1, _reject_reason = format('duplicate %%s %%s: already on %%s %%s', $1::text, d.value, $2::text, d.first)
		FROM (SELECT s._row, %s AS value, first_value(s._row) OVER (PARTITION BY %s ORDER BY s._row) AS first
		      FROM import_rows s WHERE s._reject_reason IS NULL AND %s) d
		WHERE r._row = d._row AND d.first <> d._row`, value, strings.Join(list, ", "), strings.Join(notNull, " AND "))
	if _, err := im.tx.Exec(ctx, inFile, field, im.unit); err != nil {
		return fmt.Errorf("check %s is unique: %w", field, err)
	}
	return nil
}

// collect adds the database's rejections and repairs to the report.
func (im *importer) collect(ctx context.Context) error {
	rows, err := im.tx.Query(ctx, reportSQL)
	if err != nil {
		return fmt.Errorf("read rejections: %w", err)
	}
	var (
		num                   int
		field, reason, repair *string
	)
	_, err = pgx.ForEachRow(rows, []any{&num, &field, &reason, &repair}, func() error {
		switch {
		case reason != nil:
			im.rep.Rejected++
			im.rep.Rejections = append(im.rep.Rejections, Rejection{Row: num, Field: deref(field), Reason: *reason})
		case repair != nil:
			im.rep.Repaired++
			im.rep.Repairs = append(im.rep.Repairs, Repair{Row: num, Field: "geometry", What: "invalid polygon (" + *repair + ") repaired with ST_MakeValid"})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read rejections: %w", err)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// upsert writes the accepted rows: new ext_ids inserted, known ones updated
// only where a value differs, so that unchanged rows keep their updated_at.
// When nothing differs no statement touches the table, and the layer's
// version (bumped by a statement trigger, even for zero rows) stays put:
// tile caches survive re-importing the same file.
func (im *importer) upsert(ctx context.Context) error {
	cols := []string{ident("ext_id")}
	var compare []string
	for _, c := range im.layer.Columns {
		cols = append(cols, ident(c.Name))
		compare = append(compare, ident(c.Name))
	}
	if im.layer.GridCell {
		cols = append(cols, ident("grid_cell_id"))
		compare = append(compare, ident("grid_cell_id"))
	}
	cols = append(cols, ident("props"), ident("geom"))
	compare = append(compare, ident("props"), ident("geom"))
	prefixed := func(p string) string {
		out := make([]string, len(compare))
		for i, c := range compare {
			out[i] = p + c
		}
		return strings.Join(out, ", ")
	}
	table := ident(im.layer.Table)
	differs := fmt.Sprintf("(%s) IS DISTINCT FROM (%s)", prefixed("t."), prefixed("s."))

	var inserts, updates int
	pending := fmt.Sprintf(`SELECT count(*) FILTER (WHERE t.id IS NULL), count(*) FILTER (WHERE t.id IS NOT NULL AND %s)
		FROM import_rows s LEFT JOIN %s t ON t.ext_id = s.ext_id WHERE s._reject_reason IS NULL`, differs, table)
	if err := im.tx.QueryRow(ctx, pending).Scan(&inserts, &updates); err != nil {
		return fmt.Errorf("compare with %s: %w", im.layer.Table, err)
	}
	var accepted int
	if err := im.tx.QueryRow(ctx, "SELECT count(*) FROM import_rows WHERE _reject_reason IS NULL").Scan(&accepted); err != nil {
		return err
	}
	if im.routable() {
		if _, err := im.tx.Exec(ctx, roadsOldNodesSQL); err != nil {
			return fmt.Errorf("road nodes: %w", err)
		}
	}
	if inserts+updates > 0 {
		set := make([]string, 0, len(compare)+1)
		for _, c := range compare {
			set = append(set, fmt.Sprintf("%s = EXCLUDED.%[1]s", c))
		}
		set = append(set, "updated_at = now()")
		upsert := fmt.Sprintf(`WITH up AS (
			INSERT INTO %s AS t (%s)
			SELECT %[2]s FROM import_rows WHERE _reject_reason IS NULL
			ON CONFLICT (ext_id) DO UPDATE SET %s
			WHERE (%s) IS DISTINCT FROM (%s)
			RETURNING t.id, t.xmax = 0 AS inserted)
		INSERT INTO import_changed (id, inserted) SELECT id, inserted FROM up`,
			table, strings.Join(cols, ", "), strings.Join(set, ", "), prefixed("t."), prefixed("EXCLUDED."))
		if _, err := im.tx.Exec(ctx, upsert); err != nil {
			return fmt.Errorf("upsert into %s: %w", im.layer.Table, err)
		}
		if err := im.tx.QueryRow(ctx, "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM import_changed").
			Scan(&im.rep.Inserted, &im.rep.Updated); err != nil {
			return err
		}
	}
	im.rep.Unchanged = accepted - im.rep.Inserted - im.rep.Updated
	return nil
}

// roadTopology gives the imported roads their routing nodes. It runs only
// when some road needs it, for the same reason upsert may not run.
func (im *importer) roadTopology(ctx context.Context) error {
	if _, err := im.tx.Exec(ctx, roadsEndsSQL); err != nil {
		return fmt.Errorf("road ends: %w", err)
	}
	var n int
	if err := im.tx.QueryRow(ctx, "SELECT count(*) FROM import_ends").Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	if _, err := im.tx.Exec(ctx, roadsTopologySQL); err != nil {
		return fmt.Errorf("road topology: %w", err)
	}
	return nil
}

// Write prints the report for a person: the counts, then every rejected and
// repaired row with its number and reason.
func (r *ImportReport) Write(w io.Writer) {
	name := r.Path
	if name == "" {
		name = "input"
	}
	unit := ingest.Format(r.Format).RowUnit()
	fmt.Fprintf(w, "import %s from %s (%s): %s read in %s\n", r.Layer, filepath.Base(name), r.Format, rowCount(r.Read), r.Took.Round(time.Millisecond))
	for _, c := range []struct {
		label string
		n     int
	}{{"inserted", r.Inserted}, {"updated", r.Updated}, {"unchanged", r.Unchanged}, {"rejected", r.Rejected}, {"repaired", r.Repaired}} {
		fmt.Fprintf(w, "  %-9s %d\n", c.label, c.n)
	}
	if len(r.Rejections) > 0 {
		fmt.Fprintf(w, "rejected (%s number, field: reason):\n", unit)
		for _, x := range r.Rejections {
			where := x.Field
			if where != "" {
				where += ": "
			}
			if x.Row == 0 {
				fmt.Fprintf(w, "  file  %s%s\n", where, x.Reason)
			} else {
				fmt.Fprintf(w, "  %s %d  %s%s\n", unit, x.Row, where, x.Reason)
			}
		}
	}
	if len(r.Repairs) > 0 {
		heading := "repaired and loaded"
		if r.RolledBack {
			heading = "repaired"
		}
		fmt.Fprintf(w, "%s (%s number):\n", heading, unit)
		for _, x := range r.Repairs {
			fmt.Fprintf(w, "  %s %d  %s: %s\n", unit, x.Row, x.Field, x.What)
		}
	}
	switch {
	case r.RolledBack:
		fmt.Fprintf(w, "nothing was written: %s rejected, and the import was all or nothing\n", rowCount(r.Rejected))
	case r.Rejected > 0:
		fmt.Fprintf(w, "%s rejected and not loaded; the others were loaded\n", rowCount(r.Rejected))
	}
}

func rowCount(n int) string {
	if n == 1 {
		return "1 row"
	}
	return fmt.Sprintf("%d rows", n)
}

// Err returns nil when every row read was loaded, and otherwise an EInvalid
// error saying how many rows were rejected and whether anything was
// written, for a caller that must then fail (the CLI's exit status).
func (r *ImportReport) Err() error {
	if r.Rejected == 0 {
		return nil
	}
	msg := fmt.Sprintf("%s: %d of %s rejected", r.Layer, r.Rejected, rowCount(r.Read))
	if r.RolledBack {
		msg += ", nothing written"
	}
	return &geo.Error{Code: geo.EInvalid, Message: msg}
}
