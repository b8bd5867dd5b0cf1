// Drill-down: the city → a town → its communities → their grid cells, with
// breadcrumbs and the statistics of the selected area (premises by tag, open
// hazards, rectification rate, and hydrant/station/shelter coverage).
import {getJSON} from './api.mjs';
import {formatNumber, formatPercent} from './i18n.mjs';
import {levels} from './state.mjs';
import {apiURL} from './style.mjs';
import {presetTitle} from './analysis-panel.mjs';
import {renderTable} from './table.mjs';
import {el} from './ui.mjs';

const mainPresets = ['hydrants', 'stations', 'shelters'];

/** City-wide figures from the towns' statistics: sums, and rates of the sums. */
export function aggregateStats(areas) {
  const sum = (k) => areas.reduce((s, a) => s + (Number(a[k]) || 0), 0);
  const out = {};
  for (const k of ['population', 'households', 'premises', 'premises_red', 'premises_yellow', 'premises_green', 'premises_inspected_90d',
    'hazards', 'hazards_open', 'hazards_rectifying', 'hazards_closed', 'listed_overdue']) out[k] = sum(k);
  out.rectification_rate = out.hazards ? out.hazards_closed / out.hazards : null;
  out.inspected_90d_share = out.premises ? out.premises_inspected_90d / out.premises : null;
  out.median_days_to_close = null; // a median of medians would be wrong
  return out;
}

/**
 * An area's bounding box [w, s, e, n] from statistics the page already has
 * (each row carries its boundary's bbox), or null when none holds the area.
 */
export async function knownAreaBBox(app, level, id) {
  for (const [key, rows] of Object.entries(app.statsCache)) {
    if (!key.startsWith(`${level}:`)) continue;
    const row = (await rows.catch(() => [])).find((a) => a.id === id);
    if (Array.isArray(row?.bbox) && row.bbox.length === 4) return row.bbox;
  }
  return null;
}

/** The statistics of one level's areas under parent (cached). */
export async function statsOf(app, level, parent) {
  const key = `${level}:${parent ?? ''}`;
  app.statsCache[key] ||= getJSON(apiURL(app.base, 'api/v1/stats', {level, parent})).then((b) => b.areas || [])
    .catch((e) => {
      delete app.statsCache[key];
      throw e;
    });
  return app.statsCache[key];
}

/** The coverage summary of a preset at a level, with the preset's default threshold (cached). */
function coverageOf(app, preset, level) {
  const key = `${preset}:${level}`;
  app.coverageCache[key] ||= getJSON(apiURL(app.base, `api/v1/coverage/${encodeURIComponent(preset)}`, {level})).catch(() => null);
  return app.coverageCache[key];
}

/** Renders the panel into container (asynchronously fills in the figures). */
export async function renderAreasPanel(container, app) {
  const {t} = app;
  const path = app.state.area;
  const token = (app.areasToken = (app.areasToken || 0) + 1);
  // A keyboard user who chose an area from the list lands on its name.
  const hadFocus = container.contains(document.activeElement) && document.activeElement !== container;
  container.replaceChildren(el('p', {class: 'note'}, t('areas.hint')), el('p', {class: 'note', role: 'status'}, t('areas.loading')));
  let lists;
  let current;
  let city = null;
  try {
    // The list each selected id belongs to, and the children of the deepest;
    // at the top, the city's own figures (its median days to close cannot
    // be made from the towns'; a server without level=city gets the towns'
    // sums instead).
    [lists, city] = await Promise.all([
      Promise.all([statsOf(app, 'town'), ...path.map((id, i) => (i < 2 ? statsOf(app, levels[i + 1], id) : null))]),
      path.length ? null : statsOf(app, 'city').then((rows) => rows[0] || null, () => null),
    ]);
    current = path.map((id, i) => lists[i]?.find((a) => a.id === id) || {id, name: `#${id}`});
  } catch (e) {
    if (token === app.areasToken) container.replaceChildren(el('p', {class: 'note warn', role: 'alert'}, e.message));
    return;
  }
  if (token !== app.areasToken) return;
  const level = path.length ? levels[path.length - 1] : null;
  const area = path.length ? current.at(-1) : {...(city || aggregateStats(lists[0])), name: t('areas.city')};
  const children = path.length < 3 ? lists[path.length] : null;

  const crumbs = [el('li', {}, path.length ? el('button', {type: 'button', class: 'link', onclick: () => app.selectArea([])}, t('areas.city')) : el('span', {'aria-current': 'page'}, t('areas.city')))];
  current.forEach((a, i) => {
    const last = i === current.length - 1;
    crumbs.push(el('li', {}, last ? el('span', {'aria-current': 'page'}, a.name) :
      el('button', {type: 'button', class: 'link', onclick: () => app.selectArea(path.slice(0, i + 1))}, a.name)));
  });

  const covBox = el('dl', {class: 'stats coverage-stats', id: 'area-coverage'});
  const parts = [
    el('p', {class: 'note'}, t('areas.hint')),
    el('nav', {class: 'breadcrumbs', 'aria-label': t('areas.breadcrumb')}, el('ol', {}, crumbs)),
    el('div', {class: 'area-head'},
      el('h2', {id: 'area-name', tabindex: '-1'}, area.name),
      level ? el('button', {type: 'button', onclick: () => app.zoomToArea(level, area.id)}, t('areas.zoomTo')) : null),
    statsView(app, area),
    el('h3', {}, t('stats.coverage')), covBox,
  ];
  if (children) {
    const childLevel = levels[path.length];
    const box = el('div', {class: 'table-box', id: 'area-children'});
    renderTable(box, {
      rows: children, t, sortKey: 'hazards_open', sortDir: 'desc',
      caption: t(`areas.children.${childLevel}`),
      columns: [
        {key: 'name', label: t('table.name')},
        {key: 'premises', label: t('stats.premises'), numeric: true, format: (v) => formatNumber(t, v)},
        {key: 'premises_red', label: t('field.premises_red'), numeric: true, format: (v) => formatNumber(t, v)},
        {key: 'hazards_open', label: t('stats.hazardsOpen'), numeric: true, format: (v) => formatNumber(t, v)},
        {key: 'rectification_rate', label: t('stats.rectificationRate'), numeric: true, format: (v) => formatPercent(t, v)},
      ],
      onRow: (row) => app.selectArea([...path, row.id]),
    });
    parts.push(box);
  }
  container.replaceChildren(...parts);
  if (hadFocus) container.querySelector('#area-name').focus();
  fillCoverage(app, covBox, level, area, token);
}

