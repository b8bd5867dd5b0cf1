// Builds the MapLibre style from the tile catalogue (GET /tiles) and the view
// state: one vector source per layer with its filters in the tile URL, our
// default cartography for the layers we know, a plain one for any new layer,
// and the legends drawn from the same colour tables. Pure: no DOM, no map.

/** Local fonts for labels: there is no glyph server, so MapLibre draws text with these. */
export const textFont = ['WenQuanYi Micro Hei', 'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC'];

/** The CSS font list MapLibre uses for CJK text in its default font stack. */
export const localIdeographFontFamily = "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', sans-serif";

/** Layers shown on a first visit. */
export const defaultLayers = ['towns', 'communities', 'grid_cells', 'roads', 'premises', 'hydrants', 'fire_stations', 'shelters'];

/** Catalogue layers the analysis panel drives rather than the layers panel. */
export const analysisLayers = ['heatmap', 'hazard_density', 'hotspots'];

/** Panel groups of the layers we know; any other layer goes under "other". */
export const groups = {
  premises: 'risk', hazards: 'risk', inspections: 'risk',
  hydrants: 'resources', fire_stations: 'resources', shelters: 'resources',
  roads: 'base', towns: 'base', communities: 'base', grid_cells: 'base',
};
export const groupOrder = ['risk', 'resources', 'base', 'other'];

/** Panel order within the groups; layers not listed follow in catalogue order. */
export const layerOrder = ['premises', 'hazards', 'inspections', 'hydrants', 'fire_stations', 'shelters', 'towns', 'communities', 'grid_cells', 'roads'];

/** Catalogue layers in panel order. */
export function sortLayers(catalogue) {
  const rank = (l) => (layerOrder.includes(l.id) ? layerOrder.indexOf(l.id) : layerOrder.length);
  return catalogue.map((l, i) => [l, i]).sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1]).map(([l]) => l);
}

/** Tiles above this zoom are overzoomed: points and simplified lines need no more detail. */
const sourceMaxZoom = 16;

export const colours = {
  background: '#f4f3ef',
  tag: {red: '#d32f2f', yellow: '#f9c20a', green: '#2e9d4a'},
  untagged: '#8a8f98',
  hydrantStatus: {in_service: '#1565c0', faulty: '#ef6c00', out_of_service: '#7b1fa2'},
  hazardStatus: {open: '#c62828', rectifying: '#f57c00', closed: '#9e9e9e'},
  inspectionResult: {pass: '#43a047', hazards_found: '#fb8c00'},
  stationKind: {full_time: '#8e0000', volunteer: '#e64a19', forest: '#2e7d32', micro: '#ec407a'},
  shelter: '#6a1b9a',
  boundary: {towns: '#4e4a46', communities: '#8a847c', grid_cells: '#b7b1a8'},
  selected: '#0d47a1',
  road: {casing: '#cfc8bb', arterial: '#fbe3a6', secondary: '#ffffff', local: '#ffffff'},
  density: [[0, '#fff3e0'], [5, '#fdd49e'], [20, '#fc8d59'], [50, '#e34a33'], [120, '#b30000']],
  giBin: {3: '#b2182b', 2: '#ef8a62', 1: '#fddbc7', '-1': '#d1e5f0', '-2': '#67a9cf', '-3': '#2166ac'},
  heatRamp: ['#1f0c48', '#550f6d', '#88226a', '#ba3655', '#e35933', '#f98c0a', '#f9c932', '#fcffa4'],
  gap: '#d32f2f',
  serviceArea: '#1e88e5',
  generic: '#546e7a',
};

/** Station symbol sizes by kind (radius at zoom 14). */
const stationSize = {full_time: 9, volunteer: 7, forest: 7, micro: 5};

// Which attribute colours a layer's points (and its clusters, whose
// attributes are the most common value among their features).
const pointColour = {
  premises: {field: 'tag', table: colours.tag, fallback: colours.untagged},
  hydrants: {field: 'status', table: colours.hydrantStatus, fallback: colours.generic},
  hazards: {field: 'status', table: colours.hazardStatus, fallback: colours.generic},
  inspections: {field: 'result', table: colours.inspectionResult, fallback: colours.generic},
  fire_stations: {field: 'kind', table: colours.stationKind, fallback: colours.generic},
};

