import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {test} from 'node:test';
import {tileExtents, tilesCovering} from '../../app/extent.mjs';

// Towns tiles of the small demo at zoom 9 (the fourth tile is empty: 204).
const tiles = [[427, 214], [427, 215], [428, 215]];

test('the extents of areas from their boundary tiles match PostGIS', () => {
  const all = new Map();
  for (const [x, y] of tiles) {
    const buf = readFileSync(new URL(`./testdata/towns-9-${x}-${y}.mvt`, import.meta.url));
    for (const [id, b] of tileExtents(buf, 'towns', 9, x, y)) {
      const p = all.get(id);
      all.set(id, p ? [Math.min(p[0], b[0]), Math.min(p[1], b[1]), Math.max(p[2], b[2]), Math.max(p[3], b[3])] : b);
    }
  }
  assert.equal(all.size, 23);
  // ST_Extent of towns 13 and 1; a zoom-9 tile is simplified to about 150 m.
  const close = (got, want) => got.every((v, i) => Math.abs(v - want[i]) < 0.002);
  assert.ok(close(all.get(13), [120.52160, 27.84145, 120.74737, 27.93847]), `town 13: ${all.get(13)}`);
  assert.ok(close(all.get(1), [120.61038, 27.73442, 120.66841, 27.81942]), `town 1: ${all.get(1)}`);
  assert.equal(tileExtents(readFileSync(new URL('./testdata/towns-9-427-214.mvt', import.meta.url)), 'roads', 9, 427, 214).size, 0);
});

test('the tiles that cover a bounding box', () => {
  assert.deepEqual(tilesCovering([120.248, 27.604, 121.197, 27.941], 9).map((t) => `${t.x}/${t.y}`), ['427/214', '427/215', '428/214', '428/215']);
  assert.equal(tilesCovering([120.248, 27.604, 121.197, 27.941], 11).length, 18);
});
