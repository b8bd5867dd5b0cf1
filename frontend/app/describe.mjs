// What a clicked feature is, in plain words: a title and labelled rows, built
// from the feature's attributes and the catalogue's field list. Pure.
import {fieldLabel, formatDate, formatNumber, formatPercent, layerTitle, valueLabel} from './i18n.mjs';

// Attributes that mean nothing to a planner, or that the title already says.
const hidden = new Set(['bbox', 'cluster', 'i', 'j', 'name', 'id']);
const enumerations = new Set(['kind', 'tag', 'status', 'severity', 'category', 'result', 'level', 'class', 'gi_bin']);
const ratios = new Set(['rectification_rate', 'inspected_90d_share']);
const dates = /(_at|^deadline)$/;

// The attributes each layer shows first, in this order; the rest follow.
const firstFields = {
  premises: ['kind', 'tag', 'address', 'floors', 'occupants', 'last_inspected_at'],
  hydrants: ['status', 'kind', 'installed_at'],
  hazards: ['status', 'severity', 'listed', 'reported_at', 'deadline', 'closed_at'],
  fire_stations: ['kind', 'vehicles', 'personnel'],
  shelters: ['capacity', 'level', 'area_m2', 'standardised'],
  towns: ['population', 'premises', 'premises_red', 'premises_yellow', 'premises_green', 'hazards_open', 'hazards_rectifying', 'rectification_rate', 'median_days_to_close', 'listed_overdue', 'inspected_90d_share'],
  hotspots: ['gi_bin', 'gi_z', 'gi_p', 'count'],
  hazard_density: ['count', 'density_km2', 'per_100_premises', 'per_1000_residents'],
};
firstFields.communities = firstFields.towns;
firstFields.grid_cells = firstFields.towns;

/** One attribute value in words. */
export function formatValue(t, field, value) {
  if (value === null || value === undefined || value === '') return t('stats.none');
  if (typeof value === 'boolean' || value === 'true' || value === 'false') return t(value === true || value === 'true' ? 'yes' : 'no');
  if (enumerations.has(field)) return valueLabel(t, field, value);
  if (ratios.has(field)) return formatPercent(t, value);
  if (dates.test(field)) return formatDate(t, value);
  if (field === 'gi_p') return formatNumber(t, value, 3);
  if (typeof value === 'number') return formatNumber(t, value, Number.isInteger(value) ? 0 : 2);
  return String(value);
}

/**
 * Returns {title, subtitle, rows: [[label, value]], cluster} for a feature of
 * catalogue layer `layer` (an entry of GET /tiles) with attributes props.
 */
export function describeFeature(t, layer, props, id) {
  const p = props || {};
  const what = layerTitle(layer, t.lang);
  if (p.cluster === true || p.cluster === 'true') {
    const rows = [];
    for (const f of ['tag', 'status', 'kind', 'category', 'result']) {
      if (p[f] !== undefined) rows.push([`${t('popup.mostly')} · ${fieldLabel(t, f)}`, valueLabel(t, f, p[f])]);
    }
    return {title: t('popup.cluster', {n: formatNumber(t, p.count), what}), subtitle: t('popup.clusterHint'), rows, cluster: true};
  }
  let title = p.name || what;
  if (layer.id === 'hazards' && p.category) title = valueLabel(t, 'category', p.category);
  const subtitle = p.name || layer.id === 'hazards' ? `${what}${id !== undefined && id !== null ? ` · ${t('popup.id', {id})}` : ''}` :
    (id !== undefined && id !== null ? t('popup.id', {id}) : '');
  const fields = Object.keys(layer.fields || {});
  const keys = [...(firstFields[layer.id] || []), ...fields, ...Object.keys(p)];
  const seen = new Set();
  const rows = [];
  for (const k of keys) {
    if (seen.has(k) || hidden.has(k) || !(k in p)) continue;
    seen.add(k);
    if (layer.id === 'hazards' && k === 'category') continue;
    rows.push([fieldLabel(t, k, layer.fields?.[k]), formatValue(t, k, p[k])]);
  }
  return {title, subtitle, rows, cluster: false};
}
