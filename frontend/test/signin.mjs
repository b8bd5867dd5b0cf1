// Browser test of the web map's sign-in, against a onemap whose data needs
// an access token (ONEMAP_ACCESS_TOKENS), in headless Chromium (Debian's,
// playwright-core; WebGL on SwiftShader):
//   node test/signin.mjs --url http://127.0.0.1:8095/ --token T [--view lon,lat,zoom] [--artifacts dir]
// A first visit is asked for the token and draws no data; a wrong token is
// refused; the right one signs in (an HttpOnly cookie the page cannot read)
// and the map draws our features; opening /?token=T signs in too and takes
// the token out of the address bar.
import assert from 'node:assert/strict';
import {mkdirSync} from 'node:fs';
import {join} from 'node:path';
import {after, before, test} from 'node:test';
import {parseArgs} from 'node:util';
import {launchChromium} from './chromium.mjs';

const {values: args} = parseArgs({options: {
  url: {type: 'string'}, token: {type: 'string'}, view: {type: 'string'}, artifacts: {type: 'string'}, chromium: {type: 'string'},
}});
if (!args.url || !args.token) {
  console.error('usage: node test/signin.mjs --url http://127.0.0.1:8095/ --token T [--view lon,lat,zoom] [--artifacts dir]');
  process.exit(2);
}
const base = new URL(args.url);
const artifacts = args.artifacts || new URL('./artifacts/', import.meta.url).pathname;
mkdirSync(artifacts, {recursive: true});
const [lon, lat, zoom] = (args.view || '120.66,27.8,14').split(',').map(Number);
const hash = `#map=${zoom}/${lat}/${lon}`;

let browser;
before(async () => {
  browser = await launchChromium(args.chromium);
});
after(async () => browser?.close());

async function newPage() {
  const context = await browser.newContext({viewport: {width: 1200, height: 750}, locale: 'zh-CN', reducedMotion: 'reduce'});
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  return {page, errors};
}

/** Waits for the map to be ready and idle, then counts the features of our tiles drawn. */
async function featuresDrawn(page) {
  await page.waitForFunction(() => window.onemap?.ready === true, null, {timeout: 60_000});
  await page.evaluate(() => window.onemap.idle());
  return page.evaluate(() => window.onemap.map.queryRenderedFeatures().filter((f) => f.source !== 'basemap').length);
}

test('a first visit is asked for the token, a wrong one is refused, the right one shows the map', async () => {
  const {page, errors} = await newPage();
  await page.goto(new URL(hash, base).href);
  const input = page.locator('#access-token');
  await input.waitFor({state: 'visible', timeout: 30_000});
  assert.equal(await page.evaluate(() => Boolean(window.onemap?.map)), false, 'no map is built without the token');
  await page.screenshot({path: join(artifacts, '11-sign-in.png')});
  // The language switch works before signing in.
  const title = await page.locator('form.sign-in h2').textContent();
  await page.locator('#lang').click();
  await page.locator('form.sign-in h2').filter({hasNotText: title}).waitFor({timeout: 10_000});
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  await page.locator('#lang').click();
  await page.locator('form.sign-in h2').filter({hasText: title}).waitFor({timeout: 10_000});

  await input.fill('wrong-wrong-wrong-wrong');
  await page.locator('form.sign-in button[type=submit]').click();
  await page.locator('form.sign-in [role=alert]').filter({hasText: /./}).waitFor({timeout: 30_000});

  await input.fill(args.token);
  await Promise.all([page.waitForEvent('load'), page.locator('form.sign-in button[type=submit]').click()]);
  assert.ok(await featuresDrawn(page) > 0, 'features drawn after signing in');
  assert.equal(await page.evaluate(() => document.cookie), '', 'the token cookie is HttpOnly');
  assert.deepEqual(errors, []);
});

test('opening /?token= signs in and takes the token out of the address', async () => {
  const {page, errors} = await newPage();
  await page.goto(new URL(`?token=${encodeURIComponent(args.token)}${hash}`, base).href);
  assert.ok(await featuresDrawn(page) > 0, 'features drawn');
  assert.ok(!page.url().includes(args.token), `the address still holds the token: ${page.url()}`);
  assert.ok(page.url().includes('#map='), `the view was lost on the way: ${page.url()}`);
  assert.deepEqual(errors, []);
});
