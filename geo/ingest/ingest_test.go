package ingest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/geo/ingest"
)

// readAll reads every row of a file, failing the test on a reader error.
func readAll(t *testing.T, layer string, f ingest.Format, file string, opts ingest.Options) []*ingest.Row {
	t.Helper()
	rows, err := tryReadAll(layer, f, file, opts)
	if err != nil {
		t.Fatalf("reading %s: %v", f, err)
	}
	return rows
}

func tryReadAll(layer string, f ingest.Format, file string, opts ingest.Options) ([]*ingest.Row, error) {
	opts.Format = f
	r, err := ingest.NewReader(strings.NewReader(file), geo.Catalogue[layer], opts)
	if err != nil {
		return nil, err
	}
	var rows []*ingest.Row
	for {
		row, err := r.Next()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
}

func feature(props, geometry string) string {
	return fmt.Sprintf(`{"type":"Feature","properties":%s,"geometry":%s}`, props, geometry)
}

const here = `{"type":"Point","coordinates":[120.65,27.78]}`

// value returns the value of the named column of a row.
func value(t *testing.T, layer string, row *ingest.Row, column string) any {
	t.Helper()
	for i, c := range geo.Catalogue[layer].Columns {
		if c.Name == column {
			return row.Values[i]
		}
	}
	t.Fatalf("%s has no column %s", layer, column)
	return nil
}

// TestRejections feeds one bad row after a good one through NDJSON (and
// each CSV case through CSV) and checks the row number, the field and the
// reason of its rejection.
func TestRejections(t *testing.T) {
	good := map[string]string{
		"hydrants":    `{"ext_id":"ok","status":"in_service"}`,
		"shelters":    `{"ext_id":"ok","level":"village","capacity":10}`,
		"premises":    `{"ext_id":"ok","kind":"restaurant"}`,
		"hazards":     `{"ext_id":"ok","category":"hot_work","severity":"major","status":"open","reported_at":"2024-03-01T08:00:00+08:00"}`,
		"roads":       `{"ext_id":"ok","class":"local"}`,
		"towns":       `{"ext_id":"ok","code":"330381001","name":"Anyang"}`,
		"communities": `{"ext_id":"ok","code":"330381001001","name":"Xishan","town":"t1"}`,
	}
	goodGeom := map[geo.GeometryType]string{
		geo.Point:        here,
		geo.LineString:   `{"type":"LineString","coordinates":[[120.65,27.78],[120.66,27.79]]}`,
		geo.MultiPolygon: `{"type":"Polygon","coordinates":[[[120.6,27.7],[120.7,27.7],[120.7,27.8],[120.6,27.7]]]}`,
	}
	cases := []struct {
		name, layer string
		line        string // the bad row; "" props/geometry defaults filled by %s
		field       string
		reason      string
	}{
		{"bad enum", "hydrants", feature(`{"ext_id":"a","status":"broken"}`, here), "status", `"broken" is not one of in_service, faulty, out_of_service`},
		{"missing required", "hydrants", feature(`{"ext_id":"a"}`, here), "status", "missing"},
		{"blank required", "hydrants", feature(`{"ext_id":"a","status":"  "}`, here), "status", "missing"},
		{"enum of wrong type", "hydrants", feature(`{"ext_id":"a","status":{"x":1}}`, here), "status", "an object is not one of"},
		{"non-numeric longitude", "hydrants", feature(`{"ext_id":"a","status":"faulty"}`, `{"type":"Point","coordinates":["abc",27.8]}`), "geometry", `longitude "abc" is not a number`},
		{"boolean latitude", "hydrants", feature(`{"ext_id":"a","status":"faulty"}`, `{"type":"Point","coordinates":[120.6,true]}`), "geometry", `latitude true is not a number`},
		{"missing latitude", "hydrants", feature(`{"ext_id":"a","status":"faulty"}`, `{"type":"Point","coordinates":[120.6]}`), "geometry", `a position must be [longitude, latitude]`},
		{"NaN string", "hydrants", feature(`{"ext_id":"a","status":"faulty"}`, `{"type":"Point","coordinates":["NaN",27.8]}`), "geometry", "not a finite number"},
		{"Inf string", "hydrants", feature(`{"ext_id":"a","status":"faulty"}`, `{"type":"Point","coordinates":[120.6,"-Inf"]}`), "geometry", "not a finite number"},
		{"overflowing number", "hydrants", feature(`{"ext_id":"a","status":"faulty"}`, `{"type":"Point","coordinates":[1e999,27.8]}`), "geometry", "not a finite number"},
		{"longitude out of range", "hydrants", feature(`{"ext_id":"a","status":"faulty"}`, `{"type":"Point","coordinates":[200,27.8]}`), "geometry", "longitude 200 is outside [-180, 180]"},
		{"latitude out of range", "hydrants", feature(`{"ext_id":"a","status":"faulty"}`, `{"type":"Point","coordinates":[-120.6,-95]}`), "geometry", "latitude -95 is outside [-90, 90]"},
		{"swapped lon/lat", "hydrants", feature(`{"ext_id":"a","status":"faulty"}`, `{"type":"Point","coordinates":[27.8,120.6]}`), "geometry", "swapped"},
		{"projected metres", "hydrants", feature(`{"ext_id":"a","status":"faulty"}`, `{"type":"Point","coordinates":[500000,3000000]}`), "geometry", "projected"},
		{"null geometry", "hydrants", feature(`{"ext_id":"a","status":"faulty"}`, `null`), "geometry", "missing"},
		{"no geometry member", "hydrants", `{"type":"Feature","properties":{"ext_id":"a","status":"faulty"}}`, "geometry", "missing"},
		{"no coordinates", "hydrants", feature(`{"ext_id":"a","status":"faulty"}`, `{"type":"Point"}`), "geometry", "Point has no coordinates"},
		{"unknown geometry type", "hydrants", feature(`{"ext_id":"a","status":"faulty"}`, `{"type":"Circle","coordinates":[1,2]}`), "geometry", `unknown geometry type "Circle"`},
		{"line on a point layer", "hydrants", feature(`{"ext_id":"a","status":"faulty"}`, goodGeom[geo.LineString]), "geometry", "a LineString, but the hydrants layer takes Point"},
		{"collection", "hydrants", feature(`{"ext_id":"a","status":"faulty"}`, `{"type":"GeometryCollection","geometries":[]}`), "geometry", "a GeometryCollection, but the hydrants layer takes Point"},
		{"multipoint of two", "hydrants", feature(`{"ext_id":"a","status":"faulty"}`, `{"type":"MultiPoint","coordinates":[[120.6,27.8],[120.7,27.8]]}`), "geometry", "a MultiPoint, but"},
		{"point on a polygon layer", "towns", feature(`{"ext_id":"a","code":"c","name":"n"}`, here), "geometry", "a Point, but the towns layer takes MultiPolygon"},
		{"open ring", "towns", feature(`{"ext_id":"a","code":"c","name":"n"}`, `{"type":"Polygon","coordinates":[[[120.6,27.7],[120.7,27.7],[120.7,27.8],[120.6,27.8]]]}`), "geometry", "ring 1 of polygon 1 is not closed"},
		{"short ring", "towns", feature(`{"ext_id":"a","code":"c","name":"n"}`, `{"type":"Polygon","coordinates":[[[120.6,27.7],[120.7,27.7],[120.6,27.7]]]}`), "geometry", "a ring needs at least 4"},
		{"ring out of range", "towns", feature(`{"ext_id":"a","code":"c","name":"n"}`, `{"type":"MultiPolygon","coordinates":[[[[120.6,27.7],[190.7,27.7],[120.7,27.8],[120.6,27.7]]]]}`), "geometry", "longitude 190.7 is outside"},
		{"one-position line", "roads", feature(`{"ext_id":"a","class":"local"}`, `{"type":"LineString","coordinates":[[120.6,27.7]]}`), "geometry", "at least 2 positions"},
		{"multi-part line", "roads", feature(`{"ext_id":"a","class":"local"}`, `{"type":"MultiLineString","coordinates":[[[120.6,27.7],[120.7,27.7]],[[120.8,27.7],[120.9,27.7]]]}`), "geometry", "MultiLineString of 2 parts"},
		{"bad date", "hydrants", feature(`{"ext_id":"a","status":"faulty","installed_at":"2024/01/31"}`, here), "installed_at", `"2024/01/31" is not a date (YYYY-MM-DD)`},
		{"impossible date", "hydrants", feature(`{"ext_id":"a","status":"faulty","installed_at":"2024-02-30"}`, here), "installed_at", "not a date"},
		{"date as number", "hydrants", feature(`{"ext_id":"a","status":"faulty","installed_at":20240131}`, here), "installed_at", "20240131 is not a date"},
		{"non-numeric integer", "shelters", feature(`{"ext_id":"a","level":"village","capacity":"abc"}`, here), "capacity", `"abc" is not a whole number`},
		{"fractional integer", "shelters", feature(`{"ext_id":"a","level":"village","capacity":12.5}`, here), "capacity", "12.5 is not a whole number"},
		{"huge integer", "shelters", feature(`{"ext_id":"a","level":"village","capacity":9999999999}`, here), "capacity", "too large"},
		{"below minimum", "shelters", feature(`{"ext_id":"a","level":"village","capacity":-1}`, here), "capacity", "-1 is below the minimum 0"},
		{"non-numeric number", "shelters", feature(`{"ext_id":"a","level":"village","capacity":1,"area_m2":"abc"}`, here), "area_m2", `"abc" is not a number`},
		{"NaN number", "shelters", feature(`{"ext_id":"a","level":"village","capacity":1,"area_m2":"NaN"}`, here), "area_m2", "not a finite number"},
		{"bad boolean", "shelters", feature(`{"ext_id":"a","level":"village","capacity":1,"standardised":"maybe"}`, here), "standardised", `"maybe" is not a boolean`},
		{"above maximum", "premises", feature(`{"ext_id":"a","kind":"restaurant","floors":"201"}`, here), "floors", "201 is above the maximum 200"},
		{"below negative minimum", "premises", feature(`{"ext_id":"a","kind":"restaurant","floors":-6}`, here), "floors", "-6 is below the minimum -5"},
		{"float above maximum", "roads", feature(`{"ext_id":"a","class":"local","speed_kmh":131}`, goodGeom[geo.LineString]), "speed_kmh", "131 is above the maximum 130"},
		{"bad timestamp", "hazards", feature(`{"ext_id":"a","category":"hot_work","severity":"major","status":"open","reported_at":"yesterday"}`, here), "reported_at", `"yesterday" is not a time`},
		{"timestamp as number", "hazards", feature(`{"ext_id":"a","category":"hot_work","severity":"major","status":"open","reported_at":1709251200}`, here), "reported_at", "1709251200 is not a time"},
		{"missing required ref", "communities", feature(`{"ext_id":"a","code":"c","name":"n"}`, goodGeom[geo.MultiPolygon]), "town", "missing"},
		{"ref of wrong type", "hazards", feature(`{"ext_id":"a","premise":[1],"category":"hot_work","severity":"major","status":"open","reported_at":"2024-03-01"}`, here), "premise", "an array is not text"},
		{"text of wrong type", "premises", feature(`{"ext_id":"a","kind":"restaurant","name":{"zh":"饭店"}}`, here), "name", "an object is not text"},
		{"missing id", "hydrants", feature(`{"status":"faulty"}`, here), "ext_id", "missing"},
		{"id of wrong type", "hydrants", feature(`{"ext_id":{"a":1},"status":"faulty"}`, here), "ext_id", "an object is not an id"},
		{"duplicate id", "hydrants", feature(`{"ext_id":"ok","status":"faulty"}`, here), "ext_id", `duplicate id "ok": already on line 1`},
		{"invalid JSON", "hydrants", `{"type":"Feature","properties":{"ext_id":"a",}}`, "", "invalid JSON"},
		{"not an object", "hydrants", `[1,2,3]`, "", "not a GeoJSON Feature"},
		{"not a Feature", "hydrants", `{"type":"Point","coordinates":[120.6,27.8]}`, "type", `"Point" is not a Feature`},
		{"properties not an object", "hydrants", `{"type":"Feature","properties":5,"geometry":` + here + `}`, "properties", "not an object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := feature(good[c.layer], goodGeom[geo.Catalogue[c.layer].Geometry]) + "\n" + c.line + "\n"
			rows := readAll(t, c.layer, ingest.NDJSON, file, ingest.Options{})
			if len(rows) != 2 {
				t.Fatalf("%d rows, want 2", len(rows))
			}
			if !rows[0].OK() {
				t.Fatalf("the good row was rejected: %v", rows[0].Rejections)
			}
			expectRejection(t, rows[1], 2, c.field, c.reason)
		})
	}
}

