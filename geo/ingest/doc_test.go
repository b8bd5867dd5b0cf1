package ingest_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/onemap-city/onemap/geo"
)

// TestImportDocListsEveryColumn keeps docs/IMPORT.md in step with the
// catalogue: every layer has a section whose table maps each importable
// property to its column with the right type, requiredness and enum values.
func TestImportDocListsEveryColumn(t *testing.T) {
	data, err := os.ReadFile("../../docs/IMPORT.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, id := range geo.LayerIDs() {
		l := geo.Catalogue[id]
		start := strings.Index(doc, "\n### "+id+" — ")
		if start < 0 {
			t.Errorf("docs/IMPORT.md has no section \"### %s — …\"", id)
			continue
		}
		section := doc[start+1:]
		if end := strings.Index(section[4:], "\n### "); end >= 0 {
			section = section[:end+4]
		}
		if !strings.Contains(section, "Geometry: **"+string(l.Geometry)+"**") {
			t.Errorf("%s: the section does not give the geometry %s", id, l.Geometry)
		}
		for _, c := range l.Columns {
			required := ""
			if c.Required {
				required = "yes"
			}
			prefix := fmt.Sprintf("| `%s` | `%s` | %s | %s |", c.ImportName(), c.Name, c.Type, required)
			i := strings.Index(section, prefix)
			if i < 0 {
				t.Errorf("%s: no table row starting %s", id, prefix)
				continue
			}
			row, _, _ := strings.Cut(section[i:], "\n")
			for _, v := range c.Enum {
				if !strings.Contains(row, v) {
					t.Errorf("%s.%s: the row does not list the value %s", id, c.Name, v)
				}
			}
			if c.Type == geo.Ref && !strings.Contains(row, "`"+c.RefLayer+"`") {
				t.Errorf("%s.%s: the row does not name the layer %s", id, c.Name, c.RefLayer)
			}
		}
	}
	for _, crs := range geo.CRSs {
		if !strings.Contains(doc, "| `"+string(crs)+"`") {
			t.Errorf("docs/IMPORT.md does not document --crs %s", crs)
		}
	}
}
