// The layers panel, built from the tile catalogue: a switch, a legend and
// filters for every layer the server lists, grouped for planners.
import {fieldLabel, layerTitle, valueLabel} from './i18n.mjs';
import {analysisLayers, cleanFilters, editableFilters, groupOrder, groups, legendFor, sortLayers} from './style.mjs';
import {el, legend} from './ui.mjs';

function filterValueLabel(t, param, value) {
  if (value === 'true') return t('yes');
  if (value === 'false') return t('no');
  return valueLabel(t, param, value);
}

/** Renders the layers panel into container; app is the running map application. */
export function renderLayersPanel(container, app) {
  const {t} = app;
  const byGroup = Object.fromEntries(groupOrder.map((g) => [g, []]));
  for (const layer of sortLayers(app.catalogue)) {
    if (analysisLayers.includes(layer.id)) continue;
    byGroup[groups[layer.id] || 'other'].push(layer);
  }
  const sections = [];
  for (const g of groupOrder) {
    if (byGroup[g].length === 0) continue;
    sections.push(el('section', {class: 'group'},
      el('h2', {}, t(`group.${g}`)),
      el('ul', {class: 'layers'}, byGroup[g].map((layer) => layerItem(layer, app)))));
  }
  container.replaceChildren(...sections);
  updateZoomNotes(container, app);
}

function layerItem(layer, app) {
  const {t, state} = app;
  const id = layer.id;
  const on = state.layers.includes(id);
  const title = layerTitle(layer, t.lang);
  const box = el('input', {type: 'checkbox', id: `layer-${id}`, checked: on, dataset: {layer: id},
    onchange: (e) => app.setLayerVisible(id, e.target.checked)});
  const filters = editableFilters(layer);
  const active = cleanFilters(layer, state.filters[id]);
  const nActive = Object.keys(active).length;
  let details = null;
  if (filters.length > 0) {
    const controls = filters.map((f) => filterControl(layer, f, active, app));
    details = el('details', {class: 'filters', open: nActive > 0},
      el('summary', {}, t('layers.filters'), nActive ? el('span', {class: 'badge'}, t('layers.activeFilters', {n: nActive})) : null),
      controls,
      el('button', {type: 'button', class: 'link', disabled: nActive === 0, onclick: () => app.setFilters(id, {})}, t('layers.clearFilters')));
  }
  return el('li', {class: `layer${on ? '' : ' off'}`, dataset: {layer: id}},
    el('div', {class: 'layer-head'}, box, el('label', {for: `layer-${id}`}, title),
      el('span', {class: 'zoom-note', dataset: {minzoom: layer.minzoom ?? 0}, hidden: true}, t('layers.fromZoom', {z: layer.minzoom}))),
    legend(legendFor(layer, t, valueLabel), `${title} · ${t('layers.legend')}`),
    details);
}

function filterControl(layer, f, active, app) {
  const {t} = app;
  const id = layer.id;
  const label = fieldLabel(t, f.param, null);
  if (f.kind === 'date') {
    const name = f.param === 'since' ? t('layers.since') : f.param === 'until' ? t('layers.until') : label;
    return el('label', {class: 'date'}, name, el('input', {
      type: 'date', value: active[f.param] || '', dataset: {param: f.param},
      onchange: (e) => app.setFilters(id, {...cleanFilters(layer, app.state.filters[id]), [f.param]: e.target.value}),
    }));
  }
  const chosen = new Set(active[f.param] || []);
  return el('fieldset', {class: `enum${f.values.length > 6 ? ' long' : ''}`, dataset: {param: f.param}},
    el('legend', {}, label),
    f.values.map((v) => el('label', {class: 'check'},
      el('input', {type: 'checkbox', value: v, checked: chosen.has(v), dataset: {param: f.param, value: v},
        onchange: (e) => {
          const cur = new Set(cleanFilters(layer, app.state.filters[id])[f.param] || []);
          if (e.target.checked) cur.add(v); else cur.delete(v);
          app.setFilters(id, {...cleanFilters(layer, app.state.filters[id]), [f.param]: [...cur]});
        }}),
      filterValueLabel(t, f.param, v))));
}

/** Shows "visible from zoom N" next to the layers the map is too far out for. */
export function updateZoomNotes(container, app) {
  const z = app.map ? app.map.getZoom() : 99;
  for (const note of container.querySelectorAll('.zoom-note')) note.hidden = z >= Number(note.dataset.minzoom);
}
