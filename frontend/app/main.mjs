// The planners' web map: boots from the tile catalogue, draws the map, and
// wires the panels, popups, hover, drill-down and the permalink together.
import * as maplibregl from 'maplibre-gl';
import {coverageStore, renderAnalysisPanel, runCoverage} from './analysis-panel.mjs';
import {getJSON, postJSON} from './api.mjs';
import {knownAreaBBox, renderAreasPanel} from './areas-panel.mjs';
import {describeFeature} from './describe.mjs';
import {tileExtents, tilesCovering} from './extent.mjs';
import {formatNumber, layerTitle, translator} from './i18n.mjs';
import {renderLayersPanel, updateZoomNotes} from './layers-panel.mjs';
import {formatHash, levels, nextAreaPath, panels, parseHash} from './state.mjs';
import {analysisFilters, apiURL, buildStyle, interactiveLayerIds, localIdeographFontFamily, sourceId, styleLayerIds, tileURL, withBasemap} from './style.mjs';
import {el} from './ui.mjs';

const areaLayer = {town: 'towns', community: 'communities', grid_cell: 'grid_cells'};
const levelOf = {towns: 'town', communities: 'community', grid_cells: 'grid_cell'};
// The zoom whose boundary tiles give the extents of the areas (simplified to about 40-150 m).
const extentZoom = {towns: 9, communities: 10, grid_cells: 11};
const reducedMotion = matchMedia('(prefers-reduced-motion: reduce)').matches;
const timings = {start: performance.now()};

function boot() {
  // index.html starts these requests before the modules have loaded.
  const b = window.onemapBoot || {};
  const get = (p, url) => (p || fetch(url).then((r) => (r.ok ? r.json() : Promise.reject(Object.assign(new Error(`${url}: HTTP ${r.status}`), {status: r.status})))));
  return {tiles: get(b.tiles, 'tiles'), towns: get(b.towns, 'tiles/towns.json').catch(() => null)};
}

/** A TileJSON's bounds as [w, s, e, n], or null for none (an empty layer's TileJSON spans the world). */
const boundsOf = (tj) => {
  const b = tj?.bounds;
  return Array.isArray(b) && b.length === 4 && b[2] - b[0] < 180 ? b : null;
};

