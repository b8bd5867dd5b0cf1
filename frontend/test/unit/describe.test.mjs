import assert from 'node:assert/strict';
import {test} from 'node:test';
import {aggregateStats} from '../../app/areas-panel.mjs';
import {describeFeature} from '../../app/describe.mjs';
import {translator} from '../../app/i18n.mjs';
import {sortRows, toCSV} from '../../app/table.mjs';
import {byId} from './helpers.mjs';

const zh = translator('zh');
const en = translator('en');

test('a hydrant in plain words', () => {
  const d = describeFeature(zh, byId.hydrants, {kind: 'above_ground', status: 'faulty', installed_at: '2007-08-01'}, 2992);
  assert.equal(d.title, '消火栓');
  assert.deepEqual(d.rows, [['状态', '故障'], ['类型', '地上式'], ['安装日期', '2007年8月1日']]);
  assert.match(d.subtitle, /2992/);
  const e = describeFeature(en, byId.hydrants, {kind: 'wall', status: 'in_service'}, 1);
  assert.deepEqual(e.rows.slice(0, 1), [['Status', 'In service']]);
});

test('a premise: name as title, tag explained, internal fields hidden', () => {
  const d = describeFeature(zh, byId.premises, {kind: 'group_rental', name: '夏红国出租房', tag: 'red', floors: 10, occupants: 9, bbox: 'x', last_inspected_at: '2026-02-26T14:04:36+08:00'}, 33);
  assert.equal(d.title, '夏红国出租房');
  assert.equal(d.rows[0][1], '群租房');
  assert.equal(d.rows[1][1], '红码（整改前不得出租）');
  assert.ok(!d.rows.some(([k]) => k === 'bbox'));
});

test('a cluster says how many and what most of them are', () => {
  const d = describeFeature(zh, byId.premises, {cluster: true, count: 12, tag: 'green', kind: 'rental_housing', bbox: '1,2,3,4'});
  assert.equal(d.cluster, true);
  assert.equal(d.title, '此处有 12 个场所');
  assert.deepEqual(d.rows.map((r) => r[1]), ['绿码（合格）', '出租房']);
});

test('areas: rates as percentages, booleans as yes/no, hot spots in words', () => {
  const d = describeFeature(en, byId.towns, {name: '塘下镇', population: 293734, rectification_rate: 0.9366, premises: 729});
  assert.equal(d.title, '塘下镇');
  assert.deepEqual(d.rows.find(([k]) => k === 'Rectification rate'), ['Rectification rate', '93.7%']);
  const h = describeFeature(zh, byId.hazards, {category: 'hot_work', status: 'open', listed: true, severity: 'major'}, 5);
  assert.equal(h.title, '违规动火');
  assert.ok(h.rows.some(([k, v]) => k === '挂牌督办' && v === '是'));
  const g = describeFeature(zh, byId.hotspots, {gi_bin: 3, gi_z: 3.4, gi_p: 0.0004, count: 12});
  assert.equal(g.rows[0][1], '热点（99% 置信）');
});

test('tables sort numbers and names, with nulls last', () => {
  const rows = [{name: '乙', uncovered: 5}, {name: '甲', uncovered: null}, {name: '丙', uncovered: 20}, {name: '丁', uncovered: 5}];
  assert.deepEqual(sortRows(rows, 'uncovered', 'desc').map((r) => r.uncovered), [20, 5, 5, null]);
  assert.deepEqual(sortRows(rows, 'uncovered', 'asc').map((r) => r.uncovered), [5, 5, 20, null]);
  assert.equal(sortRows(rows, 'name', 'asc').length, 4);
});

test('CSV quotes what needs quoting and starts with a BOM', () => {
  const csv = toCSV([{a: 'x,y', b: 'say "hi"', c: null}], [{key: 'a', label: 'A'}, {key: 'b'}, {key: 'c'}]);
  assert.equal(csv, '\ufeffA,b,c\r\n"x,y","say ""hi""",\r\n');
});

test('city figures add up the towns; rates are rates of the sums', () => {
  const c = aggregateStats([
    {premises: 10, hazards: 4, hazards_closed: 3, premises_inspected_90d: 5, median_days_to_close: 3},
    {premises: 30, hazards: 6, hazards_closed: 6, premises_inspected_90d: 5, median_days_to_close: 9},
  ]);
  assert.equal(c.premises, 40);
  assert.equal(c.rectification_rate, 0.9);
  assert.equal(c.inspected_90d_share, 0.25);
  assert.equal(c.median_days_to_close, null);
});

test('coverage presets in the reader\'s language, English where the server has no Chinese', async () => {
  const {presetText, presetTitle} = await import('../../app/analysis-panel.mjs');
  const p = {id: 'hydrants', title: 'Hydrant coverage', title_zh: '消火栓覆盖', standard: 'GB 50974-2014: protection radius 150 m',
    standard_zh: 'GB 50974-2014：室外消火栓保护半径 150 米', description: 'Premises near a hydrant.'};
  assert.equal(presetTitle(p, 'zh'), '消火栓覆盖');
  assert.equal(presetTitle(p, 'en'), 'Hydrant coverage');
  assert.equal(presetText(p, 'standard', 'zh'), 'GB 50974-2014：室外消火栓保护半径 150 米');
  assert.equal(presetText(p, 'standard', 'en'), 'GB 50974-2014: protection radius 150 m');
  assert.equal(presetText(p, 'description', 'zh'), 'Premises near a hydrant.');
  assert.equal(presetText({id: 'x'}, 'standard', 'zh'), '');
  assert.equal(presetTitle({id: 'x'}, 'zh'), 'x');
});

test('an area\'s box comes from the statistics the page already holds', async () => {
  const {knownAreaBBox} = await import('../../app/areas-panel.mjs');
  const app = {statsCache: {
    'community:3': Promise.resolve([{id: 31, bbox: [120.1, 27.1, 120.2, 27.2]}]),
    'grid_cell:31': Promise.resolve([{id: 31, bbox: [1, 2, 3, 4]}, {id: 32}]),
    'grid_cell:': Promise.reject(new Error('offline')),
  }};
  assert.deepEqual(await knownAreaBBox(app, 'community', 31), [120.1, 27.1, 120.2, 27.2]);
  assert.deepEqual(await knownAreaBBox(app, 'grid_cell', 31), [1, 2, 3, 4], 'the level decides, not only the id');
  assert.equal(await knownAreaBBox(app, 'grid_cell', 32), null, 'a row without a box');
  assert.equal(await knownAreaBBox(app, 'town', 1), null);
});
