package analytics

import (
	"math"

	"github.com/onemap-city/onemap/geo"
)

// FCAPair is a demand–supply pair within reach: the caller gives the pairs
// with Dist <= catchment (a distance in metres or a travel time; any unit,
// the same as the catchment and the zones).
type FCAPair struct {
	Demand, Supply int32
	Dist           float64
}

// FCAZone is a distance band of E2SFCA: pairs with Dist <= Upto (and >
// previous Upto) get Weight.
type FCAZone struct{ Upto, Weight float64 }

// FCAResult is the outcome of a two-step floating catchment analysis, with
// the catchment and the zone weights it used, so that the figures can be
// stored with what made them.
type FCAResult struct {
	// SupplyRatio is Rⱼ = Sⱼ / Σₖ Pₖ W(dₖⱼ) of each supply site (e.g.
	// shelter places per resident in its catchment). A site with no demand
	// in reach (no pair, or only demand of population 0) has Rⱼ = 0 and
	// NoDemand[j] set: its supply serves no one, and 0 keeps it out of
	// every Aᵢ, where NaN would poison the sums.
	SupplyRatio []float64
	NoDemand    []bool
	// Access is Aᵢ = Σⱼ Rⱼ W(dᵢⱼ) of each demand location (e.g. places per
	// resident); 0 where no supply is in reach.
	Access    []float64
	Catchment float64
	Zones     []FCAZone // nil for plain 2SFCA (weight 1 throughout)
}

// DefaultE2SFCAZones divides catchment into three equal bands weighted
// 1.00, 0.68 and 0.22, the weights of Luo & Qi (2009) that METHODS.md
// takes as the common choice.
func DefaultE2SFCAZones(catchment float64) []FCAZone {
	return []FCAZone{
		{Upto: catchment / 3, Weight: 1.00},
		{Upto: catchment * 2 / 3, Weight: 0.68},
		{Upto: catchment, Weight: 0.22},
	}
}

// TwoStepFCA computes 2SFCA (zones nil: weight 1 for every pair with Dist
// <= catchment) or E2SFCA (zones: weights by band; pairs beyond the last
// band ignored).
//
// Step 1 gives each supply site j the ratio of its supply to the
// population that can reach it, Rⱼ = Sⱼ / Σₖ Pₖ W(dₖⱼ); step 2 gives each
// demand location i the sum of the ratios it can reach, Aᵢ = Σⱼ Rⱼ W(dᵢⱼ),
// with the same weights W in both steps (Luo & Wang 2003; Luo & Qi 2009
// for the zones). Pairs farther than catchment count in neither step,
// whatever the zones say. Because both steps weigh a pair alike, the
// supply is shared out exactly: Σᵢ Pᵢ Aᵢ = Σⱼ Sⱼ over the sites with
// demand in reach.
//
// It returns an EInvalid error when catchment is not a positive number, a
// population or supply is negative or not finite, a pair names a demand or
// supply out of range, has a negative or NaN distance, or repeats a pair,
// or the zones are not bands of increasing Upto (> 0) with finite weights
// >= 0.
func TwoStepFCA(population, supply []float64, pairs []FCAPair, catchment float64, zones []FCAZone) (FCAResult, error) {
	if err := validateFCA(population, supply, pairs, catchment, zones); err != nil {
		return FCAResult{}, err
	}
	weight := func(d float64) float64 {
		if d > catchment {
			return 0
		}
		if zones == nil {
			return 1
		}
		for _, z := range zones {
			if d <= z.Upto {
				return z.Weight
			}
		}
		return 0
	}
	w := make([]float64, len(pairs))
	demand := make([]float64, len(supply)) // Σₖ Pₖ W(dₖⱼ)
	for n, p := range pairs {
		w[n] = weight(p.Dist)
		demand[p.Supply] += population[p.Demand] * w[n]
	}
	res := FCAResult{
		SupplyRatio: make([]float64, len(supply)),
		NoDemand:    make([]bool, len(supply)),
		Access:      make([]float64, len(population)),
		Catchment:   catchment,
	}
	if zones != nil {
		res.Zones = append([]FCAZone(nil), zones...)
	}
	for j, s := range supply {
		if demand[j] > 0 {
			res.SupplyRatio[j] = s / demand[j]
		} else {
			res.NoDemand[j] = true
		}
	}
	for n, p := range pairs {
		res.Access[p.Demand] += res.SupplyRatio[p.Supply] * w[n]
	}
	return res, nil
}

func validateFCA(population, supply []float64, pairs []FCAPair, catchment float64, zones []FCAZone) error {
	if !(catchment > 0) {
		return geo.Invalid("catchment", "the catchment must be a positive distance, got %v", catchment)
	}
	for i, p := range population {
		if !(p >= 0) || math.IsInf(p, 0) {
			return geo.Invalid("population", "demand %d has population %v: it must be finite and not negative", i, p)
		}
	}
	for j, s := range supply {
		if !(s >= 0) || math.IsInf(s, 0) {
			return geo.Invalid("supply", "supply site %d has supply %v: it must be finite and not negative", j, s)
		}
	}
	prev := 0.0
	for z, b := range zones {
		if !(b.Upto > prev) {
			return geo.Invalid("zones", "zone %d ends at %v: zones must end at increasing distances above 0", z, b.Upto)
		}
		if !(b.Weight >= 0) || math.IsInf(b.Weight, 0) {
			return geo.Invalid("zones", "zone %d has weight %v: weights must be finite and not negative", z, b.Weight)
		}
		prev = b.Upto
	}
	nd, ns := int32(len(population)), int32(len(supply))
	seen := make(map[uint64]struct{}, len(pairs))
	for n, p := range pairs {
		if p.Demand < 0 || p.Demand >= nd || p.Supply < 0 || p.Supply >= ns {
			return geo.Invalid("pairs", "pair %d joins demand %d and supply %d: there are %d demand locations and %d supply sites", n, p.Demand, p.Supply, nd, ns)
		}
		if !(p.Dist >= 0) {
			return geo.Invalid("pairs", "pair %d (demand %d, supply %d) has distance %v", n, p.Demand, p.Supply, p.Dist)
		}
		key := uint64(p.Demand)<<32 | uint64(p.Supply)
		if _, dup := seen[key]; dup {
			return geo.Invalid("pairs", "demand %d and supply %d are paired twice", p.Demand, p.Supply)
		}
		seen[key] = struct{}{}
	}
	return nil
}
