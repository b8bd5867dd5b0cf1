// Browser tests of the web map in real headless Chromium (Debian's, driven by
// playwright-core; WebGL on SwiftShader), against a running onemap over the
// small demo city:
//   node test/browser.mjs --url http://127.0.0.1:8095/ [--view lon,lat,zoom] [--artifacts dir]
// The checks run in order on one page, each waiting for the map's idle event,
// never for a fixed time. Screenshots go to --artifacts (default
// test/artifacts/, which git ignores).
import assert from 'node:assert/strict';
import {mkdirSync} from 'node:fs';
import {join} from 'node:path';
import {after, before, test} from 'node:test';
import {parseArgs} from 'node:util';
import {launchChromium} from './chromium.mjs';

const {values: args} = parseArgs({options: {
  url: {type: 'string'}, view: {type: 'string'}, artifacts: {type: 'string'}, chromium: {type: 'string'},
}});
if (!args.url) {
  console.error('usage: node test/browser.mjs --url http://127.0.0.1:8095/ [--view lon,lat,zoom] [--artifacts dir]');
  process.exit(2);
}
const base = new URL(args.url);
const artifacts = args.artifacts || new URL('./artifacts/', import.meta.url).pathname;
mkdirSync(artifacts, {recursive: true});

let browser;
let context;
let page;
const consoleErrors = [];
const foreign = [];
const requests = [];

function watch(p) {
  p.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${m.text()} @ ${m.location()?.url || ''}`);
  });
  p.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
  p.on('request', (r) => {
    const u = new URL(r.url());
    if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== base.origin) foreign.push(r.url());
    requests.push(r.url());
    started.set(r, Date.now());
  });
  const done = (r) => {
    // The favicon's request lingers until the page closes: nothing waits for it.
    if (started.has(r) && !r.url().endsWith('/icon.svg')) slow.push([Date.now() - started.get(r), r.url().replace(base.origin, '')]);
    started.delete(r);
  };
  p.on('requestfinished', done);
  p.on('requestfailed', done);
}
const started = new Map();
const slow = [];

/** Waits for the app and then for the map's idle event (all tiles loaded and drawn, no motion). */
async function idle(p = page) {
  await p.waitForFunction(() => window.onemap?.ready === true, null, {timeout: 60_000});
  // A map that never settles fails here, named, rather than hanging the run.
  let timer;
  const limit = new Promise((resolve, reject) => {
    timer = setTimeout(() => {
      const pending = [...started.keys()].map((r) => r.url().replace(base.origin, '')).filter((u) => !u.endsWith('/icon.svg'));
      reject(new Error(`the map did not go idle within 240 s; pending: ${pending.slice(0, 6).join(' ') || 'none'}`));
    }, 240_000);
  });
  try {
    await Promise.race([p.evaluate(() => window.onemap.idle()), limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until the map has been told where to go for an area (its extent may need a lookup). */
async function moved(p = page) {
  await p.evaluate(() => window.onemap.app.moving);
}

/** Waits for a zoom to an area, then for idle. */
async function settle(p = page) {
  await moved(p);
  await idle(p);
}

/** Rendered features of a catalogue layer (its points, clusters, fills or lines) in the viewport. */
function rendered(id, p = page) {
  return p.evaluate((id) => {
    const {map} = window.onemap;
    const layers = map.getStyle().layers.filter((l) => l.metadata?.['onemap:layer'] === id &&
      ['point', 'cluster', 'fill', 'line'].includes(l.metadata['onemap:role'])).map((l) => l.id);
    return map.queryRenderedFeatures({layers}).map((f) => ({id: f.id, layer: f.layer.id, props: f.properties}));
  }, id);
}

const shot = (name, p = page) => p.screenshot({path: join(artifacts, `${name}.png`)});

let startURL;
let view;

before(async () => {
  browser = await launchChromium(args.chromium);
  // Reduced motion: the map jumps instead of flying (and fades nothing), which
  // SwiftShader would otherwise draw frame by frame.
  context = await browser.newContext({viewport: {width: 1200, height: 750}, locale: 'zh-CN', reducedMotion: 'reduce'});
  page = await context.newPage();
  watch(page);
  if (args.view) {
    const [lon, lat, zoom] = args.view.split(',').map(Number);
    view = {lon, lat, zoom: zoom || 14};
  } else {
    // The middle of the premises' extent, for a quick manual run.
    const layers = await (await fetch(new URL('api/v1/layers', base))).json();
    const b = layers.layers.find((l) => l.id === 'premises').bounds;
    view = {lon: (b[0] + b[2]) / 2, lat: (b[1] + b[3]) / 2, zoom: 14};
  }
  startURL = `${base.href}#map=${view.zoom}/${view.lat}/${view.lon}`;
});

