package geo

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
)

// CoverageMetric is how far demand is from supply.
type CoverageMetric string

const (
	// Distance is the geodesic distance in metres on the WGS84 ellipsoid,
	// as PostGIS measures geography (ST_DWithin(geography)).
	Distance CoverageMetric = "distance"
	// TravelTime is seconds of travel on the road network (pgRouting):
	// from the supply's nearest road edge, along roads at their speeds, to
	// the demand's nearest road edge, plus the off-network legs.
	TravelTime CoverageMetric = "travel_time"
)

// Residents is the demand "layer" of population: each grid cell's
// population spread evenly over its residential premises (or, where it has
// none, placed at a point inside the cell).
const Residents = "residents"

// ResidentialKinds are the premise kinds people live in, which carry a grid
// cell's residents in the Residents demand.
var ResidentialKinds = []string{"rental_housing", "group_rental", "detached_house", "mixed_use", "basement"}

// CoverageSide is the demand or the supply of a coverage preset: a point
// layer of the catalogue (or Residents for demand), filters fixed by the
// preset (url-style, validated like request filters), and for demand a
// weight of the layer's catalogue weights, for supply a capacity column.
type CoverageSide struct {
	Layer    string              `json:"layer"`
	Filters  map[string][]string `json:"filters,omitempty"`
	Weight   string              `json:"weight,omitempty"`   // demand: a key of the layer's Weights
	Capacity string              `json:"capacity,omitempty"` // supply: a numeric column, e.g. capacity
	Area     string              `json:"area,omitempty"`     // supply: a site-area column in m², e.g. area_m2
}

// CoveragePreset is one coverage question as data: who is the demand, what
// serves it, how distance is measured and the standard's threshold. The
// presets below are OneMap's; more come from a JSON file of the same shape
// (ONEMAP_COVERAGE_PRESETS), with no code.
type CoveragePreset struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	TitleZH     string `json:"title_zh"`
	Description string `json:"description"`
	// DescriptionZH and StandardZH are the same in Chinese, the web map's
	// default language; empty: the English text is shown.
	DescriptionZH string         `json:"description_zh,omitempty"`
	Standard      string         `json:"standard,omitempty"` // the rule the default threshold comes from
	StandardZH    string         `json:"standard_zh,omitempty"`
	Demand        CoverageSide   `json:"demand"`
	Supply        CoverageSide   `json:"supply"`
	Metric        CoverageMetric `json:"metric"`
	// Threshold is the default; requests may give any value in
	// (0, MaxThreshold]. Metres for Distance, seconds for TravelTime.
	Threshold    float64   `json:"threshold"`
	MaxThreshold float64   `json:"max_threshold"`
	Breaks       []float64 `json:"breaks,omitempty"` // other thresholds of interest (3 and 8 minutes)
	// DemandSpeedKmh is the speed of the demand's off-network leg for
	// TravelTime (walking from the road to the door); 0: 4.5 km/h.
	DemandSpeedKmh float64 `json:"demand_speed_kmh,omitempty"`
	// MinAreaPerResident (m² per resident) and MinPlacesPerResident are the
	// shelter standards a grid cell's accessible supply (2SFCA) must meet;
	// 0: not checked.
	MinAreaPerResident   float64 `json:"min_area_per_resident,omitempty"`
	MinPlacesPerResident float64 `json:"min_places_per_resident,omitempty"`
	// SiteMinimum is the least capacity of a site by the value of its
	// SiteClass column (Zhejiang: county shelters 200 people, township 100,
	// village points 50); sites below it are listed.
	SiteClass   string             `json:"site_class,omitempty"`
	SiteMinimum map[string]float64 `json:"site_minimum,omitempty"`
	// Siting says where candidate new sites come from when a request gives
	// none: "roads" (points every CandidateSpacing metres along roads),
	// "road_nodes" (road junctions) or "grid_cells" (grid cell centroids).
	Siting           string  `json:"siting,omitempty"`
	CandidateSpacing float64 `json:"candidate_spacing,omitempty"`
}

// Unit is the unit of the preset's thresholds: "m" or "s".
func (p *CoveragePreset) Unit() string {
	if p.Metric == TravelTime {
		return "s"
	}
	return "m"
}

