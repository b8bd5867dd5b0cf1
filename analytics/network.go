package analytics

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/paulmach/orb/geojson"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/filtersql"
)

// roadNetwork is the routable road edges in memory, to join demand to the
// network: each feature's nearest edge, the same rule as the database's
// network_snap (nearest by planar distance in EPSG:4549, fraction by
// length), which joins supply to it inside pgRouting's graph.
type roadNetwork struct {
	edges  []roadEdge
	byID   map[int64]int32
	size   float64
	cells  map[[2]int32][]segRef
	extent orb.Bound
}

type roadEdge struct {
	ID, Source, Target int64
	Cost, Reverse      float64 // seconds each way; Reverse < 0: one-way
	Pts                orb.LineString
	cum                []float64 // length from the start to each vertex
}

type segRef struct{ edge, seg int32 }

// roadSnap is where a point joins the network.
type roadSnap struct {
	Edge     int32   // index into roadNetwork.edges; -1: no road near
	Fraction float64 // 0 at the edge's source, 1 at its target
	Offset   float64 // metres from the road
}

var (
	networkRoadsSQL            = mustSQL("network_roads.sql")
	networkCostsSQL            = mustSQL("network_costs.sql")
	networkSnapSupplySQL       = mustSQL("network_snap_supply.sql")
	networkFromNodesSQL        = mustSQL("network_from_nodes.sql")
	serviceAreasSQL            = mustSQL("service_areas.sql")
	networkGapsSQL             = mustSQL("network_gaps.sql")
	maxSnapMetres              = 10000.0
	snapCellMetres             = 250.0
	vertexID             int64 = 1_000_000_000_000_000 // supply vertices: 10^15 + id (see network_edges_sql)
)

// network loads the road edges (cached by data version).
func (s *CoverageService) network(ctx context.Context, version int64) (*roadNetwork, error) {
	return s.roads.get("roads", version, func() (*roadNetwork, error) {
		rows, err := s.DB.QueryRows(ctx, networkRoadsSQL)
		if err != nil {
			return nil, fmt.Errorf("analytics: road network: %w", err)
		}
		defer rows.Close()
		n := &roadNetwork{byID: map[int64]int32{}, size: snapCellMetres, cells: map[[2]int32][]segRef{}}
		for rows.Next() {
			var e roadEdge
			var b []byte
			if err := rows.Scan(&e.ID, &e.Source, &e.Target, &e.Cost, &e.Reverse, &b); err != nil {
				return nil, fmt.Errorf("analytics: road network: %w", err)
			}
			g, err := wkb.Unmarshal(b)
			if err != nil {
				return nil, fmt.Errorf("analytics: road %d: %w", e.ID, err)
			}
			ls, ok := g.(orb.LineString)
			if !ok || len(ls) < 2 {
				continue
			}
			e.Pts = ls
			e.cum = make([]float64, len(ls))
			for i := 1; i < len(ls); i++ {
				e.cum[i] = e.cum[i-1] + math.Hypot(ls[i][0]-ls[i-1][0], ls[i][1]-ls[i-1][1])
			}
			n.byID[e.ID] = int32(len(n.edges))
			n.edges = append(n.edges, e)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("analytics: road network: %w", err)
		}
		for ei, e := range n.edges {
			for si := 1; si < len(e.Pts); si++ {
				a, b := e.Pts[si-1], e.Pts[si]
				lo := n.key(min(a[0], b[0]), min(a[1], b[1]))
				hi := n.key(max(a[0], b[0]), max(a[1], b[1]))
				for cx := lo[0]; cx <= hi[0]; cx++ {
					for cy := lo[1]; cy <= hi[1]; cy++ {
						k := [2]int32{cx, cy}
						n.cells[k] = append(n.cells[k], segRef{int32(ei), int32(si)})
					}
				}
			}
		}
		return n, nil
	})
}