after(async () => {
  await browser?.close();
  // Where the time went, when a run is slow: the slowest answers of the server.
  slow.sort((a, b) => b[0] - a[0]);
  console.log(`# ${requests.length} requests; slowest: ${slow.slice(0, 12).map(([ms, u]) => `${ms} ms ${u.slice(0, 90)}`).join('; ')}`);
});

test('the page loads with no console errors and no request to another origin', async () => {
  const t0 = Date.now();
  await page.goto(startURL);
  await idle();
  const timings = await page.evaluate(() => window.onemap.timings);
  const paint = await page.evaluate(() => performance.getEntriesByType('paint').map((e) => [e.name, Math.round(e.startTime)]));
  console.log(`# first map render ${Math.round(timings.render)} ms, map load ${Math.round(timings.load)} ms, idle ${Math.round(timings.idle)} ms, page ${paint}; wall ${Date.now() - t0} ms (SwiftShader)`);
  assert.ok(timings.render < 15_000, `first map render after ${timings.render} ms`);
  await shot('01-town-core-zh');
  assert.deepEqual(consoleErrors, []);
  assert.deepEqual(foreign, []);
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
  // Every value a filter offers is in plain words in both languages.
  const missing = await page.evaluate(async () => {
    const {translator} = await import('./app/i18n.mjs');
    const {editableFilters} = await import('./app/style.mjs');
    const out = [];
    for (const lang of ['zh', 'en']) {
      const t = translator(lang);
      for (const l of window.onemap.app.catalogue) {
        for (const f of editableFilters(l)) for (const v of f.values) if (!['true', 'false'].includes(v) && !t.has(`value.${f.param}.${v}`)) out.push(`${lang} ${l.id}.${f.param}=${v}`);
      }
    }
    return out;
  });
  assert.deepEqual(missing, []);
});

test('the layers panel is built from /tiles', async () => {
  const catalogue = await (await fetch(new URL('tiles', base))).json();
  const ids = catalogue.layers.map((l) => l.id).filter((id) => !['heatmap', 'hazard_density', 'hotspots'].includes(id));
  const listed = await page.$$eval('#pane-layers li[data-layer]', (els) => els.map((e) => e.dataset.layer));
  assert.deepEqual([...listed].sort(), [...ids].sort());
  const hydrants = catalogue.layers.find((l) => l.id === 'hydrants');
  assert.equal((await page.textContent('label[for="layer-hydrants"]')).trim(), hydrants.title_zh);
});

test('tiles of each default layer are requested and rendered at a town-core view', async () => {
  const defaults = await page.evaluate(async () => (await import('./app/style.mjs')).defaultLayers);
  for (const id of defaults) {
    assert.ok(requests.some((u) => u.includes(`/tiles/${id}/`)), `no tile request for ${id}`);
    const n = (await rendered(id)).length;
    assert.ok(n > 0, `${id}: ${n} features rendered`);
  }
  // Premises are clusters below zoom 15: drawn with their counts.
  const clusters = (await rendered('premises')).filter((f) => f.props.cluster === true);
  assert.ok(clusters.some((f) => f.props.count > 1), 'premises clusters with counts');
  const labels = await page.evaluate(() => window.onemap.map.queryRenderedFeatures({layers: ['premises-cluster-count']}).length);
  assert.ok(labels > 0, 'cluster counts are drawn');
});