// DemandSpeed is the off-network speed of demand in m/s.
func (p *CoveragePreset) DemandSpeed() float64 {
	if p.DemandSpeedKmh > 0 {
		return p.DemandSpeedKmh / 3.6
	}
	return WalkingSpeedKmh / 3.6
}

// WalkingSpeedKmh is the walking speed of METHODS.md.
const WalkingSpeedKmh = 4.5

// ConnectorSpeedKmh is the speed at which a station reaches its nearest
// road edge: the local-street speed (the connector SQL uses the same).
const ConnectorSpeedKmh = 30

// zhejiangShelterMinimum is the provincial minimum capacity of a shelter
// by level (METHODS.md).
var zhejiangShelterMinimum = map[string]float64{"county": 200, "township": 100, "village": 50}

// builtinPresets are the standards of METHODS.md as presets.
var builtinPresets = []*CoveragePreset{
	{
		ID: "hydrants", Title: "Hydrant coverage", TitleZH: "消火栓覆盖",
		Description:   "Premises within the protection radius of an in-service municipal hydrant.",
		Standard:      "GB 50974-2014: protection radius 150 m",
		DescriptionZH: "在用市政消火栓保护半径内的场所。",
		StandardZH:    "GB 50974-2014：室外消火栓保护半径 150 米",
		Demand:        CoverageSide{Layer: "premises"},
		Supply:        CoverageSide{Layer: "hydrants", Filters: map[string][]string{"status": {"in_service"}}},
		Metric:        Distance, Threshold: 150, MaxThreshold: 5000,
		Siting: "roads", CandidateSpacing: 120,
	},
	{
		ID: "stations", Title: "Fire-station response", TitleZH: "消防站5分钟响应",
		Description:   "Premises a fire engine reaches within 4 minutes of travel (5 minutes minus 1 minute turnout) from a full-time or volunteer station, on the road network.",
		Standard:      "建标152-2017: 5 min from dispatch = 1 min turnout + 240 s travel",
		DescriptionZH: "消防车从专职或志愿消防站出发、沿道路行驶 4 分钟（5 分钟减去 1 分钟出动准备）可到达的场所。",
		StandardZH:    "建标152-2017：接警后 5 分钟到达 = 1 分钟出动 + 240 秒行驶",
		Demand:        CoverageSide{Layer: "premises"},
		Supply:        CoverageSide{Layer: "fire_stations", Filters: map[string][]string{"kind": {"full_time", "volunteer"}}},
		Metric:        TravelTime, Threshold: 240, MaxThreshold: 1800, Breaks: []float64{180, 240, 480},
		Siting: "road_nodes",
	},
	{
		ID: "stations_population", Title: "Residents within 4 minutes of a station", TitleZH: "消防站5分钟覆盖人口",
		Description:   "Residents (grid-cell population on residential premises) a fire engine reaches within 240 s of travel.",
		Standard:      "建标152-2017",
		DescriptionZH: "消防车行驶 240 秒可到达的居民（住宅类场所所在网格的人口）。",
		StandardZH:    "建标152-2017",
		Demand:        CoverageSide{Layer: Residents},
		Supply:        CoverageSide{Layer: "fire_stations", Filters: map[string][]string{"kind": {"full_time", "volunteer"}}},
		Metric:        TravelTime, Threshold: 240, MaxThreshold: 1800, Breaks: []float64{180, 240, 480},
		Siting: "road_nodes",
	},
	{
		ID: "shelters", Title: "Emergency shelters within 500 m", TitleZH: "应急避难场所500米覆盖",
		Description:   "Residents within a 500 m walk (about 10 minutes) of a shelter; capacity against demand by 2SFCA.",
		Standard:      "GB 50413: emergency shelter radius 500 m, ≥ 1 m² per person",
		DescriptionZH: "步行 500 米（约 10 分钟）内可到达避难场所的居民；按两步移动搜索法（2SFCA）比较容量与需求。",
		StandardZH:    "GB 50413：紧急避难场所服务半径 500 米，人均不少于 1 平方米",
		Demand:        CoverageSide{Layer: Residents},
		Supply:        CoverageSide{Layer: "shelters", Capacity: "capacity", Area: "area_m2"},
		Metric:        Distance, Threshold: 500, MaxThreshold: 5000,
		MinAreaPerResident: 1,
		SiteClass:          "level", SiteMinimum: zhejiangShelterMinimum,
		Siting: "grid_cells",
	},
	{
		ID: "shelters_fixed", Title: "Fixed shelters within 2.5 km", TitleZH: "固定避难场所2.5公里覆盖",
		Description:   "Residents within 2.5 km of a county or township shelter; capacity against demand by 2SFCA.",
		Standard:      "GB 50413: fixed shelter radius 2–3 km, ≥ 2 m² per person",
		DescriptionZH: "2.5 公里内有县级或乡镇级避难场所的居民；按两步移动搜索法（2SFCA）比较容量与需求。",
		StandardZH:    "GB 50413：固定避难场所服务半径 2–3 公里，人均不少于 2 平方米",
		Demand:        CoverageSide{Layer: Residents},
		Supply:        CoverageSide{Layer: "shelters", Filters: map[string][]string{"level": {"county", "township"}}, Capacity: "capacity", Area: "area_m2"},
		Metric:        Distance, Threshold: 2500, MaxThreshold: 10000,
		MinAreaPerResident: 2,
		SiteClass:          "level", SiteMinimum: zhejiangShelterMinimum,
		Siting: "grid_cells",
	},
	{
		ID: "micro_stations", Title: "High-risk rentals near a micro fire station", TitleZH: "高风险出租房微型消防站覆盖",
		Description:   "The four high-risk rental types within 500 m of a micro fire station (the 1-minute response target).",
		Standard:      "Zhejiang practice: 1 min response by micro stations",
		DescriptionZH: "距微型消防站 500 米内的四类高风险出租房（1 分钟响应目标）。",
		StandardZH:    "浙江做法：微型消防站 1 分钟响应",
		Demand:        CoverageSide{Layer: "premises", Filters: map[string][]string{"kind": {"group_rental", "detached_house", "mixed_use", "basement"}}},
		Supply:        CoverageSide{Layer: "fire_stations", Filters: map[string][]string{"kind": {"micro"}}},
		Metric:        Distance, Threshold: 500, MaxThreshold: 5000,
		Siting: "roads", CandidateSpacing: 120,
	},
}