async function main() {
  // MapLibre's worker starts loading now, not once the map exists.
  maplibregl.prewarm();
  const state = parseHash(location.hash);
  if (!/(^|[#&])lang=/.test(location.hash)) {
    const saved = localStorage.getItem('onemap.lang');
    if (saved === 'en' || saved === 'zh') state.lang = saved;
  }
  const app = {
    state, t: translator(state.lang), base: document.baseURI, maplibregl,
    cov: coverageStore(), statsCache: {}, coverageCache: {}, dirty: new Set(panels), popup: null, markers: [],
  };
  window.onemap = {app, timings, ready: false};
  applyLanguage(app);
  const requests = boot();
  // The layers' TileJSON gives their extents (which the server keeps per
  // data version): the towns' for the city view, asked for at boot; the
  // others' when a drill-down needs them.
  const extents = {};
  app.extentOf = (id) => (extents[id] ||= (id === 'towns' ? requests.towns : getJSON(apiURL(app.base, `tiles/${id}.json`)))
    .then(boundsOf, () => null));
  let catalogue;
  try {
    catalogue = await requests.tiles;
    timings.catalogue = performance.now();
  } catch (e) {
    // This server wants an access token (ONEMAP_ACCESS_TOKENS): ask for it.
    if (e.status === 401) return renderSignIn(app);
    status(app.t('app.loadFailed', {error: e.message}), true);
    throw e;
  }
  app.catalogue = catalogue.layers || [];
  app.byId = Object.fromEntries(app.catalogue.map((l) => [l.id, l]));
  // A permalink may name layers this server does not have.
  state.layers = state.layers.filter((id) => app.byId[id]);
  // Without a view in the URL the map opens on the whole city.
  const city = state.view ? null : (await app.extentOf('towns')) || (app.byId.premises && (await app.extentOf('premises')));

  let style = buildStyle({catalogue: app.catalogue, state, base: app.base});
  // An external basemap: the deployment's (ONEMAP_BASEMAP_STYLE, written
  // into index.html by the server) unless the page's ?basemap= names one.
  const basemapURL = new URLSearchParams(location.search).get('basemap') ||
    document.querySelector('meta[name="onemap-basemap"]')?.content;
  if (basemapURL) {
    try {
      style = withBasemap(style, await getJSON(basemapURL));
    } catch (e) {
      console.warn('basemap:', e.message);
    }
  }
  app.style = style;
  const map = new maplibregl.Map({
    container: 'map', style, localIdeographFontFamily, maxZoom: 19, attributionControl: {compact: true},
    ...(state.view ? {center: [state.view.lon, state.view.lat], zoom: state.view.zoom} : city ? {bounds: city, fitBoundsOptions: {padding: 20}} : {center: [120.66, 27.8], zoom: 10}),
    fadeDuration: reducedMotion ? 0 : 300,
  });
  timings.map = performance.now();
  map.once('style.load', () => (timings.style = performance.now()));
  map.once('render', () => (timings.render = performance.now()));
  // The first frame that shows features of our tiles (the first paint a
  // planner sees as a map): checked on the frames after a tile has loaded.
  const ours = style.layers.filter((l) => l.metadata?.['onemap:layer'] && l.type !== 'background').map((l) => l.id);
  const firstTiles = () => {
    if (!map.queryRenderedFeatures({layers: ours.filter((id) => map.getLayer(id))}).length) return;
    map.off('render', firstTiles);
    timings.tiles = performance.now();
    performance.mark('onemap-first-tiles');
  };
  const tileLoaded = (e) => {
    if (!e.tile) return;
    map.off('sourcedata', tileLoaded);
    map.on('render', firstTiles);
  };
  map.on('sourcedata', tileLoaded);
  app.map = map;
  window.onemap.map = map;
  window.onemap.idle = () => new Promise((resolve) => {
    map.once('idle', resolve);
    map.triggerRepaint();
  });
  map.addControl(new maplibregl.NavigationControl({visualizePitch: false, showCompass: false}), 'top-right');
  map.addControl(new maplibregl.ScaleControl({unit: 'metric'}), 'bottom-left');
  map.getCanvas().setAttribute('aria-label', app.t('map.label'));
  map.once('load', () => {
    timings.load = performance.now();
    performance.mark('onemap-map-load');
  });
  map.once('idle', () => {
    timings.idle = performance.now();
    performance.mark('onemap-map-idle');
  });
  map.on('error', (e) => {
    const err = e.error || e;
    if (err?.name === 'AbortError') return;
    console.error('map error:', err?.message || err, e.sourceId || '');
  });

  Object.assign(app, actions(app));
  wireMap(app);
  wireChrome(app);
  showPanel(app, state.panel, false);
  map.on('moveend', () => {
    const c = map.getCenter();
    state.view = {zoom: map.getZoom(), lat: c.lat, lon: c.lng};
    app.updateURL();
  });
  map.on('zoomend', () => updateZoomNotes(document.getElementById('pane-layers'), app));
  window.addEventListener('hashchange', () => {
    if (location.hash !== app.lastHash) location.reload();
  });
  await new Promise((r) => (map.loaded() ? r() : map.once('load', r)));
  if (state.area.length) app.highlightArea(levels[state.area.length - 1], state.area.at(-1));
  // A permalink with an open coverage analysis runs it again.
  if (state.analysis.cov) {
    app.presetsReady().then(() => {
      if (app.cov.presets.some((p) => p.id === state.analysis.cov.preset) && !app.cov.running && !app.cov.result) runCoverage(app);
    });
  }
  window.onemap.ready = true;
}

/**
 * Asks for the access token of a server that wants one. The server turns a
 * valid token into a cookie that every later request of the page and of
 * MapLibre's worker carries; the page then starts again.
 */
function renderSignIn(app) {
  const {t} = app;
  const input = el('input', {id: 'access-token', name: 'token', type: 'password', autocomplete: 'current-password', required: true, spellcheck: 'false'});
  const message = el('p', {class: 'note error', role: 'alert'});
  const form = el('form', {class: 'sign-in', onsubmit: async (ev) => {
    ev.preventDefault();
    message.textContent = '';
    try {
      await postJSON(apiURL(app.base, 'api/v1/session'), {token: input.value.trim()});
      location.reload();
    } catch (e) {
      message.textContent = e.status === 401 ? t('auth.wrong') : t('app.loadFailed', {error: e.message});
      input.select();
    }
  }},
  el('h2', {}, t('auth.title')),
  el('p', {class: 'note'}, t('auth.prompt')),
  el('label', {for: 'access-token'}, t('auth.token')), input,
  el('div', {class: 'buttons'}, el('button', {type: 'submit', class: 'primary'}, t('auth.submit'))),
  message);
  document.getElementById('pane-layers').replaceChildren(form);
  input.focus();
  // The language switch works before signing in too (the map's own wiring
  // comes with the map).
  document.getElementById('lang').onclick = () => {
    app.state.lang = app.state.lang === 'zh' ? 'en' : 'zh';
    app.t = translator(app.state.lang);
    localStorage.setItem('onemap.lang', app.state.lang);
    applyLanguage(app);
    renderSignIn(app);
  };
}

function status(message, isError) {
  const s = document.getElementById('status');
  s.textContent = message;
  s.classList.toggle('error', Boolean(isError));
  s.hidden = !message;
  clearTimeout(status.timer);
  if (message && !isError) status.timer = setTimeout(() => (s.hidden = true), 4000);
}

/** The application's actions, shared with the panels. */
function actions(app) {
  const {state, map} = app;
  const layersOf = (id) => styleLayerIds(app.style, id);
  const setVisible = (id, on) => {
    for (const l of layersOf(id)) if (map.getLayer(l)) map.setLayoutProperty(l, 'visibility', on ? 'visible' : 'none');
  };
  const refreshSource = (layer) => {
    const src = map.getSource(sourceId(layer.id));
    if (src?.setTiles) src.setTiles([tileURL(layer.tiles, analysisFilters(layer, state, app.catalogue), app.base)]);
  };
  return {
    updateURL() {
      clearTimeout(app.urlTimer);
      app.urlTimer = setTimeout(() => {
        const hash = formatHash(state);
        app.lastHash = hash;
        history.replaceState(null, '', hash || location.pathname + location.search);
      }, 150);
    },
    setLayerVisible(id, on) {
      state.layers = on ? [...new Set([...state.layers, id])] : state.layers.filter((x) => x !== id);
      setVisible(id, on);
      document.querySelector(`#pane-layers li[data-layer="${id}"]`)?.classList.toggle('off', !on);
      app.updateURL();
    },
    setFilters(id, filters) {
      const clean = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== '' && !(Array.isArray(v) && v.length === 0)));
      if (Object.keys(clean).length) state.filters[id] = clean; else delete state.filters[id];
      refreshSource(app.byId[id]);
      // The analysis layers show what the filters select.
      for (const [key, a] of [['heat', 'heatmap'], ['hex', 'hazard_density'], ['hot', 'hotspots']]) {
        if (app.byId[a] && state.analysis[key]) refreshSource(app.byId[a]);
      }
      app.renderPanel('layers');
      app.updateURL();
    },
    setAnalysis(key, value, {quiet} = {}) {
      state.analysis[key] = value;
      const layer = {heat: 'heatmap', hex: 'hazard_density', hot: 'hotspots'}[key];
      if (layer && app.byId[layer]) {
        // Hidden before its URL changes, shown after: no tiles asked for in between.
        if (!value) setVisible(layer, false);
        refreshSource(app.byId[layer]);
        if (value) setVisible(layer, true);
      }
      if (!quiet) app.renderPanel('analysis');
      app.updateURL();
    },
    renderPanel(name) {
      if (state.panel !== name) {
        app.dirty.add(name);
        return;
      }
      app.dirty.delete(name);
      const pane = document.getElementById(`pane-${name}`);
      const key = focusKey(document.activeElement, pane);
      ({layers: renderLayersPanel, analysis: renderAnalysisPanel, areas: renderAreasPanel})[name](pane, app);
      if (key) pane.querySelector(key)?.focus();
    },
    presetsReady() {
      app.presetsPromise ||= getJSON(apiURL(app.base, 'api/v1/coverage'))
        .then((b) => { app.cov.presets = b.presets || []; })
        .catch((e) => {
          app.cov.presets = [];
          app.cov.presetsError = e.message;
        });
      return app.presetsPromise;
    },
    showCoverage() {
      const {cov} = app;
      const empty = {type: 'FeatureCollection', features: []};
      map.getSource('coverage-gaps')?.setData(cov.gaps || empty);
      map.getSource('coverage-uncovered')?.setData(cov.uncovered || empty);
      map.getSource('service-areas')?.setData(cov.service || empty);
      app.showProposals();
    },
    showProposals() {
      for (const m of app.markers) m.remove();
      app.markers = [];
      const res = app.cov.siting;
      if (!res?.proposals || !app.cov.result) return;
      for (const p of res.proposals) {
        const label = `${app.t('siting.rank', {n: p.rank})}: ${app.t('siting.gain', {gain: formatNumber(app.t, p.gain)})}`;
        const node = el('button', {type: 'button', class: 'proposal-marker', 'aria-label': label, title: label, dataset: {rank: p.rank}}, String(p.rank));
        const popup = new maplibregl.Popup({offset: 16, maxWidth: '280px'}).setDOMContent(el('div', {class: 'popup'},
          el('h3', {}, app.t('siting.rank', {n: p.rank})), el('p', {}, app.t('siting.gain', {gain: formatNumber(app.t, p.gain)})),
          el('p', {class: 'note'}, `${p.lon.toFixed(5)}, ${p.lat.toFixed(5)}`)));
        app.markers.push(new maplibregl.Marker({element: node}).setLngLat([p.lon, p.lat]).setPopup(popup).addTo(map));
      }
    },
    /** Selects an area by its path from the town down ([] is the city), and shows it. */
    selectArea(path) {
      state.area = path;
      app.updateURL();
      app.renderPanel('areas');
      if (path.length) {
        const level = levels[path.length - 1];
        app.highlightArea(level, path.at(-1));
        return app.zoomToArea(level, path.at(-1));
      }
      app.zoomToken = (app.zoomToken || 0) + 1;
      app.highlightArea(null);
      app.moving = app.extentOf('towns').then((city) => {
        if (city && !app.state.area.length) map.fitBounds(city, {padding: 20, duration: reducedMotion ? 0 : 600});
      });
      return app.moving;
    },
    highlightArea(level, id) {
      if (app.selected) map.setFeatureState(app.selected, {selected: false});
      app.selected = null;
      if (!level) return;
      const layer = areaLayer[level];
      if (!map.getSource(sourceId(layer))) return;
      app.selected = {source: sourceId(layer), sourceLayer: layer, id};
      map.setFeatureState(app.selected, {selected: true});
    },
    /**
     * Fits the map to an area and outlines it. Returns (and keeps as
     * app.moving) a promise that settles once the map has been told where to
     * go; a later call wins over one still looking up its extent.
     */
    zoomToArea(level, id) {
      const token = (app.zoomToken = (app.zoomToken || 0) + 1);
      const layer = areaLayer[level];
      app.moving = (async () => {
        let b = null;
        try {
          // The statistics the areas panel holds give the exact box; the
          // boundary tiles serve areas it has not listed yet.
          const e = (await knownAreaBBox(app, level, id)) || (await app.areaExtents(layer)).get(id);
          if (e) b = [[e[0], e[1]], [e[2], e[3]]];
        } catch (err) {
          console.warn('area extents:', err.message);
        }
        if (token !== app.zoomToken) return;
        b ||= boundsFromTiles(map, layer, id);
        if (!state.area.length || state.area.at(-1) !== id) app.highlightArea(level, id);
        if (b) map.fitBounds(b, {padding: 40, maxZoom: 17, duration: reducedMotion ? 0 : 700});
      })();
      return app.moving;
    },
    /** The extents of every area of a boundary layer, from its tiles at a low zoom (fetched once). */
    areaExtents(layer) {
      app.extents ||= {};
      app.extents[layer] ||= (async () => {
        const cat = app.byId[layer];
        const z = Math.max(cat.minzoom ?? 0, extentZoom[layer] ?? 10);
        const all = new Map();
        const bounds = (await app.extentOf(layer)) || (await app.extentOf('towns'));
        if (!bounds) return all;
        await Promise.all(tilesCovering(bounds, z).map(async (tile) => {
          const url = tileURL(cat.tiles, {}, app.base).replace('{z}', tile.z).replace('{x}', tile.x).replace('{y}', tile.y);
          const res = await fetch(url);
          if (res.status !== 200) return;
          for (const [id, b] of tileExtents(await res.arrayBuffer(), layer, tile.z, tile.x, tile.y)) {
            const p = all.get(id);
            all.set(id, p ? [Math.min(p[0], b[0]), Math.min(p[1], b[1]), Math.max(p[2], b[2]), Math.max(p[3], b[3])] : b);
          }
        }));
        return all;
      })();
      return app.extents[layer];
    },
    setLanguage(lang) {
      state.lang = lang;
      app.t = translator(lang);
      localStorage.setItem('onemap.lang', lang);
      applyLanguage(app);
      map.getCanvas().setAttribute('aria-label', app.t('map.label'));
      app.popup?.remove();
      for (const p of panels) app.dirty.add(p);
      app.renderPanel(state.panel);
      app.showProposals();
      app.updateURL();
    },
  };
}