test('toggling a layer removes its features, and back', async () => {
  assert.ok((await rendered('hydrants')).length > 0);
  await page.click('label[for="layer-hydrants"]');
  await idle();
  assert.equal((await rendered('hydrants')).length, 0);
  assert.match(page.url(), /layers=/);
  assert.doesNotMatch(decodeURIComponent(page.url()).split('layers=')[1].split('&')[0], /hydrants/);
  await page.click('label[for="layer-hydrants"]');
  await idle();
  assert.ok((await rendered('hydrants')).length > 0);
});

test('a filter changes the tile URL and what is drawn', async () => {
  const before = await rendered('premises');
  assert.ok(before.some((f) => f.props.tag !== 'red'), 'not only red premises before filtering');
  const item = page.locator('#pane-layers li[data-layer="premises"]');
  await item.locator('details.filters > summary').click();
  await item.locator('input[data-param="tag"][data-value="red"]').check();
  await idle();
  assert.ok(requests.some((u) => /\/tiles\/premises\/\d+\/\d+\/\d+\.mvt\?tag=red$/.test(u)), 'a tile request with tag=red');
  const after = await rendered('premises');
  assert.ok(after.length > 0 && after.every((f) => f.props.tag === 'red'), `only red premises: ${after.map((f) => f.props.tag)}`);
  assert.match(page.url(), /f\.premises\.tag=red/);
  await shot('02-filter-red-premises');
  // Hazards: on, then only the open ones.
  await page.click('label[for="layer-hazards"]');
  await idle();
  assert.ok((await rendered('hazards')).length > 0, 'hazards drawn once switched on');
  const hz = page.locator('#pane-layers li[data-layer="hazards"]');
  await hz.locator('details.filters > summary').click();
  await hz.locator('input[data-param="status"][data-value="open"]').check();
  await idle();
  const open = await rendered('hazards');
  assert.ok(open.every((f) => f.props.status === 'open'), `only open hazards: ${[...new Set(open.map((f) => f.props.status))]}`);
  await page.click('label[for="layer-hazards"]');
});

test('clicking a hydrant opens a popup with its status; hover highlights it', async () => {
  await page.evaluate(() => window.onemap.map.jumpTo({zoom: 16}));
  await idle();
  const target = await page.evaluate(() => {
    const {map} = window.onemap;
    const points = map.getStyle().layers.filter((l) => ['point', 'cluster'].includes(l.metadata?.['onemap:role'])).map((l) => l.id);
    const canvas = map.getCanvas().getBoundingClientRect();
    for (const f of map.queryRenderedFeatures({layers: ['hydrants-point']})) {
      const p = map.project(f.geometry.coordinates);
      if (p.x < 40 || p.y < 40 || p.x > canvas.width - 60 || p.y > canvas.height - 40) continue;
      const top = map.queryRenderedFeatures([[p.x - 4, p.y - 4], [p.x + 4, p.y + 4]], {layers: points});
      if (top.length && top[0].layer.id === 'hydrants-point' && top[0].id === f.id) {
        return {x: canvas.left + p.x, y: canvas.top + p.y, id: f.id, status: f.properties.status};
      }
    }
    return null;
  });
  assert.ok(target, 'a hydrant not covered by other symbols');
  await page.mouse.move(target.x, target.y);
  await page.waitForFunction((id) => window.onemap.map.getFeatureState({source: 'src-hydrants', sourceLayer: 'hydrants', id}).hover === true, target.id);
  await page.mouse.click(target.x, target.y);
  const popup = page.locator('.maplibregl-popup');
  await popup.waitFor();
  const text = await popup.textContent();
  const label = await page.evaluate((s) => window.onemap.app.t(`value.status.${s}`), target.status);
  assert.match(text, /消火栓/);
  assert.ok(text.includes(`状态${label}`), `popup "${text}" says the status "${label}"`);
  await shot('03-hydrant-popup');
  await page.keyboard.press('Escape');
  await page.locator('.maplibregl-popup-close-button').click().catch(() => {});
  await page.mouse.move(5, 400);
});

