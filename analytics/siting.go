package analytics

import (
	"context"
	"math"
	"slices"

	"github.com/onemap-city/onemap/geo"
)

// SitingCandidate is a site that could be opened.
type SitingCandidate struct {
	ID     int64   // stable id, the last tie-break
	Covers []int32 // indices into SitingProblem.Weights of the demand it would cover
	// Tiebreak orders candidates of equal gain: lower wins (the caller
	// sets it, e.g. the mean distance to the demand it covers). Equal
	// Tiebreak: lower ID wins.
	Tiebreak float64
}

// SitingProblem is a maximal covering location problem (MCLP): weighted
// demand, some of it already covered by the existing sites (which stay
// fixed), and the candidate sites that could be added.
type SitingProblem struct {
	Weights    []float64 // demand weights (>= 0)
	Covered    []bool    // demand already covered by existing (fixed) sites; len == len(Weights) or nil
	Candidates []SitingCandidate
}

// SitingPick is one proposed site, in the order picked.
type SitingPick struct {
	Candidate    int     // index into Candidates
	ID           int64   // the candidate's ID
	Gain         float64 // newly covered weight when picked (marginal)
	NewlyCovered []int32 // demand indices it newly covers, ascending
	Cumulative   float64 // sum of gains so far, this pick's included
}

// gainEpsilon is the relative difference below which two gains are equal.
// A gain is a sum of demand weights, and the same set summed in another
// order can differ in the last bits; such gains must tie so that the
// Tiebreak, not the summation order, decides.
const gainEpsilon = 1e-12