func expectRejection(t *testing.T, row *ingest.Row, num int, field, reason string) {
	t.Helper()
	if row.OK() {
		t.Fatalf("row %d accepted, want %s: %s", row.Num, field, reason)
	}
	for _, r := range row.Rejections {
		if r.Row == num && r.Field == field && strings.Contains(r.Reason, reason) {
			return
		}
	}
	t.Fatalf("row %d rejected with %v, want row %d, %s: …%s…", row.Num, row.Rejections, num, field, reason)
}

// TestCSVRejections checks the CSV-only failures; row numbers are lines.
func TestCSVRejections(t *testing.T) {
	cases := []struct {
		name, layer, header, line string
		field, reason             string
	}{
		{"non-numeric lon", "hydrants", "ext_id,status,lon,lat", "a,faulty,abc,27.8", "lon", `longitude "abc" is not a number`},
		{"missing lat", "hydrants", "ext_id,status,lng,latitude", "a,faulty,120.6,", "latitude", "latitude is missing"},
		{"infinite x", "hydrants", "ext_id,status,x,y", "a,faulty,Inf,27.8", "x", "not a finite number"},
		{"out of range", "hydrants", "ext_id,status,lon,lat", "a,faulty,120.6,91", "lon,lat", "latitude 91 is outside"},
		{"too few fields", "hydrants", "ext_id,status,lon,lat", "a,faulty,120.6", "", "3 fields where the header has 4"},
		{"too many fields", "premises", "ext_id,kind,name,lon,lat", "a,restaurant,Wang, Li's,120.6,27.8", "", "6 fields where the header has 5"},
		{"bare quote", "hydrants", "ext_id,status,lon,lat", `a,fa"ulty,120.6,27.8`, "", "invalid CSV"},
		{"not UTF-8", "premises", "ext_id,kind,name,lon,lat", "a,restaurant,\xc9\xcc\xb5\xea,120.6,27.8", "name", "not UTF-8"},
		{"bad WKT", "towns", "ext_id,code,name,wkt", `a,c,n,"POLYGON((120 27, 121 27"`, "wkt", "invalid WKT"},
		{"projected EWKT", "hydrants", "ext_id,status,geom", "a,faulty,SRID=3857;POINT(13430000 3220000)", "geom", "SRID 3857 is not longitude/latitude"},
		{"wrong WKT type", "hydrants", "ext_id,status,geometry", `a,faulty,"LINESTRING(120 27, 121 27)"`, "geometry", "a LineString, but the hydrants layer takes Point"},
		{"no coordinates", "hydrants", "ext_id,status,lon,lat,wkt", "a,faulty,,,", "lon", "longitude is missing"},
		{"bad enum", "hydrants", "ext_id,status,lon,lat", "a,maybe,120.6,27.8", "status", `"maybe" is not one of`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Line 2 is a good row only for the point layers' lon/lat headers;
			// the bad row is on line 2 otherwise.
			file := c.header + "\n" + c.line + "\n"
			rows := readAll(t, c.layer, ingest.CSV, file, ingest.Options{})
			if len(rows) != 1 {
				t.Fatalf("%d rows, want 1", len(rows))
			}
			expectRejection(t, rows[0], 2, c.field, c.reason)
		})
	}
}

