package analytics

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/onemap-city/onemap/geo"
	analyticssql "github.com/onemap-city/onemap/sql/analytics"
)

// AreaLevel is a level of the grid hierarchy, or the whole city.
type AreaLevel string

// The levels of the grid hierarchy (DOMAIN.md: city → town → community →
// grid cell). Statistics are per town, community or grid cell; a trend may
// also be of the whole city.
const (
	LevelTown      AreaLevel = "town"
	LevelCommunity AreaLevel = "community"
	LevelGridCell  AreaLevel = "grid_cell"
	LevelCity      AreaLevel = "city"
)

// StatsZone is the time zone of dates and months in statistics and trends:
// Asia/Shanghai, which has kept +08:00 all year since 1991. A fixed zone
// needs no tzdata on the server.
var StatsZone = time.FixedZone("CST", 8*3600)

// InspectedWithin is how recent a premise's last inspection must be to count
// as inspected in AreaStats.Inspected90dShare.
const InspectedWithin = 90 * 24 * time.Hour

// maxTrendMonths bounds a trend's window, so that one request cannot ask
// for centuries of empty months.
const maxTrendMonths = 1200

// StatsService computes grid statistics and hazard trends from PostGIS.
//
// Statistics take one aggregate pass over premises and one over hazards
// (per period), grouped by grid cell, run concurrently; the cells are then
// rolled up to communities and towns here, so every count of a town is the
// sum of its communities' and theirs of their cells'. Medians are taken
// here too, by selection over the closure times of each area's cells:
// on the large demo (2M hazards) PostgreSQL's percentile_cont, which sorts
// every row by group, took 1.8 s for the grid cells and 3.6 s for the towns,
// and joining the hierarchy in SQL cost more than the aggregation itself.
type StatsService struct {
	DB Database
	// Now is the clock giving the reference time when a query has no end;
	// nil: time.Now.
	Now func() time.Time
}

// StatsPeriod is a half-open interval of time [From, To); a zero end is
// open (no bound).
type StatsPeriod struct {
	From time.Time
	To   time.Time
}

// Contains reports whether t lies in p.
func (p StatsPeriod) Contains(t time.Time) bool {
	return (p.From.IsZero() || !t.Before(p.From)) && (p.To.IsZero() || t.Before(p.To))
}

// StatsQuery asks for the statistics of every area of one level.
type StatsQuery struct {
	Level AreaLevel // LevelTown, LevelCommunity or LevelGridCell
	// Parent keeps only the children of one area: a town for communities,
	// a community for grid cells (0: all). Towns have no parent.
	Parent int64
	// Town keeps only the communities or grid cells of one town (0: all).
	Town int64
	// Period restricts the hazard counts to hazards reported in it; its end,
	// if any, is also the reference time (else now).
	Period StatsPeriod
	// Compare, if set, is a second period whose hazard counts are reported
	// beside the first with the change between them. Both ends are needed.
	Compare *StatsPeriod
}

// Stats is the answer to a StatsQuery.
type Stats struct {
	Level AreaLevel  `json:"level"`
	From  *time.Time `json:"from"` // nil: since the first report
	To    *time.Time `json:"to"`   // nil: until now
	// AsOf is the reference time of listed_overdue and inspected_90d_share:
	// To, or the time of the query.
	AsOf    time.Time      `json:"as_of"`
	Compare *ComparePeriod `json:"compare,omitempty"`
	Areas   []AreaStats    `json:"areas"`
}

// ComparePeriod is the second period of a comparison, and its reference time.
type ComparePeriod struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	AsOf time.Time `json:"as_of"`
}

