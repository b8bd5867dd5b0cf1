package tiles_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/sql/postgis/postgistest"
	"github.com/onemap-city/onemap/tiles"
)

// detailedTown is a town far from the demo city with a surveyed-looking
// boundary: a 6 km circle with 120 m wiggles, 20,000 vertices. Demo towns
// have at most a few hundred, which no tile notices.
const (
	detailedLon, detailedLat = 121.3, 28.3
	detailedVertices         = 20000
)

// addDetailedTown inserts the detailed town and removes it when the test
// ends. It returns its id.
func addDetailedTown(t testing.TB) int64 {
	t.Helper()
	ctx := context.Background()
	db := postgistest.DB(t)
	var id int64
	err := db.QueryRow(ctx, `
		INSERT INTO towns (ext_id, code, name, geom)
		SELECT 'test-detailed-town', 'TEST-DETAILED', '细节镇',
		       ST_Multi(ST_MakePolygon(ST_AddPoint(line, ST_StartPoint(line))))
		FROM (SELECT ST_MakeLine(pt ORDER BY i) AS line FROM (
		        SELECT i, ST_Project(ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography,
		                             6000 * (1 + 0.02 * sin(200 * 2 * pi() * i / $3)), 2 * pi() * i / $3)::geometry AS pt
		        FROM generate_series(0, $3 - 1) i) s) l
		RETURNING id`, detailedLon, detailedLat, detailedVertices).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec(context.Background(), "DELETE FROM towns WHERE id = $1", id); err != nil {
			t.Error(err)
		}
	})
	return id
}

// wholeTowns is the towns layer with pieces turned off: tiles from whole
// polygons, the reference the pieces must reproduce.
func wholeTowns() *geo.Layer {
	l := *geo.Catalogue["towns"]
	l.PiecesFrom = 0
	return &l
}

// detailedTiles are tiles on the detailed town's eastern boundary and at its
// centre (wholly inside), from the zoom where pieces take over.
func detailedTiles() []geo.TileAddr {
	edgeLon := detailedLon + 6000/(111320*math.Cos(detailedLat*math.Pi/180))
	var out []geo.TileAddr
	for z := geo.Catalogue["towns"].PiecesFrom; z <= 17; z++ {
		out = append(out, geo.TileOf(z, edgeLon, detailedLat), geo.TileOf(z, detailedLon, detailedLat))
	}
	return out
}

