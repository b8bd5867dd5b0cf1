package analytics

import (
	"bufio"
	"encoding/binary"
	"io"
	"math"
	"strconv"

	"github.com/onemap-city/onemap/geo"
)

// Grid is a single-band raster of float64 in EPSG:4549 metres, as an
// analyst downloads it: square cells, row-major values, row 0 the northern
// edge.
type Grid struct {
	OriginX, OriginY float64 // top-left (north-west) corner of the top-left cell
	CellSize         float64 // cell width and height
	Cols, Rows       int
	Values           []float64 // Values[row*Cols+col]
	NoData           float64   // the value that marks a cell without data
}

// GeoTransform returns the grid's GDAL geotransform: OriginX, CellSize, 0,
// OriginY, 0, −CellSize.
func (g Grid) GeoTransform() [6]float64 {
	return [6]float64{g.OriginX, g.CellSize, 0, g.OriginY, 0, -g.CellSize}
}

func (g Grid) validate() error {
	switch {
	case g.Cols <= 0 || g.Rows <= 0:
		return geo.Invalid("grid", "a grid needs positive columns and rows, got %d × %d", g.Cols, g.Rows)
	case len(g.Values) != g.Cols*g.Rows:
		return geo.Invalid("grid", "a %d × %d grid needs %d values, got %d", g.Cols, g.Rows, g.Cols*g.Rows, len(g.Values))
	case !(g.CellSize > 0) || math.IsInf(g.CellSize, 0):
		return geo.Invalid("grid", "the cell size must be a positive number of metres, got %v", g.CellSize)
	case !finite(g.OriginX) || !finite(g.OriginY):
		return geo.Invalid("grid", "the grid origin must be finite, got %v, %v", g.OriginX, g.OriginY)
	}
	return nil
}

// PRJ4549 is the ESRI WKT of EPSG:4549, the content of the .prj file that
// goes beside an .asc grid (as written by `gdalsrsinfo -o wkt_esri
// EPSG:4549`, GDAL 3.6); GDAL and QGIS read it as "CGCS2000 / 3-degree
// Gauss-Kruger CM 120E", ArcGIS as CGCS2000_3_Degree_GK_CM_120E.
const PRJ4549 = `PROJCS["CGCS2000_3_Degree_GK_CM_120E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",` +
	`DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],` +
	`UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],` +
	`PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],` +
	`PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`

// asciiNoData is the NODATA_value written when the grid's NoData is not a
// finite number, which the ASCII grid format cannot carry.
const asciiNoData = -9999

// WriteASC writes g as an ESRI ASCII grid (.asc): the header ncols, nrows,
// xllcorner, yllcorner (the lower-left corner), cellsize, NODATA_value,
// then one line per row from the north, each value in the shortest form
// that reads back to the same float64. Non-finite values are written as
// the NODATA_value; a NaN or infinite NoData is written as -9999. (GDAL
// opens .asc files as Float32 unless told -oo DATATYPE=Float64; the
// GeoTIFF keeps full precision.) Pair it with PRJ4549 in a .prj file. It
// returns an EInvalid error for a malformed grid and the writer's error if
// writing fails.
func WriteASC(w io.Writer, g Grid) error {
	if err := g.validate(); err != nil {
		return err
	}
	nodata := g.NoData
	if !finite(nodata) {
		nodata = asciiNoData
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	buf := make([]byte, 0, 64)
	header := func(key string, v float64) {
		buf = append(buf[:0], key...)
		buf = append(buf, ' ')
		buf = strconv.AppendFloat(buf, v, 'g', -1, 64)
		buf = append(buf, '\n')
		bw.Write(buf)
	}
	header("ncols", float64(g.Cols))
	header("nrows", float64(g.Rows))
	header("xllcorner", g.OriginX)
	header("yllcorner", g.OriginY-float64(g.Rows)*g.CellSize)
	header("cellsize", g.CellSize)
	header("NODATA_value", nodata)
	for r := range g.Rows {
		buf = buf[:0]
		for c, v := range g.Values[r*g.Cols : (r+1)*g.Cols] {
			if c > 0 {
				buf = append(buf, ' ')
			}
			if !finite(v) {
				v = nodata
			}
			buf = strconv.AppendFloat(buf, v, 'g', -1, 64)
		}
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// TIFF field types.
const (
	tiffShort  = 3
	tiffLong   = 4
	tiffASCII  = 2
	tiffDouble = 12
)

type tiffEntry struct {
	tag, typ uint16
	count    uint32
	data     []byte // little-endian values; inline if ≤ 4 bytes
}

func shorts(v ...uint16) []byte {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], x)
	}
	return b
}

func longs(v ...uint32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], x)
	}
	return b
}