// Drawing order, bottom to top.
const order = {
  background: 0, basemap: 5, 'area-fill': 10, 'service-area-fill': 12, 'gap-fill': 14,
  heatmap: 20, hazard_density: 22, hotspots: 24,
  'road-casing': 30, road: 32, 'area-line': 40, 'area-selected': 42, 'service-area-line': 44, 'gap-line': 46,
  line: 35, point: 50, inspections: 51, hazards: 52, premises: 53, hydrants: 54, shelters: 55, fire_stations: 56,
  uncovered: 58, label: 70, 'cluster-count': 80,
};

/** match expression: the colour of the feature's value of field. */
export function matchColour(field, table, fallback) {
  const expr = ['match', ['to-string', ['get', field]]];
  for (const [k, v] of Object.entries(table)) expr.push(k, v);
  expr.push(fallback);
  return expr;
}

const hovered = (on, off) => ['case', ['boolean', ['feature-state', 'hover'], false], on, off];
const selected = (on, off) => ['case', ['boolean', ['feature-state', 'selected'], false], on, off];
const isCluster = ['==', ['get', 'cluster'], true];
const notCluster = ['!=', ['get', 'cluster'], true];
const zoomed = (pairs) => ['interpolate', ['linear'], ['zoom'], ...pairs.flat()];

export function sourceId(layerId) {
  return `src-${layerId}`;
}

// ---- URLs and filters ---------------------------------------------------

/** How a catalogue filter is edited: 'enum' (pick values), 'date', or null (not in the panel). */
export function filterKind(param, values) {
  if (!Array.isArray(values) || values.length === 0) return null;
  if (values.length === 1 && /\bdate\b|RFC 3339/i.test(values[0])) return 'date';
  if (values.every((v) => /^[A-Za-z0-9_-]+$/.test(v))) return 'enum';
  return null; // id lists and free numbers belong to other controls
}

/** The filters of a catalogue layer that the layers panel offers, in catalogue order. */
export function editableFilters(layer) {
  const out = [];
  for (const [param, values] of Object.entries(layer.filters || {})) {
    const kind = filterKind(param, values);
    if (kind === 'enum' && ['layer'].includes(param)) continue;
    if (kind) out.push({param, kind, values: kind === 'enum' ? values : []});
  }
  return out;
}

/**
 * Keeps the filters that the catalogue allows for layer (a stale permalink
 * must not produce 400s): enum values it lists, dates that look like dates.
 * Returns {param: [values]} for enums and {param: 'YYYY-MM-DD'} for dates.
 */
export function cleanFilters(layer, filters) {
  const out = {};
  if (!filters) return out;
  for (const {param, kind, values} of editableFilters(layer)) {
    const v = filters[param];
    if (v === undefined || v === null || v === '') continue;
    if (kind === 'date') {
      const s = String(Array.isArray(v) ? v[0] : v);
      if (/^\d{4}-\d{2}-\d{2}$/.test(s)) out[param] = s;
    } else {
      const list = (Array.isArray(v) ? v : String(v).split(',')).filter((x) => values.includes(x));
      if (list.length > 0 && list.length < values.length) out[param] = [...new Set(list)].sort();
    }
  }
  return out;
}

/** The query string of filters, params sorted, values comma-separated (readable, stable for caches). */
export function filterQuery(filters) {
  return Object.keys(filters || {}).sort()
    .filter((k) => filters[k] !== undefined && filters[k] !== '' && !(Array.isArray(filters[k]) && filters[k].length === 0))
    .map((k) => {
      const v = Array.isArray(filters[k]) ? filters[k] : [filters[k]];
      return `${encodeURIComponent(k)}=${v.map((x) => encodeURIComponent(String(x))).join(',')}`;
    }).join('&');
}

/**
 * The tile URL template for a catalogue URL (absolute, from the server) with
 * filters as query parameters, on the page's own origin: the catalogue's host
 * may be a name this browser does not use, and no request may leave our origin.
 */
export function tileURL(template, filters, base) {
  const u = new URL(template, base);
  const origin = new URL(base).origin;
  const params = new URLSearchParams(u.search);
  for (const k of Object.keys(filters || {})) params.delete(k);
  const extra = [...params].map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  const q = [filterQuery(filters), ...extra].filter(Boolean).join('&');
  return `${origin}${decodeURI(u.pathname)}${q ? `?${q}` : ''}`;
}

