// Package democity generates OneMap's deterministic demo city, modelled on
// Rui'an, Zhejiang: its grid hierarchy, road network, emergency resources,
// premises, hazards and inspections, as rows ready to load. It does no I/O:
// the same scale and seed give the same rows, byte for byte.
//
// The city has about 1,270 km² of land between the western hills and the
// coast, crossed west to east by the Feiyun river south of the old town, and
// 1.5 million residents at every scale. Its 23 towns and streets carry their
// real names, codes (330381xxx) and approximate centres and populations;
// 北麂 is an island 55 km out at sea with its own polygon, three villages
// and no road. About 450 villages and communities and 1,800 grid cells tile
// the towns exactly: cells are the Voronoi cells of sites spaced by
// population density, so each polygon above a cell is traced along edges
// its neighbours share bit for bit.
//
// Everything is dated relative to Reference (2026-11-01), never the clock:
// hazards over the two years before it, inspections over the last year.
// Premises, hazards and inspections are streamed, so the large scale (a
// million premises) needs a few hundred megabytes.
package democity

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/paulmach/orb"
)

// Scale says how big a demo city to generate. The territory, the hierarchy
// and the 1.5 million residents are the same at every scale; premises (and
// with them hazards and inspections) scale, and so does the built-up area
// with its streets and hydrants at the large scale.
type Scale struct {
	Name     string
	Premises int
	// BuiltUp multiplies the radius of every town core (street grids,
	// hydrants); StreetSpacing is the distance between core streets in metres.
	BuiltUp       float64
	StreetSpacing float64
	Hydrants      int // target number of hydrants
}

// Scales are the demo sizes: small for tests (loads in seconds), city the
// default (about the real city), large for benchmarks.
var Scales = []Scale{
	{Name: "small", Premises: 3_000, BuiltUp: 1.15, StreetSpacing: 250, Hydrants: 4_000},
	{Name: "city", Premises: 100_000, BuiltUp: 1.15, StreetSpacing: 250, Hydrants: 4_000},
	{Name: "large", Premises: 1_000_000, BuiltUp: 2.9, StreetSpacing: 140, Hydrants: 40_000},
}

// LookupScale returns the scale named name and whether there is one.
func LookupScale(name string) (Scale, bool) {
	for _, s := range Scales {
		if s.Name == name {
			return s, true
		}
	}
	return Scale{}, false
}

// ScaleNames lists the scale names, smallest first.
func ScaleNames() []string {
	names := make([]string, len(Scales))
	for i, s := range Scales {
		names[i] = s.Name
	}
	return names
}

// china is the time zone of every timestamp the demo makes up.
var china = time.FixedZone("CST", 8*3600)

// Reference is the demo's "now": every date is in the two years before it,
// so that the data never depend on when they were generated.
var Reference = time.Date(2026, 11, 1, 0, 0, 0, 0, china)

// The rows of each table. IDs are 1-based and dense in the order generated;
// a zero time.Time, an empty Tag and an empty ClosedAt mean NULL.
type (
	// Town is a town or street (镇街), a row of towns.
	Town struct {
		ID                     int64
		ExtID, Code, Name      string
		Class                  string
		Population, Households int
		Geom                   orb.MultiPolygon
	}
	// Community is a village or urban community (村社), a row of communities.
	Community struct {
		ID, TownID             int64
		ExtID, Code, Name      string
		Kind                   string
		Population, Households int
		Geom                   orb.MultiPolygon
	}
	// Cell is a grid cell (网格), a row of grid_cells.
	Cell struct {
		ID, CommunityID        int64
		ExtID, Code, Name      string
		Population, Households int
		Geom                   orb.MultiPolygon
	}
	// Node is a road junction or dead end, a row of road_nodes.
	Node struct {
		ID    int64
		Point orb.Point
	}
	// Road runs between two nodes (Source at its first point, Target at its
	// last), a row of roads; a one-way road may be driven only that way.
	Road struct {
		ID             int64
		ExtID, Name    string
		Class          string
		SpeedKmh       float64
		Oneway         bool
		WidthM         float64
		Source, Target int64
		Line           orb.LineString
	}
	// Hydrant is a municipal fire hydrant, a row of hydrants.
	Hydrant struct {
		ID           int64
		ExtID        string
		Kind, Status string
		InstalledAt  time.Time
		CellID       int64
		Point        orb.Point
	}
	// Shelter is an emergency shelter, a row of shelters.
	Shelter struct {
		ID           int64
		ExtID, Name  string
		Level        string
		Capacity     int
		AreaM2       float64
		Standardised bool
		CellID       int64
		Point        orb.Point
	}
	// Station is a fire station or team, a row of fire_stations.
	Station struct {
		ID                  int64
		ExtID, Name, Kind   string
		Vehicles, Personnel int
		CellID              int64
		Point               orb.Point
	}
	// Premise is a risk source, a row of premises.
	Premise struct {
		ID                int64
		ExtID, Kind       string
		Name, Address     string
		Floors, Occupants int
		Tag               string
		LastInspectedAt   time.Time
		CellID            int64
		Point             orb.Point
	}
	// Hazard is a hazard found at a premise, a row of hazards.
	Hazard struct {
		ID, PremiseID              int64
		ExtID                      string
		Category, Severity, Status string
		Listed                     bool
		ReportedAt, ClosedAt       time.Time
		Deadline                   time.Time // a date
		CellID                     int64
		Point                      orb.Point
	}
	// Inspection is a visit to a premise, a row of inspections.
	Inspection struct {
		ID, PremiseID int64
		ExtID         string
		InspectedAt   time.Time
		Inspector     string
		Result        string
		HazardsFound  int
		CellID        int64
		Point         orb.Point
	}
)

