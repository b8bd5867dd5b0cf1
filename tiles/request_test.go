package tiles

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/onemap-city/onemap/geo"
)

func mustLayers(t *testing.T, s string) []*geo.Layer {
	t.Helper()
	ls, err := ParseLayers(s)
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

func TestParseLayers(t *testing.T) {
	if ls := mustLayers(t, "premises,hydrants"); len(ls) != 2 || ls[1].ID != "hydrants" {
		t.Fatalf("got %v", ls)
	}
	for in, code := range map[string]string{
		"nope":              geo.ENotFound,
		"premises,nope":     geo.ENotFound,
		"premises,premises": geo.EInvalid,
		"premises,":         geo.EInvalid,
		"":                  geo.EInvalid,
	} {
		_, err := ParseLayers(in)
		if geo.ErrorCode(err) != code {
			t.Errorf("ParseLayers(%q) = %v, want code %s", in, err, code)
		}
	}
}

func TestParseFilters(t *testing.T) {
	premises := mustLayers(t, "premises")
	got, err := ParseFilters(premises, url.Values{"tag": {"red,yellow", "red"}, "kind": {"group_rental"}})
	if err != nil {
		t.Fatal(err)
	}
	if k := got.Key(); k != "kind=group_rental&tag=red,yellow" {
		t.Fatalf("canonical key %q", k)
	}
	// The same filters written differently have the same key.
	again, _ := ParseFilters(premises, url.Values{"kind": {"group_rental"}, "tag": {"yellow", "red"}})
	if again.Key() != got.Key() {
		t.Fatalf("keys differ: %q vs %q", again.Key(), got.Key())
	}
	hazards := mustLayers(t, "hazards")
	h, err := ParseFilters(hazards, url.Values{"since": {"2026-01-01"}, "status": {"open"}, "listed": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	if k := h.Key(); k != "listed=true&since=2025-12-31T16:00:00Z&status=open" {
		t.Fatalf("hazard filters key %q (a date is midnight in China)", k)
	}
	bad := []struct {
		layers string
		q      url.Values
		param  string
	}{
		{"premises", url.Values{"colour": {"red"}}, "colour"},
		{"premises", url.Values{"tag": {"purple"}}, "tag"},
		{"premises", url.Values{"since": {"2026-01-01"}}, "since"},
		{"hazards", url.Values{"since": {"yesterday"}}, "since"},
		{"hazards", url.Values{"since": {"2026-01-01", "2026-02-01"}}, "since"},
		{"hazards", url.Values{"listed": {"maybe"}}, "listed"},
		{"hydrants", url.Values{"status": {"open"}}, "status"},
		{"hydrants,hazards", url.Values{"status": {"open"}}, "status"}, // open is no hydrant status
		{"roads", url.Values{"name": {"x"}}, "name"},                   // text columns do not filter
	}
	for _, b := range bad {
		_, err := ParseFilters(mustLayers(t, b.layers), b.q)
		var ge *geo.Error
		if !errors.As(err, &ge) || ge.Code != geo.EInvalid || ge.Detail != b.param {
			t.Errorf("%s %v: got %v, want EInvalid naming %q", b.layers, b.q, err, b.param)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	cases := map[string]bool{
		"":                      false,
		"gzip":                  true,
		"gzip, deflate, br":     true,
		"br;q=1.0, gzip;q=0.8":  true,
		"identity":              false,
		"gzip;q=0":              false,
		"gzip;q=0.000":          false,
		"*":                     true,
		"*;q=0":                 false,
		"*, gzip;q=0":           false,
		"deflate":               false,
		"GZIP":                  true,
		"x-gzip":                true,
		"gzip;q=bogus":          false,
		"identity;q=1, *;q=0.5": true,
	}
	for header, want := range cases {
		if got := AcceptsGzip([]string{header}); got != want {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", header, got, want)
		}
	}
}

func TestETagMatches(t *testing.T) {
	if !etagMatches(`"a", "b-gz"`, `"b-gz"`) || !etagMatches(`W/"abc"`, `"abc"`) || !etagMatches("*", `"x"`) {
		t.Fatal("should match")
	}
	if etagMatches(`"abc"`, `"abc-gz"`) {
		t.Fatal("identity and gzip validators must differ")
	}
}

// TestBuildQueryUsesOnlyBindParameters: whatever the filter values, they
// travel as arguments, never inside the SQL text.
func TestBuildQueryUsesOnlyBindParameters(t *testing.T) {
	layers := mustLayers(t, "hazards,premises,roads")
	f, err := ParseFilters(layers, url.Values{"status": {"open"}, "tag": {"red"}, "since": {"2026-03-01"}})
	if err != nil {
		t.Fatal(err)
	}
	q, kept := BuildQuery(Request{Layers: layers, Addr: geo.TileAddr{Z: 12, X: 3421, Y: 1750}, Filters: f}, Limits{FeatureCap: 100, ClusterAbove: 3000})
	if len(kept) != 3 { // hazards from z12, premises from z10, roads from z8
		t.Fatalf("kept %d layers", len(kept))
	}
	for _, v := range []string{"'open'", "'red'", "2026"} {
		if strings.Contains(q.SQL, v) {
			t.Errorf("value %s inlined in SQL", v)
		}
	}
	if strings.Count(q.SQL, "ST_AsMVT(") != len(kept) {
		t.Errorf("want one ST_AsMVT per layer in one statement")
	}
}
