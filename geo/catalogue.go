package geo

import (
	"fmt"
	"sort"
)

// GeometryType is the kind of geometry a layer holds.
type GeometryType string

const (
	Point        GeometryType = "Point"
	LineString   GeometryType = "LineString"
	MultiPolygon GeometryType = "MultiPolygon"
)

// ColumnType is how an attribute is stored and validated.
type ColumnType string

const (
	Text      ColumnType = "text"
	Int       ColumnType = "integer"
	Float     ColumnType = "number"
	Bool      ColumnType = "boolean"
	Date      ColumnType = "date"
	Timestamp ColumnType = "timestamp"
	Enum      ColumnType = "enum" // text restricted to Column.Enum
	Ref       ColumnType = "ref"  // the ext_id of a row in Column.RefLayer, stored as its id
)

// Column is one attribute of a layer: its table column, how an import fills
// it, and how a tile or TileJSON describes it.
type Column struct {
	Name        string     // table column
	Type        ColumnType // storage and validation
	Enum        []string   // allowed values when Type is Enum
	RefLayer    string     // referenced layer when Type is Ref
	Property    string     // import property name when it differs from Name
	Required    bool       // an import row without it is rejected
	Min, Max    *float64   // inclusive numeric bounds, when set
	Description string
	Tile        bool // exposed as a tile attribute
}

// ImportName is the property an import file uses for this column.
func (c Column) ImportName() string {
	if c.Property != "" {
		return c.Property
	}
	return c.Name
}

// Layer is one catalogue entry: a table (or view) of features with a geometry
// column geom in EPSG:4326, described well enough to import, tile and document
// it without layer-specific code.
type Layer struct {
	ID          string
	Title       string // English
	TitleZH     string // Chinese
	Description string
	Table       string // table or view name; identifiers come only from here
	Geometry    GeometryType
	MinZoom     int
	MaxZoom     int
	Columns     []Column
	// GridCell is true when the table has a grid_cell_id that an import fills
	// by locating each feature in the grid.
	GridCell bool
	// ClusterBelow: at zooms below it a point layer is served as clusters
	// (count, the dominant values of ClusterBy, bbox) instead of points,
	// because a tile would otherwise carry many thousands of features.
	ClusterBelow int
	ClusterBy    []string
	// TimeColumn is the column the since/until filters apply to, if any.
	TimeColumn string
	// CacheMaxAge is the Cache-Control max-age of the layer's tiles, seconds.
	CacheMaxAge int
	// Weights are the named weightings analytics may apply to the layer's
	// points (weight=severity): SQL expressions over the table alias t,
	// written here, never taken from a request.
	Weights map[string]string
	// AreaLevel names a level of the grid hierarchy (town, community,
	// grid_cell); its tiles then carry the area's statistics (AreaStatFields)
	// and change when premises or hazards do.
	AreaLevel string
	// ZoomBy shows features only from the zoom their value of a column
	// allows (roads: arterials from z8, local streets from z13), so that
	// low-zoom tiles carry what can be seen at that scale.
	ZoomBy *ZoomBy
	// PiecesFrom: from this zoom on (0: never), the polygon layer's tiles
	// are made from its pre-cut pieces (the polygon_pieces table, at most
	// 256 vertices each) that touch the tile, not from whole polygons, so
	// a tile much smaller than a detailed polygon costs little. The table
	// must have the pieces triggers (migration 00007).
	PiecesFrom int
}

// ZoomBy gives, for each value of Column, the least zoom its features show at.
type ZoomBy struct {
	Column string
	Zoom   map[string]int
}

// ValuesAt returns the values of z.Column shown at zoom z, sorted, and
// whether that is all of them.
func (zb *ZoomBy) ValuesAt(z int) (values []string, all bool) {
	for v, min := range zb.Zoom {
		if z >= min {
			values = append(values, v)
		}
	}
	sort.Strings(values)
	return values, len(values) == len(zb.Zoom)
}

// Filterable returns the column that query parameter name filters on: an
// enumeration or boolean attribute of the layer.
func (l *Layer) Filterable(name string) (Column, bool) {
	c, ok := l.Column(name)
	if !ok || !c.Tile || (c.Type != Enum && c.Type != Bool) {
		return Column{}, false
	}
	return c, true
}