func TestCSVHeaderErrors(t *testing.T) {
	for name, file := range map[string]string{
		"empty":           "",
		"no coordinates":  "ext_id,status\na,faulty\n",
		"lon without lat": "ext_id,status,lon\na,faulty,120\n",
		"semicolons":      "ext_id;status;lon;lat\na;faulty;120;27\n",
		"duplicate":       "ext_id,status,lon,lat,Status\n",
	} {
		_, err := tryReadAll("hydrants", ingest.CSV, file, ingest.Options{})
		if geo.ErrorCode(err) != geo.EInvalid {
			t.Errorf("%s: %v, want an EInvalid error", name, err)
		}
	}
}

func TestCSV(t *testing.T) {
	file := "\uFEFFExt_ID,Kind,NAME,floors,Occupants,tag,last_inspected_at,LON,Lat,owner,note\n" +
		"p1,Restaurant,\"Wang's \"\"noodles\"\"\",3,\"12.0\",green,2024-03-01 08:30:00,120.65,27.78,Wang,\n" +
		"\n" + // encoding/csv skips blank lines; line numbers still count them
		"p2,hotel,\"two\nlines\",-1,,,2024-03-01T08:30:00Z, 120.66 ,\"27.79\",,x\n" +
		"p3,bogus,,,,,,120.67,27.80,,\n"
	rows := readAll(t, "premises", ingest.CSV, file, ingest.Options{})
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	p1, p2, p3 := rows[0], rows[1], rows[2]
	if !p1.OK() || !p2.OK() {
		t.Fatalf("rejected: %v %v", p1.Rejections, p2.Rejections)
	}
	if p1.Num != 2 || p2.Num != 4 || p3.Num != 6 {
		t.Errorf("line numbers %d, %d, %d; want 2, 4, 6", p1.Num, p2.Num, p3.Num)
	}
	if p1.ExtID != "p1" || value(t, "premises", p1, "kind") != "restaurant" || value(t, "premises", p1, "name") != `Wang's "noodles"` ||
		value(t, "premises", p1, "floors") != int64(3) || value(t, "premises", p1, "occupants") != int64(12) {
		t.Errorf("p1 values %v", p1.Values)
	}
	want := time.Date(2024, 3, 1, 0, 30, 0, 0, time.UTC)
	if got := value(t, "premises", p1, "last_inspected_at").(time.Time); !got.Equal(want) {
		t.Errorf("China time 08:30 read as %v, want %v", got, want)
	}
	if got := value(t, "premises", p2, "last_inspected_at").(time.Time); !got.Equal(want.Add(8 * time.Hour)) {
		t.Errorf("RFC 3339 read as %v", got)
	}
	if !reflect.DeepEqual(p1.Props, map[string]any{"owner": "Wang"}) || !reflect.DeepEqual(p2.Props, map[string]any{"note": "x"}) {
		t.Errorf("props %v, %v", p1.Props, p2.Props)
	}
	if p2.Geom != (orb.Point{120.66, 27.79}) {
		t.Errorf("p2 at %v", p2.Geom)
	}
	expectRejection(t, p3, 6, "kind", `"bogus" is not one of`)
}