// City is a generated demo city. The hierarchy, roads and resources are
// held in memory (tens of thousands of rows at most); premises, hazards and
// inspections are streamed by their iterators, regenerated on each pass, so
// that a million premises never sit in memory at once.
type City struct {
	Scale Scale
	Seed  int64

	Towns       []Town
	Communities []Community
	Cells       []Cell
	Nodes       []Node
	Roads       []Road
	Hydrants    []Hydrant
	Shelters    []Shelter
	Stations    []Station

	g      *grid
	rp     *roadPlan
	net    *network
	chains []chain
	nodeID []int64 // per network node, its Node.ID (0: not a road end)
	model  *premiseModel
}

// Random streams: each part of the city draws from its own PCG stream of
// the seed, so that changing one part leaves the others as they were.
const (
	streamHierarchy = iota + 1
	streamRoads
	streamHydrants
	streamStations
	streamShelters
	streamModel
	streamPremises // one stream per chunk of premises: streamPremises<<32 | chunk
)

func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

// New generates the fixed parts of the city at scale sc from seed: hierarchy,
// roads, hydrants, stations and shelters. It fails only on a scale it cannot
// honour.
func New(sc Scale, seed int64) (*City, error) {
	if sc.Premises < 0 || sc.BuiltUp <= 0 || sc.StreetSpacing < 50 {
		return nil, fmt.Errorf("democity: bad scale %+v", sc)
	}
	g, err := newGrid(newRand(seed, streamHierarchy))
	if err != nil {
		return nil, err
	}
	c := &City{Scale: sc, Seed: seed, g: g}
	c.hierarchyRows()
	rp, nw := buildRoads(g, newRand(seed, streamRoads), sc, uint64(seed))
	c.rp = rp
	c.roadRows(nw)
	c.hydrants(newRand(seed, streamHydrants))
	c.stations(newRand(seed, streamStations))
	c.shelters(newRand(seed, streamShelters))
	c.model = newPremiseModel(c, newRand(seed, streamModel))
	return c, nil
}

func (c *City) hierarchyRows() {
	g := c.g
	commID := make([]int64, len(g.comms))
	for t, tw := range g.towns {
		var cells []int32
		for i, gc := range g.cells {
			if gc.town == int32(t) {
				cells = append(cells, int32(i))
			}
		}
		c.Towns = append(c.Towns, Town{
			ID: int64(t + 1), ExtID: "demo-town-" + tw.spec.code, Code: tw.spec.code, Name: tw.spec.name,
			Class: tw.class, Population: tw.pop, Households: tw.hh, Geom: g.union(cells),
		})
		for _, ci := range tw.comms {
			gc := g.comms[ci]
			id := int64(len(c.Communities) + 1)
			commID[ci] = id
			cells := make([]int32, 0, len(gc.cells))
			for _, s := range gc.cells {
				cells = append(cells, g.sites[s].cell)
			}
			c.Communities = append(c.Communities, Community{
				ID: id, TownID: int64(t + 1), ExtID: "demo-community-" + gc.code, Code: gc.code, Name: gc.name,
				Kind: gc.kind, Population: gc.pop, Households: gc.hh, Geom: g.union(cells),
			})
		}
	}
	// Cells are numbered in community order already; codes count within
	// their community.
	n := map[int32]int{}
	for i, gc := range g.cells {
		n[gc.comm]++
		comm := g.comms[gc.comm]
		code := fmt.Sprintf("%s%02d", comm.code, n[gc.comm])
		c.Cells = append(c.Cells, Cell{
			ID: int64(i + 1), CommunityID: commID[gc.comm], ExtID: "demo-cell-" + code, Code: code,
			Name: fmt.Sprintf("%s第%d网格", comm.name, n[gc.comm]), Population: gc.pop, Households: gc.hh,
			Geom: g.union([]int32{int32(i)}),
		})
	}
}