// AreaStatFields are the statistics the tiles of towns, communities and
// grid cells carry (the area_stats view), name → description.
var AreaStatFields = map[string]string{
	"premises":             "premises in the area",
	"premises_red":         "premises tagged red",
	"premises_yellow":      "premises tagged yellow",
	"premises_green":       "premises tagged green",
	"inspected_90d_share":  "share of premises inspected in the last 90 days",
	"hazards_open":         "hazards open",
	"hazards_rectifying":   "hazards being rectified",
	"hazards_closed":       "hazards closed",
	"rectification_rate":   "closed hazards ÷ all hazards",
	"median_days_to_close": "median days from report to closure",
	"listed_overdue":       "listed hazards not closed past their deadline",
}

// DependsOn lists the layers whose data a layer's tiles also show: a write
// to any of them changes its tiles.
func (l *Layer) DependsOn() []string {
	if l.AreaLevel != "" {
		return []string{"premises", "hazards"}
	}
	return nil
}

// Attribution is the data credit shown by clients.
const Attribution = "OneMap · city fire-safety and emergency data"

// Column returns the named column and whether the layer has it.
func (l *Layer) Column(name string) (Column, bool) {
	for _, c := range l.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// Enumerations of the domain. Each is mirrored by a CHECK constraint in the
// schema; a test keeps the two in step.
var (
	PremiseKinds = []string{
		"rental_housing", "group_rental", "detached_house", "mixed_use", "basement",
		"small_enterprise", "market", "shopping_centre", "small_shop", "restaurant",
		"hotel", "internet_cafe", "clinic", "school", "factory", "explosive_dust",
		"spray_painting", "confined_space", "ammonia_refrigeration", "ship_repair",
		"flammable_chemicals",
	}
	Tags              = []string{"red", "yellow", "green"}
	HydrantKinds      = []string{"above_ground", "underground", "wall"}
	HydrantStatuses   = []string{"in_service", "faulty", "out_of_service"}
	ShelterLevels     = []string{"county", "township", "village"}
	StationKinds      = []string{"full_time", "volunteer", "forest", "micro"}
	HazardCategories  = []string{"blocked_escape_route", "blocked_fire_lane", "e_bike_charging", "hot_work", "unsafe_wiring", "missing_extinguisher", "missing_smoke_alarm", "illegal_construction", "flammable_storage", "locked_exit", "overcrowding"}
	HazardSeverities  = []string{"general", "major"}
	HazardStatuses    = []string{"open", "rectifying", "closed"}
	TownClasses       = []string{"A", "B", "C"}
	CommunityKinds    = []string{"village", "community"}
	InspectionResults = []string{"pass", "hazards_found"}
	RoadClasses       = []string{"arterial", "secondary", "local"}
)

func bound(v float64) *float64 { return &v }

// hierarchy columns shared by the three levels of the grid.
func areaColumns(parent Column) []Column {
	cols := []Column{
		{Name: "code", Type: Text, Required: true, Tile: true, Description: "administrative code"},
		{Name: "name", Type: Text, Required: true, Tile: true, Description: "name"},
		{Name: "population", Type: Int, Min: bound(0), Tile: true, Description: "resident population"},
		{Name: "households", Type: Int, Min: bound(0), Tile: true, Description: "households"},
	}
	if parent.Name != "" {
		cols = append(cols, parent)
	}
	return cols
}

// Catalogue is every layer OneMap knows, by id. A new layer (charging points,
// smoke detectors) is an entry here plus a table or view with the same columns.
var Catalogue = map[string]*Layer{
	"towns": {
		ID: "towns", Title: "Towns and streets", TitleZH: "镇街", Table: "towns",
		Description: "Towns and sub-districts (镇街), the first level of the grid hierarchy.",
		Geometry:    MultiPolygon, MinZoom: 0, MaxZoom: 22, CacheMaxAge: 300,
		AreaLevel: "town", PiecesFrom: 15,
		Columns: append(areaColumns(Column{}),
			Column{Name: "class", Type: Enum, Enum: TownClasses, Tile: true, Description: "workload class A/B/C"}),
	},
	"communities": {
		ID: "communities", Title: "Villages and communities", TitleZH: "村社", Table: "communities",
		Description: "Villages and urban communities (村社), the second level of the grid hierarchy.",
		Geometry:    MultiPolygon, MinZoom: 8, MaxZoom: 22, CacheMaxAge: 300,
		AreaLevel: "community", PiecesFrom: 17,
		Columns: append(areaColumns(Column{Name: "town_id", Type: Ref, RefLayer: "towns", Property: "town", Required: true, Tile: true, Description: "id of the town"}),
			Column{Name: "kind", Type: Enum, Enum: CommunityKinds, Tile: true, Description: "village or urban community"}),
	},
	"grid_cells": {
		ID: "grid_cells", Title: "Grid cells", TitleZH: "网格", Table: "grid_cells",
		Description: "Grid cells (网格), the unit one grid worker covers.",
		Geometry:    MultiPolygon, MinZoom: 11, MaxZoom: 22, CacheMaxAge: 300,
		AreaLevel: "grid_cell",
		Columns:   areaColumns(Column{Name: "community_id", Type: Ref, RefLayer: "communities", Property: "community", Required: true, Tile: true, Description: "id of the community"}),
	},
	"premises": {
		ID: "premises", Title: "Premises", TitleZH: "场所", Table: "premises",
		Description: "Risk sources: rental housing, small and micro enterprises and other places.",
		Geometry:    Point, MinZoom: 10, MaxZoom: 22, GridCell: true,
		ClusterBelow: 15, ClusterBy: []string{"kind", "tag"}, CacheMaxAge: 300,
		Weights: map[string]string{"occupants": "COALESCE(t.occupants, 0)", "tag": "CASE t.tag WHEN 'red' THEN 3 WHEN 'yellow' THEN 2 ELSE 1 END"},
		Columns: []Column{
			{Name: "kind", Type: Enum, Enum: PremiseKinds, Required: true, Tile: true, Description: "kind of premise"},
			{Name: "name", Type: Text, Tile: true, Description: "name"},
			{Name: "address", Type: Text, Tile: true, Description: "address"},
			{Name: "floors", Type: Int, Min: bound(-5), Max: bound(200), Tile: true, Description: "floors above ground"},
			{Name: "occupants", Type: Int, Min: bound(0), Tile: true, Description: "usual occupants"},
			{Name: "tag", Type: Enum, Enum: Tags, Tile: true, Description: "rental admission tag red/yellow/green"},
			{Name: "last_inspected_at", Type: Timestamp, Tile: true, Description: "time of the last inspection"},
		},
	},
	"hydrants": {
		ID: "hydrants", Title: "Fire hydrants", TitleZH: "消火栓", Table: "hydrants",
		Description: "Municipal fire hydrants.",
		Geometry:    Point, MinZoom: 11, MaxZoom: 22, GridCell: true,
		ClusterBelow: 13, ClusterBy: []string{"status"}, CacheMaxAge: 60,
		Columns: []Column{
			{Name: "kind", Type: Enum, Enum: HydrantKinds, Tile: true, Description: "above-ground, underground or wall hydrant"},
			{Name: "status", Type: Enum, Enum: HydrantStatuses, Required: true, Tile: true, Description: "in_service, faulty or out_of_service"},
			{Name: "installed_at", Type: Date, Tile: true, Description: "installation date"},
		},
	},
	"shelters": {
		ID: "shelters", Title: "Emergency shelters", TitleZH: "避灾安置场所", Table: "shelters",
		Description: "Emergency shelters with their capacity.",
		Geometry:    Point, MinZoom: 8, MaxZoom: 22, GridCell: true, CacheMaxAge: 300,
		Columns: []Column{
			{Name: "name", Type: Text, Tile: true, Description: "name"},
			{Name: "level", Type: Enum, Enum: ShelterLevels, Required: true, Tile: true, Description: "county, township or village shelter"},
			{Name: "capacity", Type: Int, Min: bound(0), Required: true, Tile: true, Description: "capacity in persons"},
			{Name: "area_m2", Type: Float, Min: bound(0), Tile: true, Description: "usable area in square metres"},
			{Name: "standardised", Type: Bool, Tile: true, Description: "meets the provincial standard"},
		},
	},
	"fire_stations": {
		ID: "fire_stations", Title: "Fire stations", TitleZH: "消防站", Table: "fire_stations",
		Description: "Fire stations and teams.",
		Geometry:    Point, MinZoom: 6, MaxZoom: 22, GridCell: true, CacheMaxAge: 300,
		Columns: []Column{
			{Name: "name", Type: Text, Tile: true, Description: "name"},
			{Name: "kind", Type: Enum, Enum: StationKinds, Required: true, Tile: true, Description: "full_time, volunteer, forest or micro station"},
			{Name: "vehicles", Type: Int, Min: bound(0), Tile: true, Description: "fire engines"},
			{Name: "personnel", Type: Int, Min: bound(0), Tile: true, Description: "firefighters"},
		},
	},
	"hazards": {
		ID: "hazards", Title: "Hazards", TitleZH: "隐患", Table: "hazards",
		Description: "Fire hazards found in inspections, through rectification to closure.",
		Geometry:    Point, MinZoom: 12, MaxZoom: 22, GridCell: true,
		ClusterBelow: 15, ClusterBy: []string{"category", "status"}, TimeColumn: "reported_at", CacheMaxAge: 60,
		Weights: map[string]string{"severity": "CASE t.severity WHEN 'major' THEN 3 ELSE 1 END"},
		Columns: []Column{
			{Name: "premise_id", Type: Ref, RefLayer: "premises", Property: "premise", Tile: true, Description: "id of the premise"},
			{Name: "category", Type: Enum, Enum: HazardCategories, Required: true, Tile: true, Description: "hazard category"},
			{Name: "severity", Type: Enum, Enum: HazardSeverities, Required: true, Tile: true, Description: "general or major"},
			{Name: "status", Type: Enum, Enum: HazardStatuses, Required: true, Tile: true, Description: "open, rectifying or closed"},
			{Name: "listed", Type: Bool, Tile: true, Description: "listed (挂牌) major hazard"},
			{Name: "reported_at", Type: Timestamp, Required: true, Tile: true, Description: "time reported"},
			{Name: "deadline", Type: Date, Tile: true, Description: "rectification deadline"},
			{Name: "closed_at", Type: Timestamp, Tile: true, Description: "time accepted and closed"},
		},
	},
	"inspections": {
		ID: "inspections", Title: "Inspections", TitleZH: "检查记录", Table: "inspections",
		Description: "Visits of grid workers and inspectors to premises.",
		Geometry:    Point, MinZoom: 13, MaxZoom: 22, GridCell: true,
		ClusterBelow: 16, ClusterBy: []string{"result"}, TimeColumn: "inspected_at", CacheMaxAge: 60,
		Weights: map[string]string{"hazards_found": "t.hazards_found"},
		Columns: []Column{
			{Name: "premise_id", Type: Ref, RefLayer: "premises", Property: "premise", Tile: true, Description: "id of the premise"},
			{Name: "inspected_at", Type: Timestamp, Required: true, Tile: true, Description: "time of the visit"},
			{Name: "inspector", Type: Text, Tile: true, Description: "inspector"},
			{Name: "result", Type: Enum, Enum: InspectionResults, Required: true, Tile: true, Description: "pass or hazards_found"},
			{Name: "hazards_found", Type: Int, Min: bound(0), Tile: true, Description: "hazards found on the visit"},
		},
	},
	"roads": {
		ID: "roads", Title: "Roads", TitleZH: "道路", Table: "roads",
		Description: "Road centrelines, a routable network (source/target nodes).",
		Geometry:    LineString, MinZoom: 8, MaxZoom: 22, CacheMaxAge: 3600,
		ZoomBy: &ZoomBy{Column: "class", Zoom: map[string]int{"arterial": 8, "secondary": 11, "local": 13}},
		Columns: []Column{
			{Name: "name", Type: Text, Tile: true, Description: "name"},
			{Name: "class", Type: Enum, Enum: RoadClasses, Required: true, Tile: true, Description: "arterial, secondary or local"},
			{Name: "speed_kmh", Type: Float, Min: bound(1), Max: bound(130), Tile: true, Description: "fire-engine speed in km/h (default by class)"},
			{Name: "oneway", Type: Bool, Tile: true, Description: "one-way in the direction of the line"},
			{Name: "width_m", Type: Float, Min: bound(0), Max: bound(200), Tile: true, Description: "carriageway width in metres"},
		},
	},
}

// LayerIDs returns the catalogue's layer ids in sorted order.
func LayerIDs() []string {
	ids := make([]string, 0, len(Catalogue))
	for id := range Catalogue {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// LookupLayer returns the catalogue entry for id, or an ENotFound error.
func LookupLayer(id string) (*Layer, error) {
	if l, ok := Catalogue[id]; ok {
		return l, nil
	}
	return nil, &Error{Code: ENotFound, Message: fmt.Sprintf("unknown layer %q", id), Detail: "layer"}
}

// DefaultRoadSpeed is the fire-engine speed in km/h assumed for a road class
// when a road has no speed of its own (METHODS.md: 30–40 km/h in town).
var DefaultRoadSpeed = map[string]float64{"arterial": 40, "secondary": 35, "local": 30}
