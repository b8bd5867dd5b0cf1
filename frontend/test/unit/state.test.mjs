import assert from 'node:assert/strict';
import {test} from 'node:test';
import {areaLevel, defaultState, formatHash, nextAreaPath, parseHash} from '../../app/state.mjs';
import {defaultLayers} from '../../app/style.mjs';

test('an empty hash is the default state, and the default state writes no hash', () => {
  assert.deepEqual(parseHash(''), defaultState());
  assert.deepEqual(parseHash('#'), defaultState());
  assert.equal(formatHash(defaultState()), '');
  assert.deepEqual(defaultState().layers, defaultLayers);
  assert.equal(defaultState().lang, 'zh');
});

test('a full state survives the round trip through the URL', () => {
  const s = {
    view: {zoom: 14.25, lat: 27.86110, lon: 120.69010},
    layers: ['towns', 'premises', 'hazards'],
    filters: {premises: {tag: ['red', 'yellow'], kind: ['group_rental']}, hazards: {status: ['open'], since: '2026-01-01'}},
    analysis: {heat: {layer: 'hazards', radius: 500}, hex: {cell: 200}, hot: {cell: null}, cov: {preset: 'hydrants', threshold: 150, level: 'community'}, site: {count: 7}},
    area: [13, 225],
    panel: 'analysis',
    lang: 'en',
  };
  const hash = formatHash(s);
  assert.match(hash, /^#map=14\.25\/27\.86110\/120\.69010&/);
  assert.match(hash, /f\.premises\.tag=red,yellow/);
  assert.deepEqual(parseHash(hash), s);
  assert.equal(formatHash(parseHash(hash)), hash);
});

test('no layers at all is different from the default layers', () => {
  const s = {...defaultState(), layers: []};
  assert.equal(formatHash(s), '#layers=');
  assert.deepEqual(parseHash('#layers=').layers, []);
});

test('garbage in the hash keeps the defaults', () => {
  const s = parseHash('#map=abc/1/2&panel=admin&lang=fr&area=x.-3.5&cov=../etc&hex=-5&layers=premises,<script>&f.premises.tag=');
  assert.equal(s.view, null);
  assert.equal(s.panel, 'layers');
  assert.equal(s.lang, 'zh');
  assert.deepEqual(s.area, [5]);
  assert.equal(s.analysis.cov, null);
  assert.deepEqual(s.analysis.hex, {cell: null});
  assert.deepEqual(s.layers, ['premises']);
  assert.deepEqual(s.filters, {});
  assert.equal(parseHash('#map=14/95/120').view, null, 'latitude out of range');
});

test('clicks on the map drill down town → community → grid cell', () => {
  const at = {town: 13, community: 225, grid_cell: 891};
  let path = nextAreaPath([], at);
  assert.deepEqual(path, [13]);
  path = nextAreaPath(path, at);
  assert.deepEqual(path, [13, 225]);
  path = nextAreaPath(path, at);
  assert.deepEqual(path, [13, 225, 891]);
  assert.deepEqual(nextAreaPath(path, at), [13, 225, 891], 'the same cell again stays');
  assert.deepEqual(nextAreaPath(path, {town: 13, community: 225, grid_cell: 892}), [13, 225, 892], 'a sibling cell');
  assert.deepEqual(nextAreaPath(path, {town: 13, community: 226, grid_cell: 900}), [13, 226], 'another community');
  assert.deepEqual(nextAreaPath(path, {town: 2, community: 30, grid_cell: 100}), [2], 'another town starts again');
  assert.deepEqual(nextAreaPath([13], {town: 13}), [13], 'no community loaded at this zoom');
  assert.deepEqual(nextAreaPath([13], {}), [13], 'a click outside the city');
  assert.equal(areaLevel([13, 225]), 'community');
  assert.equal(areaLevel([]), null);
});