// TestDetailedPolygonsFromPieces: from PiecesFrom on, a town's tile is made
// from the pieces it touches, and it is the same polygon (to the encoding's
// half-pixel simplification) as the tile made from the whole boundary,
// valid and wound as MVT wants. Pieces follow updates and deletes.
func TestDetailedPolygonsFromPieces(t *testing.T) {
	ctx := context.Background()
	db := postgistest.DB(t)
	id := addDetailedTown(t)

	var pieces, maxVertices int
	if err := db.QueryRow(ctx, `SELECT count(*), max(ST_NPoints(geom_3857)) FROM polygon_pieces WHERE layer = 'towns' AND id = $1`, id).Scan(&pieces, &maxVertices); err != nil {
		t.Fatal(err)
	}
	if pieces < detailedVertices/256 || maxVertices > 256 {
		t.Fatalf("%d pieces of up to %d vertices, want at least %d of at most 256", pieces, maxVertices, detailedVertices/256)
	}
	var sameArea bool
	if err := db.QueryRow(ctx, `SELECT abs(ST_Area(ST_Union(p.geom_3857)) - ST_Area(t.geom_3857)) < 1e-6 * ST_Area(t.geom_3857)
		FROM polygon_pieces p JOIN towns t ON t.id = p.id WHERE p.layer = 'towns' AND p.id = $1 GROUP BY t.geom_3857`, id).Scan(&sameArea); err != nil || !sameArea {
		t.Fatalf("the pieces do not make up the town (%v)", err)
	}

	svc := tiles.NewService(db, tiles.Config{}, nil)
	dir := t.TempDir()
	var files []string
	for _, a := range detailedTiles() {
		if !tiles.FromPieces(geo.Catalogue["towns"], a.Z) {
			t.Fatalf("z%d: towns tiles should come from pieces", a.Z)
		}
		for _, l := range []*geo.Layer{geo.Catalogue["towns"], wholeTowns()} {
			tile, err := svc.Tile(ctx, tiles.Request{Layers: []*geo.Layer{l}, Addr: a})
			if err != nil {
				t.Fatal(err)
			}
			f := filepath.Join(dir, fmt.Sprintf("%d-%d-%d-%d.mvt", a.Z, a.X, a.Y, l.PiecesFrom))
			if err := os.WriteFile(f, tile.Identity, 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
	}
	decoded := decodeJS(t, files...)
	for i := 0; i < len(decoded); i += 2 {
		fromPieces, whole := decoded[i].Layers["towns"], decoded[i+1].Layers["towns"]
		name := filepath.Base(decoded[i].File)
		checkPolygons(t, name, fromPieces)
		p, w := featureByID(fromPieces, id), featureByID(whole, id)
		if p == nil || w == nil {
			t.Fatalf("%s: the detailed town is missing (pieces %v, whole %v)", name, p != nil, w != nil)
		}
		// Both are simplified to half a pixel (4 tile units) and snapped to
		// the grid, from different vertex sets: they may differ by that much.
		var dist, areaP, areaW float64
		err := db.QueryRow(ctx, `SELECT ST_HausdorffDistance(a, b), ST_Area(a), ST_Area(b)
			FROM ST_GeomFromText($1) a, ST_GeomFromText($2) b`, polygonWKT(*p), polygonWKT(*w)).Scan(&dist, &areaP, &areaW)
		if err != nil {
			t.Fatal(err)
		}
		if dist > 8 || math.Abs(areaP-areaW) > 0.01*areaW {
			t.Errorf("%s: tile from pieces differs from the whole polygon's: Hausdorff %.1f tile units, areas %.0f and %.0f", name, dist, areaP, areaW)
		}
	}

	// Pieces follow the table: a moved boundary re-cuts them, a delete drops them.
	if _, err := db.Exec(ctx, `UPDATE towns SET geom = ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint($1, $2), 4326), 0.01, 4)) WHERE id = $3`, detailedLon, detailedLat, id); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `SELECT count(*) FROM polygon_pieces WHERE layer = 'towns' AND id = $1`, id).Scan(&pieces); err != nil || pieces != 1 {
		t.Errorf("after a simple boundary replaced the detailed one: %d pieces (%v), want 1", pieces, err)
	}
	if _, err := db.Exec(ctx, `DELETE FROM towns WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `SELECT count(*) FROM polygon_pieces WHERE layer = 'towns' AND id = $1`, id).Scan(&pieces); err != nil || pieces != 0 {
		t.Errorf("after the town was deleted: %d pieces (%v), want 0", pieces, err)
	}
}

func featureByID(dl decodedLayer, id int64) *decodedFeature {
	for i, f := range dl.Features {
		if f.ID != nil && *f.ID == uint64(id) {
			return &dl.Features[i]
		}
	}
	return nil
}

// TestEveryPiecesLayerHasItsTriggers keeps the catalogue and the schema in
// step: a layer drawn from pieces must have its pieces maintained.
func TestEveryPiecesLayerHasItsTriggers(t *testing.T) {
	for _, id := range geo.LayerIDs() {
		l := geo.Catalogue[id]
		if l.PiecesFrom == 0 {
			continue
		}
		var n int
		err := postgistest.DB(t).QueryRow(context.Background(), `SELECT count(*) FROM pg_trigger
			WHERE tgrelid = $1::regclass AND tgfoid = 'polygon_pieces_sync'::regproc`, l.Table).Scan(&n)
		if err != nil || n != 2 {
			t.Errorf("%s: %d pieces triggers (%v), want 2 (rows and truncate): add the table to migration 00007's list", id, n, err)
		}
	}
}

// BenchmarkDetailedPolygonTile is the cost of a tile on a 20,000-vertex
// boundary, from pieces and from the whole polygon.
//
//	go test ./tiles -run '^$' -bench DetailedPolygonTile
func BenchmarkDetailedPolygonTile(b *testing.B) {
	loadDemoB(b)
	addDetailedTown(b)
	db := postgistest.DB(b)
	lon, lat := townCoreB(b)
	tilesAt := append(detailedTiles(), geo.TileOf(15, lon, lat), geo.TileOf(16, lon, lat))
	for _, l := range []*geo.Layer{geo.Catalogue["towns"], wholeTowns()} {
		name := "pieces"
		if l.PiecesFrom == 0 {
			name = "whole"
		}
		for _, a := range tilesAt {
			b.Run(fmt.Sprintf("%s/%d-%d-%d", name, a.Z, a.X, a.Y), func(b *testing.B) {
				q, _ := tiles.BuildQuery(tiles.Request{Layers: []*geo.Layer{l}, Addr: a}, tiles.DefaultConfig.Limits())
				for b.Loop() {
					var mvt []byte
					var truncated bool
					if err := db.ScanRow(context.Background(), q.SQL, q.Args, &mvt, &truncated); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
