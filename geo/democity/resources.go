package democity

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// pick returns an index drawn with probability proportional to weights.
func pick(rng *rand.Rand, weights []float64) int {
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	r := rng.Float64() * sum
	for i, w := range weights {
		if r < w {
			return i
		}
		r -= w
	}
	return len(weights) - 1
}

// between is a uniform integer in [lo, hi].
func between(rng *rand.Rand, lo, hi int) int { return lo + rng.IntN(hi-lo+1) }

// dateBetween is a uniform calendar date in [from, to).
func dateBetween(rng *rand.Rand, from, to time.Time) time.Time {
	d := from.Add(time.Duration(rng.Int64N(int64(to.Sub(from)))))
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
}

// pointHash buckets points to keep new ones away from those already placed.
type pointHash struct {
	size float64
	m    map[[2]int64][]vec
}

func newPointHash(size float64) *pointHash {
	return &pointHash{size: size, m: map[[2]int64][]vec{}}
}

func (h *pointHash) key(p vec) [2]int64 {
	return [2]int64{int64(math.Floor(p.X / h.size)), int64(math.Floor(p.Y / h.size))}
}

func (h *pointHash) near(p vec, r float64) bool {
	k := h.key(p)
	for y := k[1] - 1; y <= k[1]+1; y++ {
		for x := k[0] - 1; x <= k[0]+1; x++ {
			for _, q := range h.m[[2]int64{x, y}] {
				if p.dist2(q) < r*r {
					return true
				}
			}
		}
	}
	return false
}

func (h *pointHash) add(p vec) { k := h.key(p); h.m[k] = append(h.m[k], p) }

// hydrants places municipal hydrants along the roads of the built-up cores,
// 80–120 m apart at the roadside (GB 50974 asks for at most 120 m), on both
// sides of roads wider than 60 m (mostly), and a few in villages. Then it
// cuts real gaps, whole clusters removed, until the count is at the scale's
// target, and puts about 5% out of service.
func (c *City) hydrants(rng *rand.Rand) {
	g := c.g
	rp := c.rp
	type cand struct {
		p    vec
		cell int32
	}
	var cands []cand
	placed := newPointHash(60)
	try := func(p vec) {
		if placed.near(p, 55) || g.inRiver(p, 5) {
			return
		}
		cell := g.locate(p)
		if cell < 0 {
			return
		}
		placed.add(p)
		cands = append(cands, cand{p, cell})
	}
	for _, ch := range c.chains {
		a := c.net.attrs[ch.attr]
		pts := make([]vec, len(ch.nodes))
		for i, n := range ch.nodes {
			pts[i] = c.net.nodes[n]
		}
		next := 20 + 40*rng.Float64()
		walked := 0.0
		side := 1.0
		for i := 1; i < len(pts); i++ {
			seg := pts[i].sub(pts[i-1])
			l := seg.len()
			for next <= walked+l {
				p := pts[i-1].lerp(pts[i], (next-walked)/l)
				next += 80 + 40*rng.Float64()
				if rp.coreDepth(p) < -0.05 {
					continue
				}
				off := seg.perp().unit().scale(a.width/2 + 1.5)
				if a.width > 60 {
					try(p.add(off))
					if rng.Float64() > 0.12 { // a few stretches lack the far side
						try(p.sub(off))
					}
					continue
				}
				try(p.add(off.scale(side)))
				side = -side
			}
			walked += l
		}
	}
	// Villages: a hydrant or two by the village hall.
	for _, cm := range g.comms {
		if cm.kind != "village" || rng.Float64() > 0.35 {
			continue
		}
		for range between(rng, 1, 2) {
			try(cm.centre.add(vec{rng.NormFloat64() * 120, rng.NormFloat64() * 120}))
		}
	}
	// Gaps: remove whole clusters until the target is met, and at least
	// 10% of what was placed, so that the gap analysis has something to find.
	keep := make([]bool, len(cands))
	for i := range keep {
		keep[i] = true
	}
	n := len(cands)
	limit := min(c.Scale.Hydrants, int(float64(n)*0.9))
	for n > limit {
		centre := cands[rng.IntN(len(cands))].p
		r := 250 + 300*rng.Float64()
		for i, h := range cands {
			if keep[i] && h.p.dist2(centre) < r*r {
				keep[i] = false
				n--
			}
		}
	}
	recent := Reference.AddDate(-1, 0, 0)
	oldest := time.Date(1998, 1, 1, 0, 0, 0, 0, china)
	for i, h := range cands {
		if !keep[i] {
			continue
		}
		id := int64(len(c.Hydrants) + 1)
		var installed time.Time
		if rng.Float64() < 0.084 { // Rui'an added 336 of ~4,000 in the last year
			installed = dateBetween(rng, recent, Reference)
		} else {
			// More recent years installed more: a triangular distribution.
			span := recent.Sub(oldest)
			installed = dateBetween(rng, oldest.Add(time.Duration(math.Sqrt(rng.Float64())*float64(span))), recent)
		}
		status := "in_service"
		r := rng.Float64()
		age := Reference.Sub(installed).Hours() / 24 / 365
		switch {
		case r < 0.02+0.002*age:
			status = "faulty"
		case r < 0.03+0.003*age:
			status = "out_of_service"
		}
		c.Hydrants = append(c.Hydrants, Hydrant{
			ID: id, ExtID: fmt.Sprintf("demo-hydrant-%06d", id),
			Kind:   []string{"above_ground", "underground", "wall"}[pick(rng, []float64{62, 28, 10})],
			Status: status, InstalledAt: installed, CellID: int64(h.cell) + 1, Point: city.lonLat(h.p),
		})
	}
}

