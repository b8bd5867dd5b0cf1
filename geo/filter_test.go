package geo

import (
	"errors"
	"net/url"
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