/** An API URL on the page's origin. */
export function apiURL(base, path, params) {
  const u = new URL(path.replace(/^\//, ''), new URL('.', base));
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, String(v));
  }
  return u.href;
}

// ---- layers -------------------------------------------------------------

function meta(layerId, role) {
  return {'onemap:layer': layerId, 'onemap:role': role};
}

function clusterLayers(id, src, colour) {
  return [
    {
      id: `${id}-cluster`, type: 'circle', source: src, 'source-layer': id, filter: isCluster,
      metadata: {...meta(id, 'cluster'), 'onemap:order': order[id] ?? order.point},
      paint: {
        'circle-color': colour,
        'circle-opacity': 0.85,
        'circle-radius': ['step', ['get', 'count'], 6, 2, 8, 10, 11, 50, 14, 200, 18, 1000, 22],
        'circle-stroke-color': hovered('#111111', '#ffffff'),
        'circle-stroke-width': hovered(3, 1.5),
      },
    },
    {
      id: `${id}-cluster-count`, type: 'symbol', source: src, 'source-layer': id,
      filter: ['all', isCluster, ['>', ['get', 'count'], 1]],
      metadata: {...meta(id, 'cluster-count'), 'onemap:order': order['cluster-count']},
      layout: {
        'text-field': ['to-string', ['get', 'count']], 'text-font': textFont, 'text-size': 11,
        'text-allow-overlap': true, 'text-ignore-placement': true,
      },
      paint: {'text-color': '#111111', 'text-halo-color': '#ffffff', 'text-halo-width': 1.4},
    },
  ];
}

function pointLayers(layer, src) {
  const id = layer.id;
  const c = pointColour[id];
  const colour = c ? matchColour(c.field, c.table, c.fallback) : colours.generic;
  const o = order[id] ?? order.point;
  const clustered = layer.cluster_below_zoom !== undefined || (layer.fields && 'cluster' in layer.fields);
  const out = [];
  let radius = zoomed([[11, 2.5], [14, 4], [17, 7]]);
  let paint = {};
  if (id === 'premises') {
    radius = zoomed([[13, 3.5], [15, 5], [18, 8]]);
  } else if (id === 'hazards') {
    // Hazards sit on their premises: rings around the premise dots, wider for major ones.
    const major = (a, b) => ['case', ['==', ['get', 'severity'], 'major'], a, b];
    radius = zoomed([[13, major(6, 5)], [15, major(9, 7.5)], [18, major(14, 11)]]);
    paint = {'circle-color': 'rgba(255,255,255,0)', 'circle-stroke-color': colour, 'circle-stroke-width': hovered(4, major(3, 2))};
  } else if (id === 'fire_stations') {
    const size = ['match', ['get', 'kind'], ...Object.entries(stationSize).flat(), 6];
    radius = zoomed([[8, ['*', 0.45, size]], [14, size], [18, ['*', 1.6, size]]]);
    paint = {'circle-stroke-width': hovered(4, 2)};
  } else if (id === 'shelters') {
    const cap = ['to-number', ['get', 'capacity'], 0];
    const bySize = ['interpolate', ['linear'], ['sqrt', cap], 0, 3, 10, 5, 25, 9, 55, 16];
    radius = zoomed([[10, ['*', 0.5, bySize]], [14, bySize], [18, ['*', 1.5, bySize]]]);
    paint = {'circle-color': colours.shelter, 'circle-opacity': 0.55, 'circle-stroke-color': hovered('#111111', '#4a148c')};
  }
  out.push({
    id: `${id}-point`, type: 'circle', source: src, 'source-layer': id,
    ...(clustered ? {filter: notCluster} : {}),
    metadata: {...meta(id, 'point'), 'onemap:order': o},
    paint: {
      'circle-color': colour,
      'circle-radius': radius,
      'circle-stroke-color': hovered('#111111', id === 'premises' ? '#333333' : '#ffffff'),
      'circle-stroke-width': hovered(3, 1),
      ...paint,
    },
  });
  if (clustered) out.push(...clusterLayers(id, src, colour));
  if (id === 'fire_stations' || id === 'shelters') {
    out.push({
      id: `${id}-label`, type: 'symbol', source: src, 'source-layer': id, minzoom: id === 'fire_stations' ? 13 : 15,
      metadata: {...meta(id, 'label'), 'onemap:order': order.label},
      layout: {
        'text-field': ['get', 'name'], 'text-font': textFont, 'text-size': 12,
        'text-offset': [0, 1.1], 'text-anchor': 'top', 'text-optional': true,
      },
      paint: {'text-color': id === 'fire_stations' ? '#5d0000' : '#4a148c', 'text-halo-color': '#ffffff', 'text-halo-width': 1.5},
    });
  }
  return out;
}

