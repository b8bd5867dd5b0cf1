package analytics_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onemap-city/onemap/analytics"
	"github.com/onemap-city/onemap/geo"
)

// The hand example: five demand zones, four supply sites, catchment 10
// (minutes, say). Pairs in reach:
//
//	zone 0 (P 100): A at 2, B at 8
//	zone 1 (P 200): A at 5
//	zone 2 (P 300): B at 3, C at 9
//	zone 3 (P 400): C at 4            (B at 12 is beyond the catchment)
//	zone 4 (P   0): D at 1
//
// Supplies: A 10, B 30, C 20, D 5.
var (
	handPopulation = []float64{100, 200, 300, 400, 0}
	handSupply     = []float64{10, 30, 20, 5}
	handPairs      = []analytics.FCAPair{
		{Demand: 0, Supply: 0, Dist: 2}, {Demand: 0, Supply: 1, Dist: 8},
		{Demand: 1, Supply: 0, Dist: 5},
		{Demand: 2, Supply: 1, Dist: 3}, {Demand: 2, Supply: 2, Dist: 9},
		{Demand: 3, Supply: 2, Dist: 4}, {Demand: 3, Supply: 1, Dist: 12},
		{Demand: 4, Supply: 3, Dist: 1},
	}
)

// 2SFCA, catchment 10, every pair weight 1:
//
//	R_A = 10 / (100 + 200) = 1/30
//	R_B = 30 / (100 + 300) = 3/40
//	R_C = 20 / (300 + 400) = 1/35
//	R_D = 5 / 0: no demand in reach → 0, NoDemand
//
//	A_0 = R_A + R_B = 1/30 + 3/40 = 13/120
//	A_1 = R_A = 1/30
//	A_2 = R_B + R_C = 3/40 + 1/35 = 29/280
//	A_3 = R_C = 1/35
//	A_4 = R_D = 0
//
// Σ Pᵢ Aᵢ = 1300/120 + 200/30 + 8700/280 + 400/35 = 60 = S_A + S_B + S_C.
func TestTwoStepFCAByHand(t *testing.T) {
	res, err := analytics.TwoStepFCA(handPopulation, handSupply, handPairs, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFCA(t, "R", res.SupplyRatio, []float64{1.0 / 30, 3.0 / 40, 1.0 / 35, 0}, 1e-12)
	checkFCA(t, "A", res.Access, []float64{13.0 / 120, 1.0 / 30, 29.0 / 280, 1.0 / 35, 0}, 1e-12)
	if want := []bool{false, false, false, true}; !fcaEqualBools(res.NoDemand, want) {
		t.Fatalf("NoDemand %v, want %v", res.NoDemand, want)
	}
	if res.Zones != nil || res.Catchment != 10 {
		t.Fatalf("zones %v, catchment %v", res.Zones, res.Catchment)
	}
}

// E2SFCA, catchment 9, DefaultE2SFCAZones: (0, 3] weight 1, (3, 6] 0.68,
// (6, 9] 0.22; B at 12 is beyond every band.
//
//	R_A = 10 / (100·1 + 200·0.68)    = 10/236 = 0.0423728813559322
//	R_B = 30 / (100·0.22 + 300·1)    = 30/322 = 0.0931677018633540
//	R_C = 20 / (300·0.22 + 400·0.68) = 20/338 = 0.0591715976331361
//
//	A_0 = 1·R_A + 0.22·R_B = 2986/47495   = 0.0628697757658701
//	A_1 = 0.68·R_A         = 17/590       = 0.0288135593220339
//	A_2 = 1·R_B + 0.22·R_C = 14446/136045 = 0.1061854533426440
//	A_3 = 0.68·R_C         = 34/845       = 0.0402366863905325
func TestE2SFCAByHand(t *testing.T) {
	zones := analytics.DefaultE2SFCAZones(9)
	want := []analytics.FCAZone{{Upto: 3, Weight: 1}, {Upto: 6, Weight: 0.68}, {Upto: 9, Weight: 0.22}}
	for i := range want {
		if zones[i] != want[i] {
			t.Fatalf("zones %v, want %v", zones, want)
		}
	}
	res, err := analytics.TwoStepFCA(handPopulation, handSupply, handPairs, 9, zones)
	if err != nil {
		t.Fatal(err)
	}
	checkFCA(t, "R", res.SupplyRatio, []float64{10.0 / 236, 30.0 / 322, 20.0 / 338, 0}, 1e-12)
	checkFCA(t, "A", res.Access, []float64{2986.0 / 47495, 17.0 / 590, 14446.0 / 136045, 34.0 / 845, 0}, 1e-12)
	if len(res.Zones) != 3 || res.Zones[1] != want[1] {
		t.Fatalf("the result keeps zones %v", res.Zones)
	}
}

func checkFCA(t *testing.T, name string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > tol*max(1, math.Abs(want[i])) {
			t.Fatalf("%s[%d] = %.16g, want %.16g", name, i, got[i], want[i])
		}
	}
}

func fcaEqualBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// bruteFCA is 2SFCA / E2SFCA straight from the definition, over every
// demand × supply pair with its distance computed here:
// W(d) = 0 beyond the catchment, else 1 without zones, else the weight of
// the first zone with d ≤ Upto (0 beyond the last);
// Rⱼ = Sⱼ / Σₖ Pₖ W(dₖⱼ) (0, and noDemand, when that is 0);
// Aᵢ = Σⱼ Rⱼ W(dᵢⱼ).
func bruteFCA(dx, dy, pop, sx, sy, sup []float64, catchment float64, zones []analytics.FCAZone) (r, a []float64, noDemand []bool) {
	w := func(d float64) float64 {
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
	r = make([]float64, len(sup))
	noDemand = make([]bool, len(sup))
	for j := range sup {
		denom := 0.0
		for k := range pop {
			denom += pop[k] * w(math.Hypot(dx[k]-sx[j], dy[k]-sy[j]))
		}
		if denom > 0 {
			r[j] = sup[j] / denom
		} else {
			noDemand[j] = true
		}
	}
	a = make([]float64, len(pop))
	for i := range pop {
		for j := range sup {
			a[i] += r[j] * w(math.Hypot(dx[i]-sx[j], dy[i]-sy[j]))
		}
	}
	return r, a, noDemand
}

func TestTwoStepFCAMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 3))
	for round := range 100 {
		nd, ns := 1+rng.IntN(300), 1+rng.IntN(40)
		size := 5000.0
		dx, dy, pop := make([]float64, nd), make([]float64, nd), make([]float64, nd)
		for i := range nd {
			dx[i], dy[i] = size*rng.Float64(), size*rng.Float64()
			pop[i] = math.Floor(rng.ExpFloat64() * 500)
			if rng.IntN(10) == 0 {
				pop[i] = 0
			}
		}
		sx, sy, sup := make([]float64, ns), make([]float64, ns), make([]float64, ns)
		for j := range ns {
			sx[j], sy[j] = size*rng.Float64(), size*rng.Float64()
			sup[j] = math.Floor(rng.Float64() * 2000)
		}
		catchment := 300 + 2000*rng.Float64()
		var zones []analytics.FCAZone
		switch rng.IntN(3) {
		case 1:
			zones = analytics.DefaultE2SFCAZones(catchment)
		case 2: // bands ending short of the catchment: the rest weighs 0
			zones = []analytics.FCAZone{{Upto: catchment / 4, Weight: 1}, {Upto: catchment / 2, Weight: 0.5}}
		}
		// The pairs in reach, in random order, with a few beyond the
		// catchment that must be ignored.
		var pairs []analytics.FCAPair
		for i := range nd {
			for j := range ns {
				d := math.Hypot(dx[i]-sx[j], dy[i]-sy[j])
				if d <= catchment || rng.IntN(20) == 0 {
					pairs = append(pairs, analytics.FCAPair{Demand: int32(i), Supply: int32(j), Dist: d})
				}
			}
		}
		rng.Shuffle(len(pairs), func(a, b int) { pairs[a], pairs[b] = pairs[b], pairs[a] })

		res, err := analytics.TwoStepFCA(pop, sup, pairs, catchment, zones)
		if err != nil {
			t.Fatal(err)
		}
		wantR, wantA, noDemand := bruteFCA(dx, dy, pop, sx, sy, sup, catchment, zones)
		checkFCA(t, "R", res.SupplyRatio, wantR, 1e-12)
		checkFCA(t, "A", res.Access, wantA, 1e-12)
		if !fcaEqualBools(res.NoDemand, noDemand) {
			t.Fatalf("round %d: NoDemand %v, brute force %v", round, res.NoDemand, noDemand)
		}

		// Conservation: the supply of every site with demand in reach is
		// shared out exactly, Σᵢ Pᵢ Aᵢ = Σⱼ Sⱼ over those sites.
		shared, served := 0.0, 0.0
		for i := range pop {
			shared += pop[i] * res.Access[i]
		}
		for j := range sup {
			if !res.NoDemand[j] {
				served += sup[j]
			}
		}
		if math.Abs(shared-served) > 1e-9*max(1, served) {
			t.Fatalf("round %d: Σ P·A = %v, Σ S over sites with demand in reach = %v", round, shared, served)
		}
	}
}