func TestCSVWKT(t *testing.T) {
	file := "ext_id,code,name,wkt\n" +
		`t1,330381001,Anyang,"POLYGON((120.6 27.7, 120.7 27.7, 120.7 27.8, 120.6 27.7))"` + "\n" +
		`t2,330381002,Yuhai,"SRID=4490;MULTIPOLYGON(((120.6 27.7, 120.7 27.7, 120.7 27.8, 120.6 27.7)))"` + "\n" +
		"t3,330381003,Dongshan,0103000020E61000000100000004000000333333333327" + "5E40333333333333" + "3B40CDCCCCCCCC2C5E40333333333333" + "3B40CDCCCCCCCC2C5E40CDCCCCCCCCCC3B40333333333327" + "5E40333333333333" + "3B40\n"
	rows := readAll(t, "towns", ingest.CSV, file, ingest.Options{})
	for _, r := range rows {
		if !r.OK() {
			t.Fatalf("row %d rejected: %v", r.Num, r.Rejections)
		}
		mp, ok := r.Geom.(orb.MultiPolygon)
		if !ok || len(mp) != 1 || len(mp[0][0]) != 4 {
			t.Errorf("row %d: %#v, want a one-polygon MultiPolygon", r.Num, r.Geom)
		}
	}
}

func TestFeatureCollection(t *testing.T) {
	file := `{"type":"FeatureCollection","name":"hydrants","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},
	"features":[
	  {"type":"Feature","id":"h1","properties":{"status":"In_Service","installed_at":"2019-05-01","pressure_mpa":0.35,"owner":{"name":"water co"}},"geometry":{"type":"Point","coordinates":[120.65,27.78,12.5]}},
	  {"type":"Feature","id":17,"properties":{"status":"faulty","kind":"wall"},"geometry":{"type":"MultiPoint","coordinates":[["120.66","27.79"]]}},
	  {"type":"Feature","properties":{"ext_id":"h3","id":"other","status":"faulty"},"geometry":{"type":"Point","coordinates":[120.67,27.8]}}
	],
	"bbox":[120,27,121,28]}`
	rows := readAll(t, "hydrants", ingest.GeoJSON, file, ingest.Options{})
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	for i, r := range rows {
		if !r.OK() || r.Num != i+1 {
			t.Fatalf("row %d (num %d) rejected: %v", i+1, r.Num, r.Rejections)
		}
	}
	if rows[0].ExtID != "h1" || rows[1].ExtID != "17" || rows[2].ExtID != "h3" {
		t.Errorf("ids %q %q %q", rows[0].ExtID, rows[1].ExtID, rows[2].ExtID)
	}
	if value(t, "hydrants", rows[0], "status") != "in_service" {
		t.Errorf("enum not canonicalised: %v", rows[0].Values)
	}
	if got := value(t, "hydrants", rows[0], "installed_at").(time.Time); got.Format(time.DateOnly) != "2019-05-01" {
		t.Errorf("date %v", got)
	}
	props, _ := json.Marshal(rows[0].Props)
	if string(props) != `{"owner":{"name":"water co"},"pressure_mpa":0.35}` {
		t.Errorf("props %s", props)
	}
	if !reflect.DeepEqual(rows[2].Props, map[string]any{"id": "other"}) {
		t.Errorf("an id that is not the ext_id stays in props: %v", rows[2].Props)
	}
	if rows[0].Geom != (orb.Point{120.65, 27.78}) || rows[1].Geom != (orb.Point{120.66, 27.79}) {
		t.Errorf("geometries %v %v", rows[0].Geom, rows[1].Geom)
	}
}

