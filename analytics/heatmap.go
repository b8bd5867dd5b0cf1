package analytics

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/onemap-city/onemap/geo"
)

// Limits bound what one analysis request may ask for.
type Limits struct {
	MinRadius, MaxRadius float64 // kernel radius, metres
	MinCell, MaxCell     float64 // grid or hexagon cell size, metres
	MaxAreaKM2           float64 // largest bbox
	MaxCells             int     // largest grid download
	// MaxHexes bounds the hexagons a binning or hot-spot request may lay
	// over its area: 250,000 answer within a few seconds on the city demo,
	// while 5 m cells over a town would hold the database for minutes.
	MaxHexes int
}

// DefaultLimits are the limits a zero Limits stands for.
var DefaultLimits = Limits{MinRadius: 10, MaxRadius: 5000, MinCell: 5, MaxCell: 5000, MaxAreaKM2: 5000, MaxCells: 4_000_000, MaxHexes: 250_000}

// TileSize is the width and height of heatmap tiles, in pixels.
const TileSize = 256

// KDEService computes kernel density (quartic kernel, METHODS.md) over
// selections of points: heatmap tiles, point values and grid downloads.
type KDEService struct {
	DB     Database
	Limits Limits
	// Points keeps selections' points in memory; NewKDEService makes one,
	// and Handler.Register shares it with the density service.
	Points *PointCache

	bandwidths *memo[float64]
	maxima     *memo[float64]
	pngs       *memo[[]byte] // rendered tiles, by selection, radius, tile and data version
}

// NewKDEService returns a KDE service over db with the given limits (zero:
// DefaultLimits).
func NewKDEService(db Database, lim Limits) *KDEService {
	if lim == (Limits{}) {
		lim = DefaultLimits
	}
	return &KDEService{DB: db, Limits: lim, Points: NewPointCache(db, 0),
		bandwidths: newMemo[float64](64), maxima: newMemo[float64](256),
		pngs: newSizedMemo(4096, DerivedCacheBytes/4, func(b []byte) int64 { return int64(len(b)) })}
}

// Radius returns the radius to use: the given one (text, metres) checked
// against the limits, or, when empty, the ArcGIS default bandwidth of the
// whole selection. Failures are EInvalid naming "radius".
func (s *KDEService) Radius(ctx context.Context, sel Selection, given string) (float64, error) {
	if given != "" {
		r, err := strconv.ParseFloat(given, 64)
		if err != nil || math.IsNaN(r) || math.IsInf(r, 0) {
			return 0, geo.Invalid("radius", "radius %q is not a number of metres", given)
		}
		if r < s.Limits.MinRadius || r > s.Limits.MaxRadius {
			return 0, geo.Invalid("radius", "radius %g m is out of range: %g–%g m", r, s.Limits.MinRadius, s.Limits.MaxRadius)
		}
		return r, nil
	}
	set, v, err := s.Points.get(ctx, sel)
	if err != nil {
		return 0, err
	}
	// Points at one place are one location with their summed weight: the
	// weighted rule gives the same centre, distances and median.
	r, err := s.bandwidths.get(sel.Key(), v, func() (float64, error) {
		return DefaultBandwidth(set.points(world))
	})
	if err != nil {
		return 0, err
	}
	// The default rule can fall outside what a tile may compute.
	return math.Min(math.Max(r, s.Limits.MinRadius), s.Limits.MaxRadius), nil
}

// PointDensity is the density at one place.
type PointDensity struct {
	Lon, Lat   float64 `json:"-"`
	Raw        float64 `json:"raw"`         // QGIS "Raw": Σ w·(1 − (d/r)²)²
	DensityKM2 float64 `json:"density_km2"` // ArcGIS density per km²
	Radius     float64 `json:"radius"`      // metres
	Points     int     `json:"points"`      // points within the radius
}

// At returns the density of the selection at lon, lat with radius r.
func (s *KDEService) At(ctx context.Context, sel Selection, lon, lat, r float64) (*PointDensity, error) {
	x, y := geo.ToGK120(lon, lat)
	pts, err := Points(ctx, s.DB, sel, [4]float64{x - r, y - r, x + r, y + r})
	if err != nil {
		return nil, err
	}
	raw := Raw(pts, x, y, r)
	n := 0
	for _, p := range pts {
		if math.Hypot(p.X-x, p.Y-y) < r {
			n++
		}
	}
	return &PointDensity{Lon: lon, Lat: lat, Raw: raw, DensityKM2: raw * PerKm2(r), Radius: r, Points: n}, nil
}

// TileRaw returns the QGIS Raw value at the centre of every pixel of a
// 256×256 Web Mercator tile, row by row from the north. Every pixel sees all
// points within r, including those of neighbouring tiles: tiles are seamless.
func (s *KDEService) TileRaw(ctx context.Context, sel Selection, a geo.TileAddr, r float64) ([]float64, error) {
	set, _, err := s.Points.get(ctx, sel)
	if err != nil {
		return nil, err
	}
	return tileRaw(set, a, r), nil
}

func tileRaw(set *pointSet, a geo.TileAddr, r float64) []float64 {
	xs, ys := PixelCentres(a)
	return set.sampleGrid(xs, ys, TileSize, r)
}