func (n *roadNetwork) key(x, y float64) [2]int32 {
	return [2]int32{int32(math.Floor(x / n.size)), int32(math.Floor(y / n.size))}
}

// snap finds the nearest edge to (x, y): ties go to the lower edge index.
func (n *roadNetwork) snap(x, y float64) roadSnap {
	best := roadSnap{Edge: -1, Offset: math.Inf(1)}
	var bestSeg int32
	var bestT float64
	k := n.key(x, y)
	for ring := int32(0); float64(ring-1)*n.size <= min(best.Offset, maxSnapMetres); ring++ {
		for cx := k[0] - ring; cx <= k[0]+ring; cx++ {
			for cy := k[1] - ring; cy <= k[1]+ring; cy++ {
				if max(abs32(cx-k[0]), abs32(cy-k[1])) != ring {
					continue
				}
				for _, r := range n.cells[[2]int32{cx, cy}] {
					e := &n.edges[r.edge]
					a, b := e.Pts[r.seg-1], e.Pts[r.seg]
					d, t := pointSegment(x, y, a, b)
					if d < best.Offset || (d == best.Offset && r.edge < best.Edge) {
						best.Offset, best.Edge, bestSeg, bestT = d, r.edge, r.seg, t
					}
				}
			}
		}
	}
	if best.Edge < 0 || best.Offset > maxSnapMetres {
		return roadSnap{Edge: -1, Offset: math.Inf(1)}
	}
	e := &n.edges[best.Edge]
	total := e.cum[len(e.cum)-1]
	if total > 0 {
		segLen := e.cum[bestSeg] - e.cum[bestSeg-1]
		best.Fraction = (e.cum[bestSeg-1] + bestT*segLen) / total
	}
	return best
}

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

// pointSegment returns the distance from (x, y) to segment ab and where
// along it (0..1) the nearest point lies.
func pointSegment(x, y float64, a, b orb.Point) (float64, float64) {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = max(0, min(1, ((x-a[0])*dx+(y-a[1])*dy)/l2))
	}
	return math.Hypot(x-(a[0]+t*dx), y-(a[1]+t*dy)), t
}

// networkEval is what travel times were computed from.
type networkEval struct {
	net   *roadNetwork
	snaps []roadSnap // of the demand
	nodes map[int64]nodeCost
}

type nodeCost struct {
	cost float64
	src  int64 // supply id, or -node for a proposed site at a road node
}