function areaLayers(layer, src) {
  const id = layer.id;
  const line = {
    towns: {width: zoomed([[8, 1.2], [12, 2.2], [16, 3.5]]), dash: null},
    communities: {width: zoomed([[10, 0.6], [13, 1.3], [16, 2]]), dash: [3, 2]},
    grid_cells: {width: zoomed([[12, 0.4], [15, 0.9], [18, 1.4]]), dash: [1, 2]},
  }[id] || {width: 1, dash: null};
  const colour = colours.boundary[id] || colours.generic;
  const out = [
    {
      id: `${id}-fill`, type: 'fill', source: src, 'source-layer': id,
      metadata: {...meta(id, 'fill'), 'onemap:order': order['area-fill']},
      paint: {'fill-color': colour, 'fill-opacity': hovered(0.1, selected(0.06, 0))},
    },
    {
      id: `${id}-line`, type: 'line', source: src, 'source-layer': id,
      metadata: {...meta(id, 'line'), 'onemap:order': order['area-line'] - (id === 'grid_cells' ? 2 : id === 'communities' ? 1 : 0)},
      layout: {'line-join': 'round'},
      paint: {'line-color': colour, 'line-width': line.width, ...(line.dash ? {'line-dasharray': line.dash} : {})},
    },
    {
      id: `${id}-selected`, type: 'line', source: src, 'source-layer': id,
      metadata: {...meta(id, 'selected'), 'onemap:order': order['area-selected']},
      layout: {'line-join': 'round'},
      paint: {'line-color': colours.selected, 'line-width': 3.5, 'line-opacity': selected(1, 0)},
    },
  ];
  const label = {
    towns: {minzoom: 9, maxzoom: 14, size: zoomed([[9, 13], [13, 17]]), colour: '#3e3a36'},
    communities: {minzoom: 12.5, maxzoom: 16, size: 12, colour: '#5b554e'},
    grid_cells: {minzoom: 15, maxzoom: 24, size: 11, colour: '#77716a'},
  }[id];
  if (label && layer.fields && 'name' in layer.fields) {
    out.push({
      id: `${id}-label`, type: 'symbol', source: src, 'source-layer': id, minzoom: label.minzoom, maxzoom: label.maxzoom,
      metadata: {...meta(id, 'label'), 'onemap:order': order.label + (id === 'towns' ? 3 : id === 'communities' ? 2 : 1)},
      layout: {'text-field': ['get', 'name'], 'text-font': textFont, 'text-size': label.size, 'text-padding': 8},
      paint: {'text-color': label.colour, 'text-halo-color': '#ffffff', 'text-halo-width': 1.6},
    });
  }
  return out;
}

function roadLayers(layer, src) {
  const id = layer.id;
  // Widths by class at zooms 8, 13 and 17 (zoom must be the outermost expression).
  const w = (a, b, c) => ['interpolate', ['linear'], ['zoom'],
    8, ['match', ['get', 'class'], 'arterial', a[0], 'secondary', b[0], c[0]],
    13, ['match', ['get', 'class'], 'arterial', a[1], 'secondary', b[1], c[1]],
    17, ['match', ['get', 'class'], 'arterial', a[2], 'secondary', b[2], c[2]]];
  return [
    {
      id: `${id}-casing`, type: 'line', source: src, 'source-layer': id,
      metadata: {...meta(id, 'casing'), 'onemap:order': order['road-casing']},
      layout: {'line-join': 'round', 'line-cap': 'round'},
      paint: {'line-color': colours.road.casing, 'line-width': w([1.4, 4.5, 14], [0.8, 3, 10], [0.3, 1.6, 6]), 'line-gap-width': 0},
    },
    {
      id: `${id}-line`, type: 'line', source: src, 'source-layer': id,
      metadata: {...meta(id, 'line'), 'onemap:order': order.road},
      layout: {'line-join': 'round', 'line-cap': 'round'},
      paint: {
        'line-color': hovered('#90caf9', matchColour('class', {arterial: colours.road.arterial, secondary: colours.road.secondary}, colours.road.local)),
        'line-width': w([0.8, 3, 11], [0.4, 2, 7.5], [0.1, 1, 4.5]),
      },
    },
    {
      id: `${id}-label`, type: 'symbol', source: src, 'source-layer': id, minzoom: 14,
      metadata: {...meta(id, 'label'), 'onemap:order': order.label},
      layout: {'symbol-placement': 'line', 'text-field': ['get', 'name'], 'text-font': textFont, 'text-size': 11, 'symbol-spacing': 350},
      paint: {'text-color': '#6b655d', 'text-halo-color': '#ffffff', 'text-halo-width': 1.4},
    },
  ];
}