function statsView(app, a) {
  const {t} = app;
  const n = (v) => formatNumber(t, v);
  const tagged = (a.premises_red || 0) + (a.premises_yellow || 0) + (a.premises_green || 0);
  const bar = el('div', {class: 'tagbar', role: 'img', 'aria-label': `${t('value.tag.red')} ${n(a.premises_red)}, ${t('value.tag.yellow')} ${n(a.premises_yellow)}, ${t('value.tag.green')} ${n(a.premises_green)}`},
    ['red', 'yellow', 'green'].map((c) => el('span', {class: `tag-${c}`, style: `flex-grow: ${tagged ? (a[`premises_${c}`] || 0) / tagged : 0}`})));
  const row = (label, value, id) => [el('dt', {}, label), el('dd', {dataset: {stat: id}}, value)];
  return el('div', {class: 'area-stats'},
    el('dl', {class: 'stats'},
      row(t('stats.population'), n(a.population), 'population'),
      row(t('stats.premises'), n(a.premises), 'premises'),
      row(t('stats.tags'), el('span', {class: 'tags'},
        el('span', {class: 'tag-red-text'}, `${n(a.premises_red)}`), ' / ', el('span', {class: 'tag-yellow-text'}, `${n(a.premises_yellow)}`), ' / ',
        el('span', {class: 'tag-green-text'}, `${n(a.premises_green)}`)), 'tags'),
      row(t('stats.hazardsOpen'), n(a.hazards_open), 'hazards_open'),
      row(t('stats.hazardsRectifying'), n(a.hazards_rectifying), 'hazards_rectifying'),
      row(t('stats.rectificationRate'), formatPercent(t, a.rectification_rate), 'rectification_rate'),
      row(t('stats.medianDays'), a.median_days_to_close != null ? t('stats.days', {n: formatNumber(t, a.median_days_to_close, 1)}) : t('stats.none'), 'median_days'),
      row(t('stats.listedOverdue'), n(a.listed_overdue), 'listed_overdue'),
      row(t('stats.inspected90'), formatPercent(t, a.inspected_90d_share), 'inspected_90d_share')),
    bar);
}

async function fillCoverage(app, box, level, area, token) {
  const {t} = app;
  await app.presetsReady();
  // Hydrants, stations and shelters: the three the planners ask about first
  // (each is a full coverage analysis on the server).
  const all = app.cov.presets || [];
  const main = all.filter((p) => mainPresets.includes(p.id));
  const presets = main.length ? main : all.slice(0, 3);
  if (presets.length === 0) {
    box.replaceChildren(el('dt', {}, t('stats.coverage')), el('dd', {}, t('stats.none')));
    return;
  }
  const rows = await Promise.all(presets.map(async (p) => {
    const r = await coverageOf(app, p.id, level || 'town');
    let ratio = null;
    if (r) ratio = level ? r.areas?.find((a) => a.id === area.id)?.ratio ?? null : r.ratio;
    return [el('dt', {}, presetTitle(p, t.lang)), el('dd', {dataset: {preset: p.id}}, formatPercent(t, ratio))];
  }));
  if (token === app.areasToken) box.replaceChildren(...rows.flat());
}
