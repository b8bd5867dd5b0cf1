import assert from 'node:assert/strict';
import {test} from 'node:test';
import {validateStyleMin} from '@maplibre/maplibre-gl-style-spec';
import {translator, valueLabel} from '../../app/i18n.mjs';
import {defaultState} from '../../app/state.mjs';
import {analysisFilters, analysisLayers, buildStyle, cleanFilters, defaultLayers, editableFilters, filterQuery, interactiveLayerIds,
  legendFor, sortLayers, styleLayerIds, textFont, tileURL, withBasemap} from '../../app/style.mjs';
import {base, byId, catalogue} from './helpers.mjs';

const style = (state = defaultState(), cat = catalogue) => buildStyle({catalogue: cat, bounds: {premises: [120.2, 27.6, 121.2, 27.9]}, state, base});

test('the style is valid MapLibre style spec', () => {
  const errors = validateStyleMin(style());
  assert.deepEqual(errors.map((e) => e.message), []);
  const s = defaultState();
  s.analysis = {heat: {layer: 'hazards', radius: 300}, hex: {cell: 200}, hot: {cell: null}, cov: null, site: null};
  s.filters = {premises: {tag: ['red']}, hazards: {status: ['open'], since: '2026-01-01'}};
  assert.deepEqual(validateStyleMin(style(s)).map((e) => e.message), []);
});

test('no glyph server: labels use local fonts, and nothing leaves the page origin', () => {
  const st = style();
  assert.equal(st.glyphs, undefined);
  assert.equal(st.sprite, undefined);
  for (const l of st.layers.filter((x) => x.type === 'symbol')) assert.deepEqual(l.layout['text-font'], textFont, l.id);
  for (const [id, src] of Object.entries(st.sources)) {
    for (const url of src.tiles || []) assert.ok(url.startsWith('http://127.0.0.1:8095/tiles/'), `${id}: ${url}`);
  }
  assert.equal(st.sources['src-premises'].tiles[0], 'http://127.0.0.1:8095/tiles/premises/{z}/{x}/{y}.mvt');
});

test('one source per catalogue layer, every layer drawn, ids unique', () => {
  const st = style();
  for (const l of catalogue) {
    assert.ok(st.sources[`src-${l.id}`], `source of ${l.id}`);
    assert.ok(styleLayerIds(st, l.id).length > 0, `style layers of ${l.id}`);
  }
  const ids = st.layers.map((l) => l.id);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(st.sources['src-heatmap'].type, 'raster');
  assert.equal(st.sources['src-premises'].maxzoom, 16, 'points are overzoomed past 16');
  assert.deepEqual(st.sources['src-premises'].bounds, [120.2, 27.6, 121.2, 27.9]);
});

test('visibility follows the state: default layers on, analysis layers off', () => {
  const st = style();
  const visible = (id) => styleLayerIds(st, id).every((l) => st.layers.find((x) => x.id === l).layout.visibility === 'visible');
  const hidden = (id) => styleLayerIds(st, id).every((l) => st.layers.find((x) => x.id === l).layout.visibility === 'none');
  for (const id of defaultLayers) assert.ok(visible(id), id);
  for (const id of ['hazards', 'inspections', ...analysisLayers]) assert.ok(hidden(id), id);
  const s = defaultState();
  s.layers = ['hazards'];
  s.analysis.hex = {cell: null};
  const st2 = style(s);
  assert.ok(styleLayerIds(st2, 'hazards').every((l) => st2.layers.find((x) => x.id === l).layout.visibility === 'visible'));
  assert.ok(styleLayerIds(st2, 'premises').every((l) => st2.layers.find((x) => x.id === l).layout.visibility === 'none'));
  assert.equal(st2.layers.find((x) => x.id === 'hazard_density-fill').layout.visibility, 'visible');
});

test('filters go into the tile URL, checked against the catalogue', () => {
  const s = defaultState();
  s.filters = {premises: {tag: ['yellow', 'red'], kind: ['no_such_kind'], colour: ['blue']}, hazards: {status: ['open', 'rectifying'], since: '2026-01-01', until: 'soon'}};
  const st = style(s);
  assert.equal(st.sources['src-premises'].tiles[0], 'http://127.0.0.1:8095/tiles/premises/{z}/{x}/{y}.mvt?tag=red,yellow');
  assert.equal(st.sources['src-hazards'].tiles[0], 'http://127.0.0.1:8095/tiles/hazards/{z}/{x}/{y}.mvt?since=2026-01-01&status=open,rectifying');
  assert.deepEqual(cleanFilters(byId.premises, {tag: ['red', 'yellow', 'green']}), {}, 'every value chosen is no filter');
  assert.deepEqual(cleanFilters(byId.hydrants, {status: 'faulty'}), {status: ['faulty']});
  assert.equal(filterQuery({b: ['x y'], a: '2026-01-01', c: []}), 'a=2026-01-01&b=x%20y');
});