function genericLayers(layer, src) {
  const id = layer.id;
  const g = layer.geometry_type || '';
  if (/Point/.test(g)) return pointLayers(layer, src);
  if (/Line/.test(g)) {
    return [{
      id: `${id}-line`, type: 'line', source: src, 'source-layer': id,
      metadata: {...meta(id, 'line'), 'onemap:order': order.line},
      paint: {'line-color': hovered('#111111', colours.generic), 'line-width': 1.5},
    }];
  }
  return areaLayers(layer, src);
}

/** The style layers of one catalogue layer (not yet ordered, visibility not set). */
export function layersFor(layer) {
  const src = sourceId(layer.id);
  switch (layer.id) {
    case 'roads': return roadLayers(layer, src);
    case 'towns': case 'communities': case 'grid_cells': return areaLayers(layer, src);
    case 'heatmap': return [{
      id: 'heatmap', type: 'raster', source: src,
      metadata: {...meta('heatmap', 'raster'), 'onemap:order': order.heatmap},
      paint: {'raster-opacity': 0.8, 'raster-fade-duration': 0},
    }];
    case 'hazard_density': return [{
      id: 'hazard_density-fill', type: 'fill', source: src, 'source-layer': 'hazard_density',
      metadata: {...meta('hazard_density', 'fill'), 'onemap:order': order.hazard_density},
      paint: {
        'fill-color': ['interpolate', ['linear'], ['to-number', ['get', 'density_km2'], 0], ...colours.density.flat()],
        'fill-opacity': hovered(0.85, 0.62), 'fill-outline-color': '#ffffff',
      },
    }];
    case 'hotspots': return [{
      id: 'hotspots-fill', type: 'fill', source: src, 'source-layer': 'hotspots',
      filter: ['!=', ['to-number', ['get', 'gi_bin'], 0], 0],
      metadata: {...meta('hotspots', 'fill'), 'onemap:order': order.hotspots},
      paint: {'fill-color': matchColour('gi_bin', colours.giBin, 'rgba(0,0,0,0)'), 'fill-opacity': hovered(0.9, 0.68), 'fill-outline-color': '#ffffff'},
    }];
    default: return genericLayers(layer, src);
  }
}

/** The source of one catalogue layer with its filters in the URL. */
export function sourceFor(layer, filters, base, bounds) {
  const raster = layer.geometry_type === 'raster' || /\.png/.test(layer.tiles || '');
  const src = {
    type: raster ? 'raster' : 'vector',
    tiles: [tileURL(layer.tiles, filters, base)],
    minzoom: layer.minzoom ?? 0,
    maxzoom: Math.min(layer.maxzoom ?? 22, raster ? layer.maxzoom ?? 18 : sourceMaxZoom),
  };
  if (raster) src.tileSize = 256;
  if (bounds && bounds.length === 4) src.bounds = bounds;
  return src;
}

/** Coverage overlays: gaps, service areas and uncovered points (GeoJSON, filled in by the analysis panel). */
export function coverageLayers() {
  const empty = {type: 'geojson', data: {type: 'FeatureCollection', features: []}};
  return {
    sources: {'coverage-gaps': empty, 'service-areas': structuredClone(empty), 'coverage-uncovered': structuredClone(empty)},
    layers: [
      {id: 'service-areas-fill', type: 'fill', source: 'service-areas', metadata: {...meta('coverage', 'fill'), 'onemap:order': order['service-area-fill']},
        paint: {'fill-color': colours.serviceArea, 'fill-opacity': 0.1}},
      {id: 'service-areas-line', type: 'line', source: 'service-areas', metadata: {...meta('coverage', 'line'), 'onemap:order': order['service-area-line']},
        paint: {'line-color': colours.serviceArea, 'line-width': 1.5, 'line-dasharray': [2, 1]}},
      {id: 'coverage-gaps', type: 'fill', source: 'coverage-gaps', metadata: {...meta('coverage', 'fill'), 'onemap:order': order['gap-fill']},
        paint: {'fill-color': colours.gap, 'fill-opacity': 0.28}},
      {id: 'coverage-gaps-line', type: 'line', source: 'coverage-gaps', metadata: {...meta('coverage', 'line'), 'onemap:order': order['gap-line']},
        paint: {'line-color': '#b71c1c', 'line-width': 1.2}},
      {id: 'coverage-uncovered', type: 'circle', source: 'coverage-uncovered', metadata: {...meta('coverage', 'point'), 'onemap:order': order.uncovered},
        paint: {'circle-color': colours.gap, 'circle-radius': zoomed([[10, 1.5], [14, 3.5], [17, 6]]), 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1}},
    ],
  };
}

