// The analysis panel: server heatmap tiles with a radius control, hexagon
// density, hot spots, coverage of hydrants, stations and shelters with their
// gaps and service areas on the map and a summary table, and siting
// proposals. Long runs show their progress and can be cancelled.
import {APIError, del, getJSON, postJSON} from './api.mjs';
import {formatNumber, formatPercent, layerTitle, valueLabel} from './i18n.mjs';
import {tilesCovering} from './extent.mjs';
import {analysisFilters, apiURL, legendFor, tileURL} from './style.mjs';
import {download, renderTable, toCSV} from './table.mjs';
import {el, legend} from './ui.mjs';

const radii = [100, 200, 300, 500, 800, 1000, 1500, 2000, 3000];
const cells = [100, 200, 300, 500, 1000];
const emptyFC = {type: 'FeatureCollection', features: []};

/** Everything the coverage section knows between renders (results survive a language switch). */
export function coverageStore() {
  return {presets: null, presetsError: null, result: null, gaps: null, uncovered: null, service: null,
    running: null, error: null, siting: null, sitingRun: null, markers: []};
}

export function presetUnit(p) {
  return p.unit || (p.metric === 'travel_time' ? 's' : 'm');
}

function unitOf(result, preset) {
  return result?.unit || presetUnit(preset);
}

export function presetTitle(p, lang) {
  return presetText(p, 'title', lang) || p.id;
}

/** A preset's text field (title, description, standard) in lang: its `_zh` twin in Chinese when the server has one. */
export function presetText(p, field, lang) {
  return (lang === 'zh' && p[`${field}_zh`]) || p[field] || '';
}

/** Renders the panel into container. */
export function renderAnalysisPanel(container, app) {
  const {t} = app;
  const byId = Object.fromEntries(app.catalogue.map((l) => [l.id, l]));
  const parts = [];
  if (byId.heatmap) parts.push(heatSection(app, byId.heatmap));
  if (byId.hazard_density) parts.push(hexSection(app, byId.hazard_density, 'hex', 'analysis.density'));
  if (byId.hotspots) parts.push(hexSection(app, byId.hotspots, 'hot', 'analysis.hotspots'));
  parts.push(coverageSection(app));
  container.replaceChildren(...parts);
  if (app.cov.presets === null && !app.cov.loadingPresets) loadPresets(app);
}

function heatSection(app, layer) {
  const {t, state} = app;
  const a = state.analysis.heat;
  const sources = (layer.filters?.layer || ['hazards']).filter((id) => app.catalogue.some((l) => l.id === id));
  const on = el('input', {type: 'checkbox', id: 'an-heat', checked: Boolean(a),
    onchange: (e) => app.setAnalysis('heat', e.target.checked ? {layer: a?.layer || 'hazards', radius: a?.radius || 300} : null)});
  const cur = a || {layer: 'hazards', radius: 300};
  const radius = el('input', {type: 'range', id: 'an-heat-radius', min: 0, max: radii.length - 1, step: 1,
    value: Math.max(0, radii.indexOf(cur.radius ?? 300)), disabled: !a, 'aria-valuetext': `${cur.radius ?? 300} ${t('unit.m')}`,
    oninput: (e) => {
      const r = radii[Number(e.target.value)];
      out.textContent = `${r} ${t('unit.m')}`;
      e.target.setAttribute('aria-valuetext', out.textContent);
    },
    onchange: (e) => app.setAnalysis('heat', {...app.state.analysis.heat, radius: radii[Number(e.target.value)]})});
  const out = el('output', {for: 'an-heat-radius'}, `${cur.radius ?? 300} ${t('unit.m')}`);
  return el('section', {class: 'analysis', id: 'section-heat'},
    el('h2', {}, el('label', {class: 'switch'}, on, t('analysis.heatmap'))),
    el('div', {class: 'row'},
      el('label', {for: 'an-heat-layer'}, t('analysis.heatLayer')),
      el('select', {id: 'an-heat-layer', disabled: !a, onchange: (e) => app.setAnalysis('heat', {...app.state.analysis.heat, layer: e.target.value})},
        sources.map((id) => el('option', {value: id, selected: cur.layer === id}, layerTitle(app.catalogue.find((l) => l.id === id), t.lang))))),
    el('div', {class: 'row'}, el('label', {for: 'an-heat-radius'}, t('analysis.radius')), radius, out),
    el('p', {class: 'note'}, t('analysis.filtersNote')),
    legend(legendFor(layer, t, valueLabel, {heatMax: a ? heatMax(app, layer) : null}), t('analysis.heatmap')));
}

