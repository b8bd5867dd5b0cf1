package analytics_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/onemap-city/onemap/analytics"
	"github.com/onemap-city/onemap/geo"
)

// randomSiting is a small random MCLP instance. Half the instances have
// small integer weights and tie-breaks, so that gains and tie-breaks tie
// often and the ID has to decide.
func randomSiting(rng *rand.Rand) analytics.SitingProblem {
	nd := 10 + rng.IntN(31)
	nc := 6 + rng.IntN(7)
	ties := rng.IntN(2) == 0
	p := analytics.SitingProblem{Weights: make([]float64, nd)}
	for i := range p.Weights {
		if ties {
			p.Weights[i] = float64(rng.IntN(4))
		} else {
			p.Weights[i] = rng.ExpFloat64() * 10
		}
	}
	if rng.IntN(4) > 0 {
		p.Covered = make([]bool, nd)
		for i := range p.Covered {
			p.Covered[i] = rng.IntN(4) == 0
		}
	}
	ids := rng.Perm(1000)
	for c := range nc {
		cand := analytics.SitingCandidate{ID: int64(ids[c]) - 500}
		for d := range nd {
			if rng.IntN(5) == 0 {
				cand.Covers = append(cand.Covers, int32(d))
			}
		}
		rng.Shuffle(len(cand.Covers), func(i, j int) { cand.Covers[i], cand.Covers[j] = cand.Covers[j], cand.Covers[i] })
		if ties {
			cand.Tiebreak = float64(rng.IntN(2))
		} else {
			cand.Tiebreak = rng.Float64() * 100
		}
		p.Candidates = append(p.Candidates, cand)
	}
	return p
}

// sitingCoveredWeight is the weight of the demand covered by the existing sites
// and the candidates chosen, each demand counted once.
func sitingCoveredWeight(p analytics.SitingProblem, chosen []int) float64 {
	in := make([]bool, len(p.Weights))
	for d := range in {
		in[d] = p.Covered != nil && p.Covered[d]
	}
	for _, c := range chosen {
		for _, d := range p.Candidates[c].Covers {
			in[d] = true
		}
	}
	w := 0.0
	for d, ok := range in {
		if ok {
			w += p.Weights[d]
		}
	}
	return w
}

// naiveGreedy is plain greedy: every round, every candidate not yet picked
// is evaluated afresh, and the best by gain (equal within a relative
// 1e-12), then lower Tiebreak, then lower ID is picked, until k are picked
// or no gain is positive.
func naiveGreedy(p analytics.SitingProblem, k int) []int {
	var picked []int
	for len(picked) < k {
		base := sitingCoveredWeight(p, picked)
		best, bestGain := -1, 0.0
		for c := range p.Candidates {
			if slices.Contains(picked, c) {
				continue
			}
			g := sitingCoveredWeight(p, append(slices.Clip(picked), c)) - base
			if best < 0 {
				best, bestGain = c, g
				continue
			}
			b := p.Candidates[best]
			cand := p.Candidates[c]
			switch {
			case math.Abs(g-bestGain) > 1e-12*max(math.Abs(g), math.Abs(bestGain)):
				if g > bestGain {
					best, bestGain = c, g
				}
			case cand.Tiebreak != b.Tiebreak:
				if cand.Tiebreak < b.Tiebreak {
					best, bestGain = c, g
				}
			case cand.ID < b.ID:
				best, bestGain = c, g
			}
		}
		if best < 0 || bestGain <= 1e-9 {
			break
		}
		picked = append(picked, best)
	}
	return picked
}

// sitingOptimum is the largest covered weight of any k candidates (all of them
// if there are fewer), by trying every k-subset.
func sitingOptimum(p analytics.SitingProblem, k int) float64 {
	n := len(p.Candidates)
	k = min(k, n)
	best := 0.0
	var choose func(start int, chosen []int)
	choose = func(start int, chosen []int) {
		if len(chosen) == k {
			best = max(best, sitingCoveredWeight(p, chosen))
			return
		}
		for c := start; c < n; c++ {
			choose(c+1, append(chosen, c))
		}
	}
	choose(0, nil)
	return best
}

func sitingPickIndices(picks []analytics.SitingPick) []int {
	out := make([]int, len(picks))
	for i, pk := range picks {
		out[i] = pk.Candidate
	}
	return out
}

func TestSitingGreedyMatchesNaiveAndBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 63))
	ctx := context.Background()
	for seed := range 200 {
		p := randomSiting(rng)
		k := 1 + rng.IntN(4)
		picks, err := analytics.GreedyMaxCover(ctx, p, k, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := sitingPickIndices(picks)
		if want := naiveGreedy(p, k); !slices.Equal(got, want) {
			t.Fatalf("instance %d, k %d: lazy greedy picked %v, plain greedy %v", seed, k, got, want)
		}

		existing := sitingCoveredWeight(p, nil)
		total := sitingCoveredWeight(p, got)
		sum := 0.0
		for i, pk := range picks {
			if pk.ID != p.Candidates[pk.Candidate].ID {
				t.Fatalf("instance %d: pick %d has id %d, candidate %d has %d", seed, i, pk.ID, pk.Candidate, p.Candidates[pk.Candidate].ID)
			}
			// The marginal gain is the weight the pick adds to what is
			// covered before it, and NewlyCovered is exactly that demand.
			before := sitingCoveredWeight(p, got[:i])
			after := sitingCoveredWeight(p, got[:i+1])
			if math.Abs(pk.Gain-(after-before)) > 1e-9 {
				t.Fatalf("instance %d: pick %d gains %v, brute force %v", seed, i, pk.Gain, after-before)
			}
			newly := 0.0
			for _, d := range pk.NewlyCovered {
				newly += p.Weights[d]
			}
			if math.Abs(newly-pk.Gain) > 1e-9 || !slices.IsSorted(pk.NewlyCovered) {
				t.Fatalf("instance %d: pick %d newly covers %v (weight %v), gain %v", seed, i, pk.NewlyCovered, newly, pk.Gain)
			}
			sum += pk.Gain
			if math.Abs(pk.Cumulative-sum) > 1e-9 {
				t.Fatalf("instance %d: pick %d cumulative %v, sum of gains %v", seed, i, pk.Cumulative, sum)
			}
		}
		if math.Abs(sum-(total-existing)) > 1e-9 {
			t.Fatalf("instance %d: gains sum to %v, existing ∪ picks covers %v more than existing", seed, sum, total-existing)
		}
		// Greedy's guarantee is on the covered weight (existing sites
		// included: coverage with them fixed is still monotone submodular).
		opt := sitingOptimum(p, k)
		if total < (1-1/math.E)*opt-1e-9 {
			t.Fatalf("instance %d, k %d: greedy covers %v, below (1−1/e) × optimum %v", seed, k, total, opt)
		}
		// Nothing left to gain: greedy stopped because no candidate adds
		// weight, and then it cannot be beaten.
		if len(picks) < min(k, len(p.Candidates)) && total < opt-1e-9 {
			t.Fatalf("instance %d: greedy stopped after %d picks at %v, optimum %v", seed, len(picks), total, opt)
		}
	}
}