test('keyboard: Enter on the map lists the features at its centre; one opens its popup', async () => {
  // Where the popup test left the map: zoom 16 over the town core.
  const hydrant = await page.evaluate(() => {
    const f = window.onemap.map.queryRenderedFeatures({layers: ['hydrants-point']})[0];
    return f && f.geometry.coordinates;
  });
  assert.ok(hydrant, 'a hydrant in view');
  await page.evaluate((c) => window.onemap.map.jumpTo({center: c}), hydrant);
  await idle();
  await page.focus('#map canvas');
  await page.keyboard.press('Enter');
  const popup = page.locator('.maplibregl-popup');
  await popup.waitFor();
  if (await page.locator('.feature-choice').count()) {
    await page.locator('.feature-choice', {hasText: '消火栓'}).first().focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => !document.querySelector('.feature-choice') && document.querySelector('.maplibregl-popup'));
  }
  assert.match(await popup.textContent(), /消火栓.*状态/s);
  await page.locator('.maplibregl-popup-close-button').click();
  assert.equal(await page.evaluate(() => document.activeElement === window.onemap.map.getCanvas()), true, 'focus back on the map');
});

test('running hydrant coverage shows the table and the gap layer', async () => {
  await page.evaluate((v) => window.onemap.map.jumpTo({center: [v.lon, v.lat], zoom: 13}), view);
  await page.click('#tab-analysis');
  await page.waitForSelector('#cov-preset', {timeout: 30_000});
  await page.selectOption('#cov-preset', 'hydrants');
  assert.equal(await page.inputValue('#cov-threshold'), '150');
  await page.selectOption('#cov-level', 'community');
  await page.click('#cov-run');
  await page.waitForSelector('#cov-progress progress');
  await page.waitForSelector('#cov-table tbody tr', {timeout: 120_000});
  const gaps = await page.$$eval('#cov-table tbody tr td:nth-child(3)', (tds) => tds.map((td) => Number(td.textContent.replace(/[^\d.]/g, ''))));
  assert.ok(gaps.length > 5, `${gaps.length} rows`);
  assert.deepEqual(gaps, [...gaps].sort((a, b) => b - a), 'sorted by gap, largest first');
  // The gap polygons are the slowest part; the progress shows until they are in.
  await page.waitForFunction(() => window.onemap.app.cov.gaps && !window.onemap.app.cov.running, null, {timeout: 180_000});
  await idle();
  assert.equal(await page.evaluate(() => window.onemap.app.cov.error), null);
  const nGaps = await page.evaluate(() => window.onemap.map.queryRenderedFeatures({layers: ['coverage-gaps']}).length);
  const nUncovered = await page.evaluate(() => window.onemap.map.queryRenderedFeatures({layers: ['coverage-uncovered']}).length);
  assert.ok(nGaps > 0, 'gap polygons drawn');
  assert.ok(nUncovered > 0, 'uncovered premises drawn');
  assert.match(await page.textContent('#cov-result .summary'), /\d+ \/ 3,?000/);
  await page.waitForFunction(() => location.hash.includes('cov=hydrants:150:community'));
  await page.locator('#cov-result').scrollIntoViewIfNeeded();
  await shot('04-coverage-hydrants');
  // Sorting by another column, then a row zooms the map to its community.
  await page.click('#cov-table th button[data-key="ratio"]');
  assert.equal(await page.getAttribute('#cov-table th:nth-child(4)', 'aria-sort'), 'descending');
  await page.click('#cov-table th button[data-key="uncovered"]');
  assert.equal(await page.getAttribute('#cov-table th:nth-child(3)', 'aria-sort'), 'descending');
  const rowId = Number(await page.getAttribute('#cov-table tbody tr:first-child', 'data-id'));
  const centre = await page.evaluate(() => window.onemap.map.getCenter().toArray());
  await page.click('#cov-table tbody tr:first-child');
  await settle();
  const moved = await page.evaluate(() => window.onemap.map.getCenter().toArray());
  assert.notDeepEqual(moved, centre, 'the map moved to the row');
  assert.ok(await page.evaluate((id) => window.onemap.map.getFeatureState({source: 'src-communities', sourceLayer: 'communities', id}).selected, rowId),
    'the community is outlined');
  // Downloads of what is shown.
  const links = await page.$$eval('#cov-result details.downloads a', (as) => as.map((a) => a.getAttribute('href')));
  assert.ok(links.some((h) => h.includes('format=csv')) && links.some((h) => h.includes('/gaps')));
  const csv = await (await fetch(new URL(links.find((h) => h.includes('format=csv') && !h.includes('uncovered')), base))).text();
  assert.match(csv.split('\n')[0], /name/);
});