// shortName is a town's name without 街道/镇/乡.
func shortName(name string) string {
	for _, s := range []string{"街道", "镇", "乡"} {
		if strings.HasSuffix(name, s) {
			return strings.TrimSuffix(name, s)
		}
	}
	return name
}

// nodeNear returns the road node nearest to p that lies in a grid cell, or
// p itself (and its cell) where there is no road (the island).
func (c *City) nodeNear(p vec, maxDist float64) (vec, int32) {
	type cand struct {
		q vec
		d float64
	}
	var cs []cand
	for i, q := range c.net.nodes {
		if c.nodeID[i] != 0 {
			if d := q.dist(p); d < maxDist {
				cs = append(cs, cand{q, d})
			}
		}
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return cmp.Compare(a.d, b.d) })
	for _, x := range cs {
		if cell := c.g.locate(x.q); cell >= 0 {
			return x.q, cell
		}
	}
	return p, c.g.locate(p)
}

// fullTimeStations are the 17 full-time fire-rescue stations (专职消防队),
// by town, with an offset from the centre (fraction of the core radius).
var fullTimeStations = []struct {
	town, name string
	off        float64
}{
	{"安阳街道", "安阳特勤消防救援站", 0.2}, {"玉海街道", "玉海消防救援站", 0.2}, {"锦湖街道", "锦湖消防救援站", 0.3},
	{"东山街道", "东山消防救援站", 0.3}, {"上望街道", "上望消防救援站", 0.3}, {"莘塍街道", "莘塍消防救援站", 0.3},
	{"汀田街道", "汀田消防救援站", 0.3}, {"飞云街道", "飞云消防救援站", 0.3}, {"仙降街道", "仙降消防救援站", 0.3},
	{"南滨街道", "南滨消防救援站", 0.3}, {"塘下镇", "塘下消防救援站", 0.2}, {"塘下镇", "塘下韩田消防救援站", 0.8},
	{"马屿镇", "马屿消防救援站", 0.3}, {"陶山镇", "陶山消防救援站", 0.3}, {"湖岭镇", "湖岭消防救援站", 0.3},
	{"高楼镇", "高楼消防救援站", 0.3}, {"曹村镇", "曹村消防救援站", 0.3},
}

// forestTowns host the forest fire teams (森林消防队) in the western hills.
var forestTowns = []string{"湖岭镇", "高楼镇", "林川镇", "芳庄乡", "平阳坑镇", "陶山镇"}

func (c *City) townIndex(name string) int {
	for i, t := range c.g.towns {
		if t.spec.name == name {
			return i
		}
	}
	return -1
}