// GreedyMaxCover picks up to k candidates greedily by marginal gain with
// lazy (CELF) evaluation; it stops early when no candidate adds positive
// gain. progress, if not nil, is called after each pick (done, k), k
// capped at the number of candidates. ctx cancellation is honoured between
// evaluations (return ctx.Err()).
//
// Each round picks the candidate that newly covers the most weight, ties
// (gains within a relative 1e-12) going to the lower Tiebreak, then the
// lower ID: the picks are those of plain greedy, whatever the order of the
// candidates. Greedy covers at least 1 − 1/e ≈ 63.2% of what the best k
// candidates would (Nemhauser, Wolsey & Fisher 1978).
//
// Lazy evaluation rests on coverage being submodular: a candidate's gain
// can only shrink as sites are added, so a gain computed in an earlier
// round bounds it from above. The candidates wait in a heap by their last
// known gain; the top one is re-evaluated, and picked if it is still on top
// with a gain of this round. Most candidates are never looked at again.
//
// It returns an EInvalid error when k < 1, there are no candidates, a
// weight is negative or not finite, Covered is neither nil nor as long as
// Weights, a Covers index is out of range, a Tiebreak is NaN or two
// candidates share an ID. A demand index listed twice in one Covers counts
// once.
func GreedyMaxCover(ctx context.Context, p SitingProblem, k int, progress func(done, total int)) ([]SitingPick, error) {
	covers, err := validateSiting(p, k)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	covered := make([]bool, len(p.Weights))
	copy(covered, p.Covered)
	gain := func(c int32) float64 {
		g := 0.0
		for _, d := range covers[c] {
			if !covered[d] {
				g += p.Weights[d]
			}
		}
		return g
	}

	h := sitingHeap{cands: p.Candidates, items: make([]sitingItem, len(p.Candidates))}
	for c := range p.Candidates {
		if c%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		h.items[c] = sitingItem{gain: gain(int32(c)), cand: int32(c)}
	}
	h.init()

	k = min(k, len(p.Candidates))
	picks := make([]SitingPick, 0, k)
	cumulative := 0.0
	evaluations := 0
	for len(picks) < k && len(h.items) > 0 {
		top := &h.items[0]
		if int(top.round) != len(picks) {
			// A gain of an earlier round: re-evaluate and let it sink.
			evaluations++
			if evaluations%64 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			top.gain, top.round = gain(top.cand), int32(len(picks))
			h.down(0)
			continue
		}
		if !(top.gain > 0) {
			break // every other gain is bounded by this one
		}
		c := top.cand
		var newly []int32
		for _, d := range covers[c] {
			if !covered[d] {
				covered[d] = true
				newly = append(newly, d)
			}
		}
		cumulative += top.gain
		picks = append(picks, SitingPick{
			Candidate: int(c), ID: p.Candidates[c].ID, Gain: top.gain,
			NewlyCovered: newly, Cumulative: cumulative,
		})
		h.pop()
		if progress != nil {
			progress(len(picks), k)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return picks, nil
}

// validateSiting checks the problem and returns each candidate's Covers
// sorted without duplicates (the caller's slice where it already is).
func validateSiting(p SitingProblem, k int) ([][]int32, error) {
	if k < 1 {
		return nil, geo.Invalid("count", "the number of sites to propose must be at least 1, got %d", k)
	}
	if len(p.Candidates) == 0 {
		return nil, geo.Invalid("candidates", "there are no candidate sites to choose from")
	}
	if p.Covered != nil && len(p.Covered) != len(p.Weights) {
		return nil, geo.Invalid("covered", "got %d covered flags for %d demand weights: they must be as many", len(p.Covered), len(p.Weights))
	}
	for i, w := range p.Weights {
		if !(w >= 0) || math.IsInf(w, 0) {
			return nil, geo.Invalid("weights", "demand %d has weight %v: weights must be finite and not negative", i, w)
		}
	}
	n := int32(len(p.Weights))
	ids := make(map[int64]int, len(p.Candidates))
	covers := make([][]int32, len(p.Candidates))
	for c, cand := range p.Candidates {
		if math.IsNaN(cand.Tiebreak) {
			return nil, geo.Invalid("candidates", "candidate %d (id %d) has a NaN tie-break", c, cand.ID)
		}
		if prev, dup := ids[cand.ID]; dup {
			return nil, geo.Invalid("candidates", "candidates %d and %d share the id %d: ids must be unique", prev, c, cand.ID)
		}
		ids[cand.ID] = c
		sorted := true
		for j, d := range cand.Covers {
			if d < 0 || d >= n {
				return nil, geo.Invalid("candidates", "candidate %d (id %d) covers demand %d, outside 0..%d", c, cand.ID, d, n-1)
			}
			if j > 0 && d <= cand.Covers[j-1] {
				sorted = false
			}
		}
		covers[c] = cand.Covers
		if !sorted {
			covers[c] = slices.Compact(slices.Sorted(slices.Values(cand.Covers)))
		}
	}
	return covers, nil
}

// sitingItem is a candidate waiting in the heap with the gain it had when
// last evaluated, in round (the number of picks made then).
type sitingItem struct {
	gain  float64
	round int32
	cand  int32
}

// sitingHeap is a binary heap of candidates, the best on top. It is
// hand-rolled: container/heap would box every item in an interface.
type sitingHeap struct {
	cands []SitingCandidate
	items []sitingItem
}

// better orders items by gain (descending, equal within gainEpsilon), then
// Tiebreak, then ID, then index; the last never decides between distinct
// IDs, which validateSiting ensures.
func (h *sitingHeap) better(a, b sitingItem) bool {
	if math.Abs(a.gain-b.gain) > gainEpsilon*max(math.Abs(a.gain), math.Abs(b.gain)) {
		return a.gain > b.gain
	}
	ca, cb := &h.cands[a.cand], &h.cands[b.cand]
	if ca.Tiebreak != cb.Tiebreak {
		return ca.Tiebreak < cb.Tiebreak
	}
	if ca.ID != cb.ID {
		return ca.ID < cb.ID
	}
	return a.cand < b.cand
}

func (h *sitingHeap) init() {
	for i := len(h.items)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *sitingHeap) down(i int) {
	a := h.items
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(a) && h.better(a[l], a[m]) {
			m = l
		}
		if r < len(a) && h.better(a[r], a[m]) {
			m = r
		}
		if m == i {
			return
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
}

func (h *sitingHeap) pop() {
	last := len(h.items) - 1
	h.items[0] = h.items[last]
	h.items = h.items[:last]
	if last > 0 {
		h.down(0)
	}
}
