// Tables of areas: sorting and CSV, pure; and a small sortable HTML table
// whose headers are buttons (keyboard-usable) and whose rows can be chosen.

/** Rows sorted by key (numbers numerically, text in the page's collation); nulls last. */
export function sortRows(rows, key, dir = 'desc', locale = 'zh-CN') {
  const sign = dir === 'asc' ? 1 : -1;
  const coll = new Intl.Collator(locale);
  return [...rows].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    if (x === null || x === undefined) return y === null || y === undefined ? 0 : 1;
    if (y === null || y === undefined) return -1;
    if (typeof x === 'number' && typeof y === 'number') return sign * (x - y) || coll.compare(String(a.name ?? ''), String(b.name ?? ''));
    return sign * coll.compare(String(x), String(y));
  });
}

/** CSV (RFC 4180) of rows with columns [{key, label}], with a BOM so that spreadsheet programs read UTF-8. */
export function toCSV(rows, columns) {
  const cell = (v) => {
    if (v === null || v === undefined) return '';
    const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const lines = [columns.map((c) => cell(c.label ?? c.key)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => cell(r[c.key])).join(','));
  return `\ufeff${lines.join('\r\n')}\r\n`;
}

/**
 * Renders a sortable table into container. columns: [{key, label, format?,
 * numeric?}]; onRow(row) is called when a row is chosen (click or Enter).
 * Returns {sort(key, dir)}.
 */
export function renderTable(container, {rows, columns, sortKey, sortDir = 'desc', caption, onRow, t, rowId = (r) => r.id}) {
  let key = sortKey;
  let dir = sortDir;
  const table = document.createElement('table');
  table.className = 'data';
  if (caption) table.createCaption().textContent = caption;
  const thead = table.createTHead();
  const tbody = table.createTBody();
  const draw = () => {
    thead.replaceChildren();
    const tr = thead.insertRow();
    for (const c of columns) {
      const th = document.createElement('th');
      th.scope = 'col';
      if (c.numeric) th.className = 'num';
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = c.label;
      b.dataset.key = c.key;
      if (c.key === key) {
        th.setAttribute('aria-sort', dir === 'asc' ? 'ascending' : 'descending');
        b.textContent += dir === 'asc' ? ' ▲' : ' ▼';
      }
      b.addEventListener('click', () => {
        dir = c.key === key && dir === 'desc' ? 'asc' : 'desc';
        key = c.key;
        draw();
      });
      th.append(b);
      tr.append(th);
    }
    tbody.replaceChildren();
    for (const r of sortRows(rows, key, dir, t?.locale)) {
      const row = tbody.insertRow();
      row.tabIndex = 0;
      row.dataset.id = rowId(r);
      for (const c of columns) {
        const td = row.insertCell();
        if (c.numeric) td.className = 'num';
        td.textContent = c.format ? c.format(r[c.key], r) : r[c.key] ?? '';
      }
      if (onRow) {
        row.addEventListener('click', () => onRow(r));
        row.addEventListener('keydown', (e) => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            onRow(r);
          }
        });
      }
    }
  };
  draw();
  container.replaceChildren(table);
  return {sort(k, d) { key = k; dir = d; draw(); }};
}

/** Offers text as a file download. */
export function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], {type}));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
