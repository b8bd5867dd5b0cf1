// Copies the few MapLibre GL JS files the web map loads from node_modules into
// lib/maplibre-gl-<version>/ (committed, embedded by Go), removes older copies
// and points index.html at the new folder. Run after changing the version in
// package.json: `npm install && npm run vendor`.
import {copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkgDir = join(root, 'node_modules', 'maplibre-gl');
const {version} = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const name = `maplibre-gl-${version}`;
const out = join(root, 'lib', name);

// The ESM build is two modules that must sit side by side: the library finds
// its worker at new URL('./maplibre-gl-worker.mjs', import.meta.url).
const files = ['dist/maplibre-gl.mjs', 'dist/maplibre-gl-worker.mjs', 'dist/maplibre-gl.css', 'LICENSE.txt'];

mkdirSync(join(root, 'lib'), {recursive: true});
for (const old of readdirSync(join(root, 'lib'))) {
  if (old.startsWith('maplibre-gl-') && old !== name) rmSync(join(root, 'lib', old), {recursive: true});
}
mkdirSync(out, {recursive: true});
for (const f of files) {
  const dest = join(out, f.split('/').pop());
  if (!f.endsWith('.mjs')) {
    copyFileSync(join(pkgDir, f), dest);
    continue;
  }
  // The source maps stay out (16 MB); so does the comment that would make
  // browser dev tools ask for them.
  const js = readFileSync(join(pkgDir, f), 'utf8');
  writeFileSync(dest, js.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'));
}

const index = join(root, 'index.html');
const html = readFileSync(index, 'utf8');
writeFileSync(index, html.replaceAll(/lib\/maplibre-gl-[0-9][^/"']*\//g, `lib/${name}/`));
console.log(`vendored ${name}: ${files.length} files into lib/${name}/`);