// CoveragePresets are the coverage presets by id: the built-in ones and
// any loaded by LoadCoveragePresets.
var CoveragePresets = map[string]*CoveragePreset{}

func init() {
	for _, p := range builtinPresets {
		if err := p.Validate(); err != nil {
			panic(err) // caught by any test
		}
		CoveragePresets[p.ID] = p
	}
}

// CoveragePresetIDs lists the presets' ids, sorted.
func CoveragePresetIDs() []string {
	ids := make([]string, 0, len(CoveragePresets))
	for id := range CoveragePresets {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// LookupCoveragePreset returns a preset, or an EInvalid error (the
// preset is a parameter of the request) listing them.
func LookupCoveragePreset(id string) (*CoveragePreset, error) {
	if p, ok := CoveragePresets[id]; ok {
		return p, nil
	}
	return nil, Invalid("preset", "unknown coverage preset %q: presets are %s", id, strings.Join(CoveragePresetIDs(), ", "))
}

// LoadCoveragePresets adds the presets of a JSON file (an array of
// CoveragePreset) to CoveragePresets, after validating each against the
// catalogue. A preset may replace a built-in one of the same id.
func LoadCoveragePresets(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var ps []*CoveragePreset
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ps); err != nil {
		return fmt.Errorf("coverage presets %s: %w", path, err)
	}
	for i, p := range ps {
		if err := p.Validate(); err != nil {
			return fmt.Errorf("coverage presets %s: preset %d: %w", path, i+1, err)
		}
	}
	for _, p := range ps {
		CoveragePresets[p.ID] = p
	}
	return nil
}

// DemandLayer is the catalogue layer the demand's features come from
// (premises for Residents).
func (p *CoveragePreset) DemandLayer() *Layer {
	if p.Demand.Layer == Residents {
		return Catalogue["premises"]
	}
	return Catalogue[p.Demand.Layer]
}

// SupplyLayer is the catalogue layer of the supply.
func (p *CoveragePreset) SupplyLayer() *Layer { return Catalogue[p.Supply.Layer] }

// DemandFilters and SupplyFilters are the preset's fixed filters, parsed.
func (p *CoveragePreset) DemandFilters() Filters {
	fs, _ := ParseFilters([]*Layer{p.DemandLayer()}, url.Values(p.Demand.Filters))
	return fs
}

func (p *CoveragePreset) SupplyFilters() Filters {
	fs, _ := ParseFilters([]*Layer{p.SupplyLayer()}, url.Values(p.Supply.Filters))
	return fs
}

// Validate checks a preset against the catalogue.
func (p *CoveragePreset) Validate() error {
	if p.ID == "" || strings.ContainsAny(p.ID, "/?#&= ") {
		return fmt.Errorf("preset id %q: want a non-empty name without /?#&= or spaces", p.ID)
	}
	if p.Metric != Distance && p.Metric != TravelTime {
		return fmt.Errorf("preset %s: metric %q: want %s or %s", p.ID, p.Metric, Distance, TravelTime)
	}
	if !(p.Threshold > 0) || !(p.MaxThreshold >= p.Threshold) {
		return fmt.Errorf("preset %s: want 0 < threshold <= max_threshold", p.ID)
	}
	for _, b := range p.Breaks {
		if !(b > 0) || b > p.MaxThreshold {
			return fmt.Errorf("preset %s: break %g outside (0, max_threshold]", p.ID, b)
		}
	}
	if p.Demand.Layer != Residents {
		if err := pointLayer(p.ID, "demand", p.Demand.Layer); err != nil {
			return err
		}
	} else if p.Demand.Weight != "" {
		return fmt.Errorf("preset %s: residents are weighted by population; no weight", p.ID)
	}
	if err := pointLayer(p.ID, "supply", p.Supply.Layer); err != nil {
		return err
	}
	dl, sl := p.DemandLayer(), p.SupplyLayer()
	if p.Demand.Weight != "" {
		if _, ok := dl.Weights[p.Demand.Weight]; !ok {
			return fmt.Errorf("preset %s: demand weight %q is not a weight of %s", p.ID, p.Demand.Weight, dl.ID)
		}
	}
	if _, err := ParseFilters([]*Layer{dl}, url.Values(p.Demand.Filters)); err != nil {
		return fmt.Errorf("preset %s: demand filters: %w", p.ID, err)
	}
	if _, err := ParseFilters([]*Layer{sl}, url.Values(p.Supply.Filters)); err != nil {
		return fmt.Errorf("preset %s: supply filters: %w", p.ID, err)
	}
	for _, c := range []string{p.Supply.Capacity, p.Supply.Area} {
		if c == "" {
			continue
		}
		i := slices.IndexFunc(sl.Columns, func(col Column) bool { return col.Name == c })
		if i < 0 || (sl.Columns[i].Type != Int && sl.Columns[i].Type != Float) {
			return fmt.Errorf("preset %s: supply column %q is not a numeric column of %s", p.ID, c, sl.ID)
		}
	}
	if p.Supply.Capacity != "" && p.Metric != Distance {
		return fmt.Errorf("preset %s: a capacity check (2SFCA) needs the distance metric", p.ID)
	}
	if p.SiteClass != "" && !slices.ContainsFunc(sl.Columns, func(c Column) bool { return c.Name == p.SiteClass }) {
		return fmt.Errorf("preset %s: site_class %q is not a column of %s", p.ID, p.SiteClass, sl.ID)
	}
	switch p.Siting {
	case "", "roads", "road_nodes", "grid_cells":
	default:
		return fmt.Errorf("preset %s: siting %q: want roads, road_nodes or grid_cells", p.ID, p.Siting)
	}
	if p.Siting == "roads" && !(p.CandidateSpacing > 0) {
		return fmt.Errorf("preset %s: siting along roads needs candidate_spacing > 0", p.ID)
	}
	return nil
}

func pointLayer(preset, side, id string) error {
	l, ok := Catalogue[id]
	if !ok || l.Geometry != Point {
		return fmt.Errorf("preset %s: %s layer %q is not a point layer of the catalogue", preset, side, id)
	}
	return nil
}