/** A selector that finds the same control after a panel is redrawn. */
function focusKey(active, pane) {
  if (!active || !pane.contains(active) || active === pane) return null;
  if (active.id) return `#${CSS.escape(active.id)}`;
  const attrs = Object.entries(active.dataset).map(([k, v]) => `[data-${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}="${CSS.escape(v)}"]`).join('');
  const layer = active.closest('[data-layer]')?.dataset.layer;
  if (!attrs) return null;
  return `${layer ? `[data-layer="${CSS.escape(layer)}"] ` : ''}${active.tagName.toLowerCase()}${attrs}`;
}

/** The extent of an area from the boundary tiles the map has loaded, or null. */
function boundsFromTiles(map, layer, id) {
  if (!map.getSource(sourceId(layer))) return null;
  const feats = map.querySourceFeatures(sourceId(layer), {sourceLayer: layer, filter: ['==', ['id'], id]});
  if (!feats.length) return null;
  const b = new maplibregl.LngLatBounds();
  const walk = (c) => (typeof c[0] === 'number' ? b.extend(c) : c.forEach(walk));
  for (const f of feats) walk(f.geometry.coordinates);
  return b.isEmpty() ? null : b;
}

function applyLanguage(app) {
  const {t} = app;
  document.documentElement.lang = t.lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('app.title');
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  for (const e of document.querySelectorAll('[data-i18n-label]')) e.setAttribute('aria-label', t(e.dataset.i18nLabel));
  const lang = document.getElementById('lang');
  lang.textContent = t('lang.other');
  lang.lang = t.lang === 'zh' ? 'en' : 'zh-CN';
  lang.setAttribute('aria-label', t('lang.switch'));
  const toggle = document.getElementById('panel-toggle');
  toggle.setAttribute('aria-label', t(document.body.classList.contains('panel-hidden') ? 'panel.show' : 'panel.hide'));
}