/**
 * The heatmap's top of the ramp (per km², formatted) for what is shown, from
 * the X-Heatmap-Max header of the tile under the map's centre (one MapLibre
 * asks for too, so the server has it); null until known, then the panel is
 * drawn again.
 */
function heatMax(app, layer) {
  const key = tileURL(layer.tiles, analysisFilters(layer, app.state, app.catalogue), app.base);
  if (app.heatMax?.key === key) return app.heatMax.value === null ? null : formatNumber(app.t, app.heatMax.value);
  if (app.heatMaxLoading === key || !app.map) return null;
  app.heatMaxLoading = key;
  const c = app.map.getCenter();
  const z = Math.min(Math.max(Math.floor(app.map.getZoom()) + 1, layer.minzoom ?? 0), layer.maxzoom ?? 18);
  const [tile] = tilesCovering([c.lng, c.lat, c.lng, c.lat], z);
  fetch(key.replace('{z}', tile.z).replace('{x}', tile.x).replace('{y}', tile.y))
    .then((res) => {
      const v = Number.parseFloat(res.headers.get('X-Heatmap-Max'));
      return res.ok && v > 0 ? Number(v.toPrecision(2)) : null;
    }, () => null)
    .then((value) => {
      if (app.heatMaxLoading !== key) return;
      app.heatMax = {key, value};
      app.heatMaxLoading = null;
      app.renderPanel('analysis');
    });
  return null;
}

function hexSection(app, layer, key, titleKey) {
  const {t, state} = app;
  const a = state.analysis[key];
  const id = `an-${key}`;
  const on = el('input', {type: 'checkbox', id, checked: Boolean(a), onchange: (e) => app.setAnalysis(key, e.target.checked ? {cell: a?.cell ?? null} : null)});
  return el('section', {class: 'analysis', id: `section-${key}`},
    el('h2', {}, el('label', {class: 'switch'}, on, t(titleKey))),
    el('div', {class: 'row'},
      el('label', {for: `${id}-cell`}, t('analysis.cell')),
      el('select', {id: `${id}-cell`, disabled: !a, onchange: (e) => app.setAnalysis(key, {cell: e.target.value ? Number(e.target.value) : null})},
        el('option', {value: '', selected: !a?.cell}, t('analysis.auto')),
        cells.map((c) => el('option', {value: c, selected: a?.cell === c}, `${c} ${t('unit.m')}`)))),
    legend(legendFor(layer, t, valueLabel), t(titleKey)));
}

async function loadPresets(app) {
  app.cov.loadingPresets = true;
  await app.presetsReady();
  app.cov.loadingPresets = false;
  app.renderPanel('analysis');
  const c = app.state.analysis.cov;
  if (c && app.cov.presets.some((p) => p.id === c.preset) && !app.cov.result && !app.cov.running) runCoverage(app);
}

