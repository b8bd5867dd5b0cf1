package analytics_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/onemap-city/onemap/analytics"
	"github.com/onemap-city/onemap/geo"
)

// testGrid returns a grid with awkward values: full-precision fractions,
// tiny and huge magnitudes, negatives and NoData cells.
func testGrid(cols, rows int) analytics.Grid {
	g := analytics.Grid{OriginX: 563210.5, OriginY: 3075432.25, CellSize: 12.5, Cols: cols, Rows: rows, NoData: -9999}
	for r := range rows {
		for c := range cols {
			v := math.Sqrt(float64(r*cols+c)) / 7 * math.Pi
			switch (r*cols + c) % 11 {
			case 3:
				v = -9999
			case 5:
				v *= 1e-12
			case 7:
				v = -v * 1e9
			}
			g.Values = append(g.Values, v)
		}
	}
	return g
}

func requireGDAL(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"gdalinfo", "gdallocationinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found (Debian package gdal-bin): the GDAL cross-check is skipped", tool)
		}
	}
}

type gdalInfo struct {
	Size             []int     `json:"size"`
	GeoTransform     []float64 `json:"geoTransform"`
	CoordinateSystem struct {
		WKT string `json:"wkt"`
	} `json:"coordinateSystem"`
	Metadata map[string]map[string]string `json:"metadata"`
	Bands    []struct {
		Type        string  `json:"type"`
		NoDataValue any     `json:"noDataValue"`
		Min         float64 `json:"minimum"`
		Max         float64 `json:"maximum"`
	} `json:"bands"`
}

func gdalinfo(t *testing.T, path string, args ...string) gdalInfo {
	t.Helper()
	out, err := exec.Command("gdalinfo", append([]string{"-json"}, append(args, path)...)...).Output()
	if err != nil {
		t.Fatalf("gdalinfo %s: %v", path, err)
	}
	var info gdalInfo
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatalf("gdalinfo -json: %v\n%s", err, out)
	}
	return info
}

// gdalValues reads the given cells (col, row) with gdallocationinfo.
func gdalValues(t *testing.T, path string, cells [][2]int, args ...string) []float64 {
	t.Helper()
	var in bytes.Buffer
	for _, c := range cells {
		fmt.Fprintf(&in, "%d %d\n", c[0], c[1])
	}
	cmd := exec.Command("gdallocationinfo", append(append([]string{"-valonly"}, args...), path)...)
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gdallocationinfo: %v", err)
	}
	var vals []float64
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		v, err := strconv.ParseFloat(strings.TrimSpace(sc.Text()), 64)
		if err != nil {
			t.Fatalf("gdallocationinfo printed %q", sc.Text())
		}
		vals = append(vals, v)
	}
	if len(vals) != len(cells) {
		t.Fatalf("gdallocationinfo gave %d values for %d cells:\n%s", len(vals), len(cells), out)
	}
	return vals
}

func sampleCells(g analytics.Grid) [][2]int {
	cells := [][2]int{{0, 0}, {g.Cols - 1, 0}, {0, g.Rows - 1}, {g.Cols - 1, g.Rows - 1}}
	for k := range 20 {
		cells = append(cells, [2]int{(k * 37) % g.Cols, (k * 53) % g.Rows})
	}
	return cells
}

func checkGeoreferencing(t *testing.T, info gdalInfo, g analytics.Grid) {
	t.Helper()
	if len(info.Size) != 2 || info.Size[0] != g.Cols || info.Size[1] != g.Rows {
		t.Errorf("size %v, want [%d %d]", info.Size, g.Cols, g.Rows)
	}
	want := g.GeoTransform()
	if len(info.GeoTransform) != 6 {
		t.Fatalf("geotransform %v", info.GeoTransform)
	}
	for i := range want {
		if math.Abs(info.GeoTransform[i]-want[i]) > 1e-9 {
			t.Errorf("geotransform %v, want %v", info.GeoTransform, want)
			break
		}
	}
	if wkt := info.CoordinateSystem.WKT; !strings.Contains(wkt, "CGCS2000 / 3-degree Gauss-Kruger CM 120E") {
		t.Errorf("coordinate system is not EPSG:4549:\n%s", wkt)
	}
	if len(info.Bands) != 1 {
		t.Fatalf("%d bands", len(info.Bands))
	}
	if nd := fmt.Sprint(info.Bands[0].NoDataValue); nd != fmt.Sprint(g.NoData) {
		t.Errorf("nodata %v, want %v", nd, g.NoData)
	}
}