function showPanel(app, name, focus) {
  app.state.panel = name;
  for (const p of panels) {
    const tab = document.getElementById(`tab-${p}`);
    tab.setAttribute('aria-selected', String(p === name));
    tab.tabIndex = p === name ? 0 : -1;
    document.getElementById(`pane-${p}`).hidden = p !== name;
  }
  if (app.dirty.has(name)) app.renderPanel(name);
  if (focus) document.getElementById(`tab-${name}`).focus();
  app.updateURL();
}

function wireChrome(app) {
  // The skip link focuses the map without touching the hash (the permalink).
  document.querySelector('.skip').addEventListener('click', (e) => {
    e.preventDefault();
    app.map.getCanvas().focus();
  });
  document.getElementById('lang').addEventListener('click', () => app.setLanguage(app.state.lang === 'zh' ? 'en' : 'zh'));
  document.getElementById('copy-link').addEventListener('click', async () => {
    const hash = formatHash(app.state);
    const url = `${location.origin}${location.pathname}${location.search}${hash}`;
    try {
      await navigator.clipboard.writeText(url);
    } catch {
      // no clipboard (plain http on another host): the address bar has it
    }
    status(app.t('link.copied'));
  });
  const tabs = document.querySelector('[role="tablist"]');
  tabs.addEventListener('click', (e) => {
    const tab = e.target.closest('[role="tab"]');
    if (tab) showPanel(app, tab.id.replace('tab-', ''), false);
  });
  tabs.addEventListener('keydown', (e) => {
    const i = panels.indexOf(app.state.panel);
    const next = {ArrowRight: i + 1, ArrowDown: i + 1, ArrowLeft: i - 1, ArrowUp: i - 1, Home: 0, End: panels.length - 1}[e.key];
    if (next === undefined) return;
    e.preventDefault();
    showPanel(app, panels[(next + panels.length) % panels.length], true);
  });
  const toggle = document.getElementById('panel-toggle');
  toggle.addEventListener('click', () => {
    const hidden = document.body.classList.toggle('panel-hidden');
    toggle.setAttribute('aria-expanded', String(!hidden));
    toggle.setAttribute('aria-label', app.t(hidden ? 'panel.show' : 'panel.hide'));
    app.map.resize();
  });
  new ResizeObserver(() => app.map.resize()).observe(document.getElementById('map'));
}