func TestTwoStepFCAInvalid(t *testing.T) {
	pop, sup := []float64{1, 2}, []float64{3}
	ok := []analytics.FCAPair{{Demand: 0, Supply: 0, Dist: 1}}
	for name, c := range map[string]struct {
		pop, sup  []float64
		pairs     []analytics.FCAPair
		catchment float64
		zones     []analytics.FCAZone
	}{
		"catchment 0":          {pop, sup, ok, 0, nil},
		"catchment NaN":        {pop, sup, ok, math.NaN(), nil},
		"negative population":  {[]float64{-1, 2}, sup, ok, 10, nil},
		"NaN population":       {[]float64{math.NaN(), 2}, sup, ok, 10, nil},
		"infinite supply":      {pop, []float64{math.Inf(1)}, ok, 10, nil},
		"demand out of range":  {pop, sup, []analytics.FCAPair{{Demand: 2, Supply: 0, Dist: 1}}, 10, nil},
		"supply out of range":  {pop, sup, []analytics.FCAPair{{Demand: 0, Supply: 1, Dist: 1}}, 10, nil},
		"negative index":       {pop, sup, []analytics.FCAPair{{Demand: -1, Supply: 0, Dist: 1}}, 10, nil},
		"negative distance":    {pop, sup, []analytics.FCAPair{{Demand: 0, Supply: 0, Dist: -1}}, 10, nil},
		"NaN distance":         {pop, sup, []analytics.FCAPair{{Demand: 0, Supply: 0, Dist: math.NaN()}}, 10, nil},
		"repeated pair":        {pop, sup, append(ok, ok[0]), 10, nil},
		"zones not increasing": {pop, sup, ok, 10, []analytics.FCAZone{{Upto: 5, Weight: 1}, {Upto: 5, Weight: 0.5}}},
		"zone at 0":            {pop, sup, ok, 10, []analytics.FCAZone{{Upto: 0, Weight: 1}}},
		"negative zone weight": {pop, sup, ok, 10, []analytics.FCAZone{{Upto: 5, Weight: -1}}},
	} {
		_, err := analytics.TwoStepFCA(c.pop, c.sup, c.pairs, c.catchment, c.zones)
		var ge *geo.Error
		if !errors.As(err, &ge) || ge.Code != geo.EInvalid {
			t.Errorf("%s: got %v, want an EInvalid *geo.Error", name, err)
		}
	}
}

// BenchmarkTwoStepFCA is shelters for every grid cell of the city: 1,800
// cells, 400 shelters, every cell–shelter pair within 2.5 km (a fixed
// shelter's catchment) of a 40 × 45 km town area, about 5% of all pairs.
func BenchmarkTwoStepFCA(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 9))
	const nd, ns, catchment = 1800, 400, 2500.0
	pop, sup := make([]float64, nd), make([]float64, ns)
	dx, dy, sx, sy := make([]float64, nd), make([]float64, nd), make([]float64, ns), make([]float64, ns)
	for i := range nd {
		dx[i], dy[i], pop[i] = 40000*rng.Float64(), 45000*rng.Float64(), float64(rng.IntN(3000))
	}
	for j := range ns {
		sx[j], sy[j], sup[j] = 40000*rng.Float64(), 45000*rng.Float64(), float64(rng.IntN(5000))
	}
	var pairs []analytics.FCAPair
	for i := range nd {
		for j := range ns {
			if d := math.Hypot(dx[i]-sx[j], dy[i]-sy[j]); d <= catchment {
				pairs = append(pairs, analytics.FCAPair{Demand: int32(i), Supply: int32(j), Dist: d})
			}
		}
	}
	zones := analytics.DefaultE2SFCAZones(catchment)
	for b.Loop() {
		if _, err := analytics.TwoStepFCA(pop, sup, pairs, catchment, zones); err != nil {
			b.Fatal(err)
		}
	}
}