func TestWriteGeoTIFFReadByGDAL(t *testing.T) {
	requireGDAL(t)
	t.Parallel() // GDAL's tools take a quarter second to start
	dir := t.TempDir()
	// 7 × 5 fits one strip; 300 × 250 (2 400-byte rows) needs three.
	for _, size := range [][2]int{{7, 5}, {300, 250}} {
		g := testGrid(size[0], size[1])
		path := filepath.Join(dir, fmt.Sprintf("g%dx%d.tif", size[0], size[1]))
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := analytics.WriteGeoTIFF(f, g); err != nil {
			t.Fatal(err)
		}
		f.Close()
		info := gdalinfo(t, path)
		checkGeoreferencing(t, info, g)
		if wkt := info.CoordinateSystem.WKT; !strings.Contains(wkt, `ID["EPSG",4549]`) {
			t.Errorf("the GeoTIFF's CRS has no EPSG:4549 identifier:\n%s", wkt)
		}
		if ty := info.Bands[0].Type; ty != "Float64" {
			t.Errorf("band type %s, want Float64", ty)
		}
		if aop := info.Metadata[""]["AREA_OR_POINT"]; aop != "Area" {
			t.Errorf("AREA_OR_POINT %q, want Area", aop)
		}
		cells := sampleCells(g)
		got := gdalValues(t, path, cells)
		for k, c := range cells {
			want := g.Values[c[1]*g.Cols+c[0]]
			// gdallocationinfo prints 15 significant digits.
			if math.Abs(got[k]-want) > 1e-14*math.Abs(want) {
				t.Errorf("%s cell %v: GDAL reads %v, we wrote %v", path, c, got[k], want)
			}
		}
		if size[0] < 300 {
			continue
		}
		// A map coordinate inside cell (3, 2) finds that cell.
		c, r := 3, 2
		x := g.OriginX + (float64(c)+0.3)*g.CellSize
		y := g.OriginY - (float64(r)+0.8)*g.CellSize
		if out, err := exec.Command("gdallocationinfo", "-valonly", "-geoloc", path, fmt.Sprint(x), fmt.Sprint(y)).Output(); err != nil {
			t.Fatal(err)
		} else if got, _ := strconv.ParseFloat(strings.TrimSpace(string(out)), 64); math.Abs(got-g.Values[r*g.Cols+c]) > 1e-14*math.Abs(got) {
			t.Errorf("map point %v, %v reads %v, want cell (%d, %d) = %v", x, y, got, c, r, g.Values[r*g.Cols+c])
		}
	}
}

func TestWriteASCReadByGDAL(t *testing.T) {
	requireGDAL(t)
	t.Parallel()
	dir := t.TempDir()
	g := testGrid(23, 17)
	path := filepath.Join(dir, "density.asc")
	var buf bytes.Buffer
	if err := analytics.WriteASC(&buf, g); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(strings.TrimSuffix(path, ".asc")+".prj", []byte(analytics.PRJ4549), 0o644); err != nil {
		t.Fatal(err)
	}
	info := gdalinfo(t, path, "-oo", "DATATYPE=Float64")
	checkGeoreferencing(t, info, g)
	cells := sampleCells(g)
	got := gdalValues(t, path, cells, "-oo", "DATATYPE=Float64")
	for k, c := range cells {
		want := g.Values[c[1]*g.Cols+c[0]]
		if math.Abs(got[k]-want) > 1e-14*math.Abs(want) {
			t.Errorf("cell %v: GDAL reads %v, we wrote %v", c, got[k], want)
		}
	}
}

// The text itself: header, lower-left corner, values that parse back to
// the same float64, non-finite values as NoData.
func TestWriteASCText(t *testing.T) {
	g := analytics.Grid{OriginX: 1000, OriginY: 2000, CellSize: 10, Cols: 3, Rows: 2, NoData: math.NaN(),
		Values: []float64{0.1, 1.0 / 3, math.NaN(), 2e-300, -7, math.Inf(1)}}
	var buf bytes.Buffer
	if err := analytics.WriteASC(&buf, g); err != nil {
		t.Fatal(err)
	}
	want := "ncols 3\nnrows 2\nxllcorner 1000\nyllcorner 1980\ncellsize 10\nNODATA_value -9999\n" +
		"0.1 0.3333333333333333 -9999\n2e-300 -7 -9999\n"
	if buf.String() != want {
		t.Errorf("WriteASC wrote\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestRasterInvalid(t *testing.T) {
	bad := []analytics.Grid{
		{CellSize: 1, Cols: 0, Rows: 1},
		{CellSize: 1, Cols: 2, Rows: 2, Values: make([]float64, 3)},
		{CellSize: 0, Cols: 1, Rows: 1, Values: make([]float64, 1)},
		{CellSize: 1, Cols: 1, Rows: 1, Values: make([]float64, 1), OriginX: math.NaN()},
	}
	for i, g := range bad {
		if err := analytics.WriteASC(&bytes.Buffer{}, g); geo.ErrorCode(err) != geo.EInvalid {
			t.Errorf("grid %d: WriteASC error %v, want invalid", i, err)
		}
		if err := analytics.WriteGeoTIFF(&bytes.Buffer{}, g); geo.ErrorCode(err) != geo.EInvalid {
			t.Errorf("grid %d: WriteGeoTIFF error %v, want invalid", i, err)
		}
	}
}

func BenchmarkWriteGeoTIFF1000(b *testing.B) {
	g := testGrid(1000, 1000)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		analytics.WriteGeoTIFF(&buf, g)
	}
}