function wireMap(app) {
  const {map} = app;
  const style = app.style;
  const pointIds = ['fire_stations', 'shelters', 'hydrants', 'premises', 'hazards', 'inspections'];
  const known = new Set([...pointIds, 'roads', 'towns', 'communities', 'grid_cells', 'heatmap', 'hazard_density', 'hotspots']);
  const others = app.catalogue.map((l) => l.id).filter((id) => !known.has(id));
  const pointLayers = [...pointIds, ...others].flatMap((id) => interactiveLayerIds(style, id)).concat(['coverage-uncovered']);
  const hexLayers = ['hotspots', 'hazard_density'].flatMap((id) => interactiveLayerIds(style, id));
  const areaLayers = ['grid_cells', 'communities', 'towns'].flatMap((id) => interactiveLayerIds(style, id).filter((l) => l.endsWith('-fill')));
  const hoverLayers = [...pointLayers.filter((l) => l !== 'coverage-uncovered'), ...interactiveLayerIds(style, 'roads').filter((l) => l.endsWith('-line')), ...hexLayers, ...areaLayers];
  const existing = (ids) => ids.filter((id) => map.getLayer(id) && map.getLayoutProperty(id, 'visibility') !== 'none');
  let hovered = null;
  let pending = null;
  const setHover = (f) => {
    const key = f && f.id !== undefined ? {source: f.source, sourceLayer: f.sourceLayer, id: f.id} : null;
    if (hovered && key && hovered.source === key.source && hovered.sourceLayer === key.sourceLayer && hovered.id === key.id) return;
    if (hovered) map.setFeatureState(hovered, {hover: false});
    hovered = key;
    if (hovered) map.setFeatureState(hovered, {hover: true});
  };
  map.on('mousemove', (e) => {
    pending = e.point;
    requestAnimationFrame(() => {
      if (!pending) return;
      const p = pending;
      pending = null;
      const f = map.queryRenderedFeatures([[p.x - 3, p.y - 3], [p.x + 3, p.y + 3]], {layers: existing(hoverLayers)})[0];
      setHover(f);
      map.getCanvas().style.cursor = f && !areaLayers.includes(f.layer.id) ? 'pointer' : '';
    });
  });
  map.getCanvas().addEventListener('mouseleave', () => setHover(null));

  // From the keyboard: Enter on the focused map lists the features under its
  // centre (a cross-hair shows it); each opens its popup.
  map.getCanvas().addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    const c = map.project(map.getCenter());
    const box = [[c.x - 12, c.y - 12], [c.x + 12, c.y + 12]];
    const seen = new Set();
    const features = [
      ...map.queryRenderedFeatures(box, {layers: existing(pointLayers)}),
      ...map.queryRenderedFeatures(c, {layers: existing(hexLayers)}),
      ...map.queryRenderedFeatures(c, {layers: existing(areaLayers)}),
    ].filter((f) => {
      // A feature on a tile edge comes once per tile.
      const key = `${f.layer.id}/${f.id ?? JSON.stringify(f.properties)}`;
      return !seen.has(key) && seen.add(key);
    });
    featureList(app, features.slice(0, 12), map.getCenter());
  });

  map.on('click', (e) => {
    const p = e.point;
    const box = [[p.x - 4, p.y - 4], [p.x + 4, p.y + 4]];
    const point = map.queryRenderedFeatures(box, {layers: existing(pointLayers)})[0];
    if (point) return featurePopup(app, point, e.lngLat);
    const hex = map.queryRenderedFeatures(p, {layers: existing(hexLayers)})[0];
    if (hex) return featurePopup(app, hex, e.lngLat);
    const areas = map.queryRenderedFeatures(p, {layers: existing(areaLayers)});
    if (!areas.length) return;
    const clicked = {};
    for (const f of areas) clicked[levelOf[f.sourceLayer]] ??= f;
    const next = nextAreaPath(app.state.area, {
      town: clicked.town?.id ?? clicked.community?.properties.town_id,
      community: clicked.community?.id ?? clicked.grid_cell?.properties.community_id,
      grid_cell: clicked.grid_cell?.id,
    });
    if (app.state.panel === 'areas') {
      if (next.join('.') !== app.state.area.join('.')) app.selectArea(next);
      return;
    }
    const deepest = clicked.grid_cell || clicked.community || clicked.town;
    featurePopup(app, deepest, e.lngLat, () => {
      showPanel(app, 'areas', false);
      app.selectArea(next);
    });
  });
}