function coverageSection(app) {
  const {t, state, cov} = app;
  const head = el('h2', {}, t('analysis.coverage'));
  if (cov.presets === null) return el('section', {class: 'analysis', id: 'section-coverage'}, head, el('p', {class: 'note'}, t('areas.loading')));
  if (cov.presets.length === 0) {
    return el('section', {class: 'analysis', id: 'section-coverage'}, head,
      el('p', {class: 'note warn'}, t('analysis.unavailable', {error: cov.presetsError || '—'})));
  }
  const c = state.analysis.cov || {preset: cov.presets[0].id, threshold: null, level: 'town'};
  const preset = cov.presets.find((p) => p.id === c.preset) || cov.presets[0];
  const unit = presetUnit(preset);
  const threshold = c.threshold ?? preset.threshold;
  const form = el('form', {class: 'coverage-form', onsubmit: (e) => {
    e.preventDefault();
    const fd = new FormData(e.target);
    app.setAnalysis('cov', {preset: fd.get('preset'), threshold: Number(fd.get('threshold')) || null, level: fd.get('level')}, {quiet: true});
    runCoverage(app);
  }},
  el('div', {class: 'row'},
    el('label', {for: 'cov-preset'}, t('analysis.preset')),
    el('select', {id: 'cov-preset', name: 'preset', onchange: (e) => {
      const p = cov.presets.find((x) => x.id === e.target.value);
      app.setAnalysis('cov', {...(app.state.analysis.cov || {level: 'town'}), preset: p.id, threshold: p.threshold}, {quiet: !app.state.analysis.cov});
      app.renderPanel('analysis');
    }}, cov.presets.map((p) => el('option', {value: p.id, selected: p.id === preset.id}, presetTitle(p, t.lang))))),
  el('div', {class: 'row'},
    el('label', {for: 'cov-threshold'}, t('analysis.threshold')),
    el('input', {id: 'cov-threshold', name: 'threshold', type: 'number', min: 1, max: preset.max_threshold || undefined, step: 'any', value: threshold, required: true}),
    el('span', {class: 'unit'}, t(`unit.${unit}`)),
    unit === 's' ? el('span', {class: 'note'}, t('coverage.minutes', {m: formatNumber(t, threshold / 60, 1)})) : null),
  presetText(preset, 'description', t.lang) ? el('p', {class: 'note'}, presetText(preset, 'description', t.lang)) : null,
  el('p', {class: 'note'}, [presetText(preset, 'standard', t.lang), valueLabel(t, 'metric', preset.metric)].filter(Boolean).join(' · ')),
  el('div', {class: 'row'},
    el('label', {for: 'cov-level'}, t('analysis.level')),
    el('select', {id: 'cov-level', name: 'level'}, ['town', 'community', 'grid_cell'].map((l) => el('option', {value: l, selected: c.level === l}, t(`level.${l}`))))),
  el('div', {class: 'buttons'},
    el('button', {type: 'submit', class: 'primary', id: 'cov-run', disabled: Boolean(cov.running)}, t('analysis.run')),
    el('button', {type: 'button', id: 'cov-clear', disabled: !cov.result && !cov.running, onclick: () => clearCoverage(app)}, t('analysis.clear'))));
  return el('section', {class: 'analysis', id: 'section-coverage'}, head, form,
    el('div', {id: 'cov-progress', 'aria-live': 'polite'}, cov.running ? progressView(app, cov.running) : null),
    cov.error ? el('p', {class: 'note warn', role: 'alert'}, t('analysis.failed', {error: cov.error})) : null,
    cov.result ? resultView(app, preset) : null,
    cov.result ? sitingView(app, preset) : null);
}

function progressView(app, run) {
  const {t} = app;
  const secs = Math.floor((performance.now() - run.started) / 1000);
  return el('div', {class: 'progress'},
    el('progress', {max: 1, ...(run.progress !== undefined ? {value: run.progress} : {}), 'aria-label': t('analysis.running', {s: secs})}),
    el('span', {class: 'elapsed'}, run.progress !== undefined ? t('siting.progress', {p: Math.round(run.progress * 100)}) : t('analysis.running', {s: secs})),
    el('button', {type: 'button', onclick: () => run.cancel()}, t('analysis.cancel')));
}

/**
 * Runs the coverage analysis of the state's preset and draws each part as it
 * arrives: the summary table first, then uncovered points, service areas and
 * the gap polygons (the slowest).
 */
