package geo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuiltinCoveragePresets(t *testing.T) {
	for _, id := range []string{"hydrants", "stations", "shelters"} {
		p, err := LookupCoveragePreset(id)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Validate(); err != nil {
			t.Error(err)
		}
	}
	if p := CoveragePresets["hydrants"]; p.Threshold != 150 || p.Metric != Distance {
		t.Errorf("hydrants preset: %g %s, want GB 50974's 150 m", p.Threshold, p.Metric)
	}
	if p := CoveragePresets["stations"]; p.Threshold != 240 || p.Metric != TravelTime {
		t.Errorf("stations preset: %g %s, want 240 s of travel", p.Threshold, p.Metric)
	}
	// The web map speaks Chinese first: every built-in preset says what it
	// measures and by which rule in both languages.
	for _, p := range builtinPresets {
		if p.TitleZH == "" || p.DescriptionZH == "" || p.StandardZH == "" || p.Description == "" || p.Standard == "" {
			t.Errorf("preset %s: a title, description or standard is missing in one language", p.ID)
		}
	}
	if _, err := LookupCoveragePreset("nope"); ErrorCode(err) != EInvalid {
		t.Errorf("unknown preset: %v, want an EInvalid error", err)
	}
}

// TestLoadCoveragePresets: a generic preset is configuration: a file adds
// it, and a bad one is refused saying why.
func TestLoadCoveragePresets(t *testing.T) {
	saved := map[string]*CoveragePreset{}
	for k, v := range CoveragePresets {
		saved[k] = v
	}
	t.Cleanup(func() { CoveragePresets = saved })
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`[{"id": "hazards_hydrants", "title": "Open hazards near a hydrant", "title_zh": "隐患消火栓覆盖",
		"description": "Open hazards within 100 m of an in-service hydrant",
		"demand": {"layer": "hazards", "filters": {"status": ["open"]}, "weight": "severity"},
		"supply": {"layer": "hydrants", "filters": {"status": ["in_service"]}},
		"metric": "distance", "threshold": 100, "max_threshold": 1000, "siting": "roads", "candidate_spacing": 60}]`), 0o644)
	if err := LoadCoveragePresets(good); err != nil {
		t.Fatal(err)
	}
	if p := CoveragePresets["hazards_hydrants"]; p == nil || p.DemandLayer().ID != "hazards" || len(p.DemandFilters()) != 1 {
		t.Fatalf("loaded preset: %+v", p)
	}
	for body, want := range map[string]string{
		`[{"id": "x", "demand": {"layer": "roads"}, "supply": {"layer": "hydrants"}, "metric": "distance", "threshold": 1, "max_threshold": 2}]`:                                    "not a point layer",
		`[{"id": "x", "demand": {"layer": "premises"}, "supply": {"layer": "hydrants"}, "metric": "walk", "threshold": 1, "max_threshold": 2}]`:                                     "metric",
		`[{"id": "x", "demand": {"layer": "premises"}, "supply": {"layer": "hydrants", "filters": {"status": ["wet"]}}, "metric": "distance", "threshold": 1, "max_threshold": 2}]`: "supply filters",
		`[{"id": "x", "demand": {"layer": "premises"}, "supply": {"layer": "hydrants"}, "metric": "distance", "threshold": 5, "max_threshold": 2}]`:                                 "threshold",
		`[{"id": "x", "colour": "red"}]`: "unknown field",
	} {
		f := filepath.Join(dir, "bad.json")
		os.WriteFile(f, []byte(body), 0o644)
		if err := LoadCoveragePresets(f); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error about %s", body, err, want)
		}
	}
}
