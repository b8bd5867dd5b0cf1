package analytics

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"unsafe"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"

	"github.com/onemap-city/onemap/geo"
)

// HexStat is one hexagon of a density binning: flat-topped, edge Size
// metres, anchored at the EPSG:4549 origin like PostGIS's ST_HexagonGrid, so
// cell (I, J) is the same cell in every request.
type HexStat struct {
	I, J      int
	X, Y      float64 // centre, EPSG:4549
	Size      float64 // edge, metres
	Count     int
	Weight    float64
	Premises  int     // premises in the cell, for rates (-1: not counted)
	Residents float64 // residents of the cell by areal weighting of grid cells (-1: not counted)
	GiZ       float64
	GiP       float64
	GiBin     int
}

// AreaKM2 is the hexagon's area in km² (2.598·s²).
func (h HexStat) AreaKM2() float64 { return HexArea(h.Size) / 1e6 }

// DensityService bins points into hexagons and finds hot spots.
type DensityService struct {
	DB     Database
	Limits Limits
	// Points keeps selections' points in memory; NewDensityService makes
	// one, and Handler.Register shares the KDE service's.
	Points *PointCache

	land    *memo[[]hexKey] // study-area cells by size, from the towns
	hotspot *memo[[]HexStat]
	city    *memo[map[hexKey]HexStat] // every cell of a selection, for tiles
	counts  *memo[[]HexStat]          // every cell of a selection, counts only, for hot spots
	people  *memo[map[hexKey]float64] // residents of every cell of the territory, by size
}

// NewDensityService returns a density service over db (zero limits: DefaultLimits).
func NewDensityService(db Database, lim Limits) *DensityService {
	if lim == (Limits{}) {
		lim = DefaultLimits
	}
	return &DensityService{DB: db, Limits: lim, Points: NewPointCache(db, 0),
		land:    newSizedMemo(16, DerivedCacheBytes/16, sliceBytes[hexKey]),
		hotspot: newSizedMemo(64, DerivedCacheBytes/4, sliceBytes[HexStat]),
		city:    newSizedMemo(16, DerivedCacheBytes/4, mapBytes[hexKey, HexStat]),
		counts:  newSizedMemo(16, DerivedCacheBytes/8, sliceBytes[HexStat]),
		people:  newSizedMemo(8, DerivedCacheBytes/16, mapBytes[hexKey, float64])}
}

// DerivedCacheBytes bounds what the density and heatmap services keep of
// their results (hexagon binnings, hot spots, rendered tiles), shared out
// between their memos (three quarters here, a quarter for heatmap PNGs): a whole city of 100 m hexagons is 10–20 MB, a
// street's a few kilobytes, so a count of entries alone bounds nothing.
const DerivedCacheBytes = 512 << 20

// sliceBytes and mapBytes estimate the memory of a memo's value: its
// elements, and for a map about twice that for buckets and spare room.
func sliceBytes[E any](s []E) int64 {
	var e E
	return int64(len(s)) * int64(unsafe.Sizeof(e))
}

func mapBytes[K comparable, V any](m map[K]V) int64 {
	var k K
	var v V
	return 2 * int64(len(m)) * int64(unsafe.Sizeof(k)+unsafe.Sizeof(v))
}

type hexKey struct{ I, J int }

// CellSize reads a hexagon edge length (metres) within the limits; empty
// gives def. Failures are EInvalid naming "cell".
func (s *DensityService) CellSize(given string, def float64) (float64, error) {
	if given == "" {
		return def, nil
	}
	v, err := strconv.ParseFloat(given, 64)
	if err != nil || math.IsNaN(v) {
		return 0, geo.Invalid("cell", "cell %q is not a number of metres", given)
	}
	if v < s.Limits.MinCell || v > s.Limits.MaxCell {
		return 0, geo.Invalid("cell", "cell %g m is out of range: %g–%g m", v, s.Limits.MinCell, s.Limits.MaxCell)
	}
	return v, nil
}

