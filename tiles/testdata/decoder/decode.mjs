// Decodes Mapbox Vector Tiles with Mapbox's own reference decoder, for the Go
// tests to compare with what OneMap meant to encode. Usage:
//   node decode.mjs tile.mvt [more.mvt ...]
// Prints one JSON document per file: each layer's version, extent and features
// (id, type, properties, rings/lines/points in tile coordinates, and for
// polygons the signed area of every ring, positive = clockwise in tile space).
import { readFileSync } from 'node:fs';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';

// The surveyor's formula of the MVT spec (4.3.4.4): exterior rings have a
// positive area, which with y pointing down looks clockwise.
function signedArea(ring) {
  let sum = 0;
  for (let i = 0; i < ring.length; i++) {
    const a = ring[i], b = ring[(i + 1) % ring.length];
    sum += a.x * b.y - b.x * a.y;
  }
  return sum / 2;
}

const out = [];
for (const file of process.argv.slice(2)) {
  const tile = new VectorTile(new PbfReader(readFileSync(file)));
  const layers = {};
  for (const name of Object.keys(tile.layers)) {
    const layer = tile.layers[name];
    const features = [];
    for (let i = 0; i < layer.length; i++) {
      const f = layer.feature(i);
      const geometry = f.loadGeometry().map(r => r.map(p => [p.x, p.y]));
      const entry = { id: f.id, type: f.type, properties: f.properties, geometry };
      if (f.type === 3) entry.ringAreas = f.loadGeometry().map(signedArea);
      features.push(entry);
    }
    layers[name] = { version: layer.version, extent: layer.extent, features };
  }
  out.push({ file, layers });
}
process.stdout.write(JSON.stringify(out));
