// Interface language: the strings live in i18n/zh.mjs and i18n/en.mjs, one
// file per language; this module looks them up and formats numbers and dates.
// Chinese is the default. Pure apart from the current-language variable.
import zh from './i18n/zh.mjs';
import en from './i18n/en.mjs';

export const strings = {zh, en};
export const defaultLanguage = 'zh';
const locales = {zh: 'zh-CN', en: 'en-GB'};

/** Returns lang if it is one we have, else the default. */
export function normaliseLanguage(lang) {
  return Object.hasOwn(strings, lang) ? lang : defaultLanguage;
}

/**
 * Returns a translator for lang: t(key, params) gives the string with {name}
 * placeholders filled in. A key missing in lang falls back to Chinese, then to
 * the key itself, so a gap shows rather than breaking the page.
 */
export function translator(lang) {
  lang = normaliseLanguage(lang);
  const table = strings[lang];
  const t = (key, params) => {
    let s = table[key] ?? strings[defaultLanguage][key] ?? key;
    if (params) s = s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
    return s;
  };
  t.lang = lang;
  t.locale = locales[lang];
  t.has = (key) => key in table;
  return t;
}

/** The title of a catalogue layer in lang (title_zh when there is one). */
export function layerTitle(layer, lang) {
  return (lang === 'zh' && layer.title_zh) || layer.title || layer.id;
}

/** A field's label: ours if we have one, else the catalogue's description. */
export function fieldLabel(t, field, description) {
  const key = `field.${field}`;
  if (t.has(key)) return t(key);
  return description ? description.charAt(0).toUpperCase() + description.slice(1) : field;
}

/** An enumerated value in plain words, e.g. status in_service → 完好可用. */
export function valueLabel(t, field, value) {
  const key = `value.${field}.${value}`;
  if (t.has(key)) return t(key);
  return String(value).replaceAll('_', ' ');
}

export function formatNumber(t, n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return t('stats.none');
  return new Intl.NumberFormat(t.locale, {maximumFractionDigits: digits}).format(Number(n));
}

export function formatPercent(t, ratio, digits = 1) {
  if (ratio === null || ratio === undefined || Number.isNaN(Number(ratio))) return t('stats.none');
  return new Intl.NumberFormat(t.locale, {style: 'percent', maximumFractionDigits: digits}).format(Number(ratio));
}

/** A date or time: '2026-02-26' → 2026年2月26日 / 26 Feb 2026, with the time when there is one. */
export function formatDate(t, value) {
  if (!value) return t('stats.none');
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const d = new Date(dateOnly ? `${value}T00:00:00+08:00` : value);
  if (Number.isNaN(d.getTime())) return String(value);
  const opts = {year: 'numeric', month: 'short', day: 'numeric', timeZone: 'Asia/Shanghai'};
  if (!dateOnly) Object.assign(opts, {hour: '2-digit', minute: '2-digit', hour12: false});
  return new Intl.DateTimeFormat(t.locale, opts).format(d);
}