/**
 * Opens the keyboard's list of the features at lngLat: none is said in the
 * status line, one opens its popup, several a list of buttons that do. Focus
 * returns to the map when the popup closes.
 */
function featureList(app, features, lngLat) {
  const {t} = app;
  if (!features.length) {
    status(t('map.nothingHere'));
    return;
  }
  if (features.length === 1) {
    featurePopup(app, features[0], lngLat);
  } else {
    const items = features.map((f) => {
      const layerId = f.sourceLayer || f.layer.id;
      const layer = f.layer.id === 'coverage-uncovered' ? {id: layerId, title: t('legend.uncovered'), fields: {}} : app.byId[layerId] || {id: layerId, title: layerId, fields: {}};
      const d = describeFeature(t, layer, f.properties, f.id);
      const kind = layerTitle(layer, t.lang);
      const label = d.title === kind ? d.title : `${kind}: ${d.title}`;
      return el('li', {}, el('button', {type: 'button', class: 'feature-choice', onclick: () => {
        featurePopup(app, f, lngLat);
        app.popup.once('close', () => app.map.getCanvas().focus());
      }}, label));
    });
    app.popup?.remove();
    app.popup = new maplibregl.Popup({maxWidth: '340px', focusAfterOpen: true, closeButton: true})
      .setLngLat(lngLat).setDOMContent(el('div', {class: 'popup', lang: t.lang === 'zh' ? 'zh-CN' : 'en'},
        el('h3', {}, t('map.here', {n: features.length})), el('ul', {class: 'feature-list'}, items)))
      .addTo(app.map);
  }
  const popup = app.popup;
  popup.once('close', () => {
    if (app.popup === popup) app.map.getCanvas().focus();
  });
}

