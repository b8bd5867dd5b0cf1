package analytics

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/onemap-city/onemap/geo"
)

// StatsHandler serves grid statistics and hazard trends over HTTP.
type StatsHandler struct {
	Stats *StatsService
}

// Register adds the statistics routes to e:
//
//	GET /api/v1/stats?level=town|community|grid_cell|city[&parent=ID][&town=ID][&from=..][&to=..][&compare=FROM/TO][&format=json|csv]
//	GET /api/v1/trend?level=town|community|grid_cell|city[&id=ID][&from=..][&to=..][&category=..][&severity=..]
//
// Times are dates (YYYY-MM-DD, midnight in Asia/Shanghai) or RFC 3339.
func (h *StatsHandler) Register(e *echo.Echo) {
	get := []string{http.MethodGet, http.MethodHead}
	e.Match(get, "/api/v1/stats", h.stats)
	e.Match(get, "/api/v1/trend", h.trend)
}

// stats answers GET /api/v1/stats as JSON or, with format=csv, as a CSV
// download.
func (h *StatsHandler) stats(c echo.Context) error {
	q, format, err := parseStatsQuery(c.QueryParams())
	if err != nil {
		return err
	}
	s, err := h.Stats.Stats(c.Request().Context(), q)
	if err != nil {
		return err
	}
	if format == "csv" {
		return writeStatsCSV(c, s)
	}
	return c.JSON(http.StatusOK, s)
}

// trend answers GET /api/v1/trend.
func (h *StatsHandler) trend(c echo.Context) error {
	q, err := parseTrendQuery(c.QueryParams())
	if err != nil {
		return err
	}
	t, err := h.Stats.Trend(c.Request().Context(), q)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

// parseStatsQuery reads the parameters of /api/v1/stats and the output
// format ("json" or "csv"). Bad input is a geo.EInvalid error naming the
// parameter.
func parseStatsQuery(v url.Values) (q StatsQuery, format string, err error) {
	if err := statsParams(v, nil, "level", "parent", "town", "from", "to", "compare", "format"); err != nil {
		return q, "", err
	}
	if !v.Has("level") {
		return q, "", geo.Invalid("level", "level is required: %s", statsLevelNames)
	}
	q.Level = AreaLevel(v.Get("level")) // checked by the service
	if q.Parent, err = statsOptionalID(v, "parent"); err != nil {
		return q, "", err
	}
	if q.Town, err = statsOptionalID(v, "town"); err != nil {
		return q, "", err
	}
	if q.Period, err = statsPeriodParams(v); err != nil {
		return q, "", err
	}
	if v.Has("compare") {
		a, b, ok := strings.Cut(v.Get("compare"), "/")
		if !ok {
			return q, "", geo.Invalid("compare", "compare %q: want FROM/TO, e.g. 2025-01-01/2025-07-01", v.Get("compare"))
		}
		var p StatsPeriod
		if p.From, err = parseStatsTime("compare", a); err != nil {
			return q, "", err
		}
		if p.To, err = parseStatsTime("compare", b); err != nil {
			return q, "", err
		}
		if !p.From.Before(p.To) {
			return q, "", geo.Invalid("compare", "compare %q: the period must end after it starts", v.Get("compare"))
		}
		q.Compare = &p
	}
	switch format = v.Get("format"); format {
	case "":
		format = "json"
	case "json", "csv":
	default:
		return q, "", geo.Invalid("format", "unknown format %q: want json or csv", format)
	}
	return q, format, nil
}

// parseTrendQuery reads the parameters of /api/v1/trend. Bad input is a
// geo.EInvalid error naming the parameter.
func parseTrendQuery(v url.Values) (q TrendQuery, err error) {
	if err := statsParams(v, []string{"category", "severity"}, "level", "id", "from", "to", "category", "severity"); err != nil {
		return q, err
	}
	if !v.Has("level") {
		return q, geo.Invalid("level", "level is required: %s", statsTrendLevelNames)
	}
	q.Level = AreaLevel(v.Get("level")) // checked, with id, by the service
	if q.ID, err = statsOptionalID(v, "id"); err != nil {
		return q, err
	}
	if q.Period, err = statsPeriodParams(v); err != nil {
		return q, err
	}
	if q.Categories, err = statsEnumParam(v, "category", geo.HazardCategories); err != nil {
		return q, err
	}
	if q.Severities, err = statsEnumParam(v, "severity", geo.HazardSeverities); err != nil {
		return q, err
	}
	return q, nil
}

// statsParams rejects parameters not in allowed, and repeated ones unless
// in repeatable, with a geo.EInvalid error naming the parameter.
func statsParams(v url.Values, repeatable []string, allowed ...string) error {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the same error for the same request
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			return geo.Invalid(k, "unknown parameter %q: want %s", k, strings.Join(allowed, ", "))
		}
		if len(v[k]) > 1 && !slices.Contains(repeatable, k) {
			return geo.Invalid(k, "parameter %q given %d times", k, len(v[k]))
		}
	}
	return nil
}

// statsOptionalID reads a positive area id, 0 when the parameter is absent.
func statsOptionalID(v url.Values, param string) (int64, error) {
	if !v.Has(param) {
		return 0, nil
	}
	s := v.Get(param)
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, geo.Invalid(param, "%s %q: want a positive integer id", param, s)
	}
	return id, nil
}