export async function runCoverage(app) {
  const {cov} = app;
  const c = app.state.analysis.cov;
  const preset = cov.presets?.find((p) => p.id === c?.preset);
  if (!preset) return;
  cov.running?.cancel();
  cov.sitingRun?.cancel();
  const ctl = new AbortController();
  const run = {started: performance.now(), cancel: () => ctl.abort()};
  Object.assign(cov, {running: run, error: null, result: null, gaps: null, uncovered: null, service: null, siting: null, preset: preset.id});
  app.showCoverage();
  const tick = setInterval(() => {
    const box = document.getElementById('cov-progress');
    if (box && cov.running === run) box.replaceChildren(progressView(app, run));
  }, 500);
  app.renderPanel('analysis');
  const threshold = c.threshold ?? preset.threshold;
  const base = `api/v1/coverage/${encodeURIComponent(preset.id)}`;
  const opts = {signal: ctl.signal};
  const current = () => cov.running === run;
  const wantService = preset.supply?.layer === 'fire_stations' && presetUnit(preset) === 's';
  const {t} = app;
  // Each part names itself in an error: the table may be there when the gaps time out.
  const part = (label, p) => p.catch((e) => Promise.reject(Object.assign(e, {part: label})));
  const parts = [
    part(t('table.uncovered'), getJSON(apiURL(app.base, base, {threshold, level: c.level}), opts)).then((result) => {
      if (!current()) return;
      cov.result = result;
      app.renderPanel('analysis');
    }),
    part(t('legend.uncovered'), getJSON(apiURL(app.base, `${base}/uncovered`, {threshold, format: 'geojson'}), opts)).then((fc) => {
      if (!current()) return;
      cov.uncovered = fc;
      app.showCoverage();
    }),
    part(t('legend.gaps'), getJSON(apiURL(app.base, `${base}/gaps`, {threshold}), opts)).then((fc) => {
      if (!current()) return;
      cov.gaps = fc;
      app.showCoverage();
    }),
  ];
  if (wantService) {
    parts.push(part(t('coverage.serviceAreas'), getJSON(apiURL(app.base, 'api/v1/service-areas', {minutes: Math.round((threshold / 60) * 10) / 10}), opts)).then((fc) => {
      if (!current()) return;
      cov.service = fc;
      app.showCoverage();
    }));
  }
  const failures = (await Promise.allSettled(parts)).filter((r) => r.status === 'rejected' && r.reason?.name !== 'AbortError');
  clearInterval(tick);
  if (!current()) return;
  if (failures.length) {
    cov.error = failures.map(({reason: e}) => `${e.part ? `${e.part}: ` : ''}${e instanceof APIError ? e.message : String(e?.message || e)}`).join('; ');
    console.warn('coverage:', e);
  }
  cov.running = null;
  app.renderPanel('analysis');
}

function clearCoverage(app) {
  const {cov} = app;
  cov.running?.cancel();
  cov.sitingRun?.cancel();
  Object.assign(cov, {running: null, sitingRun: null, result: null, gaps: null, uncovered: null, service: null, error: null, siting: null});
  app.setAnalysis('cov', null);
  app.setAnalysis('site', null);
  app.showCoverage();
  app.renderPanel('analysis');
}

