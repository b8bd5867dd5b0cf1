// First map paint of the web map, measured in headless Chromium (Debian's,
// driven by playwright-core; WebGL on SwiftShader), against a running onemap:
//   node test/firstpaint.mjs --url http://127.0.0.1:8080/ [--runs 5] [--view lon,lat,zoom] [--admin-token T]
// For each view (the city as a first visit opens it, and a town-core
// permalink when --view is given) it loads the page --runs times in a fresh
// browser context (empty HTTP cache), once more per run by a reload (warm
// cache), and with --admin-token also after purging the server's tile cache.
// Times come from the page (performance.now(), from navigation start):
// the first frame with features of our tiles drawn (the app's
// onemap-first-tiles mark), and the map's first idle event with every
// default layer rendered (queryRenderedFeatures > 0). No fixed sleeps.
// Prints one JSON object: {views: [{name, url, runs: {cold_server, cold, warm: [..]}}]}.
import {parseArgs} from 'node:util';
import {launchChromium} from './chromium.mjs';

const {values: args} = parseArgs({options: {
  url: {type: 'string'}, runs: {type: 'string', default: '5'}, view: {type: 'string'},
  'admin-token': {type: 'string'}, chromium: {type: 'string'},
}});
if (!args.url) {
  console.error('usage: node test/firstpaint.mjs --url http://127.0.0.1:8080/ [--runs 5] [--view lon,lat,zoom] [--admin-token T]');
  process.exit(2);
}
const base = new URL(args.url);
const runs = Number(args.runs);

/** Waits for the first idle and reads the page's timings and what is drawn. */
async function measure(page, tileRequests) {
  await page.waitForFunction(() => window.onemap?.timings?.idle !== undefined, null, {timeout: 120_000});
  return page.evaluate(async () => {
    const {map, timings} = window.onemap;
    const {defaultLayers} = await import('./app/style.mjs');
    const drawn = {};
    for (const id of defaultLayers) {
      // A layer whose tiles start at a higher zoom is not expected yet.
      if (map.getZoom() < (window.onemap.app.byId[id]?.minzoom ?? 0)) continue;
      const layers = map.getStyle().layers.filter((l) => l.metadata?.['onemap:layer'] === id && l.type !== 'background').map((l) => l.id);
      drawn[id] = map.queryRenderedFeatures({layers}).length;
    }
    const res = performance.getEntriesByType('resource');
    const nav = performance.getEntriesByType('navigation')[0];
    const lib = res.find((r) => r.name.endsWith('/maplibre-gl.mjs'));
    return {
      tiles: timings.tiles, idle: timings.idle, render: timings.render, catalogue: timings.catalogue, map: timings.map,
      dcl: nav?.domContentLoadedEventEnd, lib: lib?.responseEnd, pageBytes: res.reduce((s, r) => s + (r.transferSize || 0), nav?.transferSize || 0),
      requests: res.length + 1, drawn,
    };
  }).then((m) => ({...m, tileRequests: tileRequests.splice(0).length}));
}

/** Counts the page's tile requests (MapLibre's worker makes them: the page's resource timing does not see them). */
function countTiles(page) {
  const seen = [];
  page.on('request', (r) => /\/tiles\/[^/]+\/\d+\/\d+\/\d+\./.test(r.url()) && seen.push(r.url()));
  return seen;
}

async function purge() {
  const res = await fetch(new URL('admin/tiles/purge', base), {method: 'POST', headers: {Authorization: `Bearer ${args['admin-token']}`}});
  if (!res.ok) throw new Error(`purge: HTTP ${res.status}`);
}

const browser = await launchChromium(args.chromium);
const views = [{name: 'city', url: base.href}];
if (args.view) {
  const [lon, lat, zoom] = args.view.split(',').map(Number);
  views.push({name: 'town core', url: `${base.href}#map=${zoom || 14}/${lat}/${lon}`});
}
const errors = [];
try {
  // One load first, not counted: Chromium's own start-up (its GPU process,
  // SwiftShader's shader compiler) is not the page's.
  {
    const context = await browser.newContext({viewport: {width: 1280, height: 800}, locale: 'zh-CN'});
    const page = await context.newPage();
    const tiles = countTiles(page);
    await page.goto(views[0].url);
    await measure(page, tiles);
    await context.close();
  }
  for (const view of views) {
    view.runs = {cold_server: [], cold: [], warm: []};
    for (let i = 0; i < runs; i++) {
      for (const kind of args['admin-token'] ? ['cold_server', 'cold'] : ['cold']) {
        if (kind === 'cold_server') await purge();
        const context = await browser.newContext({viewport: {width: 1280, height: 800}, locale: 'zh-CN'});
        const page = await context.newPage();
        page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
        page.on('pageerror', (e) => errors.push(e.message));
        const tiles = countTiles(page);
        await page.goto(view.url);
        view.runs[kind].push(await measure(page, tiles));
        if (kind === 'cold') {
          await page.reload();
          view.runs.warm.push(await measure(page, tiles));
        }
        await context.close();
      }
    }
  }
} finally {
  await browser.close();
}
const empty = views.flatMap((v) => Object.values(v.runs || {}).flat().flatMap((r) => Object.entries(r.drawn).filter(([, n]) => n === 0).map(([id]) => `${v.name}: ${id}`)));
console.log(JSON.stringify({views, errors, empty: [...new Set(empty)]}, null, 1));