func TestFeatureCollectionSyntaxErrorEndsTheFile(t *testing.T) {
	f := func(id string) string { return feature(`{"ext_id":"`+id+`","status":"faulty"}`, here) }
	file := `{"type":"FeatureCollection","features":[` + f("a") + "," + f("b") + `,{"type":"Feature","properties":{"ext_id":"c",` + "," + f("d") + "]}"
	rows, err := tryReadAll("hydrants", ingest.GeoJSON, file, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || !rows[0].OK() || !rows[1].OK() {
		t.Fatalf("rows %+v", rows)
	}
	expectRejection(t, rows[2], 3, "", "the rest of the file was not read")

	// Truncated after a comma: the same.
	rows, err = tryReadAll("hydrants", ingest.GeoJSON, `{"type":"FeatureCollection","features":[`+f("a")+",", ingest.Options{})
	if err != nil || len(rows) != 2 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	expectRejection(t, rows[1], 2, "", "the rest of the file was not read")
}

func TestFeatureCollectionFileErrors(t *testing.T) {
	for name, file := range map[string]string{
		"empty":             "",
		"array":             `[{"type":"Feature"}]`,
		"single feature":    feature(`{"ext_id":"a","status":"faulty"}`, here),
		"no features":       `{"type":"FeatureCollection"}`,
		"features object":   `{"type":"FeatureCollection","features":{}}`,
		"projected":         `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::3857"}},"features":[]}`,
		"crs after":         `{"type":"FeatureCollection","features":[],"crs":{"type":"name","properties":{"name":"EPSG:32650"}}}`,
		"broken header":     `{"type":"FeatureCollection",, "features":[]}`,
		"trailing data":     `{"type":"FeatureCollection","features":[]} {}`,
		"two feature lists": `{"type":"FeatureCollection","features":[],"features":[]}`,
	} {
		_, err := tryReadAll("hydrants", ingest.GeoJSON, file, ingest.Options{})
		if geo.ErrorCode(err) != geo.EInvalid {
			t.Errorf("%s: %v, want an EInvalid error", name, err)
		}
	}
}

func TestNDJSONLinesAndRecovery(t *testing.T) {
	f := func(id string) string { return feature(`{"ext_id":"`+id+`","status":"faulty"}`, here) }
	file := "\uFEFF" + f("a") + "\n\n   \n" + `{"type":"Feature",` + "\n\x1e" + f("b") + "\r\n" + f("c")
	rows := readAll(t, "hydrants", ingest.NDJSON, file, ingest.Options{})
	if len(rows) != 4 {
		t.Fatalf("%d rows, want 4", len(rows))
	}
	for i, want := range []int{1, 4, 5, 6} {
		if rows[i].Num != want {
			t.Errorf("row %d on line %d, want %d", i, rows[i].Num, want)
		}
	}
	if !rows[0].OK() || rows[1].OK() || !rows[2].OK() || !rows[3].OK() {
		t.Errorf("want only line 4 rejected: %+v", rows)
	}
	expectRejection(t, rows[1], 4, "", "invalid JSON")
}

func TestIDField(t *testing.T) {
	file := feature(`{"code":"H-1","ext_id":"ignored","status":"faulty"}`, here) + "\n" +
		`{"type":"Feature","id":"from-feature","properties":{"status":"faulty"},"geometry":` + here + "}\n"
	rows := readAll(t, "hydrants", ingest.NDJSON, file, ingest.Options{IDField: "code"})
	if rows[0].ExtID != "H-1" || rows[0].Props["ext_id"] != "ignored" {
		t.Errorf("row 1: id %q, props %v", rows[0].ExtID, rows[0].Props)
	}
	// With a custom id field the Feature id is not a fallback.
	expectRejection(t, rows[1], 2, "code", "missing")
}

func TestIDFieldThatIsAColumn(t *testing.T) {
	file := "Code,name,wkt\n330381001,Anyang,\"POLYGON((120.6 27.7, 120.7 27.7, 120.7 27.8, 120.6 27.7))\"\n"
	rows := readAll(t, "towns", ingest.CSV, file, ingest.Options{IDField: "code"})
	if !rows[0].OK() || rows[0].ExtID != "330381001" || value(t, "towns", rows[0], "code") != "330381001" {
		t.Errorf("row %+v", rows[0])
	}
}

func TestValueForms(t *testing.T) {
	file := feature(`{"ext_id":"s1","level":"VILLAGE","capacity":"120","area_m2":"88.5","standardised":"是"}`, here) + "\n" +
		feature(`{"ext_id":"s2","level":"county","capacity":1e3,"area_m2":12,"standardised":0}`, here) + "\n" +
		feature(`{"ext_id":"s3","level":"county","capacity":"12.0","standardised":"FALSE"}`, here) + "\n"
	rows := readAll(t, "shelters", ingest.NDJSON, file, ingest.Options{})
	for _, r := range rows {
		if !r.OK() {
			t.Fatalf("row %d: %v", r.Num, r.Rejections)
		}
	}
	check := func(r *ingest.Row, col string, want any) {
		t.Helper()
		if got := value(t, "shelters", r, col); got != want {
			t.Errorf("row %d %s = %#v, want %#v", r.Num, col, got, want)
		}
	}
	check(rows[0], "level", "village")
	check(rows[0], "capacity", int64(120))
	check(rows[0], "area_m2", 88.5)
	check(rows[0], "standardised", true)
	check(rows[1], "capacity", int64(1000))
	check(rows[1], "area_m2", 12.0)
	check(rows[1], "standardised", false)
	check(rows[2], "capacity", int64(12))
	check(rows[2], "standardised", false)
	check(rows[2], "area_m2", nil)
}

func TestGeometryPromotion(t *testing.T) {
	poly := `{"type":"Polygon","coordinates":[[[120.6,27.7],[120.7,27.7],[120.7,27.8],[120.6,27.7]]]}`
	line := `{"type":"MultiLineString","coordinates":[[[120.6,27.7],[120.7,27.7]]]}`
	rows := readAll(t, "towns", ingest.NDJSON, feature(`{"ext_id":"t","code":"c","name":"n"}`, poly), ingest.Options{})
	if _, ok := rows[0].Geom.(orb.MultiPolygon); !ok || !rows[0].OK() {
		t.Errorf("polygon not promoted: %#v %v", rows[0].Geom, rows[0].Rejections)
	}
	rows = readAll(t, "roads", ingest.NDJSON, feature(`{"ext_id":"r","class":"local"}`, line), ingest.Options{})
	if _, ok := rows[0].Geom.(orb.LineString); !ok || !rows[0].OK() {
		t.Errorf("single-part MultiLineString not accepted: %#v %v", rows[0].Geom, rows[0].Rejections)
	}
}

// TestCRS imports the same place given in GCJ-02 and BD-09 and checks it
// comes out where the WGS84 truth is.
func TestCRS(t *testing.T) {
	const lon, lat = 120.6554, 27.7791 // Rui'an
	gx, gy := geo.WGS84ToGCJ02(lon, lat)
	bx, by := geo.WGS84ToBD09(lon, lat)
	for crs, p := range map[geo.CRS][2]float64{geo.GCJ02: {gx, gy}, geo.BD09: {bx, by}, geo.CGCS2000: {lon, lat}} {
		file := fmt.Sprintf("ext_id,status,lon,lat\nh,faulty,%.10f,%.10f\n", p[0], p[1])
		rows := readAll(t, "hydrants", ingest.CSV, file, ingest.Options{CRS: crs})
		got := rows[0].Geom.(orb.Point)
		if math.Abs(got[0]-lon) > 1e-7 || math.Abs(got[1]-lat) > 1e-7 {
			t.Errorf("%s: %v, want %v, %v", crs, got, lon, lat)
		}
	}
	if _, err := tryReadAll("hydrants", ingest.CSV, "", ingest.Options{CRS: "mars"}); geo.ErrorCode(err) != geo.EInvalid {
		t.Errorf("unknown CRS: %v", err)
	}
}

func TestFormat(t *testing.T) {
	for path, want := range map[string]ingest.Format{
		"a.geojson": ingest.GeoJSON, "B.JSON": ingest.GeoJSON, "c.ndjson": ingest.NDJSON,
		"d.geojsonl": ingest.NDJSON, "e.geojsons": ingest.NDJSON, "dir.v2/f.csv": ingest.CSV,
	} {
		if got, err := ingest.FormatOf(path); got != want || err != nil {
			t.Errorf("FormatOf(%q) = %q, %v", path, got, err)
		}
	}
	if _, err := ingest.FormatOf("x.shp"); geo.ErrorCode(err) != geo.EInvalid {
		t.Errorf("shp: %v", err)
	}
	if f, err := ingest.ParseFormat("GeoJSONL"); f != ingest.NDJSON || err != nil {
		t.Errorf("ParseFormat: %v %v", f, err)
	}
}

// errReader fails after its data, like a network file system going away.
type errReader struct{ r io.Reader }

func (e errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		return n, errors.New("disk on fire")
	}
	return n, err
}

func TestReadErrorsAreFatal(t *testing.T) {
	line := feature(`{"ext_id":"a","status":"faulty"}`, here) + "\n"
	for _, f := range []ingest.Format{ingest.NDJSON, ingest.GeoJSON, ingest.CSV} {
		in := line
		switch f {
		case ingest.GeoJSON:
			in = `{"type":"FeatureCollection","features":[` + strings.TrimSpace(line) + ","
		case ingest.CSV:
			in = "ext_id,status,lon,lat\na,faulty,120,27\n"
		}
		r, err := ingest.NewReader(errReader{strings.NewReader(in)}, geo.Catalogue["hydrants"], ingest.Options{Format: f})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for err == nil {
			_, err = r.Next()
		}
		if err == io.EOF || !strings.Contains(err.Error(), "disk on fire") {
			t.Errorf("%s: %v, want the read error", f, err)
		}
	}
}