function resultView(app, preset) {
  const {t, cov} = app;
  const r = cov.result;
  const c = app.state.analysis.cov;
  const threshold = r.threshold ?? c.threshold ?? preset.threshold;
  const level = r.level || c.level;
  const base = `api/v1/coverage/${encodeURIComponent(preset.id)}`;
  const nf = (v) => formatNumber(t, v);
  const columns = [
    {key: 'name', label: t('table.name')},
    {key: 'total', label: t('table.total'), numeric: true, format: nf},
    {key: 'uncovered', label: t('table.uncovered'), numeric: true, format: nf},
    {key: 'ratio', label: t('table.ratio'), numeric: true, format: (v) => formatPercent(t, v)},
  ];
  const tableBox = el('div', {class: 'table-box', id: 'cov-table'});
  renderTable(tableBox, {
    rows: r.areas || [], columns, sortKey: 'uncovered', sortDir: 'desc', t,
    caption: t('coverage.tableCaption', {level: t(`level.${level}`)}),
    onRow: (row) => app.zoomToArea(level, row.id),
  });
  const link = (href, label, name) => el('a', {href, download: name, class: 'button'}, label);
  const file = (what, ext) => `onemap-${what}-${preset.id}-${threshold}${unitOf(r, preset)}.${ext}`;
  const uncoveredN = r.uncovered_features ?? cov.uncovered?.features?.length;
  return el('div', {class: 'coverage-result', id: 'cov-result'},
    el('p', {class: 'summary'}, el('strong', {}, t('coverage.summary', {covered: nf(r.covered), total: nf(r.total), ratio: formatPercent(t, r.ratio)})),
      uncoveredN !== undefined ? el('span', {}, ` · ${t('coverage.uncoveredCount', {n: nf(uncoveredN)})}`) : null),
    legend([
      {shape: 'fill', colour: '#d32f2f', label: t('legend.gaps')},
      {shape: 'circle', colour: '#d32f2f', size: 8, label: t('legend.uncovered')},
      ...(cov.service ? [{shape: 'fill', colour: '#90caf9', label: t('legend.serviceArea', {m: formatNumber(t, threshold / 60, 1)})}] : []),
    ], t('analysis.coverage')),
    el('details', {class: 'downloads'}, el('summary', {}, t('download.label')),
      el('div', {class: 'buttons'},
        link(apiURL(app.base, base, {threshold, level, format: 'csv'}), t('download.summaryCsv'), file(`coverage-${level}`, 'csv')),
        link(apiURL(app.base, `${base}/uncovered`, {threshold, format: 'csv'}), t('download.uncoveredCsv'), file('uncovered', 'csv')),
        link(apiURL(app.base, `${base}/uncovered`, {threshold, format: 'geojson'}), t('download.uncoveredGeojson'), file('uncovered', 'geojson')),
        link(apiURL(app.base, `${base}/gaps`, {threshold}), t('download.gapsGeojson'), file('gaps', 'geojson')))),
    tableBox);
}

function sitingView(app, preset) {
  const {t, cov} = app;
  const s = app.state.analysis.site || {count: 5};
  const run = cov.sitingRun;
  const res = cov.siting;
  const nf = (v) => formatNumber(t, v);
  let body = null;
  if (run) {
    body = el('div', {class: 'progress', id: 'site-progress'},
      el('progress', {max: 1, value: run.progress || 0, 'aria-label': t('siting.progress', {p: Math.round((run.progress || 0) * 100)})}),
      el('span', {}, t('siting.progress', {p: Math.round((run.progress || 0) * 100)}), run.stage ? ` · ${run.stage}` : ''),
      el('button', {type: 'button', onclick: () => run.cancel()}, t('analysis.cancel')));
  } else if (res?.error) {
    body = el('p', {class: 'note warn', role: 'alert'}, res.error);
  } else if (res?.proposals) {
    const total = res.proposals.reduce((sum, p) => sum + (p.gain || 0), 0);
    const rows = res.proposals.map((p) => ({...p, name: t('siting.rank', {n: p.rank})}));
    const box = el('div', {class: 'table-box', id: 'site-table'});
    renderTable(box, {rows, t, sortKey: 'rank', sortDir: 'asc', rowId: (r) => r.rank,
      columns: [{key: 'rank', label: '#', numeric: true}, {key: 'gain', label: t('siting.gain', {gain: ''}).trim(), numeric: true, format: nf},
        {key: 'cumulative', label: '∑', numeric: true, format: nf}],
      onRow: (p) => app.map.flyTo({center: [p.lon, p.lat], zoom: Math.max(app.map.getZoom(), 15)})});
    const fc = proposalsGeoJSON(res);
    body = el('div', {},
      el('p', {class: 'summary'}, t('siting.done', {n: res.proposals.length, gain: nf(total)}),
        res.before?.ratio !== undefined && res.after?.ratio !== undefined ? ` · ${formatPercent(t, res.before.ratio)} → ${formatPercent(t, res.after.ratio)}` : ''),
      legend([{shape: 'square', colour: '#1a237e', rim: '#ffd600', size: 20, text: '1', label: t('legend.proposal')}], t('siting.title')),
      el('div', {class: 'buttons'},
        el('button', {type: 'button', onclick: () => download(`onemap-siting-${preset.id}.geojson`, JSON.stringify(fc), 'application/geo+json')}, t('download.proposalsGeojson')),
        el('button', {type: 'button', onclick: () => download(`onemap-siting-${preset.id}.csv`,
          toCSV(res.proposals, [{key: 'rank'}, {key: 'lon'}, {key: 'lat'}, {key: 'gain'}, {key: 'cumulative'}, {key: 'newly_covered_features'}]), 'text/csv')}, t('download.proposalsCsv'))),
      box);
  } else if (res?.cancelled) {
    body = el('p', {class: 'note'}, t('siting.cancelled'));
  }
  return el('section', {class: 'siting', id: 'section-siting'},
    el('h3', {}, t('siting.title')),
    el('form', {class: 'row', onsubmit: (e) => {
      e.preventDefault();
      const n = Number(new FormData(e.target).get('count')) || 5;
      app.setAnalysis('site', {count: n}, {quiet: true});
      runSiting(app, preset, n);
    }},
    el('label', {for: 'site-count'}, t('siting.count')),
    el('input', {id: 'site-count', name: 'count', type: 'number', min: 1, max: 200, step: 1, value: s.count}),
    el('button', {type: 'submit', class: 'primary', id: 'site-run', disabled: Boolean(run)}, t('siting.run'))),
    body);
}