// AreaStats is the statistics of one town, community or grid cell.
// Counts roll up exactly: a town's equal the sums of its communities', and
// those of their grid cells. Rates and medians are computed at each level
// from that level's rows.
type AreaStats struct {
	ID         int64  `json:"id"`
	Code       string `json:"code"`
	Name       string `json:"name"`
	ParentID   *int64 `json:"parent_id"`  // nil for towns
	Population *int64 `json:"population"` // as recorded for the area; nil if unknown
	Households *int64 `json:"households"` // as recorded for the area; nil if unknown
	// BBox is the boundary's bounding box: min lon, min lat, max lon, max
	// lat (EPSG:4326), for zooming to the area.
	BBox [4]float64 `json:"bbox"`

	Premises       int64            `json:"premises"`
	PremisesRed    int64            `json:"premises_red"`
	PremisesYellow int64            `json:"premises_yellow"`
	PremisesGreen  int64            `json:"premises_green"`
	PremisesByKind map[string]int64 `json:"premises_by_kind"` // every kind of geo.PremiseKinds, zeros included
	// PremisesInspected90d counts premises last inspected within the 90 days
	// before the reference time; Inspected90dShare is its share of Premises
	// (nil when there are no premises).
	PremisesInspected90d int64    `json:"premises_inspected_90d"`
	Inspected90dShare    *float64 `json:"inspected_90d_share"`

	HazardStats
	Compare *HazardComparison `json:"compare,omitempty"`
}

// HazardStats is the state of an area's hazards reported in a period.
type HazardStats struct {
	Hazards    int64 `json:"hazards"`            // reported in the period
	Open       int64 `json:"hazards_open"`       // of them, open now
	Rectifying int64 `json:"hazards_rectifying"` // rectifying now
	Closed     int64 `json:"hazards_closed"`     // closed now
	// RectificationRate is Closed / Hazards (nil when there are none).
	RectificationRate *float64 `json:"rectification_rate"`
	// MedianDaysToClose is the median of closed_at − reported_at in days over
	// the closed ones (percentile_cont: the mean of the middle two for an
	// even count; nil when none is closed).
	MedianDaysToClose *float64 `json:"median_days_to_close"`
	// ListedOverdue counts listed (挂牌) hazards not closed at the reference
	// time whose deadline (a date) is before the reference's date. It is a
	// snapshot at the reference time: any hazard reported before it counts,
	// whether or not it was reported within the period.
	ListedOverdue int64 `json:"listed_overdue"`
}

// HazardComparison is an area's hazard statistics in the comparison period
// and the change from them to the main period's.
type HazardComparison struct {
	HazardStats
	Change HazardChange `json:"change"`
}

// HazardChange is the change of each hazard statistic from the comparison
// period to the main period.
type HazardChange struct {
	Hazards           Change `json:"hazards"`
	Open              Change `json:"hazards_open"`
	Rectifying        Change `json:"hazards_rectifying"`
	Closed            Change `json:"hazards_closed"`
	RectificationRate Change `json:"rectification_rate"`
	MedianDaysToClose Change `json:"median_days_to_close"`
	ListedOverdue     Change `json:"listed_overdue"`
}

// Change is main − comparison (Absolute) and that as a percentage of the
// comparison value (Percent). Absolute is nil when either value is; Percent
// also when the comparison value is zero.
type Change struct {
	Absolute *float64 `json:"absolute"`
	Percent  *float64 `json:"percent"`
}

// statsSQL reads one embedded statement of the statistics.
func statsSQL(name string) string {
	b, err := analyticssql.FS.ReadFile(name)
	if err != nil {
		panic("analytics: missing embedded SQL " + name) // caught by any test; never at run time
	}
	return string(b)
}

// statsCellsVariants are the two statements of a {{cells}} template: one
// counting only the grid cells of an array parameter, one counting all.
type statsCellsVariants struct{ some, all string }

// pick is the statement for only (nil: all the cells).
func (v statsCellsVariants) pick(only []int64) string {
	if only == nil {
		return v.all
	}
	return v.some
}

// statsCellsTemplate reads an embedded statement whose {{cells}} stands
// for a condition on the grid-cell array parameter $n. Counting all cells,
// the condition is "$n IS NULL", which PostgreSQL evaluates once and leaves
// out of its row estimates (see stats_premises.sql for why that matters).
// Comment lines go, since they mention the placeholder.
func statsCellsTemplate(name string, n int) statsCellsVariants {
	var keep []string
	for _, line := range strings.Split(statsSQL(name), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			keep = append(keep, line)
		}
	}
	sql := strings.Join(keep, "\n")
	return statsCellsVariants{
		some: strings.ReplaceAll(sql, "{{cells}}", fmt.Sprintf("AND grid_cell_id = ANY ($%d::bigint[])", n)),
		all:  strings.ReplaceAll(sql, "{{cells}}", fmt.Sprintf("AND $%d::bigint[] IS NULL", n)),
	}
}

