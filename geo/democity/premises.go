package democity

import (
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// Premises, their inspections and their hazards are simulated together,
// premise by premise, in chunks of chunkSize premises with one random stream
// per chunk: a chunk can be regenerated on its own, so each table is
// streamed in its own pass without holding the others in memory.
const chunkSize = 1000

// kindSpec describes one kind of premise.
type kindSpec struct {
	kind      string
	share     float64 // percent of premises, before local adjustment
	floors    [2]int
	occupants [2]int
	visits    float64 // inspections a year
	hazards   float64 // mean hazards found per visit
	group     int     // hazard profile: groupRental, groupIndustry or groupPublic
}

const (
	groupRental = iota
	groupIndustry
	groupPublic
)

// kinds and their shares follow the campaigns: rental housing dominates,
// small and micro enterprises are ~8.6% (Rui'an counted 8,652 in a city of
// ~100,000 premises), the high-risk industrial kinds are rare.
var kinds = []kindSpec{
	{"rental_housing", 52, [2]int{2, 6}, [2]int{2, 9}, 2.0, 0.24, groupRental},
	{"group_rental", 6, [2]int{3, 8}, [2]int{10, 60}, 3.5, 0.45, groupRental},
	{"detached_house", 9, [2]int{3, 6}, [2]int{3, 15}, 2.2, 0.27, groupRental},
	{"mixed_use", 7, [2]int{2, 5}, [2]int{3, 12}, 3.0, 0.45, groupRental},
	{"basement", 2, [2]int{-2, -1}, [2]int{2, 15}, 3.0, 0.39, groupRental},
	{"small_enterprise", 8.6, [2]int{1, 4}, [2]int{3, 40}, 2.0, 0.33, groupIndustry},
	{"market", 0.15, [2]int{1, 3}, [2]int{20, 300}, 4.0, 0.39, groupPublic},
	{"shopping_centre", 0.05, [2]int{3, 8}, [2]int{200, 3000}, 4.0, 0.30, groupPublic},
	{"small_shop", 6, [2]int{1, 3}, [2]int{1, 6}, 1.5, 0.21, groupPublic},
	{"restaurant", 3, [2]int{1, 3}, [2]int{3, 30}, 1.8, 0.30, groupPublic},
	{"hotel", 0.7, [2]int{3, 12}, [2]int{5, 120}, 2.5, 0.24, groupPublic},
	{"internet_cafe", 0.3, [2]int{1, 3}, [2]int{5, 80}, 2.5, 0.30, groupPublic},
	{"clinic", 0.5, [2]int{1, 4}, [2]int{3, 30}, 1.5, 0.18, groupPublic},
	{"school", 0.4, [2]int{2, 5}, [2]int{100, 2000}, 3.0, 0.15, groupPublic},
	{"factory", 3.2, [2]int{1, 6}, [2]int{20, 600}, 2.5, 0.39, groupIndustry},
	{"explosive_dust", 0.15, [2]int{1, 3}, [2]int{10, 120}, 4.0, 0.48, groupIndustry},
	{"spray_painting", 0.3, [2]int{1, 2}, [2]int{5, 60}, 4.0, 0.48, groupIndustry},
	{"confined_space", 0.2, [2]int{1, 1}, [2]int{5, 50}, 4.0, 0.45, groupIndustry},
	{"ammonia_refrigeration", 0.05, [2]int{1, 2}, [2]int{10, 80}, 4.0, 0.48, groupIndustry},
	{"ship_repair", 0.05, [2]int{1, 1}, [2]int{10, 150}, 3.0, 0.48, groupIndustry},
	{"flammable_chemicals", 0.1, [2]int{1, 3}, [2]int{10, 100}, 4.0, 0.51, groupIndustry},
}

// rentalKind reports whether kind carries a red/yellow/green tag.
func rentalKind(kind string) bool {
	switch kind {
	case "rental_housing", "group_rental", "detached_house", "mixed_use", "basement":
		return true
	}
	return false
}

// hazardWeights are the category shares per hazard profile, in the order of
// geo.HazardCategories: blocked_escape_route, blocked_fire_lane,
// e_bike_charging, hot_work, unsafe_wiring, missing_extinguisher,
// missing_smoke_alarm, illegal_construction, flammable_storage, locked_exit,
// overcrowding.
var (
	hazardCategories = []string{"blocked_escape_route", "blocked_fire_lane", "e_bike_charging", "hot_work",
		"unsafe_wiring", "missing_extinguisher", "missing_smoke_alarm", "illegal_construction",
		"flammable_storage", "locked_exit", "overcrowding"}
	hazardWeights = [3][]float64{
		groupRental:   {14, 4, 24, 1, 16, 12, 12, 6, 5, 3, 3},
		groupIndustry: {12, 8, 6, 12, 16, 14, 6, 6, 12, 6, 2},
		groupPublic:   {16, 8, 8, 4, 16, 16, 10, 4, 6, 8, 4},
	}
)

// campaigns are the months of concentrated inspection (the hundred-day
// campaign, the winter fire season, the summer check): visits are more
// frequent then, which shows in the trend of hazards found.
var campaigns = []struct {
	from, to time.Time
	factor   float64
}{
	{time.Date(2025, 4, 1, 0, 0, 0, 0, china), time.Date(2025, 7, 10, 0, 0, 0, 0, china), 1.8},
	{time.Date(2025, 11, 15, 0, 0, 0, 0, china), time.Date(2026, 2, 15, 0, 0, 0, 0, china), 1.4},
	{time.Date(2026, 6, 1, 0, 0, 0, 0, china), time.Date(2026, 9, 1, 0, 0, 0, 0, china), 1.5},
}

const maxCampaign = 1.8

func campaign(t time.Time) float64 {
	for _, c := range campaigns {
		if !t.Before(c.from) && t.Before(c.to) {
			return c.factor
		}
	}
	return 1
}

// window is the two years of history before Reference; inspections are
// kept for the last of them.
var (
	windowStart     = Reference.AddDate(-2, 0, 0)
	inspectionStart = Reference.AddDate(-1, 0, 0)
)

// hotspot is a cluster of crowded rentals with many hazards (塘下's rental
// blocks above all), for the hot-spot analysis to find.
type hotspot struct {
	centre vec
	r      float64
}

// premiseModel is what the premise simulation needs from the city.
type premiseModel struct {
	c          *City
	cellCum    []float64 // cumulative sampling weight of the cells
	hot        []hotspot
	workers    []string  // per cell, its grid worker
	diligence  []float64 // per cell, how often its worker visits (a few cells are blind spots)
	inspectors []string  // fire inspectors of the brigade
	coastal    []bool    // per town: ship repair is possible
}

var hotspotTowns = []string{"塘下镇", "塘下镇", "塘下镇", "莘塍街道", "仙降街道", "汀田街道"}

func newPremiseModel(c *City, rng *rand.Rand) *premiseModel {
	g := c.g
	m := &premiseModel{c: c, coastal: make([]bool, len(g.towns))}
	sum := 0.0
	for _, gc := range g.cells {
		ind := g.towns[gc.town].spec.industry
		sum += float64(gc.pop) * (0.7 + 0.3*ind) * gc.land
		m.cellCum = append(m.cellCum, sum)
	}
	for _, name := range hotspotTowns {
		t := c.townIndex(name)
		tw := g.towns[t]
		for try := 0; try < 100; try++ {
			a := rng.Float64() * 2 * math.Pi
			p := tw.centre.add(vec{math.Cos(a), math.Sin(a)}.scale(rng.Float64() * 0.6 * tw.core))
			if g.locate(p) >= 0 && !g.inRiver(p, 100) {
				m.hot = append(m.hot, hotspot{p, 250 + 200*rng.Float64()})
				break
			}
		}
	}
	for range g.cells {
		m.workers = append(m.workers, personName(rng))
		d := 0.8 + 0.5*rng.Float64()
		if rng.Float64() < 0.08 {
			d = 0.15 // a blind spot: the "full coverage" check should find it
		}
		m.diligence = append(m.diligence, d)
	}
	for range 12 {
		m.inspectors = append(m.inspectors, personName(rng))
	}
	for _, name := range []string{"上望街道", "南滨街道", "飞云街道", "东山街道", "北麂乡"} {
		m.coastal[c.townIndex(name)] = true
	}
	return m
}

func personName(rng *rand.Rand) string {
	s := string(surnames[rng.IntN(len(surnames))]) + string(givenChars[rng.IntN(len(givenChars))])
	if rng.Float64() < 0.7 {
		s += string(givenChars[rng.IntN(len(givenChars))])
	}
	return s
}

// chunk is the premises of one chunk with their hazards and inspections.
// Hazard and inspection IDs are left 0: they are numbered in stream order.
type chunk struct {
	premises    []Premise
	hazards     []Hazard
	inspections []Inspection
}

func (m *premiseModel) chunks() int {
	return (m.c.Scale.Premises + chunkSize - 1) / chunkSize
}

// locatePremise draws a premise's position: most in proportion to the
// cells' populations, clustered about the cell's centre in the country and
// spread out in town; some in the hot spots.
func (m *premiseModel) locatePremise(rng *rand.Rand) (vec, int32, bool) {
	g := m.c.g
	if len(m.hot) > 0 && rng.Float64() < 0.05 {
		h := m.hot[rng.IntN(len(m.hot))]
		for range 20 {
			p := h.centre.add(vec{rng.NormFloat64(), rng.NormFloat64()}.scale(h.r / 2))
			if cell := g.locate(p); cell >= 0 && !g.inRiver(p, 10) {
				return p, cell, true
			}
		}
	}
	for {
		r := rng.Float64() * m.cellCum[len(m.cellCum)-1]
		ci := searchFloat(m.cellCum, r)
		gc := &g.cells[ci]
		clustered := rng.Float64() < smoothstep(3000, 300, gc.density)*0.7
		for range 20 {
			var p vec
			if clustered {
				p = g.sites[gc.site].p.add(vec{rng.NormFloat64(), rng.NormFloat64()}.scale(0.3 * math.Sqrt(gc.area)))
			} else {
				p = gc.sample(rng)
			}
			if g.locate(p) == int32(ci) && !g.inRiver(p, 10) {
				return p, int32(ci), false
			}
		}
	}
}

func searchFloat(cum []float64, r float64) int {
	lo, hi := 0, len(cum)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if cum[mid] > r {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// chooseKind draws a premise kind given where it is: detached houses in the
// country, basements and shops in town, factories where industry is, ship
// repair only by the water, crowded rentals in the hot spots.
func (m *premiseModel) chooseKind(rng *rand.Rand, cell int32, hot bool) int {
	g := m.c.g
	gc := g.cells[cell]
	if hot {
		return pick(rng, hotKinds)
	}
	u := smoothstep(500, 6000, gc.density)
	ind := g.towns[gc.town].spec.industry
	w := make([]float64, len(kinds))
	for i, k := range kinds {
		f := 1.0
		switch k.kind {
		case "group_rental":
			f = 0.5 + 0.5*ind
		case "detached_house":
			f = 1.6 - 1.2*u
		case "basement":
			f = 0.3 + 1.4*u
		case "small_enterprise":
			f = ind
		case "factory", "explosive_dust", "spray_painting", "confined_space", "flammable_chemicals", "ammonia_refrigeration":
			f = ind * (1.2 - 0.6*u)
		case "small_shop", "restaurant", "hotel", "internet_cafe":
			f = 0.6 + 0.8*u
		case "shopping_centre":
			f = 2 * u * u
		case "ship_repair":
			f = 0
			if m.coastal[gc.town] {
				f = 5
			}
		}
		w[i] = k.share * f
	}
	return pick(rng, w)
}

// hotKinds are the kinds in the hot spots (indexes into kinds' order).
var hotKinds = func() []float64 {
	w := make([]float64, len(kinds))
	for i, k := range kinds {
		switch k.kind {
		case "rental_housing":
			w[i] = 40
		case "group_rental":
			w[i] = 35
		case "mixed_use":
			w[i] = 15
		case "small_enterprise":
			w[i] = 10
		}
	}
	return w
}()

var industryWords = []string{"汽摩配件", "鞋业", "机械", "塑料制品", "包装", "电器", "服装", "五金", "阀门", "印刷"}

func (m *premiseModel) premiseName(rng *rand.Rand, kind string, comm *gcomm, town *gtown) string {
	firm := firmWords[rng.IntN(len(firmWords))]
	short := shortName(town.spec.name)
	switch kind {
	case "rental_housing":
		return personName(rng) + "出租房"
	case "group_rental":
		return personName(rng) + "群租房"
	case "detached_house":
		return personName(rng) + "自建房"
	case "mixed_use":
		return firm + []string{"五金店", "服装加工点", "小吃店", "汽配店"}[rng.IntN(4)] + "(住人)"
	case "basement":
		return firm + "大厦地下室"
	case "small_enterprise":
		return "瑞安市" + firm + industryWords[rng.IntN(len(industryWords))] + "有限公司"
	case "market":
		return short + "农贸市场"
	case "shopping_centre":
		return firm + []string{"购物中心", "广场", "商城"}[rng.IntN(3)]
	case "small_shop":
		return firm + []string{"便利店", "超市", "五金店", "理发店", "水果店"}[rng.IntN(5)]
	case "restaurant":
		return firm + []string{"小吃店", "饭店", "面馆", "海鲜楼"}[rng.IntN(4)]
	case "hotel":
		return firm + []string{"宾馆", "酒店", "旅馆", "民宿"}[rng.IntN(4)]
	case "internet_cafe":
		return firm + "网吧"
	case "clinic":
		if rng.IntN(2) == 0 {
			return comm.name + "卫生室"
		}
		return firm + "诊所"
	case "school":
		if rng.IntN(2) == 0 {
			return firm + "幼儿园"
		}
		return short + "第" + strconv.Itoa(between(rng, 1, 6)) + "小学"
	case "factory":
		return "瑞安市" + firm + industryWords[rng.IntN(len(industryWords))] + "厂"
	case "explosive_dust":
		return firm + "铝制品抛光厂"
	case "spray_painting":
		return firm + []string{"汽车喷漆厂", "家具喷涂厂"}[rng.IntN(2)]
	case "confined_space":
		return firm + []string{"食品酿造厂", "污水处理站"}[rng.IntN(2)]
	case "ammonia_refrigeration":
		return firm + "冷链仓储有限公司"
	case "ship_repair":
		return firm + "船舶修造厂"
	case "flammable_chemicals":
		return firm + "化工有限公司"
	}
	return firm
}

func address(rng *rand.Rand, comm *gcomm, town *gtown) string {
	road := roadWords[rng.IntN(len(roadWords))] + []string{"路", "街", "巷"}[rng.IntN(3)]
	return "瑞安市" + town.spec.name + comm.name + road + strconv.Itoa(between(rng, 1, 300)) + "号"
}

// workTime is a time of day in working hours on the day of t.
func workTime(rng *rand.Rand, t time.Time) time.Time {
	t = t.In(china)
	day := time.Date(t.Year(), t.Month(), t.Day(), 8, 30, 0, 0, china)
	return day.Add(time.Duration(rng.IntN(9*3600)) * time.Second)
}

// date is the calendar date of t in China, as a UTC midnight.
func date(t time.Time) time.Time {
	t = t.In(china)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// generate simulates chunk k.
func (m *premiseModel) generate(k int) chunk {
	c := m.c
	g := c.g
	rng := newRand(c.Seed, streamPremises<<32|uint64(k))
	first := k * chunkSize
	n := min(chunkSize, c.Scale.Premises-first)
	out := chunk{premises: make([]Premise, 0, n)}
	windowDays := Reference.Sub(windowStart).Hours() / 24
	for i := range n {
		id := int64(first + i + 1)
		p, cell, hot := m.locatePremise(rng)
		gc := &g.cells[cell]
		comm, town := &g.comms[gc.comm], &g.towns[gc.town]
		ks := kinds[m.chooseKind(rng, cell, hot)]
		pr := Premise{
			ID: id, ExtID: "demo-premise-" + pad7(id), Kind: ks.kind,
			Floors:    between(rng, ks.floors[0], ks.floors[1]),
			Occupants: between(rng, ks.occupants[0], ks.occupants[1]),
			CellID:    int64(cell) + 1, Point: city.lonLat(p),
		}
		if ks.kind == "rental_housing" && gc.density > 8000 && rng.Float64() < 0.3 {
			pr.Floors = between(rng, 7, 18) // flats in the old town
		}
		pr.Name = m.premiseName(rng, ks.kind, comm, town)
		pr.Address = address(rng, comm, town)
		// The tag, and how risky the premise is.
		risk := math.Exp(0.6*rng.NormFloat64() - 0.18)
		if hot {
			risk *= 2
		}
		tagRisk := 1.0
		if rentalKind(ks.kind) {
			red, yellow := 0.07, 0.21
			switch {
			case hot:
				red, yellow = 0.25, 0.35
			case ks.kind == "group_rental" || ks.kind == "basement" || ks.kind == "mixed_use":
				red, yellow = 0.11, 0.27
			}
			switch r := rng.Float64(); {
			case r < red:
				pr.Tag, tagRisk = "red", 2.5
			case r < red+yellow:
				pr.Tag, tagRisk = "yellow", 1.5
			default:
				pr.Tag, tagRisk = "green", 0.7
			}
		}
		// Visits: a Poisson process over the two years, denser in campaigns;
		// a few premises were never visited, some are neglected.
		rate := ks.visits * (0.6 + 0.8*rng.Float64()) * m.diligence[cell]
		switch r := rng.Float64(); {
		case r < 0.03:
			rate = 0
		case r < 0.07:
			rate *= 0.15
		}
		if pr.Tag == "red" {
			rate *= 1.8
		}
		var visits []time.Time
		if rate > 0 {
			perDay := rate / 365 * maxCampaign
			for t := rng.ExpFloat64() / perDay; t < windowDays; t += rng.ExpFloat64() / perDay {
				at := windowStart.Add(time.Duration(t * 24 * float64(time.Hour)))
				if rng.Float64() < campaign(at)/maxCampaign {
					visits = append(visits, workTime(rng, at))
				}
			}
		}
		slices.SortFunc(visits, time.Time.Compare)
		for i := 1; i < len(visits); i++ {
			// Two visits never share a time: an inspection's hazards are
			// those reported at its time.
			if !visits[i].After(visits[i-1]) {
				visits[i] = visits[i-1].Add(time.Minute)
			}
		}
		worker := m.workers[cell]
		for _, at := range visits {
			if !at.Before(Reference) {
				continue
			}
			elapsed := at.Sub(windowStart).Hours() / 24 / windowDays
			mu := ks.hazards * risk * tagRisk * (1.3 - 0.6*elapsed)
			found := min(6, poisson(rng, mu))
			for range found {
				out.hazards = append(out.hazards, m.hazard(rng, pr, ks, hot, at))
			}
			pr.LastInspectedAt = at
			if at.Before(inspectionStart) {
				continue
			}
			inspector := worker
			if rng.Float64() < 0.2 {
				inspector = m.inspectors[rng.IntN(len(m.inspectors))]
			}
			result := "pass"
			if found > 0 {
				result = "hazards_found"
			}
			out.inspections = append(out.inspections, Inspection{
				PremiseID: id, InspectedAt: at, Inspector: inspector, Result: result,
				HazardsFound: found, CellID: pr.CellID, Point: pr.Point,
			})
		}
		out.premises = append(out.premises, pr)
	}
	return out
}

// hazard is one hazard found at pr on a visit at t, carried through its
// closed loop up to Reference: found, rectifying, closed (and, for listed
// major hazards, delisted).
func (m *premiseModel) hazard(rng *rand.Rand, pr Premise, ks kindSpec, hot bool, t time.Time) Hazard {
	w := hazardWeights[ks.group]
	if ks.kind == "group_rental" {
		w = append([]float64(nil), w...)
		w[10] *= 4 // overcrowding
	}
	h := Hazard{PremiseID: pr.ID, Category: hazardCategories[pick(rng, w)], Severity: "general",
		ReportedAt: t, CellID: pr.CellID, Point: pr.Point}
	major := 0.035
	if ks.group == groupIndustry && ks.kind != "small_enterprise" {
		major *= 2.5
	}
	if pr.Tag == "red" || hot {
		major *= 2
	}
	if rng.Float64() < major {
		h.Severity = "major"
		h.Listed = rng.Float64() < 0.022 // ~107 listed a year at the city scale
	}
	var days, median float64
	switch {
	case h.Listed:
		days, median = float64(between(rng, 60, 120)), 60
	case h.Severity == "major":
		days, median = float64(between(rng, 30, 90)), 25
	default:
		days, median = float64(between(rng, 7, 30)), 9
	}
	h.Deadline = date(t.Add(time.Duration(days * 24 * float64(time.Hour))))
	took := median * math.Exp(0.8*rng.NormFloat64())
	stubborn := rng.Float64() < 0.04
	closed := workTime(rng, t.Add(time.Duration(took*24*float64(time.Hour))))
	if !closed.After(t) {
		closed = t.Add(2 * time.Hour) // fixed on the spot
	}
	switch {
	case !stubborn && closed.Before(Reference):
		h.Status, h.ClosedAt = "closed", closed
	case Reference.Sub(t) > 3*24*time.Hour && rng.Float64() < 0.75:
		h.Status = "rectifying"
	default:
		h.Status = "open"
	}
	return h
}

// poisson draws from a Poisson distribution with mean mu (Knuth; mu is small).
func poisson(rng *rand.Rand, mu float64) int {
	l := math.Exp(-mu)
	k, p := 0, rng.Float64()
	for p > l {
		k++
		p *= rng.Float64()
	}
	return k
}

func pad7(id int64) string { return fmt.Sprintf("%07d", id) }

// chunkSeq yields the chunks in order. Chunks are generated ahead by
// parallel workers, since a premise's rows do not depend on earlier chunks.
func (m *premiseModel) chunkSeq() iter.Seq[chunk] {
	return func(yield func(chunk) bool) {
		n := m.chunks()
		const ahead = 4
		slots := make([]chan chunk, n)
		for k := range slots {
			slots[k] = make(chan chunk, 1)
		}
		sem := make(chan struct{}, ahead)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for k := range n {
				select {
				case sem <- struct{}{}:
				case <-stop:
					return
				}
				go func(k int) { slots[k] <- m.generate(k) }(k)
			}
		}()
		for k := range n {
			ch := <-slots[k]
			<-sem
			if !yield(ch) {
				return
			}
		}
	}
}

// Premises yields every premise, in ID order.
func (c *City) Premises() iter.Seq[Premise] {
	return func(yield func(Premise) bool) {
		for ch := range c.model.chunkSeq() {
			for _, p := range ch.premises {
				if !yield(p) {
					return
				}
			}
		}
	}
}

// Hazards yields every hazard, in ID order (by premise, then time).
func (c *City) Hazards() iter.Seq[Hazard] {
	return func(yield func(Hazard) bool) {
		id := int64(0)
		for ch := range c.model.chunkSeq() {
			for _, h := range ch.hazards {
				id++
				h.ID, h.ExtID = id, "demo-hazard-"+pad7(id)
				if !yield(h) {
					return
				}
			}
		}
	}
}

// Inspections yields every inspection of the last year, in ID order (by
// premise, then time).
func (c *City) Inspections() iter.Seq[Inspection] {
	return func(yield func(Inspection) bool) {
		id := int64(0)
		for ch := range c.model.chunkSeq() {
			for _, in := range ch.inspections {
				id++
				in.ID, in.ExtID = id, "demo-inspection-"+pad7(id)
				if !yield(in) {
					return
				}
			}
		}
	}
}