// travelTimes fills e.nearest and e.value with the travel time from the
// nearest supply to each demand feature, up to the preset's MaxThreshold.
func (s *CoverageService) travelTimes(ctx context.Context, e *coverageEval, _ int64) error {
	p := e.preset
	_, rv, err := s.versions(ctx, []string{"roads"})
	if err != nil {
		return err
	}
	net, err := s.network(ctx, rv)
	if err != nil {
		return err
	}
	var ids, nodes []int64
	index := map[int64]int32{} // supply id (or -node) → index in e.supply
	for i, st := range e.supply {
		if st.Proposed {
			if st.Node == 0 {
				return geo.Invalid("candidates", "a proposed site for %s must be a road node", p.ID)
			}
			nodes = append(nodes, st.Node)
			index[-st.Node] = int32(i)
			continue
		}
		ids = append(ids, st.ID)
		index[st.ID] = int32(i)
	}
	costs, err := s.nodeCosts(ctx, p, ids, nodes, p.MaxThreshold)
	if err != nil {
		return err
	}
	// Supply on the same edge as demand reaches it directly.
	type onEdge struct {
		src              int64
		fraction, offset float64
	}
	sameEdge := map[int32][]onEdge{}
	if len(ids) > 0 {
		l := p.SupplyLayer()
		sql := strings.ReplaceAll(networkSnapSupplySQL, "{{table}}", filtersql.Ident(l.Table))
		rows, err := s.DB.QueryRows(ctx, sql, ids)
		if err != nil {
			return fmt.Errorf("analytics: snapping supply: %w", err)
		}
		for rows.Next() {
			var id, edge int64
			var f, off float64
			if err := rows.Scan(&id, &edge, &f, &off); err != nil {
				rows.Close()
				return err
			}
			if ei, ok := net.byID[edge]; ok {
				sameEdge[ei] = append(sameEdge[ei], onEdge{id, f, off})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("analytics: snapping supply: %w", err)
		}
	}
	snaps := s.demandSnaps(e.demand, net, rv)
	vWalk, vConn := p.DemandSpeed(), geo.ConnectorSpeedKmh/3.6
	n := e.demand.Len()
	e.nearest, e.value = make([]int32, n), make([]float64, n)
	for i := range n {
		sn := snaps[i]
		e.nearest[i], e.value[i] = -1, math.Inf(1)
		if sn.Edge < 0 {
			continue
		}
		ed := &net.edges[sn.Edge]
		best, src := math.Inf(1), int64(0)
		if c, ok := costs[ed.Source]; ok {
			if t := c.cost + sn.Fraction*ed.Cost; t < best {
				best, src = t, c.src
			}
		}
		if c, ok := costs[ed.Target]; ok && (ed.Reverse >= 0 || sn.Fraction == 1) {
			if t := c.cost + (1-sn.Fraction)*ed.Reverse; t < best {
				best, src = t, c.src
			}
		}
		for _, o := range sameEdge[sn.Edge] {
			t := o.offset / vConn
			switch {
			case sn.Fraction >= o.fraction && ed.Cost >= 0:
				t += (sn.Fraction - o.fraction) * ed.Cost
			case sn.Fraction < o.fraction && ed.Reverse >= 0:
				t += (o.fraction - sn.Fraction) * ed.Reverse
			default:
				continue
			}
			if t < best || (t == best && o.src < src) {
				best, src = t, o.src
			}
		}
		best += sn.Offset / vWalk
		if best <= p.MaxThreshold {
			e.value[i], e.nearest[i] = best, index[src]
		}
	}
	e.network = &networkEval{net: net, snaps: snaps, nodes: costs}
	return nil
}

// demandSnaps joins every demand feature to the network, once per roads
// version.
func (s *CoverageService) demandSnaps(d *demandSet, net *roadNetwork, roadsVersion int64) []roadSnap {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.snaps != nil && d.snapNet == net {
		return d.snaps
	}
	snaps := make([]roadSnap, d.Len())
	for i := range snaps {
		snaps[i] = net.snap(d.X[i], d.Y[i])
	}
	d.snaps, d.snapNet = snaps, net
	return snaps
}

// nodeCosts runs multi-source pgr_drivingDistance from the supply ids of
// p's supply table and from road nodes, up to cutoff seconds.
func (s *CoverageService) nodeCosts(ctx context.Context, p *geo.CoveragePreset, ids, nodes []int64, cutoff float64) (map[int64]nodeCost, error) {
	out := map[int64]nodeCost{}
	if len(ids)+len(nodes) == 0 {
		return out, nil
	}
	if ids == nil {
		ids = []int64{}
	}
	if nodes == nil {
		nodes = []int64{}
	}
	rows, err := s.DB.QueryRows(ctx, networkCostsSQL, p.SupplyLayer().Table, ids, cutoff, nodes)
	if err != nil {
		return nil, fmt.Errorf("analytics: network travel times: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var node, src int64
		var c float64
		if err := rows.Scan(&node, &c, &src); err != nil {
			return nil, err
		}
		out[node] = nodeCost{c, src}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: network travel times: %w", err)
	}
	return out, nil
}

// NodeReach is how a road node is reached from the supply: the travel
// time from the nearest source, and which source (first-due).
type NodeReach struct {
	Seconds float64
	Source  int64 // supply id
}

// ReachedNodes returns the road nodes the sources (ids of p's supply
// table) reach within seconds, each with its nearest source: multi-source
// pgr_drivingDistance with equicost, the sources joined to the network by
// network_snap.
func (s *CoverageService) ReachedNodes(ctx context.Context, p *geo.CoveragePreset, sources []int64, seconds float64) (map[int64]NodeReach, error) {
	costs, err := s.nodeCosts(ctx, p, sources, nil, seconds)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]NodeReach, len(costs))
	for n, c := range costs {
		out[n] = NodeReach{c.cost, c.src}
	}
	return out, nil
}

