package geo

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParseFiltersAliasesAreasAndReferences(t *testing.T) {
	hazards := []*Layer{Catalogue["hazards"]}
	fs, err := ParseFilters(hazards, url.Values{
		"from": {"2026-01-01"}, "to": {"2026-07-01"}, "kind": {"group_rental"}, "town": {"12,3,12"}, "radius": {"300"},
	}, "radius")
	if err != nil {
		t.Fatal(err)
	}
	want := "kind=group_rental&since=2025-12-31T16:00:00Z&town=3,12&until=2026-06-30T16:00:00Z"
	if k := fs.Key(); k != want {
		t.Fatalf("key %q, want %q", k, want)
	}
	if tg, _ := Catalogue["hazards"].FilterTarget("kind"); tg.Kind != ViaRef || tg.To.ID != "premises" || tg.Ref.Name != "premise_id" {
		t.Fatalf("hazards?kind should filter through premise_id: %+v", tg)
	}
	bad := []struct {
		layer string
		q     url.Values
		param string
	}{
		{"hazards", url.Values{"from": {"2026-01-01"}, "since": {"2026-01-01"}}, "from"},
		{"hazards", url.Values{"from": {"2026-03-01"}, "to": {"2026-01-01"}}, "until"},
		{"hazards", url.Values{"town": {"x"}}, "town"},
		{"hazards", url.Values{"grid_cell": {"-4"}}, "grid_cell"},
		{"hazards", url.Values{"kind": {"castle"}}, "kind"},
		{"roads", url.Values{"town": {"1"}}, "town"},
		{"premises", url.Values{"radius": {"300"}}, "radius"}, // not the caller's here
	}
	for _, b := range bad {
		_, err := ParseFilters([]*Layer{Catalogue[b.layer]}, b.q)
		var ge *Error
		if !errors.As(err, &ge) || ge.Code != EInvalid || ge.Detail != b.param {
			t.Errorf("%s %v: %v, want EInvalid naming %q", b.layer, b.q, err, b.param)
		}
	}
}

// TestLayerScopedFilters: in a tile of several layers, layer.param filters
// that layer alone; an unscoped name applies to each layer that has it.
func TestLayerScopedFilters(t *testing.T) {
	towns, roads := Catalogue["towns"], Catalogue["roads"]
	both := []*Layer{towns, roads}
	value := TownClasses[0]
	// Unscoped, the value must suit every layer with the filter; the error
	// says which layer refused it and how to scope it.
	_, err := ParseFilters(both, url.Values{"class": {value}})
	var ge *Error
	if !errors.As(err, &ge) || ge.Detail != "class" || !strings.Contains(ge.Message, "towns.class="+value) {
		t.Fatalf("towns,roads?class=%s: %v, want a 400 naming class and suggesting towns.class", value, err)
	}
	fs, err := ParseFilters(both, url.Values{"towns.class": {value}})
	if err != nil {
		t.Fatal(err)
	}
	if fs.Key() != "towns.class="+value || fs[0].Name() != "class" {
		t.Fatalf("key %q name %q", fs.Key(), fs[0].Name())
	}
	if _, ok := towns.FilterTarget("towns.class"); !ok {
		t.Error("towns.class does not filter towns")
	}
	if _, ok := roads.FilterTarget("towns.class"); ok {
		t.Error("towns.class filters roads")
	}
	hazards, hydrants := Catalogue["hazards"], Catalogue["hydrants"]
	bad := []struct {
		layers []*Layer
		q      url.Values
		param  string
	}{
		{[]*Layer{Catalogue["premises"]}, url.Values{"premises.tag": {"red"}}, "premises.tag"}, // one layer: no scope
		{both, url.Values{"hydrants.status": {"open"}}, "hydrants.status"},                     // not a layer of the tile
		{both, url.Values{"roads.class": {"castle"}}, "roads.class"},
		{[]*Layer{hazards, hydrants}, url.Values{"hazards.from": {"2026-03-01"}, "hazards.to": {"2026-01-01"}}, "hazards.until"},
		{[]*Layer{hazards, hydrants}, url.Values{"hazards.from": {"2026-03-01"}, "hazards.since": {"2026-01-01"}}, "hazards.from"},
		{[]*Layer{hazards, Catalogue["inspections"]}, url.Values{"hazards.since": {"2026-06-01"}, "until": {"2026-01-01"}}, "until"}, // the narrowest window of hazards
		{[]*Layer{hazards}, url.Values{"until": {"9999-12-31T23:59:59-14:00"}}, "until"},                                             // year 10000 in UTC
		{[]*Layer{hazards}, url.Values{"since": {"0000-01-01T00:00:00+14:00"}}, "since"},
	}
	for _, b := range bad {
		_, err := ParseFilters(b.layers, b.q)
		if !errors.As(err, &ge) || ge.Code != EInvalid || ge.Detail != b.param {
			t.Errorf("%s %v: %v, want EInvalid naming %q", LayerList(b.layers), b.q, err, b.param)
		}
	}
	if _, err := ParseFilters([]*Layer{hazards, hydrants}, url.Values{"hazards.status": {"open"}, "hydrants.status": {"out_of_service"}}); err != nil {
		t.Errorf("hazards.status and hydrants.status together: %v", err)
	}
}
