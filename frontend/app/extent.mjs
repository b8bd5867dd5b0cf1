// Where an area is, when the map has not loaded its boundary: the extents of
// every town, community or grid cell, read from a few low-zoom boundary tiles
// (a minimal Mapbox Vector Tile reader that keeps only ids and bounding boxes).

/** Reads the bounding box [w, s, e, n] in degrees of every feature of layerName in one MVT tile. */
export function tileExtents(buffer, layerName, z, x, y) {
  const out = new Map();
  const r = reader(new Uint8Array(buffer));
  while (r.more()) {
    const [field, type] = r.key();
    if (field !== 3 || type !== 2) {
      r.skip(type);
      continue;
    }
    const layer = r.sub();
    let name = '';
    let extent = 4096;
    const features = [];
    while (layer.more()) {
      const [f, ft] = layer.key();
      if (f === 1 && ft === 2) name = layer.string();
      else if (f === 2 && ft === 2) features.push(layer.sub());
      else if (f === 5 && ft === 0) extent = layer.varint();
      else layer.skip(ft);
    }
    if (name !== layerName) continue;
    for (const fr of features) {
      let id = null;
      let box = null;
      while (fr.more()) {
        const [f, ft] = fr.key();
        if (f === 1 && ft === 0) id = fr.varint();
        else if (f === 4 && ft === 2) box = geometryBox(fr.sub());
        else fr.skip(ft);
      }
      if (id === null || !box) continue;
      const [w, n] = toLngLat(box[0], box[1], extent, z, x, y);
      const [e, s] = toLngLat(box[2], box[3], extent, z, x, y);
      const prev = out.get(id);
      out.set(id, prev ? [Math.min(prev[0], w), Math.min(prev[1], s), Math.max(prev[2], e), Math.max(prev[3], n)] : [w, s, e, n]);
    }
  }
  return out;
}

/** The bounding box in tile units of a feature's geometry commands. */
function geometryBox(g) {
  let x = 0;
  let y = 0;
  const box = [Infinity, Infinity, -Infinity, -Infinity];
  while (g.more()) {
    const cmd = g.varint();
    const id = cmd & 7;
    const count = cmd >> 3;
    if (id === 7) continue; // ClosePath
    for (let i = 0; i < count; i++) {
      x += zigzag(g.varint());
      y += zigzag(g.varint());
      box[0] = Math.min(box[0], x);
      box[1] = Math.min(box[1], y);
      box[2] = Math.max(box[2], x);
      box[3] = Math.max(box[3], y);
    }
  }
  return box[0] === Infinity ? null : box;
}

const zigzag = (n) => (n >>> 1) ^ -(n & 1);

function toLngLat(px, py, extent, z, x, y) {
  const n = 2 ** z;
  const lon = ((x + px / extent) / n) * 360 - 180;
  const lat = (Math.atan(Math.sinh(Math.PI * (1 - (2 * (y + py / extent)) / n))) * 180) / Math.PI;
  return [lon, lat];
}

/** A protobuf reader over bytes[start, end): just what MVT needs. */
function reader(bytes, start = 0, end = bytes.length) {
  let pos = start;
  const r = {
    more: () => pos < end,
    varint() {
      let v = 0;
      let shift = 0;
      let b;
      do {
        b = bytes[pos++];
        v += (b & 0x7f) * 2 ** shift;
        shift += 7;
      } while (b & 0x80);
      return v;
    },
    key() {
      const k = r.varint();
      return [Math.floor(k / 8), k & 7];
    },
    sub() {
      const len = r.varint();
      const s = reader(bytes, pos, pos + len);
      pos += len;
      return s;
    },
    string() {
      const len = r.varint();
      const s = new TextDecoder().decode(bytes.subarray(pos, pos + len));
      pos += len;
      return s;
    },
    skip(type) {
      if (type === 0) r.varint();
      else if (type === 1) pos += 8;
      else if (type === 2) {
        const len = r.varint(); // read before pos is used: `pos += r.varint()` would add to the old pos
        pos += len;
      }
      else if (type === 5) pos += 4;
      else throw new Error(`mvt: wire type ${type}`);
    },
  };
  return r;
}

/** The tiles at zoom z that cover bounds [w, s, e, n]. */
export function tilesCovering(bounds, z) {
  const n = 2 ** z;
  const tx = (lon) => Math.min(n - 1, Math.max(0, Math.floor(((lon + 180) / 360) * n)));
  const ty = (lat) => {
    const r = (lat * Math.PI) / 180;
    return Math.min(n - 1, Math.max(0, Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n)));
  };
  const out = [];
  for (let x = tx(bounds[0]); x <= tx(bounds[2]); x++) for (let y = ty(bounds[3]); y <= ty(bounds[1]); y++) out.push({z, x, y});
  return out;
}