var (
	statsAreasSQL      = statsSQL("stats_areas.sql")
	statsAreaExistsSQL = statsSQL("stats_area_exists.sql")
	statsCellsSQL      = statsSQL("stats_cells.sql")
	statsPremisesSQL   = statsCellsTemplate("stats_premises.sql", 3)
	statsHazardsSQL    = statsCellsTemplate("stats_hazards.sql", 5)
	statsLatestSQL     = statsSQL("stats_latest.sql")
	statsTrendSQL      = statsCellsTemplate("stats_trend.sql", 4)
)

const (
	statsLevelNames      = "town, community, grid_cell or city"
	statsTrendLevelNames = statsLevelNames
)

func (s *StatsService) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Stats returns the statistics of every area of q.Level (or of q.Parent's
// or q.Town's children), in code order. Invalid queries are geo.EInvalid
// errors naming the field (level, parent, town, from, to, compare); a parent
// or town that does not exist is geo.ENotFound; database failures come back
// classified by the Database.
func (s *StatsService) Stats(ctx context.Context, q StatsQuery) (*Stats, error) {
	if err := q.validate(); err != nil {
		return nil, err
	}
	if err := s.mustExist(ctx, parentLevel(q.Level), q.Parent, "parent"); err != nil {
		return nil, err
	}
	if err := s.mustExist(ctx, LevelTown, q.Town, "town"); err != nil {
		return nil, err
	}
	town, community := q.Town, int64(0)
	switch {
	case q.Parent == 0:
	case q.Level == LevelCommunity:
		town = q.Parent
	case q.Level == LevelGridCell:
		community = q.Parent
	}

	asOf := q.Period.To
	if asOf.IsZero() {
		asOf = s.now()
	}
	out := &Stats{Level: q.Level, AsOf: asOf.In(StatsZone)}
	if !q.Period.From.IsZero() {
		out.From = statsPtr(q.Period.From.In(StatsZone))
	}
	if !q.Period.To.IsZero() {
		out.To = statsPtr(q.Period.To.In(StatsZone))
	}
	if q.Compare != nil {
		out.Compare = &ComparePeriod{From: q.Compare.From.In(StatsZone), To: q.Compare.To.In(StatsZone), AsOf: q.Compare.To.In(StatsZone)}
	}

	// Premises and hazards are counted per grid cell and rolled up here,
	// through the hierarchy.
	cellArea, err := s.cells(ctx, q.Level, town, community)
	if err != nil {
		return nil, err
	}
	var only []int64 // the cells to count; nil: all of them
	if town != 0 || community != 0 {
		only = make([]int64, 0, len(cellArea))
		for c := range cellArea {
			only = append(only, c)
		}
	}
	// The queries are independent: run them at once, each on its own
	// connection, so that the scans of premises and hazards share the
	// server's cores instead of taking turns (the request is CPU-bound).
	var (
		premises  map[int64]*premiseCounts
		main, cmp map[int64]*cellHazards
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		out.Areas, err = s.areas(gctx, q.Level, town, community)
		return err
	})
	g.Go(func() (err error) {
		premises, err = s.premises(gctx, only, asOf)
		return err
	})
	// The hazards outnumber the premises two to one and their
	// aggregation (array_agg, which PostgreSQL 15 cannot run in parallel
	// workers) is the longest: all cells are counted in two halves, at once.
	parts := [][]int64{only}
	if only == nil {
		ids := make([]int64, 0, len(cellArea))
		for c := range cellArea {
			ids = append(ids, c)
		}
		slices.Sort(ids)
		parts = [][]int64{make([]int64, 0, len(ids)/2+1), make([]int64, 0, len(ids)/2+1)}
		for i, c := range ids {
			parts[i%2] = append(parts[i%2], c)
		}
	}
	mainParts := make([]map[int64]*cellHazards, len(parts))
	cmpParts := make([]map[int64]*cellHazards, len(parts))
	for k, part := range parts {
		g.Go(func() (err error) {
			mainParts[k], err = s.hazards(gctx, part, q.Period, asOf)
			return err
		})
		if q.Compare != nil {
			g.Go(func() (err error) {
				cmpParts[k], err = s.hazards(gctx, part, *q.Compare, q.Compare.To)
				return err
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	main, cmp = mergeCells(mainParts), mergeCells(cmpParts)

	byID := make(map[int64]*AreaStats, len(out.Areas))
	for i := range out.Areas {
		a := &out.Areas[i]
		a.PremisesByKind = make(map[string]int64, len(geo.PremiseKinds))
		for _, k := range geo.PremiseKinds {
			a.PremisesByKind[k] = 0
		}
		byID[a.ID] = a
	}
	for cell, p := range premises {
		a := byID[cellArea[cell]]
		if a == nil {
			continue // a cell added since the hierarchy was read
		}
		a.Premises += p.total
		a.PremisesRed += p.red
		a.PremisesYellow += p.yellow
		a.PremisesGreen += p.green
		a.PremisesInspected90d += p.inspected
		for k, n := range p.byKind {
			a.PremisesByKind[k] += n
		}
	}
	mainByArea := rollUpHazards(main, cellArea)
	cmpByArea := rollUpHazards(cmp, cellArea)
	for i := range out.Areas {
		a := &out.Areas[i]
		a.Inspected90dShare = statsRatio(a.PremisesInspected90d, a.Premises)
		a.HazardStats = mainByArea[a.ID].stats()
		if q.Compare != nil {
			c := cmpByArea[a.ID].stats()
			a.Compare = &HazardComparison{HazardStats: c, Change: hazardChange(a.HazardStats, c)}
		}
	}
	return out, nil
}

// validate checks what can be checked without the database.
func (q StatsQuery) validate() error {
	switch q.Level {
	case LevelTown:
		if q.Parent != 0 {
			return geo.Invalid("parent", "towns have no parent")
		}
		if q.Town != 0 {
			return geo.Invalid("town", "town filters communities and grid cells, not towns")
		}
	case LevelCommunity:
		if q.Parent != 0 && q.Town != 0 && q.Parent != q.Town {
			return geo.Invalid("town", "town %d and parent %d differ: for communities both name the town", q.Town, q.Parent)
		}
	case LevelGridCell:
	case LevelCity:
		if q.Parent != 0 {
			return geo.Invalid("parent", "the city has no parent")
		}
		if q.Town != 0 {
			return geo.Invalid("town", "town filters communities and grid cells, not the city")
		}
	default:
		return geo.Invalid("level", "unknown level %q: want %s", q.Level, statsLevelNames)
	}
	if q.Parent < 0 {
		return geo.Invalid("parent", "parent %d: want a positive id", q.Parent)
	}
	if q.Town < 0 {
		return geo.Invalid("town", "town %d: want a positive id", q.Town)
	}
	if p := q.Period; !p.From.IsZero() && !p.To.IsZero() && !p.From.Before(p.To) {
		return geo.Invalid("to", "to (%s) must be after from (%s)", p.To.Format(time.RFC3339), p.From.Format(time.RFC3339))
	}
	if c := q.Compare; c != nil {
		if c.From.IsZero() || c.To.IsZero() {
			return geo.Invalid("compare", "a comparison period needs both its start and its end")
		}
		if !c.From.Before(c.To) {
			return geo.Invalid("compare", "the comparison period must end (%s) after it starts (%s)", c.To.Format(time.RFC3339), c.From.Format(time.RFC3339))
		}
	}
	return nil
}

// parentLevel is the level of the parent of an area of level l.
func parentLevel(l AreaLevel) AreaLevel {
	if l == LevelGridCell {
		return LevelCommunity
	}
	return LevelTown
}

// mustExist returns nil when id is 0 or names an area of level l, a
// geo.ENotFound error whose Detail is param when it does not, and database
// failures as they come.
func (s *StatsService) mustExist(ctx context.Context, l AreaLevel, id int64, param string) error {
	if id == 0 {
		return nil
	}
	var ok bool
	if err := s.DB.ScanRow(ctx, statsAreaExistsSQL, []any{string(l), id}, &ok); err != nil {
		return fmt.Errorf("analytics: look up %s %d: %w", l, id, err)
	}
	if !ok {
		return &geo.Error{Code: geo.ENotFound, Message: fmt.Sprintf("no %s with id %d", strings.ReplaceAll(string(l), "_", " "), id), Detail: param}
	}
	return nil
}

// cityAreaID is the id of the one area of the city level: the whole city.
const cityAreaID = 0

// cells returns the area of level l holding each grid cell (in town and
// community when non-zero).
func (s *StatsService) cells(ctx context.Context, l AreaLevel, town, community int64) (map[int64]int64, error) {
	rows, err := s.DB.QueryRows(ctx, statsCellsSQL, statsNullID(town), statsNullID(community))
	if err != nil {
		return nil, fmt.Errorf("analytics: grid hierarchy: %w", err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var cell, comm, tn int64
		if err := rows.Scan(&cell, &comm, &tn); err != nil {
			return nil, fmt.Errorf("analytics: grid hierarchy: %w", err)
		}
		switch l {
		case LevelTown:
			out[cell] = tn
		case LevelCommunity:
			out[cell] = comm
		case LevelCity:
			out[cell] = cityAreaID
		default:
			out[cell] = cell
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: grid hierarchy: %w", err)
	}
	return out, nil
}

// areas returns the areas of level l (in town and community when
// non-zero), in code order, without their statistics.
func (s *StatsService) areas(ctx context.Context, l AreaLevel, town, community int64) ([]AreaStats, error) {
	rows, err := s.DB.QueryRows(ctx, statsAreasSQL, string(l), statsNullID(town), statsNullID(community))
	if err != nil {
		return nil, fmt.Errorf("analytics: %s areas: %w", l, err)
	}
	defer rows.Close()
	areas := []AreaStats{}
	for rows.Next() {
		var a AreaStats
		if err := rows.Scan(&a.ID, &a.Code, &a.Name, &a.ParentID, &a.Population, &a.Households, &a.BBox[0], &a.BBox[1], &a.BBox[2], &a.BBox[3]); err != nil {
			return nil, fmt.Errorf("analytics: %s areas: %w", l, err)
		}
		areas = append(areas, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: %s areas: %w", l, err)
	}
	return areas, nil
}

// premiseCounts are the premises of one grid cell.
type premiseCounts struct {
	total, red, yellow, green, inspected int64
	byKind                               map[string]int64
}

// premises returns the premise counts of each grid cell with premises (of
// only, when not nil), with inspections counted over the InspectedWithin
// before asOf.
func (s *StatsService) premises(ctx context.Context, only []int64, asOf time.Time) (map[int64]*premiseCounts, error) {
	rows, err := s.DB.QueryRows(ctx, statsPremisesSQL.pick(only), asOf.Add(-InspectedWithin), asOf, statsNullIDs(only))
	if err != nil {
		return nil, fmt.Errorf("analytics: premises by grid cell: %w", err)
	}
	defer rows.Close()
	out := map[int64]*premiseCounts{}
	for rows.Next() {
		var cell, n, red, yellow, green, inspected int64
		var kind string
		if err := rows.Scan(&cell, &kind, &n, &red, &yellow, &green, &inspected); err != nil {
			return nil, fmt.Errorf("analytics: premises by grid cell: %w", err)
		}
		p := out[cell]
		if p == nil {
			p = &premiseCounts{byKind: map[string]int64{}}
			out[cell] = p
		}
		p.total += n
		p.red += red
		p.yellow += yellow
		p.green += green
		p.inspected += inspected
		p.byKind[kind] += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: premises by grid cell: %w", err)
	}
	return out, nil
}

// cellHazards are the hazards of one grid cell, or of an area: counts, and
// the days to closure of each closed hazard (unordered).
type cellHazards struct {
	open, rectifying, overdue int64
	days                      []float64
}

// hazards returns the hazards of each grid cell with hazards (of only,
// when not nil): those reported in p, and those listed and overdue at asOf.
func (s *StatsService) hazards(ctx context.Context, only []int64, p StatsPeriod, asOf time.Time) (map[int64]*cellHazards, error) {
	asOfDate := asOf.In(StatsZone).Format(time.DateOnly)
	rows, err := s.DB.QueryRows(ctx, statsHazardsSQL.pick(only), statsNullTime(p.From), statsNullTime(p.To), asOf, asOfDate, statsNullIDs(only))
	if err != nil {
		return nil, fmt.Errorf("analytics: hazards by grid cell: %w", err)
	}
	defer rows.Close()
	out := map[int64]*cellHazards{}
	for rows.Next() {
		var cell int64
		var h cellHazards
		if err := rows.Scan(&cell, &h.open, &h.rectifying, &h.overdue, &h.days); err != nil {
			return nil, fmt.Errorf("analytics: hazards by grid cell: %w", err)
		}
		out[cell] = &h
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: hazards by grid cell: %w", err)
	}
	return out, nil
}

// mergeCells joins the hazards of disjoint sets of cells (nil if all are).
func mergeCells(parts []map[int64]*cellHazards) map[int64]*cellHazards {
	if len(parts) == 1 {
		return parts[0]
	}
	var out map[int64]*cellHazards
	for _, p := range parts {
		if p == nil {
			continue
		}
		if out == nil {
			out = make(map[int64]*cellHazards, len(p)*len(parts))
		}
		for c, h := range p {
			out[c] = h
		}
	}
	return out
}

// rollUpHazards adds the hazards of each cell into its area's.
func rollUpHazards(cells map[int64]*cellHazards, cellArea map[int64]int64) map[int64]*cellHazards {
	closed := map[int64]int{} // by area, to allocate each area's days once
	for cell, h := range cells {
		if area, ok := cellArea[cell]; ok {
			closed[area] += len(h.days)
		}
	}
	out := make(map[int64]*cellHazards, len(closed))
	for cell, h := range cells {
		area, ok := cellArea[cell]
		if !ok {
			continue // a cell added since the hierarchy was read
		}
		a := out[area]
		if a == nil {
			a = &cellHazards{days: make([]float64, 0, closed[area])}
			out[area] = a
		}
		a.open += h.open
		a.rectifying += h.rectifying
		a.overdue += h.overdue
		a.days = append(a.days, h.days...)
	}
	return out
}

// stats are the hazard statistics of h (zero for nil). It reorders h.days.
func (h *cellHazards) stats() HazardStats {
	if h == nil {
		return HazardStats{}
	}
	st := HazardStats{Open: h.open, Rectifying: h.rectifying, Closed: int64(len(h.days)), ListedOverdue: h.overdue}
	st.Hazards = st.Open + st.Rectifying + st.Closed
	st.RectificationRate = statsRatio(st.Closed, st.Hazards)
	if len(h.days) > 0 {
		st.MedianDaysToClose = statsPtr(medianCont(h.days))
	}
	return st
}

// medianCont returns the median of xs as PostgreSQL's percentile_cont(0.5)
// does: the middle value, or the mean of the middle two of an even count.
// It reorders xs; xs must not be empty.
func medianCont(xs []float64) float64 {
	k := len(xs) / 2
	selectKth(xs, k)
	m := xs[k]
	if len(xs)%2 == 0 {
		// Selection leaves the k smallest before xs[k]: the other middle
		// value is the greatest of them.
		m = (slices.Max(xs[:k]) + m) / 2
	}
	return m
}

// selectKth reorders xs so that xs[k] holds the value sorting would put
// there, nothing greater before it and nothing smaller after it (Hoare's
// selection: linear on average, where sorting every area's values would
// cost a logarithmic factor more).
func selectKth(xs []float64, k int) {
	lo, hi := 0, len(xs)-1
	for lo < hi {
		pivot := xs[lo+(hi-lo)/2]
		i, j := lo, hi
		for i <= j {
			for xs[i] < pivot {
				i++
			}
			for xs[j] > pivot {
				j--
			}
			if i <= j {
				xs[i], xs[j] = xs[j], xs[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return // j < k < i: xs[k] equals the pivot, in its place
		}
	}
}

// hazardChange is the change from the comparison statistics c to the main ones m.
func hazardChange(m, c HazardStats) HazardChange {
	count := func(m, c int64) Change { return changeOf(statsPtr(float64(m)), statsPtr(float64(c))) }
	return HazardChange{
		Hazards:           count(m.Hazards, c.Hazards),
		Open:              count(m.Open, c.Open),
		Rectifying:        count(m.Rectifying, c.Rectifying),
		Closed:            count(m.Closed, c.Closed),
		RectificationRate: changeOf(m.RectificationRate, c.RectificationRate),
		MedianDaysToClose: changeOf(m.MedianDaysToClose, c.MedianDaysToClose),
		ListedOverdue:     count(m.ListedOverdue, c.ListedOverdue),
	}
}

func changeOf(m, c *float64) Change {
	if m == nil || c == nil {
		return Change{}
	}
	ch := Change{Absolute: statsPtr(*m - *c)}
	if *c != 0 {
		ch.Percent = statsPtr(100 * (*m - *c) / *c)
	}
	return ch
}

// statsRatio is n/d, nil when d is zero.
func statsRatio(n, d int64) *float64 {
	if d == 0 {
		return nil
	}
	return statsPtr(float64(n) / float64(d))
}

func statsPtr[T any](v T) *T { return &v }

// statsNullID is id as a bind parameter, NULL for 0 (no filter).
func statsNullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// statsNullIDs is ids as a bigint[] bind parameter, NULL for nil (no filter).
func statsNullIDs(ids []int64) any {
	if ids == nil {
		return nil
	}
	return ids
}

// statsNullTime is t as a bind parameter, NULL for the zero time (no bound).
func statsNullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// TrendQuery asks for the monthly hazard flows of one area.
type TrendQuery struct {
	Level AreaLevel // LevelTown, LevelCommunity, LevelGridCell or LevelCity
	ID    int64     // the area; 0 for the city
	// Period is the window, cut into months of Asia/Shanghai (the first and
	// last may be partial). A zero To is the end of the month of the latest
	// report in the whole database (now, when there are no hazards); a zero
	// From is the start of the 24th month back from To's, so the default
	// window is the 24 months up to the latest report, whatever the clock.
	Period StatsPeriod
	// Categories and Severities keep only hazards of these values (nil: all).
	Categories []string
	Severities []string
}

// Trend is the monthly flow of an area's hazards.
type Trend struct {
	Level      AreaLevel    `json:"level"`
	ID         *int64       `json:"id"` // nil for the city
	From       time.Time    `json:"from"`
	To         time.Time    `json:"to"`
	Categories []string     `json:"category,omitempty"`
	Severities []string     `json:"severity,omitempty"`
	Months     []TrendMonth `json:"months"`
}

// TrendMonth is one month of a Trend, clipped to the window.
type TrendMonth struct {
	Month     string `json:"month"`       // YYYY-MM in Asia/Shanghai
	Reported  int64  `json:"reported"`    // hazards reported in the month
	Closed    int64  `json:"closed"`      // hazards closed in the month, whenever reported
	OpenAtEnd int64  `json:"open_at_end"` // reported before the month's end and not closed by then
}

// Trend returns the monthly hazard flows of q's area. Invalid queries are
// geo.EInvalid errors naming the field (level, id, from, to, category,
// severity); an area that does not exist is geo.ENotFound naming "id";
// database failures come back classified by the Database.
func (s *StatsService) Trend(ctx context.Context, q TrendQuery) (*Trend, error) {
	switch q.Level {
	case LevelCity:
		if q.ID != 0 {
			return nil, geo.Invalid("id", "the city level takes no id")
		}
	case LevelTown, LevelCommunity, LevelGridCell:
		if q.ID <= 0 {
			return nil, geo.Invalid("id", "the %s level needs the id of one area", q.Level)
		}
	default:
		return nil, geo.Invalid("level", "unknown level %q: want %s", q.Level, statsTrendLevelNames)
	}
	if err := statsCheckEnum("category", q.Categories, geo.HazardCategories); err != nil {
		return nil, err
	}
	if err := statsCheckEnum("severity", q.Severities, geo.HazardSeverities); err != nil {
		return nil, err
	}
	if err := s.mustExist(ctx, q.Level, q.ID, "id"); err != nil {
		return nil, err
	}
	from, to, err := s.trendWindow(ctx, q.Period)
	if err != nil {
		return nil, err
	}

	var only []int64 // the area's grid cells; nil: the whole city
	switch q.Level {
	case LevelGridCell:
		only = []int64{q.ID}
	case LevelCommunity, LevelTown:
		town, community := q.ID, int64(0)
		if q.Level == LevelCommunity {
			town, community = 0, q.ID
		}
		cellArea, err := s.cells(ctx, LevelGridCell, town, community)
		if err != nil {
			return nil, err
		}
		only = make([]int64, 0, len(cellArea))
		for c := range cellArea {
			only = append(only, c)
		}
	}

	// The window cut into months: its start, each month start inside it,
	// its end. Hazards are counted by the month they were reported in and
	// the month they were closed in (width_bucket over these bounds).
	bounds := []time.Time{from}
	for m := statsMonthStart(from).AddDate(0, 1, 0); m.Before(to); m = m.AddDate(0, 1, 0) {
		bounds = append(bounds, m)
	}
	bounds = append(bounds, to)
	months := len(bounds) - 1
	rows, err := s.DB.QueryRows(ctx, statsTrendSQL.pick(only), bounds,
		statsNullStrings(q.Categories), statsNullStrings(q.Severities), statsNullIDs(only))
	if err != nil {
		return nil, fmt.Errorf("analytics: trend of %s %d: %w", q.Level, q.ID, err)
	}
	defer rows.Close()
	// Buckets 1..months are the months; 0 is before the window, months+1
	// after it.
	reported, closed := make([]int64, months+2), make([]int64, months+2)
	var open int64 // at the start of the window
	for rows.Next() {
		var rb int
		var cb *int // NULL: not closed
		var n int64
		if err := rows.Scan(&rb, &cb, &n); err != nil {
			return nil, fmt.Errorf("analytics: trend of %s %d: %w", q.Level, q.ID, err)
		}
		if cb != nil {
			closed[*cb] += n
		}
		if rb == 0 {
			if cb == nil || *cb > 0 {
				open += n // reported before the window and not closed before it
			}
			continue
		}
		reported[rb] += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: trend of %s %d: %w", q.Level, q.ID, err)
	}

	t := &Trend{Level: q.Level, From: from, To: to, Categories: q.Categories, Severities: q.Severities, Months: make([]TrendMonth, months)}
	if q.Level != LevelCity {
		t.ID = statsPtr(q.ID)
	}
	// The open stock carries from month to month: what was open at the
	// start, plus what was reported, less what was closed.
	for i := range t.Months {
		open += reported[i+1] - closed[i+1]
		t.Months[i] = TrendMonth{Month: bounds[i].Format("2006-01"), Reported: reported[i+1], Closed: closed[i+1], OpenAtEnd: open}
	}
	return t, nil
}

// trendWindow fills in the defaults of a trend's window (see TrendQuery)
// and checks it; the times returned are in StatsZone.
func (s *StatsService) trendWindow(ctx context.Context, p StatsPeriod) (from, to time.Time, err error) {
	from, to = p.From, p.To
	if to.IsZero() {
		var latest *time.Time
		if err := s.DB.ScanRow(ctx, statsLatestSQL, nil, &latest); err != nil {
			return from, to, fmt.Errorf("analytics: latest hazard: %w", err)
		}
		end := s.now()
		if latest != nil {
			end = *latest
		}
		to = statsMonthStart(end).AddDate(0, 1, 0)
	}
	if from.IsZero() {
		// The month holding the window's last instant, and 23 before it.
		from = statsMonthStart(to.Add(-time.Nanosecond)).AddDate(0, -23, 0)
	}
	from, to = from.In(StatsZone), to.In(StatsZone)
	if !from.Before(to) {
		param := "from"
		if !p.To.IsZero() {
			param = "to"
		}
		return from, to, geo.Invalid(param, "to (%s) must be after from (%s)", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	if statsMonthStart(from).AddDate(0, maxTrendMonths, 0).Before(to) {
		return from, to, geo.Invalid("from", "a trend covers at most %d months", maxTrendMonths)
	}
	return from, to, nil
}

// statsMonthStart is the first instant of t's month in Asia/Shanghai.
func statsMonthStart(t time.Time) time.Time {
	t = t.In(StatsZone)
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, StatsZone)
}

// statsCheckEnum returns a geo.EInvalid error naming param when a value is not
// one of allowed.
func statsCheckEnum(param string, values, allowed []string) error {
	for _, v := range values {
		if !slices.Contains(allowed, v) {
			return geo.Invalid(param, "unknown %s %q: want one of %s", param, v, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// statsNullStrings is vs as a text[] bind parameter, NULL when empty (no filter).
func statsNullStrings(vs []string) any {
	if len(vs) == 0 {
		return nil
	}
	return vs
}
