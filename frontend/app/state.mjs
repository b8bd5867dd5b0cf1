// The view state and its permalink: map position, visible layers, filters,
// the open analysis, the selected area, the open panel and the language, kept
// in the URL hash so that reloading (or sending the link) restores the view.
// Pure: parse and format only.
//
//   #map=14.00/27.86110/120.69010&layers=premises,hydrants&f.premises.tag=red,yellow
//    &heat=hazards:300&hex=200&hot=auto&cov=hydrants:150:town&site=5&area=13.225
//    &panel=analysis&lang=en
import {defaultLayers} from './style.mjs';

export const panels = ['layers', 'analysis', 'areas'];
export const levels = ['town', 'community', 'grid_cell'];

/** The state of a first visit. */
export function defaultState() {
  return {
    view: null, // {zoom, lat, lon}; null: fit the city
    layers: [...defaultLayers],
    filters: {},
    analysis: {heat: null, hex: null, hot: null, cov: null, site: null},
    area: [], // ids from town down: [townId, communityId, gridCellId]
    panel: 'layers',
    lang: 'zh',
  };
}

const num = (s) => (s !== null && s !== '' && Number.isFinite(Number(s)) ? Number(s) : null);
const posInt = (s) => {
  const n = num(s);
  return n !== null && Number.isInteger(n) && n > 0 ? n : null;
};

/** Reads a hash ('#...' or '...'); anything unreadable keeps its default. */
export function parseHash(hash) {
  const s = defaultState();
  const p = new URLSearchParams(String(hash || '').replace(/^#/, ''));
  const map = (p.get('map') || '').split('/').map(num);
  if (map.length === 3 && map.every((x) => x !== null) && Math.abs(map[1]) <= 90 && Math.abs(map[2]) <= 180 && map[0] >= 0 && map[0] <= 24) {
    s.view = {zoom: map[0], lat: map[1], lon: map[2]};
  }
  if (p.has('layers')) s.layers = p.get('layers').split(',').filter((x) => /^[a-z0-9_]+$/.test(x));
  for (const [k, v] of p) {
    const m = /^f\.([a-z0-9_]+)\.([a-z0-9_]+)$/.exec(k);
    if (!m || v === '') continue;
    (s.filters[m[1]] ||= {})[m[2]] = /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : v.split(',').filter(Boolean);
  }
  if (p.has('heat')) {
    const [layer, radius] = p.get('heat').split(':');
    s.analysis.heat = {layer: /^[a-z_]+$/.test(layer) ? layer : 'hazards', radius: posInt(radius)};
  }
  if (p.has('hex')) s.analysis.hex = {cell: posInt(p.get('hex'))};
  if (p.has('hot')) s.analysis.hot = {cell: posInt(p.get('hot'))};
  if (p.has('cov')) {
    const [preset, threshold, level] = p.get('cov').split(':');
    if (/^[a-z0-9_]+$/.test(preset)) {
      s.analysis.cov = {preset, threshold: num(threshold) !== null && num(threshold) > 0 ? num(threshold) : null,
        level: levels.includes(level) ? level : 'town'};
    }
  }
  if (p.has('site')) s.analysis.site = {count: posInt(p.get('site')) || 5};
  if (p.has('area')) s.area = p.get('area').split('.').map(posInt).filter((x) => x !== null).slice(0, 3);
  if (panels.includes(p.get('panel'))) s.panel = p.get('panel');
  if (p.get('lang') === 'en' || p.get('lang') === 'zh') s.lang = p.get('lang');
  return s;
}

/** Writes state as a hash (with '#'), leaving out what equals the default. */
export function formatHash(state) {
  const d = defaultState();
  const parts = [];
  const add = (k, v) => parts.push(`${k}=${v}`);
  if (state.view) {
    const {zoom, lat, lon} = state.view;
    add('map', `${zoom.toFixed(2)}/${lat.toFixed(5)}/${lon.toFixed(5)}`);
  }
  const layers = state.layers || d.layers;
  if (layers.join(',') !== d.layers.join(',')) add('layers', layers.join(','));
  for (const layer of Object.keys(state.filters || {}).sort()) {
    const f = state.filters[layer];
    for (const param of Object.keys(f).sort()) {
      const v = f[param];
      const s = Array.isArray(v) ? v.join(',') : String(v ?? '');
      if (s) add(`f.${layer}.${param}`, encodeURIComponent(s).replaceAll('%2C', ','));
    }
  }
  const a = state.analysis || {};
  if (a.heat) add('heat', `${a.heat.layer || 'hazards'}${a.heat.radius ? `:${a.heat.radius}` : ''}`);
  if (a.hex) add('hex', a.hex.cell || 'auto');
  if (a.hot) add('hot', a.hot.cell || 'auto');
  if (a.cov) add('cov', `${a.cov.preset}:${a.cov.threshold ?? ''}:${a.cov.level || 'town'}`);
  if (a.site) add('site', a.site.count);
  if (state.area && state.area.length) add('area', state.area.join('.'));
  if (state.panel && state.panel !== d.panel) add('panel', state.panel);
  if (state.lang && state.lang !== d.lang) add('lang', state.lang);
  return parts.length ? `#${parts.join('&')}` : '';
}

/** The level of the deepest selected area, or null for the whole city. */
export function areaLevel(area) {
  return area && area.length ? levels[area.length - 1] : null;
}

/**
 * The area path after a click on the map: clicked holds the ids of the town,
 * community and grid cell under the pointer. The first click picks the town,
 * the next its community, the next the grid cell; a click elsewhere starts
 * again at the level where the click left the selection.
 */
export function nextAreaPath(current, clicked) {
  const [town, community, grid] = [clicked.town, clicked.community, clicked.grid_cell];
  if (town === undefined || town === null) return current;
  if (!current.length || current[0] !== town) return [town];
  if (community === undefined || community === null) return [town];
  if (current.length === 1 || current[1] !== community) return [town, community];
  if (grid === undefined || grid === null) return [town, community];
  return [town, community, grid];
}