func doubles(v ...float64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

// WriteGeoTIFF writes g as a baseline little-endian GeoTIFF: one band of
// IEEE float64 (SampleFormat 3, BitsPerSample 64), uncompressed, in strips
// of up to 256 KiB, georeferenced by ModelPixelScale and ModelTiepoint
// (PixelIsArea: the tie point is the top-left corner of the top-left cell)
// and GeoKeys GTModelType = projected, GTRasterType = PixelIsArea,
// ProjectedCSType = EPSG:4549, with NoData in GDAL's GDAL_NODATA tag
// (42113). Values are written as they are, NaN included. It returns an
// EInvalid error for a malformed grid or one too big for a classic (4 GiB)
// TIFF, and the writer's error if writing fails.
func WriteGeoTIFF(w io.Writer, g Grid) error {
	if err := g.validate(); err != nil {
		return err
	}
	rowBytes := 8 * g.Cols
	rowsPerStrip := max(1, min(g.Rows, (256<<10)/rowBytes))
	nStrips := (g.Rows + rowsPerStrip - 1) / rowsPerStrip
	if int64(rowBytes)*int64(g.Rows)+int64(nStrips)*8+4096 >= 1<<32 {
		return geo.Invalid("grid", "a %d × %d float64 grid is too big for a GeoTIFF without BigTIFF", g.Cols, g.Rows)
	}
	nodata := append([]byte(strconv.FormatFloat(g.NoData, 'g', -1, 64)), 0)
	if math.IsNaN(g.NoData) {
		nodata = []byte("nan\x00")
	}
	counts := make([]uint32, nStrips)
	for s := range nStrips {
		counts[s] = uint32(rowBytes * min(rowsPerStrip, g.Rows-s*rowsPerStrip))
	}
	entries := []tiffEntry{
		{256, tiffLong, 1, longs(uint32(g.Cols))},                         // ImageWidth
		{257, tiffLong, 1, longs(uint32(g.Rows))},                         // ImageLength
		{258, tiffShort, 1, shorts(64)},                                   // BitsPerSample
		{259, tiffShort, 1, shorts(1)},                                    // Compression: none
		{262, tiffShort, 1, shorts(1)},                                    // Photometric: BlackIsZero
		{273, tiffLong, uint32(nStrips), nil},                             // StripOffsets, filled in below
		{277, tiffShort, 1, shorts(1)},                                    // SamplesPerPixel
		{278, tiffLong, 1, longs(uint32(rowsPerStrip))},                   // RowsPerStrip
		{279, tiffLong, uint32(nStrips), longs(counts...)},                // StripByteCounts
		{284, tiffShort, 1, shorts(1)},                                    // PlanarConfiguration: chunky
		{339, tiffShort, 1, shorts(3)},                                    // SampleFormat: IEEE float
		{33550, tiffDouble, 3, doubles(g.CellSize, g.CellSize, 0)},        // ModelPixelScale
		{33922, tiffDouble, 6, doubles(0, 0, 0, g.OriginX, g.OriginY, 0)}, // ModelTiepoint
		{34735, tiffShort, 16, shorts(1, 1, 0, 3, // GeoKeyDirectory v1.1.0, 3 keys
			1024, 0, 1, 1, // GTModelTypeGeoKey = ModelTypeProjected
			1025, 0, 1, 1, // GTRasterTypeGeoKey = RasterPixelIsArea
			3072, 0, 1, 4549)}, // ProjectedCSTypeGeoKey = EPSG:4549
		{42113, tiffASCII, uint32(len(nodata)), nodata}, // GDAL_NODATA
	}
	// Layout: header, IFD, out-of-line values (8-byte aligned), pixels.
	ifdSize := 2 + 12*len(entries) + 4
	off := 8 + ifdSize
	align := func(o int) int { return (o + 7) &^ 7 }
	stripsAt := 0
	offsets := make([]int, len(entries))
	for i, e := range entries {
		size := len(e.data)
		if e.tag == 273 {
			size = 4 * nStrips
			stripsAt = i
		}
		if size > 4 {
			off = align(off)
			offsets[i] = off
			off += size
		}
	}
	dataStart := align(off)
	strips := make([]uint32, nStrips)
	for s := range nStrips {
		strips[s] = uint32(dataStart + s*rowsPerStrip*rowBytes)
	}
	entries[stripsAt].data = longs(strips...)

	head := make([]byte, dataStart)
	copy(head, "II")
	binary.LittleEndian.PutUint16(head[2:], 42)
	binary.LittleEndian.PutUint32(head[4:], 8)
	p := head[8:]
	binary.LittleEndian.PutUint16(p, uint16(len(entries)))
	p = p[2:]
	for i, e := range entries {
		binary.LittleEndian.PutUint16(p[0:], e.tag)
		binary.LittleEndian.PutUint16(p[2:], e.typ)
		binary.LittleEndian.PutUint32(p[4:], e.count)
		if len(e.data) <= 4 {
			copy(p[8:12], e.data)
		} else {
			binary.LittleEndian.PutUint32(p[8:], uint32(offsets[i]))
			copy(head[offsets[i]:], e.data)
		}
		p = p[12:]
	}
	// The next-IFD offset after the entries stays 0: one image.
	if _, err := w.Write(head); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	row := make([]byte, rowBytes)
	for r := range g.Rows {
		for c, v := range g.Values[r*g.Cols : (r+1)*g.Cols] {
			binary.LittleEndian.PutUint64(row[8*c:], math.Float64bits(v))
		}
		if _, err := bw.Write(row); err != nil {
			return err
		}
	}
	return bw.Flush()
}