// PixelCentres returns the EPSG:4549 coordinates of the centres of a tile's
// 256×256 pixels, row by row from the north.
func PixelCentres(a geo.TileAddr) (xs, ys []float64) {
	b := a.Bounds3857()
	px := (b[2] - b[0]) / TileSize
	xs = make([]float64, TileSize*TileSize)
	ys = make([]float64, TileSize*TileSize)
	// 65,536 projections: a fifth of a cold tile's time, so over the cores.
	inBlocks(TileSize, 16, func(lo, hi int) {
		for row := lo; row < hi; row++ {
			my := b[3] - (float64(row)+0.5)*px
			lat := (2*math.Atan(math.Exp(my/6378137)) - math.Pi/2) * 180 / math.Pi
			for col := 0; col < TileSize; col++ {
				mx := b[0] + (float64(col)+0.5)*px
				lon := mx / 6378137 * 180 / math.Pi
				xs[row*TileSize+col], ys[row*TileSize+col] = geo.ToGK120(lon, lat)
			}
		}
	})
	return xs, ys
}

// ScaleMax is the density (per km²) the heatmap colour ramp tops out at: the
// highest density of the selection at any of its points (up to 20,000 of
// them, evenly taken). One scale for every tile and zoom: no seams, no jumps.
func (s *KDEService) ScaleMax(ctx context.Context, sel Selection, r float64) (float64, error) {
	set, v, err := s.Points.get(ctx, sel)
	if err != nil {
		return 0, err
	}
	return s.scaleMax(sel, set, v, r)
}

func (s *KDEService) scaleMax(sel Selection, set *pointSet, v int64, r float64) (float64, error) {
	return s.maxima.get(fmt.Sprintf("%s|%g", sel.Key(), r), v, func() (float64, error) {
		if set.count == 0 {
			return 0, nil
		}
		step := max(1, len(set.locs)/20000)
		var xs, ys []float64
		for i := 0; i < len(set.locs); i += step {
			xs, ys = append(xs, set.locs[i].X), append(ys, set.locs[i].Y)
		}
		top := 0.0
		for _, v := range set.sample(xs, ys, r) {
			top = max(top, v)
		}
		return top * PerKm2(r), nil
	})
}

// TilePNG renders a heatmap tile: density per km² on the perceptual ramp,
// transparent where there is none, on the selection's fixed scale. Rendered
// tiles are kept (up to 4,096) until the data the selection reads changes.
func (s *KDEService) TilePNG(ctx context.Context, sel Selection, a geo.TileAddr, r float64) ([]byte, error) {
	v, err := selectionVersion(ctx, s.DB, sel)
	if err != nil {
		return nil, err
	}
	return s.pngs.get(fmt.Sprintf("%s|%g|%v", sel.Key(), r, a), v, func() ([]byte, error) {
		set, err := s.Points.at(ctx, sel, v)
		if err != nil {
			return nil, err
		}
		top, err := s.scaleMax(sel, set, v, r)
		if err != nil {
			return nil, err
		}
		raw := tileRaw(set, a, r)
		per := PerKm2(r)
		for i := range raw {
			raw[i] *= per
		}
		var buf bytes.Buffer
		if err := EncodePNG(&buf, raw, TileSize, TileSize, top); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	})
}

// Grid computes density per km² on a grid of square cells (EPSG:4549,
// aligned to multiples of cell) covering the lon/lat bbox, for download.
// Failures: EInvalid for a cell size, area or cell count beyond the limits.
func (s *KDEService) Grid(ctx context.Context, sel Selection, bbox [4]float64, cell, r float64) (*Grid, error) {
	if cell < s.Limits.MinCell || cell > s.Limits.MaxCell || math.IsNaN(cell) {
		return nil, geo.Invalid("cell", "cell %g m is out of range: %g–%g m", cell, s.Limits.MinCell, s.Limits.MaxCell)
	}
	mb := metricBox(bbox)
	if area := (mb[2] - mb[0]) * (mb[3] - mb[1]) / 1e6; area > s.Limits.MaxAreaKM2 {
		return nil, geo.Invalid("bbox", "bbox covers %.0f km²; the limit is %.0f km²", area, s.Limits.MaxAreaKM2)
	}
	x0, y1 := math.Floor(mb[0]/cell)*cell, math.Ceil(mb[3]/cell)*cell
	cols := int(math.Ceil((mb[2]-x0)/cell)) + 0
	rows := int(math.Ceil((y1-mb[1])/cell)) + 0
	cols, rows = max(cols, 1), max(rows, 1)
	if cols*rows > s.Limits.MaxCells {
		return nil, geo.Invalid("cell", "%d×%d cells is more than the %d a download may hold: choose a larger cell or a smaller bbox", cols, rows, s.Limits.MaxCells)
	}
	pts, err := Points(ctx, s.DB, sel, expand([4]float64{x0, y1 - float64(rows)*cell, x0 + float64(cols)*cell, y1}, r))
	if err != nil {
		return nil, err
	}
	g := &Grid{OriginX: x0, OriginY: y1, CellSize: cell, Cols: cols, Rows: rows, NoData: -9999}
	if len(pts) == 0 {
		g.Values = make([]float64, cols*rows)
		return g, nil
	}
	k, err := NewKDE(pts, r)
	if err != nil {
		return nil, err
	}
	g.Values = k.Grid(x0, y1, cell, cell, cols, rows)
	per := PerKm2(r)
	for i := range g.Values {
		g.Values[i] *= per
	}
	return g, nil
}
