import assert from 'node:assert/strict';
import {existsSync, readFileSync, readdirSync} from 'node:fs';
import {test} from 'node:test';

const root = new URL('../../', import.meta.url);
const read = (p) => readFileSync(new URL(p, root), 'utf8');

test('index.html loads the vendored MapLibre of package.json, and only from our origin', () => {
  const version = JSON.parse(read('package.json')).devDependencies['maplibre-gl'];
  const dir = `lib/maplibre-gl-${version}/`;
  const html = read('index.html');
  const refs = [...html.matchAll(/lib\/maplibre-gl-[^/"']+\//g)].map((m) => m[0]);
  assert.ok(refs.length >= 3, 'css, import map and preload');
  assert.deepEqual([...new Set(refs)], [dir], 'run `npm run vendor` after changing the version');
  for (const f of ['maplibre-gl.mjs', 'maplibre-gl-worker.mjs', 'maplibre-gl.css', 'LICENSE.txt']) assert.ok(existsSync(new URL(dir + f, root)), dir + f);
  assert.deepEqual(readdirSync(new URL('lib/', root)), [`maplibre-gl-${version}`], 'one version in lib/');
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'no absolute URLs');
});

test('our modules import nothing from another origin', () => {
  for (const dir of ['app/', 'app/i18n/']) {
    for (const f of readdirSync(new URL(dir, root)).filter((x) => x.endsWith('.mjs'))) {
      const src = read(dir + f);
      for (const m of src.matchAll(/^import .* from '([^']+)';$/gm)) {
        assert.ok(m[1].startsWith('./') || m[1].startsWith('../') || m[1] === 'maplibre-gl', `${dir}${f}: ${m[1]}`);
      }
      assert.doesNotMatch(src, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, `${dir}${f} names a URL`);
    }
  }
});

test('the Go embed takes the page, our modules and the vendored library, not node_modules', () => {
  const go = read('embed.go');
  assert.match(go, /\/\/go:embed index\.html app lib\n/);
});