test('siting proposals appear as markers with their gains, with progress', async () => {
  await page.fill('#site-count', '3');
  await page.click('#site-run');
  await page.waitForSelector('.proposal-marker', {timeout: 120_000});
  await page.waitForFunction(() => !window.onemap.app.cov.sitingRun);
  const markers = await page.$$eval('.proposal-marker', (ms) => ms.map((m) => m.getAttribute('aria-label')));
  assert.equal(markers.length, 3);
  assert.match(markers[0], /建议 1.*新增覆盖 \d/);
  assert.equal(await page.locator('#site-table tbody tr').count(), 3);
  await page.locator('#section-siting').scrollIntoViewIfNeeded();
  await page.evaluate(() => {
    const {map, app} = window.onemap;
    const b = new app.maplibregl.LngLatBounds();
    for (const p of app.cov.siting.proposals) b.extend([p.lon, p.lat]);
    map.fitBounds(b, {padding: 120, duration: 0, maxZoom: 14});
  });
  await idle();
  await shot('05-siting');
  // Clearing takes the overlays, markers and the analysis off the map and out of the URL.
  await page.click('#cov-clear');
  await page.waitForFunction(() => !location.hash.includes('cov=') && !document.querySelector('.proposal-marker'));
  await idle();
  assert.equal(await page.evaluate(() => window.onemap.map.queryRenderedFeatures({layers: ['coverage-gaps', 'coverage-uncovered']}).length), 0);
});

test('heatmap, hexagon density and hot spots draw from the server', async () => {
  await page.evaluate((v) => window.onemap.map.jumpTo({center: [v.lon, v.lat], zoom: 13}), view);
  const heat = page.waitForRequest((r) => /\/tiles\/heatmap\/\d+\/\d+\/\d+\.png\?.*layer=hazards.*radius=300/.test(r.url()));
  await page.check('#an-heat');
  await heat;
  await idle();
  // The legend gives the top of the colour ramp in hazards per km², from the tiles.
  await page.waitForFunction(() => /^[\d,.]+$/.test(document.querySelector('#section-heat .ramp-labels span:last-child')?.textContent || ''));
  await shot('06-heatmap');
  const wider = page.waitForRequest((r) => /\/tiles\/heatmap\/.*radius=500/.test(r.url()));
  await page.locator('#an-heat-radius').focus();
  await page.keyboard.press('ArrowRight');
  await wider;
  await page.waitForFunction(() => location.hash.includes('heat=hazards:500'));
  await page.uncheck('#an-heat');
  await page.check('#an-hex');
  await idle();
  assert.ok((await rendered('hazard_density')).length > 0, 'hexagons drawn');
  await page.uncheck('#an-hex');
  const hot = page.waitForRequest((r) => r.url().includes('/tiles/hotspots/'));
  await page.check('#an-hot');
  await hot;
  await idle();
  await shot('07-hotspots');
  await page.uncheck('#an-hot');
});