test('the panel offers enumerations and dates, not id lists', () => {
  const f = Object.fromEntries(editableFilters(byId.hazards).map((x) => [x.param, x.kind]));
  assert.equal(f.status, 'enum');
  assert.equal(f.since, 'date');
  assert.equal(f.town, undefined);
  assert.equal(editableFilters(byId.hazard_density).find((x) => x.param === 'cell'), undefined);
});

test('analysis layers carry their settings and the filters of the layer they analyse', () => {
  const s = defaultState();
  s.filters = {hazards: {status: ['open'], category: ['hot_work']}};
  s.analysis.heat = {layer: 'hazards', radius: 500};
  s.analysis.hex = {cell: 200};
  s.analysis.hot = {cell: null};
  assert.deepEqual(analysisFilters(byId.heatmap, s, catalogue), {layer: 'hazards', radius: 500});
  assert.deepEqual(analysisFilters(byId.hazard_density, s, catalogue), {category: ['hot_work'], status: ['open'], cell: 200});
  assert.deepEqual(analysisFilters(byId.hotspots, s, catalogue), {category: ['hot_work'], status: ['open'], layer: 'hazards'});
  const st = style(s);
  assert.equal(st.sources['src-heatmap'].tiles[0], 'http://127.0.0.1:8095/tiles/heatmap/{z}/{x}/{y}.png?layer=hazards&radius=500');
});

test('tile URLs move to the page origin and keep the template', () => {
  assert.equal(tileURL('http://onemap.internal:8080/tiles/a,b/{z}/{x}/{y}.mvt?kind=x', {tag: ['red']}, 'https://map.example.org/onemap/'),
    'https://map.example.org/tiles/a,b/{z}/{x}/{y}.mvt?tag=red&kind=x');
});

test('a layer the frontend has never heard of still gets a style, a legend and a panel group', () => {
  const charging = {id: 'charging_points', title: 'E-bike charging points', title_zh: '电动车充电点', geometry_type: 'Point', minzoom: 12, maxzoom: 22,
    fields: {name: 'name'}, filters: {kind: ['public', 'private']}, tiles: 'http://x/tiles/charging_points/{z}/{x}/{y}.mvt'};
  const st = style({...defaultState(), layers: ['charging_points']}, [...catalogue, charging]);
  assert.deepEqual(validateStyleMin(st).map((e) => e.message), []);
  assert.deepEqual(interactiveLayerIds(st, 'charging_points'), ['charging_points-point']);
  const t = translator('zh');
  assert.equal(legendFor(charging, t, valueLabel)[0].label, '电动车充电点');
  assert.equal(sortLayers([charging, byId.roads, byId.premises]).map((l) => l.id).join(), 'premises,roads,charging_points');
});

test('every layer has a legend whose labels are translated', () => {
  for (const lang of ['zh', 'en']) {
    const t = translator(lang);
    for (const layer of catalogue) {
      const items = legendFor(layer, t, valueLabel);
      assert.ok(items.length > 0, layer.id);
      for (const it of items) {
        assert.ok(it.label && !/^(legend|value|level)\./.test(it.label), `${lang} ${layer.id}: ${it.label}`);
        assert.ok(it.colour || it.colours, `${layer.id} has a colour`);
      }
    }
  }
  assert.equal(legendFor(byId.hydrants, translator('zh'), valueLabel)[0].label, '完好可用');
});

test('the heatmap legend shows its top density once the server has said it', () => {
  const t = translator('en');
  const [relative] = legendFor(byId.heatmap, t, valueLabel);
  assert.deepEqual([relative.low, relative.high], ['low', 'high']);
  const [known] = legendFor(byId.heatmap, t, valueLabel, {heatMax: '1,200'});
  assert.deepEqual([known.low, known.high, known.label], ['0', '1,200', 'Kernel density per km²']);
  assert.deepEqual(known.colours, relative.colours);
});

test('a configured basemap goes under our layers', () => {
  const bm = {version: 8, glyphs: 'https://tiles.example.org/fonts/{fontstack}/{range}.pbf', sources: {osm: {type: 'raster', tiles: ['https://x/{z}/{x}/{y}.png'], tileSize: 256}},
    layers: [{id: 'osm', type: 'raster', source: 'osm'}]};
  const st = withBasemap(style(), bm);
  assert.equal(st.layers[0].id, 'background');
  assert.equal(st.layers[1].id, 'basemap-osm');
  assert.equal(st.layers[1].source, 'basemap-osm');
  assert.equal(st.glyphs, bm.glyphs);
  assert.deepEqual(validateStyleMin(st).map((e) => e.message), []);
});