/**
 * The whole style. catalogue: the layers of GET /tiles; bounds (optional):
 * {layerId: [w,s,e,n]}, the extents of the layers' data; state: {layers, filters, analysis}; base:
 * the page URL. Layers not visible get visibility none, so their tiles are
 * not requested.
 */
export function buildStyle({catalogue, bounds = {}, state, base}) {
  const visible = new Set(state.layers || defaultLayers);
  const analysis = state.analysis || {};
  const style = {
    version: 8,
    name: 'OneMap',
    // No "glyphs": MapLibre then draws labels with the local fonts in textFont.
    sources: {},
    layers: [{id: 'background', type: 'background', metadata: {'onemap:order': order.background}, paint: {'background-color': colours.background}}],
  };
  for (const layer of catalogue) {
    const filters = analysisFilters(layer, state, catalogue);
    style.sources[sourceId(layer.id)] = sourceFor(layer, filters, base, bounds[layer.id] || layer.bounds);
    const on = analysisLayers.includes(layer.id) ? analysisVisible(layer.id, analysis) : visible.has(layer.id);
    for (const l of layersFor(layer)) {
      l.layout = {...(l.layout || {}), visibility: on ? 'visible' : 'none'};
      style.layers.push(l);
    }
  }
  const cov = coverageLayers();
  Object.assign(style.sources, cov.sources);
  style.layers.push(...cov.layers);
  style.layers.sort((a, b) => (a.metadata?.['onemap:order'] ?? 50) - (b.metadata?.['onemap:order'] ?? 50));
  return style;
}

function analysisVisible(id, analysis) {
  return Boolean({heatmap: analysis.heat, hazard_density: analysis.hex, hotspots: analysis.hot}[id]);
}

/**
 * The query parameters of a layer's tiles: its own filters, and for the
 * analysis layers the settings of the analysis plus the filters of the
 * layer they analyse (a heatmap of what is shown).
 */
export function analysisFilters(layer, state, catalogue) {
  const a = state.analysis || {};
  const byId = Object.fromEntries(catalogue.map((l) => [l.id, l]));
  const own = (id) => (byId[id] ? cleanFilters(byId[id], state.filters?.[id]) : {});
  const allowed = (params) => Object.fromEntries(Object.entries(params).filter(([k]) => k in (layer.filters || {})));
  switch (layer.id) {
    case 'heatmap': {
      const src = a.heat?.layer || 'hazards';
      return {...allowed(own(src)), layer: src, ...(a.heat?.radius ? {radius: a.heat.radius} : {})};
    }
    case 'hazard_density':
      return {...allowed(own('hazards')), ...(a.hex?.cell ? {cell: a.hex.cell} : {})};
    case 'hotspots':
      return {...allowed(own('hazards')), layer: 'hazards', ...(a.hot?.cell ? {cell: a.hot.cell} : {})};
    default:
      return cleanFilters(layer, state.filters?.[layer.id]);
  }
}

/** Sets basemap (an external style, for deployments that have one) under our layers. */
export function withBasemap(style, basemap) {
  if (!basemap || !Array.isArray(basemap.layers)) return style;
  const out = {...style, sources: {...style.sources}, layers: [...style.layers]};
  for (const [id, s] of Object.entries(basemap.sources || {})) out.sources[`basemap-${id}`] = s;
  const under = basemap.layers.map((l) => ({
    ...l, id: `basemap-${l.id}`, ...(l.source ? {source: `basemap-${l.source}`} : {}),
    metadata: {...(l.metadata || {}), 'onemap:layer': 'basemap', 'onemap:order': order.basemap},
  }));
  out.layers.splice(1, 0, ...under);
  if (basemap.glyphs) out.glyphs = basemap.glyphs;
  if (basemap.sprite) out.sprite = basemap.sprite;
  return out;
}