// stations places 17 full-time stations, 24 volunteer teams, 60 micro
// stations in communities and 6 forest teams, on road nodes so that routing
// starts where they stand.
func (c *City) stations(rng *rand.Rand) {
	g := c.g
	// add places a station at the road node nearest to where() (drawn
	// again if that falls outside the territory).
	add := func(name, kind string, where func() vec, vehicles, personnel int) bool {
		var q vec
		cell := int32(-1)
		for try := 0; try < 30 && cell < 0; try++ {
			q, cell = c.nodeNear(where(), 1500)
		}
		if cell < 0 {
			return false
		}
		id := int64(len(c.Stations) + 1)
		c.Stations = append(c.Stations, Station{ID: id, ExtID: fmt.Sprintf("demo-station-%03d", id), Name: name, Kind: kind,
			Vehicles: vehicles, Personnel: personnel, CellID: int64(cell) + 1, Point: city.lonLat(q)})
		return true
	}
	around := func(t int, frac float64) func() vec {
		return func() vec {
			a := rng.Float64() * 2 * math.Pi
			return g.towns[t].centre.add(vec{math.Cos(a), math.Sin(a)}.scale(frac * g.towns[t].core))
		}
	}
	at := func(p vec) func() vec { return func() vec { return p } }
	hasFullTime := map[int]bool{}
	for _, s := range fullTimeStations {
		t := c.townIndex(s.town)
		hasFullTime[t] = true
		add(s.name, "full_time", around(t, s.off), between(rng, 3, 7), between(rng, 18, 45))
	}
	// Volunteer teams: every town without a full-time station, then the
	// largest villages elsewhere, one per town at most, to 24.
	volunteers := 0
	for t, tw := range g.towns {
		if !hasFullTime[t] {
			if add(shortName(tw.spec.name)+"专职消防队", "volunteer", around(t, 0.3), between(rng, 1, 3), between(rng, 6, 20)) {
				volunteers++
			}
		}
	}
	villages := c.communitiesBy(func(cm gcomm) bool { return cm.kind == "village" })
	used := map[int32]bool{}
	for _, ci := range villages {
		if volunteers >= 24 {
			break
		}
		cm := g.comms[ci]
		if used[cm.town] || g.towns[cm.town].spec.island {
			continue
		}
		if add(cm.name+"志愿消防队", "volunteer", at(cm.centre), between(rng, 1, 2), between(rng, 6, 15)) {
			used[cm.town] = true
			volunteers++
		}
	}
	// Micro stations (微型消防站) in the 60 most populous communities.
	micro := 0
	for _, ci := range c.communitiesBy(func(gcomm) bool { return true }) {
		if micro >= 60 {
			break
		}
		cm := g.comms[ci]
		if add(cm.name+"微型消防站", "micro", at(cm.centre), between(rng, 0, 1), between(rng, 3, 8)) {
			micro++
		}
	}
	for _, name := range forestTowns {
		t := c.townIndex(name)
		add(shortName(name)+"森林消防队", "forest", around(t, 1.5), between(rng, 1, 3), between(rng, 12, 30))
	}
}

// communitiesBy lists the communities that pass keep, most populous first.
func (c *City) communitiesBy(keep func(gcomm) bool) []int32 {
	var out []int32
	for i, cm := range c.g.comms {
		if keep(cm) {
			out = append(out, int32(i))
		}
	}
	slices.SortStableFunc(out, func(a, b int32) int { return cmp.Compare(c.g.comms[b].pop, c.g.comms[a].pop) })
	return out
}

var countyShelters = []string{"瑞安市体育中心", "瑞安中学", "瑞安市人民广场", "安阳实验中学", "瑞安市文化中心",
	"瑞安市职业中专", "塘下中学", "塘下体育馆", "莘塍中学", "玉海实验中学", "东山体育公园", "飞云中学"}

var countyShelterTowns = []string{"安阳街道", "安阳街道", "玉海街道", "安阳街道", "锦湖街道", "锦湖街道",
	"塘下镇", "塘下镇", "莘塍街道", "玉海街道", "东山街道", "飞云街道"}