func TestSitingShuffleInvariant(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	ctx := context.Background()
	for seed := range 200 {
		p := randomSiting(rng)
		k := 1 + rng.IntN(4)
		picks, err := analytics.GreedyMaxCover(ctx, p, k, nil)
		if err != nil {
			t.Fatal(err)
		}
		perm := rng.Perm(len(p.Candidates))
		q := p
		q.Candidates = make([]analytics.SitingCandidate, len(perm))
		for i, j := range perm {
			q.Candidates[i] = p.Candidates[j]
		}
		shuffled, err := analytics.GreedyMaxCover(ctx, q, k, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(picks) != len(shuffled) {
			t.Fatalf("instance %d: %d picks, %d once shuffled", seed, len(picks), len(shuffled))
		}
		for i := range picks {
			a, b := picks[i], shuffled[i]
			if a.ID != b.ID || a.Gain != b.Gain || perm[b.Candidate] != a.Candidate || !slices.Equal(a.NewlyCovered, b.NewlyCovered) {
				t.Fatalf("instance %d: pick %d is %+v, once shuffled %+v", seed, i, a, b)
			}
		}
	}
}

// Three candidates covering the same weight: the lower Tiebreak wins, and
// at equal Tiebreak the lower ID. Gains summed in a different order (0.1 +
// 0.2 + 0.3 against 0.3 + 0.2 + 0.1) still tie.
func TestSitingTieBreaks(t *testing.T) {
	p := analytics.SitingProblem{
		Weights: []float64{0.1, 0.2, 0.3, 0.3, 0.2, 0.1},
		Candidates: []analytics.SitingCandidate{
			{ID: 9, Covers: []int32{0, 1, 2}, Tiebreak: 50},
			{ID: 3, Covers: []int32{3, 4, 5}, Tiebreak: 50},
			{ID: 7, Covers: []int32{5, 4, 3}, Tiebreak: 80},
		},
	}
	picks, err := analytics.GreedyMaxCover(context.Background(), p, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	// ID 3 first (Tiebreak 50, lower ID than 9); then 9 (gain 0.6, while 7
	// now gains nothing); then greedy stops.
	if got := sitingPickIndices(picks); !slices.Equal(got, []int{1, 0}) {
		t.Fatalf("picked %v, want [1 0]", got)
	}
	if picks[1].Cumulative != picks[0].Gain+picks[1].Gain {
		t.Fatalf("cumulative %v", picks[1].Cumulative)
	}
}

func TestSitingProgressAndCancel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	p := randomSiting(rng)
	var calls [][2]int
	picks, err := analytics.GreedyMaxCover(context.Background(), p, 3, func(done, total int) {
		calls = append(calls, [2]int{done, total})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != len(picks) {
		t.Fatalf("%d progress calls for %d picks", len(calls), len(picks))
	}
	for i, c := range calls {
		if c != [2]int{i + 1, 3} {
			t.Fatalf("progress call %d was %v", i, c)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := analytics.GreedyMaxCover(ctx, p, 3, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: got %v", err)
	}
	// Cancelled from the progress callback: no further picks.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	big := sitingBench(2000, 20000, 50)
	_, err = analytics.GreedyMaxCover(ctx, big, 10, func(done, _ int) {
		if done == 2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled during the run: got %v", err)
	}
}

func TestSitingInvalid(t *testing.T) {
	ok := analytics.SitingProblem{
		Weights:    []float64{1, 2},
		Candidates: []analytics.SitingCandidate{{ID: 1, Covers: []int32{0}}, {ID: 2, Covers: []int32{1}}},
	}
	for name, c := range map[string]struct {
		k    int
		edit func(*analytics.SitingProblem)
	}{
		"k 0":               {0, func(*analytics.SitingProblem) {}},
		"no candidates":     {1, func(p *analytics.SitingProblem) { p.Candidates = nil }},
		"negative weight":   {1, func(p *analytics.SitingProblem) { p.Weights = []float64{1, -2} }},
		"NaN weight":        {1, func(p *analytics.SitingProblem) { p.Weights = []float64{math.NaN(), 2} }},
		"infinite weight":   {1, func(p *analytics.SitingProblem) { p.Weights = []float64{math.Inf(1), 2} }},
		"covered too short": {1, func(p *analytics.SitingProblem) { p.Covered = []bool{true} }},
		"covers out of range": {1, func(p *analytics.SitingProblem) {
			p.Candidates = []analytics.SitingCandidate{{ID: 1, Covers: []int32{2}}}
		}},
		"covers negative": {1, func(p *analytics.SitingProblem) {
			p.Candidates = []analytics.SitingCandidate{{ID: 1, Covers: []int32{-1}}}
		}},
		"NaN tiebreak": {1, func(p *analytics.SitingProblem) {
			p.Candidates = []analytics.SitingCandidate{{ID: 1, Tiebreak: math.NaN()}}
		}},
		"duplicate id": {1, func(p *analytics.SitingProblem) {
			p.Candidates = []analytics.SitingCandidate{{ID: 1}, {ID: 1}}
		}},
	} {
		p := ok
		p.Weights = slices.Clone(ok.Weights)
		c.edit(&p)
		_, err := analytics.GreedyMaxCover(context.Background(), p, c.k, nil)
		var ge *geo.Error
		if !errors.As(err, &ge) || ge.Code != geo.EInvalid {
			t.Errorf("%s: got %v, want an EInvalid *geo.Error", name, err)
		}
	}
	// Duplicate demand in one Covers counts once.
	p := ok
	p.Candidates = []analytics.SitingCandidate{{ID: 1, Covers: []int32{1, 1, 0, 1}}}
	picks, err := analytics.GreedyMaxCover(context.Background(), p, 1, nil)
	if err != nil || len(picks) != 1 || picks[0].Gain != 3 || !slices.Equal(picks[0].NewlyCovered, []int32{0, 1}) {
		t.Fatalf("duplicate covers: %+v, %v", picks, err)
	}
}

// sitingBench is a city-sized instance: candidates each covering about
// perCand random demand.
func sitingBench(nCand, nDemand, perCand int) analytics.SitingProblem {
	rng := rand.New(rand.NewPCG(3, 4))
	p := analytics.SitingProblem{Weights: make([]float64, nDemand), Covered: make([]bool, nDemand)}
	for i := range p.Weights {
		p.Weights[i] = float64(1 + rng.IntN(20))
		p.Covered[i] = rng.IntN(3) == 0
	}
	p.Candidates = make([]analytics.SitingCandidate, nCand)
	for c := range p.Candidates {
		cv := make([]int32, perCand)
		for j := range cv {
			cv[j] = int32(rng.IntN(nDemand))
		}
		p.Candidates[c] = analytics.SitingCandidate{ID: int64(c + 1), Covers: cv, Tiebreak: rng.Float64() * 150}
	}
	return p
}

func BenchmarkGreedyMaxCover(b *testing.B) {
	p := sitingBench(5000, 100_000, 50)
	ctx := context.Background()
	for b.Loop() {
		picks, err := analytics.GreedyMaxCover(ctx, p, 20, nil)
		if err != nil || len(picks) != 20 {
			b.Fatal(len(picks), err)
		}
	}
}