/** The ids of the style layers drawn for catalogue layer id. */
export function styleLayerIds(style, id) {
  return style.layers.filter((l) => l.metadata?.['onemap:layer'] === id).map((l) => l.id);
}

/** The style layers that answer clicks and hover for id (not labels or counts). */
export function interactiveLayerIds(style, id) {
  return style.layers.filter((l) => l.metadata?.['onemap:layer'] === id &&
    ['point', 'cluster', 'fill', 'line'].includes(l.metadata['onemap:role']) && l.type !== 'raster').map((l) => l.id);
}

// ---- legends --------------------------------------------------------------

/**
 * The legend of a layer as items {shape: 'circle'|'line'|'fill'|'ramp',
 * colour(s), size?, dash?, label} from the same tables as the paint.
 * heatMax: the heatmap's top of the ramp per km², formatted, when known.
 */
export function legendFor(layer, t, valueLabel, {heatMax} = {}) {
  const id = layer.id;
  const v = (field, value) => valueLabel(t, field, value);
  const entries = (table, field) => Object.entries(table).map(([k, c]) => ({shape: 'circle', colour: c, label: v(field, k)}));
  const cluster = {shape: 'circle', colour: '#9aa3ad', size: 14, label: t('legend.cluster'), text: '12'};
  switch (id) {
    case 'premises': return [...entries(colours.tag, 'tag'), {shape: 'circle', colour: colours.untagged, label: t('legend.untagged')}, cluster];
    case 'hydrants': return [...entries(colours.hydrantStatus, 'status'), cluster];
    case 'hazards': return [...Object.entries(colours.hazardStatus).map(([k, c]) => ({shape: 'ring', colour: c, size: 16, label: v('status', k)})),
      {shape: 'ring', colour: '#555555', size: 24, width: 3, label: t('legend.major')}, cluster];
    case 'inspections': return [...entries(colours.inspectionResult, 'result'), cluster];
    case 'fire_stations': return Object.entries(colours.stationKind).map(([k, c]) => ({shape: 'circle', colour: c, size: stationSize[k] * 1.6, label: v('kind', k)}));
    case 'shelters': return [
      {shape: 'circle', colour: colours.shelter, size: 8, label: `${t('legend.capacity')}: 100`},
      {shape: 'circle', colour: colours.shelter, size: 16, label: '1000'},
      {shape: 'circle', colour: colours.shelter, size: 26, label: '3000'},
    ];
    case 'roads': return ['arterial', 'secondary', 'local'].map((k, i) => ({shape: 'line', colour: colours.road[k], casing: colours.road.casing, size: 6 - i * 1.5, label: v('class', k)}));
    case 'towns': case 'communities': case 'grid_cells': return [{
      shape: 'line', colour: colours.boundary[id], size: {towns: 3, communities: 2, grid_cells: 1}[id],
      dash: {towns: null, communities: '4 3', grid_cells: '1 3'}[id], label: t(`level.${id === 'grid_cells' ? 'grid_cell' : id === 'towns' ? 'town' : 'community'}`),
    }];
    case 'heatmap': return [heatMax ?
      {shape: 'ramp', colours: colours.heatRamp, low: '0', high: heatMax, label: t('legend.heatKm2')} :
      {shape: 'ramp', colours: colours.heatRamp, low: t('legend.low'), high: t('legend.high'), label: t('legend.relative')}];
    case 'hazard_density': return [{shape: 'ramp', colours: colours.density.map(([, c]) => c), low: '0', high: `${colours.density.at(-1)[0]}+`, label: t('legend.densityKm2')}];
    case 'hotspots': return ['3', '2', '1', '-1', '-2', '-3'].map((k) => ({shape: 'fill', colour: colours.giBin[k], label: v('gi_bin', k)}));
    default: {
      const g = layer.geometry_type || '';
      return [{shape: /Point/.test(g) ? 'circle' : /Line/.test(g) ? 'line' : 'fill', colour: colours.generic, label: layer.title_zh && t.lang === 'zh' ? layer.title_zh : layer.title}];
    }
  }
}
