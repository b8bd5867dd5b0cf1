package analytics

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/onemap-city/onemap/geo"
)

// SitingQuery asks where Count new sites of a preset's supply would cover
// the most demand not yet covered (maximal covering, existing sites fixed).
type SitingQuery struct {
	Coverage CoverageQuery // preset, threshold, demand filters (the study area)
	Count    int
	// Candidates are the sites to choose from; nil: the preset's rule
	// (Source, or the preset's Siting).
	Candidates []Site
	Source     string // roads, road_nodes or grid_cells
}

// MaxSitingCount bounds how many sites one request may ask for.
const MaxSitingCount = 200

// SitingResult is the proposals and coverage before and after them.
type SitingResult struct {
	Preset          string          `json:"preset"`
	Threshold       float64         `json:"threshold"`
	Unit            string          `json:"unit"`
	Count           int             `json:"count"`
	CandidateSource string          `json:"candidate_source"`
	Candidates      int             `json:"candidates"`
	Proposals       []Proposal      `json:"proposals"`
	Before          CoverageSummary `json:"before"`
	After           CoverageSummary `json:"after"`
}

// Proposal is one proposed site with what it adds.
type Proposal struct {
	Rank int `json:"rank"`
	Site
	Gain                 float64 `json:"gain"`       // newly covered demand (weighted)
	Cumulative           float64 `json:"cumulative"` // gains of this and the earlier picks
	NewlyCoveredFeatures int     `json:"newly_covered_features"`
}

// CoverageSummary is coverage in total.
type CoverageSummary struct {
	Total     float64  `json:"total"`
	Covered   float64  `json:"covered"`
	Uncovered float64  `json:"uncovered"`
	Ratio     *float64 `json:"ratio"`
}

func summaryOf(r *CoverageResult) CoverageSummary {
	return CoverageSummary{Total: r.Total, Covered: r.Covered, Uncovered: r.Uncovered, Ratio: r.Ratio}
}

var sitingCandidatesSQL = mustSQL("siting_candidates.sql")

// Siting proposes q.Count new sites by greedy maximal covering with lazy
// evaluation (GreedyMaxCover), then recomputes coverage with them added
// ("what if"): the rise equals the sum of the reported gains.
func (s *CoverageService) Siting(ctx context.Context, q SitingQuery) (*SitingResult, error) {
	cq := q.Coverage
	p := cq.Preset
	t := cq.threshold()
	if err := CheckThreshold(p, t); err != nil {
		return nil, err
	}
	if q.Count < 1 || q.Count > MaxSitingCount {
		return nil, geo.Invalid("count", "count %d: want 1 to %d new sites", q.Count, MaxSitingCount)
	}
	cq.Added = nil
	before, err := s.Coverage(ctx, cq)
	if err != nil {
		return nil, err
	}
	ev, err := s.evaluate(ctx, cq)
	if err != nil {
		return nil, err
	}
	e, covered, keep := ev.e, ev.covered, ev.keep
	d := e.demand
	// The demand that can gain: uncovered and in the study area.
	var open []int
	weights := make([]float64, d.Len())
	box := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for i := range d.Len() {
		if !keep(d.Cell[i]) {
			continue
		}
		weights[i] = d.W[i]
		if !covered[i] {
			open = append(open, i)
			box = [4]float64{min(box[0], d.X[i]), min(box[1], d.Y[i]), max(box[2], d.X[i]), max(box[3], d.Y[i])}
		}
	}
	res := &SitingResult{Preset: p.ID, Threshold: t, Unit: p.Unit(), Count: q.Count, Before: summaryOf(before), After: summaryOf(before), Proposals: []Proposal{}}
	cands := q.Candidates
	res.CandidateSource = "given"
	if cands == nil {
		res.CandidateSource = q.Source
		if res.CandidateSource == "" {
			res.CandidateSource = p.Siting
		}
		if len(open) == 0 {
			return res, nil // nothing left to cover: no site can gain
		}
		reach := t
		if p.Metric == geo.TravelTime {
			reach = t * maxRoadSpeed
		}
		if cands, err = s.candidates(ctx, res.CandidateSource, p.CandidateSpacing, expand(box, reach)); err != nil {
			return nil, err
		}
	}
	if len(cands) == 0 {
		return nil, geo.Invalid("candidates", "no candidate sites: give candidates, or a study area with roads or grid cells")
	}
	res.Candidates = len(cands)
	progress(ctx, "candidates", 0.2)
	var problem SitingProblem
	if p.Metric == geo.TravelTime {
		if q.Candidates == nil {
			cands = nearOpenDemand(e, cands, open, maxNetworkCandidates)
			res.Candidates = len(cands)
		}
		problem, err = s.networkCandidates(ctx, e, cands, open, t)
	} else {
		problem, err = s.distanceCandidates(ctx, e, cands, open, t)
	}
	if err != nil {
		return nil, err
	}
	problem.Weights, problem.Covered = weights, covered
	progress(ctx, "siting", 0.4)
	picks, err := GreedyMaxCover(ctx, problem, q.Count, func(done, total int) {
		progress(ctx, "siting", 0.4+0.4*float64(done)/float64(total))
	})
	if err != nil {
		return nil, err
	}
	added := make([]Site, 0, len(picks))
	for k, pk := range picks {
		site := cands[pk.Candidate]
		site.Proposed = true
		added = append(added, site)
		res.Proposals = append(res.Proposals, Proposal{Rank: k + 1, Site: site, Gain: pk.Gain, Cumulative: pk.Cumulative,
			NewlyCoveredFeatures: len(pk.NewlyCovered)})
	}
	if len(added) > 0 {
		progress(ctx, "what-if", 0.85)
		cq.Added = added
		after, err := s.Coverage(ctx, cq)
		if err != nil {
			return nil, err
		}
		res.After = summaryOf(after)
	}
	return res, nil
}

