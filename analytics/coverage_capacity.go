package analytics

import (
	"math"

	"github.com/onemap-city/onemap/geo"
)

// fcaOutcome is the 2SFCA (or E2SFCA) accessibility of every demand
// feature: places and site area per resident within reach.
type fcaOutcome struct {
	places, area FCAResult
	zones        []FCAZone
}

// capacity runs the two-step floating catchment method over the demand
// and supply of e with catchment t (geodesic metres), weighing the demand
// by its residents.
func (s *CoverageService) capacity(e *coverageEval, t float64, zones []FCAZone) (*fcaOutcome, error) {
	d := e.demand
	var pairs []FCAPair
	for i := range d.Len() {
		x, y := d.X[i], d.Y[i]
		e.grid.within(x, y, t*1.001, func(j int) {
			if dist := geodesic(x, y, e.supply[j].X, e.supply[j].Y); dist <= t {
				pairs = append(pairs, FCAPair{Demand: int32(i), Supply: int32(j), Dist: dist})
			}
		})
	}
	places, area := make([]float64, len(e.supply)), make([]float64, len(e.supply))
	for j, st := range e.supply {
		places[j], area[j] = st.Capacity, st.Area
	}
	pr, err := TwoStepFCA(d.W, places, pairs, t, zones)
	if err != nil {
		return nil, err
	}
	ar, err := TwoStepFCA(d.W, area, pairs, t, zones)
	if err != nil {
		return nil, err
	}
	return &fcaOutcome{places: pr, area: ar, zones: zones}, nil
}

// summary is the city-wide capacity check.
func (o *fcaOutcome) summary(p *geo.CoveragePreset, e *coverageEval) *CapacityCheck {
	c := &CapacityCheck{Method: "2SFCA", Catchment: o.places.Catchment, ZoneWeights: o.zones,
		MinPlacesPerResident: p.MinPlacesPerResident, MinAreaPerResident: p.MinAreaPerResident}
	if o.zones != nil {
		c.Method = "E2SFCA"
	}
	for _, st := range e.supply {
		c.Places += st.Capacity
		c.AreaM2 += st.Area
		if minimum, ok := p.SiteMinimum[st.Class]; ok && st.Capacity < minimum && !st.Proposed {
			c.SitesBelowLevelMinimum = append(c.SitesBelowLevelMinimum, st.ID)
		}
	}
	c.AreaM2 = math.Round(c.AreaM2)
	return c
}
