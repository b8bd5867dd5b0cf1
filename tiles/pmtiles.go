package tiles

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/onemap-city/onemap/geo"
)

// A PMTiles v3 writer (https://github.com/protomaps/PMTiles/blob/main/spec/v3/spec.md),
// written against the spec rather than taken from go-pmtiles, whose package
// pulls in cloud-storage clients this offline tool has no use for.

const (
	pmHeaderLen    = 127
	pmRootMaxBytes = 16384 - pmHeaderLen // header and root directory fit the first 16 KiB
	pmCompressNone = 1
	pmCompressGzip = 2
	pmTypeMVT      = 1
)

// TileID is the PMTiles tile id of z/x/y: the tiles of all lower zooms, then
// the tile's position along the Hilbert curve at its zoom.
func TileID(a geo.TileAddr) uint64 {
	var acc uint64
	for z := 0; z < a.Z; z++ {
		acc += 1 << (2 * z)
	}
	n := uint64(1) << a.Z
	x, y := uint64(a.X), uint64(a.Y)
	var d uint64
	for s := n / 2; s > 0; s /= 2 {
		var rx, ry uint64
		if x&s > 0 {
			rx = 1
		}
		if y&s > 0 {
			ry = 1
		}
		d += s * s * ((3 * rx) ^ ry)
		// Rotate the quadrant.
		if ry == 0 {
			if rx == 1 {
				x = s - 1 - x
				y = s - 1 - y
			}
			x, y = y, x
		}
	}
	return acc + d
}

// pmEntry is one directory entry: a run of RunLength tiles from TileID sharing
// the bytes at Offset, or (RunLength 0) a leaf directory.
type pmEntry struct {
	TileID    uint64
	Offset    uint64
	Length    uint32
	RunLength uint32
}