test('drill-down: town → community → grid cell, with breadcrumbs and statistics', async () => {
  await page.click('#tab-areas');
  await page.waitForSelector('#area-children tbody tr');
  assert.equal(await page.locator('.breadcrumbs li').count(), 1);
  const town = await page.textContent('#area-children tbody tr:first-child td:first-child');
  await page.click('#area-children tbody tr:first-child');
  await page.waitForFunction((n) => document.querySelector('#area-name')?.textContent === n, town);
  await moved();
  assert.equal(await page.locator('.breadcrumbs li').count(), 2);
  assert.match(await page.textContent('dd[data-stat="premises"]'), /\d/);
  assert.match(await page.textContent('dd[data-stat="rectification_rate"]'), /%/);
  await page.waitForSelector('#area-coverage dd[data-preset="hydrants"]');
  assert.match(await page.textContent('#area-coverage dd[data-preset="hydrants"]'), /%/);
  const community = await page.textContent('#area-children tbody tr:first-child td:first-child');
  await page.click('#area-children tbody tr:first-child');
  await page.waitForFunction((n) => document.querySelector('#area-name')?.textContent === n, community);
  await moved();
  const grid = await page.textContent('#area-children tbody tr:first-child td:first-child');
  await page.click('#area-children tbody tr:first-child');
  await page.waitForFunction((n) => document.querySelector('#area-name')?.textContent === n, grid);
  await settle();
  assert.equal(await page.locator('.breadcrumbs li').count(), 4);
  assert.equal(await page.locator('#area-children').count(), 0, 'a grid cell has no children');
  await shot('08-drilldown');
  // Back to the city by the breadcrumb, then a click on the map picks the town there.
  await page.click('.breadcrumbs li:first-child button');
  await page.waitForFunction(() => window.onemap.app.state.area.length === 0);
  await moved();
  await page.evaluate((v) => window.onemap.map.jumpTo({center: [v.lon, v.lat], zoom: 12}), view);
  await idle();
  const box = await page.locator('#map canvas').boundingBox();
  const spot = await page.evaluate(() => {
    const {map} = window.onemap;
    const w = map.getCanvas().clientWidth;
    const h = map.getCanvas().clientHeight;
    for (let dy = 0; dy < h / 2; dy += 17) {
      for (const [x, y] of [[w / 2, h / 2 + dy], [w / 2 + dy, h / 2]]) {
        const pts = map.queryRenderedFeatures([[x - 6, y - 6], [x + 6, y + 6]], {layers: map.getStyle().layers.filter((l) => ['point', 'cluster'].includes(l.metadata?.['onemap:role'])).map((l) => l.id)});
        const town = map.queryRenderedFeatures([x, y], {layers: ['towns-fill']})[0];
        if (!pts.length && town) return {x, y, town: town.id};
      }
    }
    return null;
  });
  assert.ok(spot, 'an empty spot inside a town');
  await page.mouse.click(box.x + spot.x, box.y + spot.y);
  await page.waitForFunction((id) => window.onemap.app.state.area[0] === id, spot.town);
  await page.waitForFunction(() => document.querySelectorAll('.breadcrumbs li').length === 2);
  await settle();
});

