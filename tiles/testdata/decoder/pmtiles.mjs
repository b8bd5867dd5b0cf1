// Reads a PMTiles archive with Protomaps' own JS library (the one MapLibre's
// pmtiles protocol uses), for the Go tests to check OneMap's export. Usage:
//   node pmtiles.mjs archive.pmtiles z/x/y [z/x/y ...]
// Prints JSON: the header, the metadata, and each asked tile's decompressed
// bytes in base64 (null when the archive has no such tile).
import { readFileSync } from 'node:fs';
import { PMTiles } from 'pmtiles';

const [file, ...wanted] = process.argv.slice(2);
const bytes = readFileSync(file);

class BufferSource {
  getKey() { return file; }
  async getBytes(offset, length) {
    const slice = bytes.subarray(offset, offset + length);
    return { data: slice.buffer.slice(slice.byteOffset, slice.byteOffset + slice.byteLength) };
  }
}

const archive = new PMTiles(new BufferSource());
const header = await archive.getHeader();
const metadata = await archive.getMetadata();
const tiles = {};
for (const zxy of wanted) {
  const [z, x, y] = zxy.split('/').map(Number);
  const r = await archive.getZxy(z, x, y);
  tiles[zxy] = r ? Buffer.from(r.data).toString('base64') : null;
}
process.stdout.write(JSON.stringify({ header, metadata, tiles }));