// maxRoadSpeed is the fastest road speed in m/s, bounding how far a
// candidate site can reach in a travel time.
var maxRoadSpeed = 130 / 3.6

// candidates reads candidate sites of a kind within a metric box.
func (s *CoverageService) candidates(ctx context.Context, source string, spacing float64, box [4]float64) ([]Site, error) {
	switch source {
	case "roads", "road_nodes", "grid_cells":
	default:
		return nil, geo.Invalid("candidates", "candidates %q: want roads, road_nodes, grid_cells or a list of [lon, lat] points", source)
	}
	if spacing <= 0 {
		spacing = 120
	}
	rows, err := s.DB.QueryRows(ctx, sitingCandidatesSQL, source, spacing, box[0], box[1], box[2], box[3])
	if err != nil {
		return nil, fmt.Errorf("analytics: siting candidates: %w", err)
	}
	defer rows.Close()
	var out []Site
	for rows.Next() {
		var st Site
		var node *int64
		if err := rows.Scan(&st.ID, &st.Lon, &st.Lat, &st.X, &st.Y, &node); err != nil {
			return nil, err
		}
		if node != nil {
			st.Node = *node
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: siting candidates: %w", err)
	}
	return out, nil
}

// distanceCandidates lists the open demand each candidate covers within
// t geodesic metres, settling pairs near t as coverage does (PostGIS
// geography), so that the what-if agrees with the gains.
func (s *CoverageService) distanceCandidates(ctx context.Context, e *coverageEval, cands []Site, open []int, t float64) (SitingProblem, error) {
	d := e.demand
	xs, ys := make([]float64, len(open)), make([]float64, len(open))
	for k, i := range open {
		xs[k], ys[k] = d.X[i], d.Y[i]
	}
	g := newPointGrid(xs, ys, max(t, 50))
	band := borderline(t)
	type border struct{ cand, demand int }
	var borders []border
	var pairs []sitePair
	covers := make([][]int32, len(cands))
	sums := make([]float64, len(cands))
	for c, st := range cands {
		g.within(st.X, st.Y, (t+band)*1.001, func(k int) {
			i := open[k]
			dist := geodesic(d.X[i], d.Y[i], st.X, st.Y)
			switch {
			case dist < t-band:
				covers[c] = append(covers[c], int32(i))
				sums[c] += dist
			case dist <= t+band:
				borders = append(borders, border{c, i})
				pairs = append(pairs, sitePair{i, d.Lon[i], d.Lat[i], st})
			}
		})
	}
	if len(pairs) > 0 {
		within, err := s.withinGeography(ctx, pairs, t)
		if err != nil {
			return SitingProblem{}, err
		}
		for k, b := range borders {
			if within[k] {
				covers[b.cand] = append(covers[b.cand], int32(b.demand))
				sums[b.cand] += t
			}
		}
	}
	return sitingProblem(cands, covers, sums), nil
}

func sitingProblem(cands []Site, covers [][]int32, sums []float64) SitingProblem {
	p := SitingProblem{Candidates: make([]SitingCandidate, len(cands))}
	for c, st := range cands {
		tb := math.Inf(1)
		if len(covers[c]) > 0 {
			tb = sums[c] / float64(len(covers[c]))
		}
		p.Candidates[c] = SitingCandidate{ID: st.ID, Covers: covers[c], Tiebreak: tb}
	}
	return p
}

// maxNetworkCandidates bounds the road nodes one network siting searches
// from (one pgRouting search each): on the large demo's 29,000 nodes the
// searches outlasted the statement timeout.
const maxNetworkCandidates = 1500

// nearOpenDemand keeps the candidate road nodes at the ends of edges that
// uncovered demand lies on, the limit heaviest by that demand (ties: lower
// id): a new station does most where the uncovered demand is.
func nearOpenDemand(e *coverageEval, cands []Site, open []int, limit int) []Site {
	weight := map[int64]float64{}
	for _, i := range open {
		sn := e.network.snaps[i]
		if sn.Edge < 0 {
			continue
		}
		ed := &e.network.net.edges[sn.Edge]
		weight[ed.Source] += e.demand.W[i]
		weight[ed.Target] += e.demand.W[i]
	}
	var kept []Site
	for _, c := range cands {
		if weight[c.Node] > 0 {
			kept = append(kept, c)
		}
	}
	slices.SortStableFunc(kept, func(a, b Site) int {
		if c := cmp.Compare(weight[b.Node], weight[a.Node]); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return kept[:min(len(kept), limit)]
}

// networkCandidates lists the open demand each candidate road node reaches
// within t seconds: one pgRouting search per candidate, then each demand
// feature's edge and off-road leg as in travelTimes.
func (s *CoverageService) networkCandidates(ctx context.Context, e *coverageEval, cands []Site, open []int, t float64) (SitingProblem, error) {
	net := e.network.net
	nodes := make([]int64, len(cands))
	byNode := map[int64]int{}
	for c, st := range cands {
		if st.Node == 0 {
			return SitingProblem{}, geo.Invalid("candidates", "candidates for %s must be road nodes (candidates=road_nodes)", e.preset.ID)
		}
		nodes[c] = st.Node
		byNode[st.Node] = c
	}
	// Open demand by the nodes at the ends of its edge.
	atNode := map[int64][]int{}
	for _, i := range open {
		sn := e.network.snaps[i]
		if sn.Edge < 0 {
			continue
		}
		ed := &net.edges[sn.Edge]
		atNode[ed.Source] = append(atNode[ed.Source], i)
		if ed.Target != ed.Source {
			atNode[ed.Target] = append(atNode[ed.Target], i)
		}
	}
	rows, err := s.DB.QueryRows(ctx, networkFromNodesSQL, nodes, t)
	if err != nil {
		return SitingProblem{}, fmt.Errorf("analytics: candidate reach: %w", err)
	}
	defer rows.Close()
	vWalk := e.preset.DemandSpeed()
	best := make([]map[int32]float64, len(cands)) // candidate → demand → time
	for rows.Next() {
		var from, node int64
		var cost float64
		if err := rows.Scan(&from, &node, &cost); err != nil {
			return SitingProblem{}, err
		}
		c := byNode[from]
		for _, i := range atNode[node] {
			sn := e.network.snaps[i]
			ed := &net.edges[sn.Edge]
			tt := math.Inf(1)
			if node == ed.Source {
				tt = cost + sn.Fraction*ed.Cost
			}
			if node == ed.Target && (ed.Reverse >= 0 || sn.Fraction == 1) {
				tt = min(tt, cost+(1-sn.Fraction)*ed.Reverse)
			}
			tt += sn.Offset / vWalk
			if tt > t {
				continue
			}
			if best[c] == nil {
				best[c] = map[int32]float64{}
			}
			if old, ok := best[c][int32(i)]; !ok || tt < old {
				best[c][int32(i)] = tt
			}
		}
	}
	if err := rows.Err(); err != nil {
		return SitingProblem{}, fmt.Errorf("analytics: candidate reach: %w", err)
	}
	covers := make([][]int32, len(cands))
	sums := make([]float64, len(cands))
	for c, m := range best {
		for i, tt := range m {
			covers[c] = append(covers[c], i)
			sums[c] += tt
		}
	}
	return sitingProblem(cands, covers, sums), nil
}