/** The proposals as GeoJSON points, for download. */
export function proposalsGeoJSON(res) {
  return {
    type: 'FeatureCollection',
    features: (res.proposals || []).map(({lon, lat, ...rest}) => ({type: 'Feature', geometry: {type: 'Point', coordinates: [lon, lat]}, properties: {...rest, preset: res.preset, threshold: res.threshold}})),
  };
}

/** Asks for count new sites as a background job, following its progress. */
export async function runSiting(app, preset, count) {
  const {cov, t} = app;
  cov.sitingRun?.cancel();
  const ctl = new AbortController();
  let jobURL = null;
  const run = {progress: 0, stage: '', cancel: () => {
    ctl.abort();
    if (jobURL) del(jobURL);
  }};
  cov.sitingRun = run;
  cov.siting = null;
  app.renderPanel('analysis');
  const threshold = app.state.analysis.cov?.threshold ?? preset.threshold;
  try {
    const url = apiURL(app.base, `api/v1/siting/${encodeURIComponent(preset.id)}`, {async: 'true', threshold});
    const {status, body} = await postJSON(url, {count}, {signal: ctl.signal});
    let result = body;
    if (status === 202) {
      jobURL = new URL(body.status_url || `api/v1/jobs/${body.job}`, app.base).href;
      for (;;) {
        await new Promise((r) => setTimeout(r, 400));
        if (ctl.signal.aborted) throw new DOMException('cancelled', 'AbortError');
        const job = await getJSON(jobURL, {signal: ctl.signal});
        run.progress = job.progress ?? run.progress;
        run.stage = job.stage || '';
        const box = document.getElementById('site-progress');
        if (box) {
          box.querySelector('progress').value = run.progress;
          box.querySelector('span').textContent = t('siting.progress', {p: Math.round(run.progress * 100)}) + (run.stage ? ` · ${run.stage}` : '');
        }
        if (job.status === 'done') {
          result = job.result;
          break;
        }
        if (job.status === 'failed') throw new Error(job.error?.error || 'failed');
        if (job.status === 'cancelled') throw new DOMException('cancelled', 'AbortError');
      }
    }
    cov.siting = result;
  } catch (e) {
    cov.siting = e.name === 'AbortError' ? {cancelled: true} : {error: t('siting.failed', {error: e.message})};
  } finally {
    if (cov.sitingRun === run) cov.sitingRun = null;
    app.showProposals();
    app.renderPanel('analysis');
  }
}