/** Opens the popup of a feature; drill, if given, adds a button that opens the area in the areas panel. */
function featurePopup(app, f, lngLat, drill) {
  const {t} = app;
  const layerId = f.sourceLayer || f.layer.id;
  const layer = f.layer.id === 'coverage-uncovered' ? {id: 'coverage-uncovered', title: t('legend.uncovered'), fields: {}} :
    app.byId[layerId] || {id: layerId, title: layerId, fields: {}};
  const d = describeFeature(t, layer, f.properties, f.id);
  const body = el('div', {class: 'popup', lang: t.lang === 'zh' ? 'zh-CN' : 'en'},
    el('h3', {}, d.title),
    d.subtitle ? el('p', {class: 'note'}, d.subtitle) : null,
    d.rows.length ? el('dl', {}, d.rows.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])) : null);
  if (d.cluster && f.properties.bbox) {
    const [w, s, e, n] = String(f.properties.bbox).split(',').map(Number);
    body.append(el('button', {type: 'button', class: 'primary', onclick: () => {
      app.popup?.remove();
      app.map.fitBounds([[w, s], [e, n]], {padding: 60, maxZoom: Math.max((layer?.cluster_below_zoom ?? 15) + 0.5, app.map.getZoom() + 1), duration: reducedMotion ? 0 : 600});
    }}, t('popup.clusterHint')));
  }
  if (drill) body.append(el('button', {type: 'button', class: 'primary', onclick: () => { app.popup?.remove(); drill(); }}, `${t('panel.areas')} →`));
  app.popup?.remove();
  app.popup = new maplibregl.Popup({maxWidth: '340px', focusAfterOpen: true, closeButton: true})
    .setLngLat(lngLat).setDOMContent(body).addTo(app.map);
  app.popup.feature = {layer: layerId, id: f.id};
  return undefined;
}

main().catch((e) => console.error('onemap:', e));
