// Small DOM helpers shared by the panels: element building and legend swatches.

/** el('button', {type: 'button', onclick}, 'text', child...) */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k in e && typeof v !== 'string') e[k] = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

const svgNS = 'http://www.w3.org/2000/svg';
function svg(tag, attrs) {
  const e = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, v);
  return e;
}

/** An SVG swatch for a legend item from style.legendFor. */
export function swatch(item) {
  const w = item.shape === 'ramp' ? 120 : 28;
  const h = item.shape === 'ramp' ? 12 : 28;
  const s = svg('svg', {width: w, height: h, viewBox: `0 0 ${w} ${h}`, 'aria-hidden': 'true', class: 'swatch'});
  if (item.shape === 'circle') {
    const r = Math.min(13, (item.size || 10) / 2);
    s.append(svg('circle', {cx: 14, cy: 14, r, fill: item.colour, stroke: item.colour === '#ffffff' ? '#555' : '#333', 'stroke-width': 1}));
    if (item.text) {
      const txt = svg('text', {x: 14, y: 17.5, 'text-anchor': 'middle', 'font-size': 10, fill: '#111'});
      txt.textContent = item.text;
      s.append(txt);
    }
  } else if (item.shape === 'square') {
    s.append(svg('rect', {x: 4, y: 4, width: 20, height: 20, rx: 4, fill: item.colour, stroke: item.rim || '#333', 'stroke-width': 2.5}));
    if (item.text) {
      const txt = svg('text', {x: 14, y: 18, 'text-anchor': 'middle', 'font-size': 11, 'font-weight': 700, fill: '#fff'});
      txt.textContent = item.text;
      s.append(txt);
    }
  } else if (item.shape === 'ring') {
    s.append(svg('circle', {cx: 14, cy: 14, r: Math.min(12, (item.size || 14) / 2), fill: 'none', stroke: item.colour, 'stroke-width': item.width || 2}));
  } else if (item.shape === 'line') {
    if (item.casing) s.append(svg('line', {x1: 2, y1: 14, x2: 26, y2: 14, stroke: item.casing, 'stroke-width': (item.size || 2) + 2, 'stroke-linecap': 'round'}));
    s.append(svg('line', {x1: 2, y1: 14, x2: 26, y2: 14, stroke: item.colour, 'stroke-width': item.size || 2, 'stroke-dasharray': item.dash || undefined}));
  } else if (item.shape === 'fill') {
    s.append(svg('rect', {x: 3, y: 5, width: 22, height: 18, fill: item.colour, stroke: '#666', 'stroke-width': 0.5}));
  } else if (item.shape === 'ramp') {
    const id = `ramp-${Math.random().toString(36).slice(2)}`;
    const grad = svg('linearGradient', {id});
    item.colours.forEach((c, i) => grad.append(svg('stop', {offset: `${(i / (item.colours.length - 1)) * 100}%`, 'stop-color': c})));
    const defs = svg('defs', {});
    defs.append(grad);
    s.append(defs, svg('rect', {x: 0, y: 0, width: w, height: h, fill: `url(#${id})`, stroke: '#666', 'stroke-width': 0.5}));
  }
  return s;
}

/** A legend list from items. */
export function legend(items, label) {
  return el('ul', {class: 'legend', 'aria-label': label},
    items.map((it) => el('li', {}, swatch(it),
      it.shape === 'ramp' ? el('span', {class: 'ramp-labels'}, el('span', {}, it.low), el('span', {}, it.label), el('span', {}, it.high)) : el('span', {}, it.label))));
}
