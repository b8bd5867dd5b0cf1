// Package filtersql turns validated geo.Filters into SQL conditions with
// bind parameters, the one place tiles and analytics get them from.
// Identifiers come only from the catalogue; every value is an argument.
package filtersql

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/onemap-city/onemap/geo"
)

// Ident quotes a catalogue identifier for SQL.
func Ident(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// Where returns " AND ..." conditions on the rows of layer l (table alias
// alias) for the filters that apply to it, and args with their values
// appended; the conditions' $n count on from len(args).
func Where(l *geo.Layer, alias string, fs geo.Filters, args []any) (string, []any) {
	var b strings.Builder
	col := func(name string) string { return alias + "." + Ident(name) }
	for _, f := range fs {
		t, ok := l.FilterTarget(f.Param)
		if !ok {
			continue
		}
		switch t.Kind {
		case geo.OnTime:
			v, _ := time.Parse(time.RFC3339, f.Values[0])
			args = append(args, v)
			op := ">="
			if f.Name() == "until" {
				op = "<"
			}
			fmt.Fprintf(&b, " AND %s %s $%d", col(t.Column.Name), op, len(args))
		case geo.InArea:
			ids := make([]int64, len(f.Values))
			for i, v := range f.Values {
				ids[i], _ = strconv.ParseInt(v, 10, 64)
			}
			args = append(args, ids)
			switch f.Name() {
			case "grid_cell":
				fmt.Fprintf(&b, " AND %s = ANY($%d::bigint[])", col("grid_cell_id"), len(args))
			case "community":
				fmt.Fprintf(&b, " AND %s IN (SELECT g.id FROM grid_cells g WHERE g.community_id = ANY($%d::bigint[]))", col("grid_cell_id"), len(args))
			case "town":
				fmt.Fprintf(&b, " AND %s IN (SELECT g.id FROM grid_cells g JOIN communities c ON c.id = g.community_id WHERE c.town_id = ANY($%d::bigint[]))", col("grid_cell_id"), len(args))
			}
		case geo.OnColumn, geo.ViaRef:
			var cond string
			if t.Column.Type == geo.Bool {
				if len(f.Values) != 1 {
					continue // both true and false: no filter at all
				}
				args = append(args, f.Values[0] == "true")
				cond = fmt.Sprintf("%%s = $%d", len(args))
			} else {
				args = append(args, f.Values)
				cond = fmt.Sprintf("%%s = ANY($%d::text[])", len(args))
			}
			if t.Kind == geo.OnColumn {
				fmt.Fprintf(&b, " AND "+cond, col(t.Column.Name))
			} else {
				fmt.Fprintf(&b, " AND %s IN (SELECT r.id FROM %s r WHERE "+cond+")",
					col(t.Ref.Name), Ident(t.To.Table), "r."+Ident(t.Column.Name))
			}
		}
	}
	return b.String(), args
}