// shelters places ~480 emergency shelters: 12 county centres, two or three
// township centres per town and one village point in most communities; 105
// are standardised. Capacities honour Zhejiang's minima (county ≥ 200,
// township ≥ 100, village ≥ 50) except for a few, and a few offer less than
// 1 m² per person, for the analytics to find.
func (c *City) shelters(rng *rand.Rand) {
	g := c.g
	type plan struct {
		name, level string
		near        vec
		spread      float64
		comm        int32 // -1: anywhere in the territory
	}
	var plans []plan
	for i, name := range countyShelters {
		t := c.townIndex(countyShelterTowns[i])
		plans = append(plans, plan{name + "避灾安置场所", "county", g.towns[t].centre, 0.5 * g.towns[t].core, -1})
	}
	for _, tw := range g.towns {
		short := shortName(tw.spec.name)
		names := []string{tw.spec.name + "中心小学", tw.spec.name + "文化中心", short + "初级中学"}
		n := 2
		if tw.pop > 60000 {
			n = 3
		}
		for _, name := range names[:n] {
			plans = append(plans, plan{name + "避灾安置场所", "township", tw.centre, 0.5 * tw.core, -1})
		}
	}
	for ci, cm := range g.comms {
		if rng.Float64() > 0.89 {
			continue
		}
		hall := []string{"文化礼堂", "老年活动中心", "村委会"}[pick(rng, []float64{6, 3, 1})]
		if cm.kind == "community" {
			hall = []string{"社区服务中心", "文化家园"}[rng.IntN(2)]
		}
		plans = append(plans, plan{cm.name + hall + "避灾安置点", "village", cm.centre, 150, int32(ci)})
	}
	// Standardised: every county centre, most township centres, some
	// village points: 105 in all (Rui'an's count).
	var township, village []int
	for i, p := range plans {
		switch p.level {
		case "township":
			township = append(township, i)
		case "village":
			village = append(village, i)
		}
	}
	standard := map[int]bool{}
	for i, p := range plans {
		if p.level == "county" {
			standard[i] = true
		}
	}
	rng.Shuffle(len(township), func(i, j int) { township[i], township[j] = township[j], township[i] })
	rng.Shuffle(len(village), func(i, j int) { village[i], village[j] = village[j], village[i] })
	for _, i := range append(township, village...) {
		if len(standard) >= 105 {
			break
		}
		standard[i] = true
	}
	for i, p := range plans {
		var q vec
		cell := int32(-1)
		for try := 0; try < 50 && cell < 0; try++ {
			q = p.near.add(vec{rng.NormFloat64(), rng.NormFloat64()}.scale(p.spread))
			if cl := g.locate(q); cl >= 0 && !g.inRiver(q, 20) && (p.comm < 0 || g.cells[cl].comm == p.comm) {
				cell = cl
			}
		}
		if cell < 0 {
			q = p.near
			if p.comm >= 0 {
				q = g.sites[g.comms[p.comm].seed].p
			}
			if cell = g.locate(q); cell < 0 {
				continue
			}
		}
		var lo, hi, least int
		switch p.level {
		case "county":
			lo, hi, least = 300, 3000, 200
		case "township":
			lo, hi, least = 120, 800, 100
		default:
			lo, hi, least = 50, 300, 50
		}
		capacity := between(rng, lo, hi)
		if rng.Float64() < 0.03 {
			capacity = between(rng, least*2/5, least-1) // below the provincial minimum
		}
		perPerson := 1.5 + 2.5*rng.Float64()
		if rng.Float64() < 0.06 {
			perPerson = 0.6 + 0.4*rng.Float64() // overcrowded: under 1 m² a person
		}
		id := int64(len(c.Shelters) + 1)
		c.Shelters = append(c.Shelters, Shelter{
			ID: id, ExtID: fmt.Sprintf("demo-shelter-%04d", id), Name: p.name, Level: p.level,
			Capacity: capacity, AreaM2: math.Round(float64(capacity)*perPerson*10) / 10,
			Standardised: standard[i], CellID: int64(cell) + 1, Point: city.lonLat(q),
		})
	}
}