// ServiceAreaQuery asks for the service areas of a travel-time preset.
type ServiceAreaQuery struct {
	Preset  *geo.CoveragePreset
	Seconds []float64   // breaks; nil: the preset's threshold
	Sources []int64     // only these supply ids (nil: the preset's supply)
	Supply  geo.Filters // more supply filters
	Buffer  float64     // metres around reached roads; 0: 50
}

// ServiceAreas returns one polygon per source and break: what it reaches
// first on the road network (its first-due district when several sources
// compete), as a GeoJSON FeatureCollection in EPSG:4326.
func (s *CoverageService) ServiceAreas(ctx context.Context, q ServiceAreaQuery) (*geojson.FeatureCollection, error) {
	p := q.Preset
	if p.Metric != geo.TravelTime {
		return nil, geo.Invalid("preset", "service areas need a travel-time preset; %s measures %s", p.ID, p.Metric)
	}
	breaks := q.Seconds
	if len(breaks) == 0 {
		breaks = []float64{p.Threshold}
	}
	buffer := q.Buffer
	if buffer == 0 {
		buffer = 50
	}
	sources := q.Sources
	sup, err := s.supply(ctx, p, q.Supply)
	if err != nil {
		return nil, err
	}
	if sources == nil {
		for _, st := range sup {
			sources = append(sources, st.ID)
		}
	} else {
		for _, id := range sources {
			if !containsSite(sup, id) {
				return nil, geo.Invalid("station", "no %s with id %d among the preset's supply (%s)", p.SupplyLayer().ID, id, p.ID)
			}
		}
	}
	_, v, err := s.versions(ctx, []string{p.SupplyLayer().Table, "roads"})
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("%s|%v|%v|%g|%s", p.ID, sources, breaks, buffer, q.Supply.Key())
	return s.areas.get(key, v, func() (*geojson.FeatureCollection, error) {
		return s.serviceAreas(ctx, p, sources, breaks, buffer)
	})
}

func (s *CoverageService) serviceAreas(ctx context.Context, p *geo.CoveragePreset, sources []int64, breaks []float64, buffer float64) (*geojson.FeatureCollection, error) {
	l := p.SupplyLayer()
	sql := strings.NewReplacer("{{table}}", filtersql.Ident(l.Table), "{{name}}", nameColumn(l)).Replace(serviceAreasSQL)
	fc := geojson.NewFeatureCollection()
	if len(sources) == 0 {
		return fc, nil
	}
	rows, err := s.DB.QueryRows(ctx, sql, l.Table, sources, breaks, buffer)
	if err != nil {
		return nil, fmt.Errorf("analytics: service areas: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var src int64
		var brk, area float64
		var nm *string
		var gj []byte
		if err := rows.Scan(&src, &brk, &nm, &gj, &area); err != nil {
			return nil, err
		}
		g, err := geojson.UnmarshalGeometry(gj)
		if err != nil {
			return nil, fmt.Errorf("analytics: service area of %d: %w", src, err)
		}
		f := geojson.NewFeature(g.Geometry())
		f.Properties["station_id"] = src
		if nm != nil {
			f.Properties["name"] = *nm
		}
		f.Properties["seconds"] = brk
		f.Properties["minutes"] = brk / 60
		f.Properties["area_km2"] = round6(area / 1e6)
		fc.Append(f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: service areas: %w", err)
	}
	return fc, nil
}

func containsSite(sites []Site, id int64) bool {
	for _, s := range sites {
		if s.ID == id {
			return true
		}
	}
	return false
}