// CheckArea fails with EInvalid naming "bbox" when a metric box is larger
// than the limit.
func (s *DensityService) CheckArea(box [4]float64) error {
	if a := (box[2] - box[0]) * (box[3] - box[1]) / 1e6; a > s.Limits.MaxAreaKM2 {
		return geo.Invalid("bbox", "bbox covers %.0f km²; the limit is %.0f km²", a, s.Limits.MaxAreaKM2)
	}
	return nil
}

// Hexes bins the selection's points in box (EPSG:4549) into hexagons of
// edge size: every cell that holds a point of the box, each point counted
// in exactly one cell. With premises, each cell also counts its premises.
func (s *DensityService) Hexes(ctx context.Context, sel Selection, box [4]float64, size float64, premises bool) ([]HexStat, error) {
	// Binning costs what the points do; premises and residents are counted
	// over every hexagon of the box, so their cost follows its area.
	if premises {
		if err := s.checkHexCount(box, size); err != nil {
			return nil, err
		}
	}
	set, _, err := s.Points.get(ctx, sel)
	if err != nil {
		return nil, err
	}
	out := binHexes(set, box, size)
	if premises && len(out) > 0 {
		if err := s.countPremises(ctx, out, box, size); err != nil {
			return nil, err
		}
		residents, err := s.residents(ctx, box, size)
		if err != nil {
			return nil, err
		}
		for k := range out {
			out[k].Residents = residents[hexKey{out[k].I, out[k].J}]
		}
	}
	return out, nil
}

// binHexes bins the points of set in box (inclusive) into hexagons of edge
// size, in (i, j) order, premises and residents not counted.
func binHexes(set *pointSet, box [4]float64, size float64) []HexStat {
	cells := map[hexKey]*HexStat{}
	set.each(box, func(p Point, n int32) {
		i, j := HexCell(p.X, p.Y, size)
		c := cells[hexKey{i, j}]
		if c == nil {
			x, y := HexCentre(i, j, size)
			c = &HexStat{I: i, J: j, X: x, Y: y, Size: size, Premises: -1, Residents: -1}
			cells[hexKey{i, j}] = c
		}
		c.Count += int(n)
		c.Weight += p.W
	})
	out := make([]HexStat, 0, len(cells))
	for _, c := range cells {
		out = append(out, *c)
	}
	sort.Slice(out, func(a, b int) bool {
		return out[a].I < out[b].I || out[a].I == out[b].I && out[a].J < out[b].J
	})
	return out
}

// countPremises sets the premises of each of cells, which hold points of
// box: all the premises of such a cell lie within 2·size of box.
func (s *DensityService) countPremises(ctx context.Context, cells []HexStat, box [4]float64, size float64) error {
	pset, _, err := s.Points.get(ctx, Selection{Layer: geo.Catalogue["premises"]})
	if err != nil {
		return err
	}
	count := map[hexKey]int{}
	pset.each(expand(box, 2*size), func(p Point, n int32) {
		i, j := HexCell(p.X, p.Y, size)
		count[hexKey{i, j}] += int(n)
	})
	for k := range cells {
		cells[k].Premises = count[hexKey{cells[k].I, cells[k].J}]
	}
	return nil
}

// CityWideFrom is the smallest hexagon edge whose city-wide binning
// TileHexes keeps in memory: at 100 m the large demo's territory holds some
// 50,000 cells; smaller cells are binned per tile.
const CityWideFrom = 100.0

