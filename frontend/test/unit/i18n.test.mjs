import assert from 'node:assert/strict';
import {test} from 'node:test';
import {fieldLabel, formatDate, formatNumber, formatPercent, layerTitle, normaliseLanguage, strings, translator, valueLabel} from '../../app/i18n.mjs';
import {editableFilters} from '../../app/style.mjs';
import {catalogue} from './helpers.mjs';

const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('both languages have the same keys, none empty, with the same placeholders', () => {
  const zh = Object.keys(strings.zh).sort();
  const en = Object.keys(strings.en).sort();
  assert.deepEqual(zh.filter((k) => !en.includes(k)), [], 'keys only in zh.mjs');
  assert.deepEqual(en.filter((k) => !zh.includes(k)), [], 'keys only in en.mjs');
  for (const k of zh) {
    assert.ok(strings.zh[k].trim() && strings.en[k].trim(), `empty string for ${k}`);
    assert.deepEqual(placeholders(strings.zh[k]), placeholders(strings.en[k]), `placeholders of ${k}`);
  }
});

test('Chinese is the default; unknown languages fall back to it', () => {
  assert.equal(normaliseLanguage(undefined), 'zh');
  assert.equal(normaliseLanguage('fr'), 'zh');
  assert.equal(translator('xx')('panel.layers'), '图层');
  assert.equal(translator('en')('panel.layers'), 'Layers');
});

test('placeholders are filled, missing keys show the key', () => {
  const t = translator('zh');
  assert.equal(t('layers.fromZoom', {z: 12}), '放大到 12 级后显示');
  assert.equal(translator('en')('popup.cluster', {n: 3, what: 'Premises'}), '3 Premises here');
  assert.equal(t('no.such.key'), 'no.such.key');
});

test('every value a filter offers has a label in both languages', () => {
  for (const lang of ['zh', 'en']) {
    const t = translator(lang);
    for (const layer of catalogue) {
      for (const f of editableFilters(layer)) {
        for (const v of f.values) {
          if (v === 'true' || v === 'false') continue;
          assert.ok(t.has(`value.${f.param}.${v}`), `${lang}: no label for ${layer.id} ${f.param}=${v}`);
        }
      }
    }
  }
});

test('fields and values in plain words, with the catalogue as fallback', () => {
  const zh = translator('zh');
  const en = translator('en');
  assert.equal(fieldLabel(zh, 'status'), '状态');
  assert.equal(fieldLabel(en, 'brand_new', 'a new field'), 'A new field');
  assert.equal(valueLabel(zh, 'status', 'in_service'), '完好可用');
  assert.equal(valueLabel(en, 'status', 'some_new_state'), 'some new state');
  assert.equal(layerTitle({id: 'hydrants', title: 'Fire hydrants', title_zh: '消火栓'}, 'zh'), '消火栓');
  assert.equal(layerTitle({id: 'hydrants', title: 'Fire hydrants', title_zh: '消火栓'}, 'en'), 'Fire hydrants');
  assert.equal(layerTitle({id: 'x', title: 'X'}, 'zh'), 'X');
});

test('numbers, percentages and dates follow the language', () => {
  const zh = translator('zh');
  const en = translator('en');
  assert.equal(formatNumber(en, 12345.678, 1), '12,345.7');
  assert.equal(formatPercent(zh, 0.9366), '93.7%');
  assert.equal(formatPercent(en, null), '—');
  assert.equal(formatDate(zh, '2025-11-10'), '2025年11月10日');
  assert.match(formatDate(en, '2026-02-26T14:04:36+08:00'), /26 Feb 2026.*14:04/);
});