// statsPeriodParams reads from and to, either optional; when both are
// given from must come first.
func statsPeriodParams(v url.Values) (p StatsPeriod, err error) {
	if v.Has("from") {
		if p.From, err = parseStatsTime("from", v.Get("from")); err != nil {
			return p, err
		}
	}
	if v.Has("to") {
		if p.To, err = parseStatsTime("to", v.Get("to")); err != nil {
			return p, err
		}
	}
	if !p.From.IsZero() && !p.To.IsZero() && !p.From.Before(p.To) {
		return p, geo.Invalid("to", "to (%s) must be after from (%s)", v.Get("to"), v.Get("from"))
	}
	return p, nil
}

// parseStatsTime reads a date (YYYY-MM-DD, its midnight in Asia/Shanghai)
// or an RFC 3339 time; anything else is a geo.EInvalid error naming param.
func parseStatsTime(param, s string) (time.Time, error) {
	if t, err := time.ParseInLocation(time.DateOnly, s, StatsZone); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	// The "+" of an offset typed unescaped into a query string arrives as a
	// space: 2025-01-01T00:00:00+08:00 is what was meant.
	if t, err := time.Parse(time.RFC3339Nano, strings.Replace(s, " ", "+", 1)); err == nil {
		return t, nil
	}
	return time.Time{}, geo.Invalid(param, "%s %q: want a date YYYY-MM-DD or an RFC 3339 time", param, s)
}

// statsEnumParam reads the values of a repeatable, comma-separated
// parameter, each one of allowed (nil when absent).
func statsEnumParam(v url.Values, param string, allowed []string) ([]string, error) {
	var out []string
	for _, s := range v[param] {
		for _, e := range strings.Split(s, ",") {
			if e = strings.TrimSpace(e); e == "" {
				return nil, geo.Invalid(param, "empty %s", param)
			}
			if !slices.Contains(out, e) {
				out = append(out, e)
			}
		}
	}
	return out, statsCheckEnum(param, out, allowed)
}

// statsBOM starts the CSV so that Excel reads it as UTF-8 (Chinese names).
const statsBOM = "\ufeff"

// writeStatsCSV sends s as a CSV attachment: a header row, then one row
// per area; premises_by_kind becomes one kind_<kind> column per kind, the
// comparison compare_<field> and change_<field>[_percent] columns; an
// unknown value (null in JSON) is an empty cell.
func writeStatsCSV(c echo.Context, s *Stats) error {
	var buf bytes.Buffer
	buf.WriteString(statsBOM)
	w := csv.NewWriter(&buf)
	w.UseCRLF = true // RFC 4180, and what Excel writes
	hazardCols := []string{"hazards", "hazards_open", "hazards_rectifying", "hazards_closed",
		"rectification_rate", "median_days_to_close", "listed_overdue"}
	header := []string{"id", "code", "name", "parent_id", "population", "households",
		"premises", "premises_red", "premises_yellow", "premises_green"}
	for _, k := range geo.PremiseKinds {
		header = append(header, "kind_"+k)
	}
	header = append(header, "premises_inspected_90d", "inspected_90d_share")
	header = append(header, hazardCols...)
	if s.Compare != nil {
		for _, h := range hazardCols {
			header = append(header, "compare_"+h)
		}
		for _, h := range hazardCols {
			header = append(header, "change_"+h, "change_"+h+"_percent")
		}
	}
	// The bounding box comes last: columns are only ever added at the end,
	// so that analysts' scripts reading by position keep working.
	header = append(header, "min_lon", "min_lat", "max_lon", "max_lat")
	_ = w.Write(header) // errors surface in w.Error below

	i := strconv.FormatInt
	row := make([]string, 0, len(header))
	for _, a := range s.Areas {
		row = append(row[:0], i(a.ID, 10), a.Code, a.Name, statsCSVInt(a.ParentID), statsCSVInt(a.Population), statsCSVInt(a.Households),
			i(a.Premises, 10), i(a.PremisesRed, 10), i(a.PremisesYellow, 10), i(a.PremisesGreen, 10))
		for _, k := range geo.PremiseKinds {
			row = append(row, i(a.PremisesByKind[k], 10))
		}
		row = append(row, i(a.PremisesInspected90d, 10), statsCSVFloat(a.Inspected90dShare))
		row = appendHazardCells(row, a.HazardStats)
		if s.Compare != nil && a.Compare != nil {
			row = appendHazardCells(row, a.Compare.HazardStats)
			ch := a.Compare.Change
			for _, c := range []Change{ch.Hazards, ch.Open, ch.Rectifying, ch.Closed, ch.RectificationRate, ch.MedianDaysToClose, ch.ListedOverdue} {
				row = append(row, statsCSVFloat(c.Absolute), statsCSVFloat(c.Percent))
			}
		}
		for _, v := range a.BBox {
			row = append(row, strconv.FormatFloat(v, 'f', -1, 64))
		}
		_ = w.Write(row)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("analytics: write stats CSV: %w", err)
	}
	name := "onemap-stats-" + string(s.Level)
	if s.From != nil {
		name += "-from-" + s.From.In(StatsZone).Format("20060102")
	}
	if s.To != nil {
		name += "-to-" + s.To.In(StatsZone).Format("20060102")
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`.csv"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// appendHazardCells appends h's cells in the order of the CSV's hazard columns.
func appendHazardCells(row []string, h HazardStats) []string {
	i := strconv.FormatInt
	return append(row, i(h.Hazards, 10), i(h.Open, 10), i(h.Rectifying, 10), i(h.Closed, 10),
		statsCSVFloat(h.RectificationRate), statsCSVFloat(h.MedianDaysToClose), i(h.ListedOverdue, 10))
}

func statsCSVInt(v *int64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatInt(*v, 10)
}

// statsCSVFloat writes the shortest decimal that reads back as the same float64,
// as encoding/json does, so the CSV and the JSON carry the same numbers.
func statsCSVFloat(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}