// TileHexes returns the cells of the selection at edge size that hold a
// point of box, with premises and residents, as Hexes does. For edges of
// CityWideFrom and more it bins the whole territory once per data version
// and answers tiles from memory: on the large demo a z13 tile took 1.4 s
// to bin from its points, and the same tiles are asked again and again.
func (s *DensityService) TileHexes(ctx context.Context, sel Selection, box [4]float64, size float64) ([]HexStat, error) {
	if size < CityWideFrom {
		return s.Hexes(ctx, sel, box, size, true)
	}
	_, v, err := dataVersions(ctx, s.DB, append(selectionTables(sel), "premises", "grid_cells", "towns"))
	if err != nil {
		return nil, err
	}
	all, err := s.city.get(fmt.Sprintf("%s|%g", sel.Key(), size), v, func() (map[hexKey]HexStat, error) {
		territory, err := s.territory(ctx)
		if err != nil {
			return nil, err
		}
		if territory == nil {
			return map[hexKey]HexStat{}, nil
		}
		tb := expand(*territory, 2*size)
		cells, err := s.Hexes(ctx, sel, tb, size, false)
		if err != nil {
			return nil, err
		}
		if err := s.countPremises(ctx, cells, tb, size); err != nil {
			return nil, err
		}
		// Residents depend only on the grid: a write to the points does
		// not regenerate them.
		_, gv, err := dataVersions(ctx, s.DB, []string{"grid_cells", "towns"})
		if err != nil {
			return nil, err
		}
		residents, err := s.people.get(fmt.Sprint(size), gv, func() (map[hexKey]float64, error) { return s.residents(ctx, tb, size) })
		if err != nil {
			return nil, err
		}
		m := make(map[hexKey]HexStat, len(cells))
		for _, c := range cells {
			c.Residents = residents[hexKey{c.I, c.J}]
			m[hexKey{c.I, c.J}] = c
		}
		return m, nil
	})
	if err != nil {
		return nil, err
	}
	// The cells whose centre lies within one edge of box hold every point
	// of box; Hexes keeps those holding a point of it, which TileMVT then
	// clips the same way.
	i0, j0 := HexCell(box[0]-2*size, box[1]-2*size, size)
	i1, j1 := HexCell(box[2]+2*size, box[3]+2*size, size)
	var out []HexStat
	for i := min(i0, i1); i <= max(i0, i1); i++ {
		for j := min(j0, j1); j <= max(j0, j1); j++ {
			c, ok := all[hexKey{i, j}]
			if ok && c.X >= box[0]-size && c.X <= box[2]+size && c.Y >= box[1]-size && c.Y <= box[3]+size {
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// residents spreads each grid cell's population over the hexagons of box by
// area (hex_residents.sql).
func (s *DensityService) residents(ctx context.Context, box [4]float64, size float64) (map[hexKey]float64, error) {
	rows, err := s.DB.QueryRows(ctx, mustSQL("hex_residents.sql"), box[0], box[1], box[2], box[3], size)
	if err != nil {
		return nil, fmt.Errorf("analytics: residents of hexagons: %w", err)
	}
	defer rows.Close()
	out := map[hexKey]float64{}
	for rows.Next() {
		var k hexKey
		var r float64
		if err := rows.Scan(&k.I, &k.J, &r); err != nil {
			return nil, err
		}
		out[k] = r
	}
	return out, rows.Err()
}

// hexRing returns the hexagon's corners in lon/lat, counter-clockwise:
// GeoJSON's exterior winding (RFC 7946). MVT wants the other one, which
// TileMVT sets.
func hexRing(x, y, s float64) orb.Ring {
	ring := make(orb.Ring, 0, 7)
	for k := 0; k <= 6; k++ {
		a := float64(k%6) * math.Pi / 3
		lon, lat := geo.FromGK120(x+s*math.Cos(a), y+s*math.Sin(a))
		ring = append(ring, orb.Point{lon, lat})
	}
	return ring
}

// Feature returns the cell as a GeoJSON feature in EPSG:4326 with its
// figures: count, weight, density_km2, weighted_density_km2, and where
// counted premises and per_100_premises; hot-spot fields when set.
func (h HexStat) Feature(hotspot bool) *geojson.Feature {
	f := geojson.NewFeature(orb.Polygon{hexRing(h.X, h.Y, h.Size)})
	f.ID = h.ID()
	f.Properties = geojson.Properties{
		"i": h.I, "j": h.J, "count": h.Count, "weight": h.Weight,
		"density_km2": round6(float64(h.Count) / h.AreaKM2()), "weighted_density_km2": round6(h.Weight / h.AreaKM2()),
	}
	if h.Premises >= 0 {
		f.Properties["premises"] = h.Premises
		if h.Premises > 0 {
			f.Properties["per_100_premises"] = round6(100 * float64(h.Count) / float64(h.Premises))
		}
	}
	if h.Residents >= 0 {
		f.Properties["residents"] = math.Round(h.Residents)
		if h.Residents >= 1 {
			f.Properties["per_1000_residents"] = round6(1000 * float64(h.Count) / h.Residents)
		}
	}
	if hotspot {
		f.Properties["gi_z"], f.Properties["gi_p"], f.Properties["gi_bin"] = round6(h.GiZ), h.GiP, h.GiBin
	}
	return f
}

// ID is a stable feature id for the cell (its i, j interleaved).
func (h HexStat) ID() uint64 {
	zig := func(v int) uint64 { return uint64((v << 1) ^ (v >> 63)) }
	return zig(h.I)<<32 | zig(h.J)&0xffffffff
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// FeatureCollection returns the cells as GeoJSON.
func FeatureCollection(cells []HexStat, hotspot bool) *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	for _, c := range cells {
		fc.Append(c.Feature(hotspot))
	}
	return fc
}

// tileBound is a tile's extent with the 64-unit buffer of our vector tiles.
var tileBound = orb.Bound{Min: orb.Point{-64, -64}, Max: orb.Point{4096 + 64, 4096 + 64}}

// TileMVT encodes cells as one MVT layer of tile a, clipped to the buffer,
// with at most featureCap cells (≤ 0: no cap): the most significant of hot
// spots (largest |Gi* z|), else the fullest, as the catalogue's layers are
// capped; truncated says some were left out. It returns nil for no cells.
func TileMVT(name string, cells []HexStat, a geo.TileAddr, hotspot bool, featureCap int) (b []byte, truncated bool, err error) {
	if len(cells) == 0 {
		return nil, false, nil
	}
	layer := mvt.NewLayer(name, FeatureCollection(cells, hotspot))
	layer.Version = 2
	layer.Extent = 4096
	layers := mvt.Layers{layer}
	layers.ProjectToTile(maptile.New(uint32(a.X), uint32(a.Y), maptile.Zoom(a.Z)))
	layers.Clip(tileBound)
	kept := layer.Features[:0]
	for _, f := range layer.Features {
		if f.Geometry == nil {
			continue
		}
		if p := snapToGrid(f.Geometry.(orb.Polygon)); len(p) > 0 {
			windForMVT(p)
			f.Geometry = p
			kept = append(kept, f)
		}
	}
	if featureCap > 0 && len(kept) > featureCap {
		rank := func(f *geojson.Feature) float64 {
			if hotspot {
				return math.Abs(f.Properties["gi_z"].(float64))
			}
			return float64(f.Properties["count"].(int))
		}
		// A tile's own cells (centre inside it) before those of its buffer,
		// which belong to a neighbour: two tiles then agree on the cells
		// along their edge as far as their caps allow.
		own := func(f *geojson.Feature) int {
			c := f.Geometry.(orb.Polygon)[0].Bound().Center()
			if c[0] >= 0 && c[0] < 4096 && c[1] >= 0 && c[1] < 4096 {
				return 1
			}
			return 0
		}
		slices.SortStableFunc(kept, func(x, y *geojson.Feature) int {
			return cmp.Or(cmp.Compare(own(y), own(x)), cmp.Compare(rank(y), rank(x)))
		})
		kept, truncated = kept[:featureCap], true
	}
	layer.Features = kept
	if len(kept) == 0 {
		return nil, false, nil
	}
	b, err = mvt.Marshal(layers)
	return b, truncated, err
}

// snapToGrid rounds a polygon in tile coordinates to the integer grid the
// tile stores, as the encoder would, and drops the rings that collapse
// there (a hexagon clipped to a sliver at the buffer's edge): a ring of no
// area is not a valid polygon. Nil when the exterior collapses.
func snapToGrid(p orb.Polygon) orb.Polygon {
	out := p[:0]
	for i, r := range p {
		for j := range r {
			r[j] = orb.Point{math.Round(r[j][0]), math.Round(r[j][1])}
		}
		if len(r) < 4 || r.Orientation() == 0 {
			if i == 0 {
				return nil
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

// windForMVT winds a polygon in tile coordinates as MVT 2.1 (4.3.4.4) has
// it: the exterior with a positive area by the surveyor's formula, which
// with y pointing down looks clockwise, and holes negative. A ring that is
// counter-clockwise on the map, as GeoJSON's are, has a negative area in
// tile coordinates, and decoders would read it as a hole.
func windForMVT(p orb.Polygon) {
	for i, r := range p {
		// orb's Orientation is the sign of that same formula: CCW = positive.
		want := orb.CCW
		if i > 0 {
			want = orb.CW
		}
		if o := r.Orientation(); o != 0 && o != want {
			r.Reverse()
		}
	}
}

// TileCellSize is the hexagon edge used at zoom z when none is given: a
// round number of metres about 12 pixels (of 256) across at the city's
// latitude, so cells stay readable at every zoom.
func TileCellSize(z int) float64 {
	px := geo.PixelSize(z, 256) * math.Cos(27.8*math.Pi/180)
	want := 12 * px
	for _, s := range []float64{25, 50, 100, 200, 400, 800, 1600, 3200} {
		if s >= want {
			return s
		}
	}
	return 3200
}

// TileBox is the EPSG:4549 box of a tile, grown by g metres.
func TileBox(a geo.TileAddr, g float64) [4]float64 {
	b := a.Bounds3857()
	toLonLat := func(mx, my float64) (float64, float64) {
		return mx / 6378137 * 180 / math.Pi, (2*math.Atan(math.Exp(my/6378137)) - math.Pi/2) * 180 / math.Pi
	}
	minLon, minLat := toLonLat(b[0], b[1])
	maxLon, maxLat := toLonLat(b[2], b[3])
	return expand(metricBox([4]float64{minLon, minLat, maxLon, maxLat}), g)
}

// HotSpots finds Getis-Ord Gi* hot and cold spots of the selection's counts
// (weights when the selection is weighted) on hexagons of edge size over
// the study area: every cell whose centre lies in the territory (the towns),
// empty ones included, as ArcGIS's hot-spot analysis does. band ≤ 0 takes
// the ArcGIS Optimized Hot Spot default. Bins use FDR when fdr is set.
// It returns the cells and the band used.
func (s *DensityService) HotSpots(ctx context.Context, sel Selection, size, band float64, fdr bool) ([]HexStat, float64, error) {
	v, err := selectionVersion(ctx, s.DB, sel)
	if err != nil {
		return nil, 0, err
	}
	tv, err := version(ctx, s.DB, geo.Catalogue["towns"])
	if err != nil {
		return nil, 0, err
	}
	// The study area is every hexagon over the territory: bounded first.
	territory, err := s.territory(ctx)
	if err != nil {
		return nil, 0, err
	}
	if territory != nil {
		if err := s.checkHexCount(*territory, size); err != nil {
			return nil, 0, err
		}
	}
	study, err := s.land.get(fmt.Sprint(size), tv, func() ([]hexKey, error) { return s.studyArea(ctx, size) })
	if err != nil {
		return nil, 0, err
	}
	if len(study) < 3 {
		return nil, 0, geo.Invalid("cell", "cell %g m leaves %d cells in the city: too few for hot spots", size, len(study))
	}
	key := fmt.Sprintf("%s|%g|%g|%t", sel.Key(), size, band, fdr)
	var used float64
	cells, err := s.hotspot.get(key, v*1_000_003+tv, func() ([]HexStat, error) {
		// The counts do not depend on the band: a new band reuses them.
		counted, err := s.counts.get(fmt.Sprintf("%s|%g", sel.Key(), size), v, func() ([]HexStat, error) {
			return s.Hexes(ctx, sel, world, size, false)
		})
		if err != nil {
			return nil, err
		}
		byKey := map[hexKey]HexStat{}
		for _, c := range counted {
			byKey[hexKey{c.I, c.J}] = c
		}
		cells := make([]HexStat, len(study))
		xs, ys, vals := make([]float64, len(study)), make([]float64, len(study)), make([]float64, len(study))
		for n, k := range study {
			c, ok := byKey[k]
			if !ok {
				x, y := HexCentre(k.I, k.J, size)
				c = HexStat{I: k.I, J: k.J, X: x, Y: y, Size: size}
			}
			c.Premises, c.Residents = -1, -1
			cells[n] = c
			xs[n], ys[n] = c.X, c.Y
			vals[n] = float64(c.Count)
			if sel.Weight != "" {
				vals[n] = c.Weight
			}
		}
		b := band
		if b <= 0 {
			b = DefaultBand(xs, ys)
		}
		res, err := GiStar(xs, ys, vals, b)
		if err != nil {
			return nil, err
		}
		bins := Bins(res, fdr)
		for n := range cells {
			cells[n].GiZ, cells[n].GiP, cells[n].GiBin = res[n].Z, res[n].P, bins[n]
		}
		return cells, nil
	})
	if err != nil {
		return nil, 0, err
	}
	used = band
	if used <= 0 && len(cells) > 0 {
		xs, ys := make([]float64, len(cells)), make([]float64, len(cells))
		for n, c := range cells {
			xs[n], ys[n] = c.X, c.Y
		}
		used = DefaultBand(xs, ys)
	}
	return cells, used, nil
}

// studyArea lists the hexagons of edge size whose centre lies in a town.
// territory is the towns' extent (EPSG:4549), nil without towns.
func (s *DensityService) territory(ctx context.Context) (*[4]float64, error) {
	var t [4]*float64
	if err := s.DB.ScanRow(ctx, mustSQL("territory_box.sql"), nil, &t[0], &t[1], &t[2], &t[3]); err != nil {
		return nil, fmt.Errorf("analytics: territory: %w", err)
	}
	if t[0] == nil {
		return nil, nil
	}
	return &[4]float64{*t[0], *t[1], *t[2], *t[3]}, nil
}

// checkHexCount refuses, naming cell, hexagons of edge size so small that
// box (EPSG:4549) would hold more than the limit of them, and says the
// smallest edge that fits.
func (s *DensityService) checkHexCount(box [4]float64, size float64) error {
	limit := s.Limits.MaxHexes
	if limit <= 0 {
		limit = DefaultLimits.MaxHexes
	}
	area := (box[2] - box[0]) * (box[3] - box[1])
	if n := area / HexArea(size); n > float64(limit) {
		least := math.Ceil(math.Sqrt(area / (float64(limit) * HexArea(1))))
		return geo.Invalid("cell", "cell %g m lays about %.0f hexagons over this area, more than the %d one request may; use at least %g m, or a smaller area", size, n, limit, least)
	}
	return nil
}

func (s *DensityService) studyArea(ctx context.Context, size float64) ([]hexKey, error) {
	rows, err := s.DB.QueryRows(ctx, mustSQL("study_area.sql"), size)
	if err != nil {
		return nil, fmt.Errorf("analytics: study area: %w", err)
	}
	defer rows.Close()
	var out []hexKey
	for rows.Next() {
		var k hexKey
		if err := rows.Scan(&k.I, &k.J); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}