test('the permalink restores the view', async () => {
  await page.evaluate(() => {
    const {app} = window.onemap;
    app.setLayerVisible('shelters', false);
    // An open analysis, as the coverage test left it before clearing.
    app.setAnalysis('cov', {preset: 'hydrants', threshold: 150, level: 'community'}, {quiet: true});
  });
  await idle();
  await page.waitForFunction(() => location.hash.includes('area='));
  const url = page.url();
  const want = await page.evaluate(() => {
    const {map, app} = window.onemap;
    return {centre: map.getCenter().toArray(), zoom: map.getZoom(), layers: [...app.state.layers].sort(), filters: app.state.filters,
      analysis: app.state.analysis, area: app.state.area, panel: app.state.panel};
  });
  const p2 = await context.newPage();
  watch(p2);
  await p2.goto(url);
  await idle(p2);
  const got = await p2.evaluate(() => {
    const {map, app} = window.onemap;
    const visible = map.getStyle().layers.filter((l) => l.layout?.visibility === 'visible').map((l) => l.metadata?.['onemap:layer']);
    return {centre: map.getCenter().toArray(), zoom: map.getZoom(), layers: [...app.state.layers].sort(), filters: app.state.filters,
      analysis: app.state.analysis, area: app.state.area, panel: app.state.panel, visible: [...new Set(visible)]};
  });
  await p2.waitForSelector('#area-name');
  await p2.click('#tab-layers');
  got.checked = await p2.$$eval('#pane-layers input[data-layer]', (is) => is.filter((i) => i.checked).map((i) => i.dataset.layer));
  assert.ok(Math.abs(got.centre[0] - want.centre[0]) < 1e-4 && Math.abs(got.centre[1] - want.centre[1]) < 1e-4, `centre ${got.centre} vs ${want.centre}`);
  assert.ok(Math.abs(got.zoom - want.zoom) < 0.01);
  assert.deepEqual(got.layers, want.layers);
  assert.ok(!want.layers.includes('shelters') && !got.visible.includes('shelters'), 'a layer switched off stays off');
  assert.deepEqual(got.checked.sort(), want.layers);
  assert.deepEqual(got.filters, want.filters);
  assert.deepEqual(got.filters.premises, {tag: ['red']});
  assert.deepEqual(got.analysis.cov, want.analysis.cov);
  assert.deepEqual(got.area, want.area);
  assert.equal(got.panel, 'areas');
  // The open coverage analysis is run again on load.
  await p2.click('#tab-analysis');
  await p2.waitForSelector('#cov-table tbody tr', {timeout: 120_000});
  assert.equal(await p2.inputValue('#cov-threshold'), '150');
  await p2.close();
  await page.evaluate(() => window.onemap.app.setLayerVisible('shelters', true));
});

test('switching language changes the labels', async () => {
  await page.click('#tab-layers');
  assert.equal((await page.textContent('#tab-layers')).trim(), '图层');
  await page.click('#lang');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  assert.equal((await page.textContent('#tab-layers')).trim(), 'Layers');
  assert.equal((await page.textContent('label[for="layer-hydrants"]')).trim(), 'Fire hydrants');
  assert.match(await page.textContent('#pane-layers li[data-layer="hydrants"] .legend'), /In service/);
  assert.equal(await page.title(), 'OneMap fire-safety map');
  await page.waitForFunction(() => location.hash.includes('lang=en'));
  await idle();
  await shot('09-english');
  await page.click('#lang');
  await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  assert.equal((await page.textContent('#tab-layers')).trim(), '图层');
});

test('keyboard: tabs with arrow keys, layers with the space bar', async () => {
  await page.focus('#tab-layers');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.getAttribute('#tab-analysis', 'aria-selected'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-analysis');
  await page.keyboard.press('ArrowLeft');
  await page.focus('#layer-shelters');
  await page.keyboard.press('Space');
  assert.equal(await page.isChecked('#layer-shelters'), false);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'layer-shelters', 'focus stays on the switch');
  await page.keyboard.press('Space');
  assert.equal(await page.isChecked('#layer-shelters'), true);
});

test('a phone and a command-centre wall', async () => {
  await page.setViewportSize({width: 390, height: 844});
  await idle();
  const mapBox = await page.locator('#map').boundingBox();
  const panelBox = await page.locator('#panel').boundingBox();
  assert.ok(mapBox.width > 350 && panelBox.y >= mapBox.y + mapBox.height - 1, 'the panel sits under the map');
  await shot('10-phone');
  // A wall screen gets larger type (not drawn here: SwiftShader would take long over 3.7 Mpixels).
  await page.setViewportSize({width: 2560, height: 1440});
  assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).fontSize), '20px');
  await page.setViewportSize({width: 1200, height: 750});
});

test('no console errors and no request to another origin during the whole run', () => {
  assert.deepEqual(consoleErrors, []);
  assert.deepEqual(foreign, []);
});