// serializeDirectory encodes entries (sorted by TileID) as the spec's
// columnar varint directory, gzip-compressed.
func serializeDirectory(entries []pmEntry) []byte {
	var raw []byte
	raw = binary.AppendUvarint(raw, uint64(len(entries)))
	var last uint64
	for _, e := range entries {
		raw = binary.AppendUvarint(raw, e.TileID-last)
		last = e.TileID
	}
	for _, e := range entries {
		raw = binary.AppendUvarint(raw, uint64(e.RunLength))
	}
	for _, e := range entries {
		raw = binary.AppendUvarint(raw, uint64(e.Length))
	}
	for i, e := range entries {
		if i > 0 && e.Offset == entries[i-1].Offset+uint64(entries[i-1].Length) {
			raw = binary.AppendUvarint(raw, 0)
		} else {
			raw = binary.AppendUvarint(raw, e.Offset+1)
		}
	}
	return gzipBytes(raw)
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

// buildDirectories returns the root directory and the leaf directories
// (concatenated), splitting entries into leaves when the root would not fit.
func buildDirectories(entries []pmEntry) (root, leaves []byte) {
	if root = serializeDirectory(entries); len(root) <= pmRootMaxBytes {
		return root, nil
	}
	for leafSize := 4096; ; leafSize *= 2 {
		var rootEntries []pmEntry
		leaves = leaves[:0]
		for i := 0; i < len(entries); i += leafSize {
			chunk := entries[i:min(i+leafSize, len(entries))]
			leaf := serializeDirectory(chunk)
			rootEntries = append(rootEntries, pmEntry{TileID: chunk[0].TileID, Offset: uint64(len(leaves)), Length: uint32(len(leaf))})
			leaves = append(leaves, leaf...)
		}
		if root = serializeDirectory(rootEntries); len(root) <= pmRootMaxBytes {
			return root, leaves
		}
	}
}

// PMTilesWriter writes tiles, added in increasing TileID order, to a
// PMTiles v3 archive. Identical tiles are stored once (a run when adjacent).
type PMTilesWriter struct {
	data     *os.File // tile data, spooled until Close knows the directory size
	out      io.Writer
	entries  []pmEntry
	offset   uint64
	seen     map[[32]byte]pmEntry // content hash → where it is stored
	lastID   uint64
	started  bool
	addrs    uint64
	contents uint64
	minZ     int
	maxZ     int
}

// NewPMTilesWriter returns a writer to out; tmpDir holds the spooled tile data.
func NewPMTilesWriter(out io.Writer, tmpDir string) (*PMTilesWriter, error) {
	f, err := os.CreateTemp(tmpDir, "onemap-pmtiles-*")
	if err != nil {
		return nil, err
	}
	_ = os.Remove(f.Name()) // unlinked: gone when closed, even after a crash
	return &PMTilesWriter{data: f, out: out, seen: map[[32]byte]pmEntry{}, minZ: math.MaxInt, maxZ: -1}, nil
}

// Add stores one tile's gzip-compressed MVT bytes. Tiles must come in
// increasing TileID order; empty tiles are simply not added.
func (w *PMTilesWriter) Add(a geo.TileAddr, gz []byte, hash [32]byte) error {
	id := TileID(a)
	if w.started && id <= w.lastID {
		return fmt.Errorf("pmtiles: tile %v added out of order", a)
	}
	w.started, w.lastID = true, id
	w.addrs++
	w.minZ, w.maxZ = min(w.minZ, a.Z), max(w.maxZ, a.Z)
	if prev, ok := w.seen[hash]; ok {
		last := &w.entries[len(w.entries)-1]
		if last.Offset == prev.Offset && last.TileID+uint64(last.RunLength) == id {
			last.RunLength++
			return nil
		}
		w.entries = append(w.entries, pmEntry{TileID: id, Offset: prev.Offset, Length: prev.Length, RunLength: 1})
		return nil
	}
	if _, err := w.data.Write(gz); err != nil {
		return err
	}
	e := pmEntry{TileID: id, Offset: w.offset, Length: uint32(len(gz)), RunLength: 1}
	w.entries = append(w.entries, e)
	w.seen[hash] = e
	w.offset += uint64(len(gz))
	w.contents++
	return nil
}

// PMTilesMeta is what the header and metadata say about the archive.
type PMTilesMeta struct {
	Bounds   [4]float64
	Center   [3]float64
	Metadata []byte // JSON: name, vector_layers, attribution...
}

// Close writes header, directories, metadata and tile data, in that order.
func (w *PMTilesWriter) Close(meta PMTilesMeta) error {
	defer w.data.Close()
	if w.addrs == 0 {
		return errors.New("pmtiles: no tiles to write: the area and zooms hold no features")
	}
	root, leaves := buildDirectories(w.entries)
	metadata := gzipBytes(meta.Metadata)
	h := make([]byte, pmHeaderLen)
	copy(h, "PMTiles")
	h[7] = 3
	rootOff := uint64(pmHeaderLen)
	metaOff := rootOff + uint64(len(root))
	leafOff := metaOff + uint64(len(metadata))
	dataOff := leafOff + uint64(len(leaves))
	le := binary.LittleEndian
	for i, v := range []uint64{rootOff, uint64(len(root)), metaOff, uint64(len(metadata)), leafOff, uint64(len(leaves)),
		dataOff, w.offset, w.addrs, uint64(len(w.entries)), w.contents} {
		le.PutUint64(h[8+8*i:], v)
	}
	h[96] = 1 // clustered: tile data is in TileID order
	h[97] = pmCompressGzip
	h[98] = pmCompressGzip
	h[99] = pmTypeMVT
	h[100] = byte(w.minZ)
	h[101] = byte(w.maxZ)
	e7 := func(v float64) uint32 { return uint32(int32(math.Round(v * 1e7))) }
	le.PutUint32(h[102:], e7(meta.Bounds[0]))
	le.PutUint32(h[106:], e7(meta.Bounds[1]))
	le.PutUint32(h[110:], e7(meta.Bounds[2]))
	le.PutUint32(h[114:], e7(meta.Bounds[3]))
	h[118] = byte(max(min(int(meta.Center[2]), w.maxZ), w.minZ))
	le.PutUint32(h[119:], e7(meta.Center[0]))
	le.PutUint32(h[123:], e7(meta.Center[1]))
	for _, part := range [][]byte{h, root, metadata, leaves} {
		if _, err := w.out.Write(part); err != nil {
			return err
		}
	}
	if _, err := w.data.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := io.Copy(w.out, w.data)
	return err
}
