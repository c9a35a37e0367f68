// The dashboard in a real browser: playwright-core drives Debian's Chromium (headless, no sandbox)
// against a dashboard serving a known dataset (see dashboard-dataset.ts). Every page loads without
// console errors and shows the dataset's counts; filters change what is shown; the map draws the
// countries; a service that does not answer shows as down with its reason. Screenshots go to
// .logpipe/artifacts/screenshots/.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type Dashboard, startDashboard } from '../../dashboard/server.ts';
import { loadConfig } from '../../lib/config.ts';
import { EventGenerator } from '../../producers/generator.ts';
import { ensureChromium } from '../../stack/chromium.ts';
import { freePort } from '../../stack/net.ts';
import { send } from '../helpers/pipeline.ts';
import { BAD_LINES, buildDataset, type Dataset, expectedCounts, expectedMarts } from './dashboard-dataset.ts';

const N = 1500;
const shots = join(loadConfig().LOGPIPE_DATA_DIR, 'artifacts', 'screenshots');

describe('dashboard in Chromium (playwright-core)', () => {
  let ds: Dataset;
  let dash: Dashboard;
  let broken: Dashboard;
  let deadPort: number;
  let browser: Browser;
  const consoleErrors: string[] = [];

  before(async () => {
    const executablePath = await ensureChromium(loadConfig().LOGPIPE_CACHE_DIR);
    mkdirSync(shots, { recursive: true });
    ds = await buildDataset('dash_ui', N, { dbt: true });
    dash = await startDashboard(ds.iso.config, { port: 0 });
    deadPort = await freePort();
    broken = await startDashboard(
      loadConfig({ ...ds.iso.env, WEBHDFS_URL: `http://127.0.0.1:${deadPort}` }),
      {
        port: 0,
      },
    );
    browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
    await broken?.close();
    await dash?.close();
    await ds?.cleanup();
  });

  async function open(url: string, page: string): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: 1440, height: 1000 },
      acceptDownloads: true,
    });
    const p = await context.newPage();
    p.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${page}: ${m.text()}`);
    });
    p.on('pageerror', (e) => consoleErrors.push(`${page}: ${e.message}`));
    await p.goto(`${url}/#/${page}`);
    await p.waitForSelector(`body[data-loaded="${page}"]`, { timeout: 60_000 });
    return p;
  }

  const value = async (p: Page, id: string) => Number(await p.getAttribute(`#${id}`, 'data-value'));
  const rows = async (p: Page, id: string) => Number(await p.getAttribute(`#${id}`, 'data-rows'));
  const waitValue = (p: Page, id: string, expected: number) =>
    p.waitForFunction(
      ([i, v]) => document.getElementById(i as string)?.dataset.value === String(v),
      [id, expected],
      {
        timeout: 30_000,
      },
    );

  it('monitoring: services up, the dataset counted, lag and dead letters by reason', async () => {
    const p = await open(dash.url, 'monitoring');
    for (const name of ['kafka', 'hdfs', 'cassandra', 'postgres', 'temporal', 'streaming-worker'])
      await p.waitForSelector(`[data-service="${name}"][data-state="up"]`);
    // The isolated batch queue has no worker: down, and says why.
    const batch = await p.textContent('[data-service="batch-worker"][data-state="down"] .reason');
    assert.match(batch ?? '', /no worker polls task queue/);
    assert.equal(await value(p, 'kpi-events'), N);
    assert.equal(await value(p, 'kpi-errors'), expectedCounts(ds.events).byType.error);
    assert.equal(await rows(p, 'table-lag'), 3);
    // The dead-letter reader catches up in the background; auto-refresh shows it.
    await waitValue(p, 'kpi-dlq', BAD_LINES.length);
    await waitValue(p, 'kpi-lag', 0);
    assert.equal(await rows(p, 'table-dlq'), new Set(BAD_LINES.map((b) => b.reason)).size);
    // The timeline chart drew bars.
    assert.ok((await p.locator('#chart-timeline svg path').count()) > 20);
    await p.screenshot({ path: join(shots, 'monitoring.png'), fullPage: true });

    // The time-range control: the last 15 minutes hold fewer events, exactly those of the range.
    const t0 = Date.now();
    await p.selectOption('#range', '15m');
    await p.waitForFunction((n) => Number(document.getElementById('kpi-events')?.dataset.value) < n, N);
    const t1 = Date.now();
    const shown = await value(p, 'kpi-events');
    const since = (t: number) => ds.events.filter((e) => Date.parse(e.timestamp) >= t).length;
    assert.ok(
      shown >= since(t1 - 15 * 60_000) && shown <= since(Math.floor((t0 - 15 * 60_000) / 60_000) * 60_000),
      `${shown} events in the last 15 minutes`,
    );
    await p.context().close();
  });

  it('a service that does not answer shows as down with its reason', async () => {
    const p = await open(broken.url, 'monitoring');
    await p.waitForSelector('[data-service="hdfs"][data-state="down"]');
    const reason = await p.textContent('[data-service="hdfs"] .reason');
    assert.match(reason ?? '', new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${deadPort}`));
    await p.waitForSelector('[data-service="cassandra"][data-state="up"]');
    await p.locator('#services').screenshot({ path: join(shots, 'service-down.png') });
    await p.context().close();
  });

  it('real-time events: filters change what is shown; pause and resume; new events arrive live', async () => {
    const p = await open(dash.url, 'events');
    assert.equal(await value(p, 'events-count'), 200);
    const count = async (pred: (e: Dataset['events'][number]) => boolean) =>
      Math.min(200, ds.events.filter(pred).length);

    await p.selectOption('#f-type', 'error');
    await p.fill('#f-country', 'US');
    const errorsUs = await count((e) => e.event_type === 'error' && e.geo_location.country === 'US');
    await waitValue(p, 'events-count', errorsUs);
    const cells = await p.locator('#table-events td[data-col="event_type"]').allTextContents();
    assert.ok(cells.length === errorsUs && cells.every((c) => c === 'error'));
    await p.screenshot({ path: join(shots, 'events-filtered.png'), fullPage: false });

    await p.selectOption('#f-type', '');
    await p.fill('#f-country', '');
    const user = ds.events[3]?.user_id as string;
    await p.fill('#f-user', user);
    await waitValue(p, 'events-count', await count((e) => e.user_id === user));
    await p.fill('#f-user', '');
    await p.selectOption('#f-level', 'ERROR');
    await waitValue(p, 'events-count', await count((e) => e.level === 'ERROR'));
    await p.selectOption('#f-level', '');
    await p.fill('#f-q', 'no event has this text');
    await waitValue(p, 'events-count', 0);
    await p.fill('#f-q', '');
    await waitValue(p, 'events-count', 200);

    // Live: new events show up at the top without a reload; paused, they do not.
    await p.waitForFunction(() => document.getElementById('live-state')?.textContent === 'live');
    await p.click('#pause');
    assert.equal(await p.textContent('#pause'), 'Resume');
    await p.click('#pause');
    assert.equal(await p.textContent('#pause'), 'Pause');
    await p.waitForFunction(() => document.getElementById('live-state')?.textContent === 'live');
    await new Promise((r) => setTimeout(r, 2500));
    const fresh = [...new EventGenerator({ seed: `${ds.iso.id}-ui-live`, realTime: true }).take(15)];
    await send(
      ds.iso,
      fresh.map((e) => ({ key: e.session_id, value: JSON.stringify(e) })),
    );
    ds.events.push(...fresh);
    for (const e of fresh)
      await p.waitForSelector(`#table-events td[data-col="event_id"]:text-is("${e.event_id}")`, {
        timeout: 60_000,
      });
    assert.ok((await p.locator('#chart-activity svg path').count()) > 0);
    await p.screenshot({ path: join(shots, 'events-live.png'), fullPage: false });
    await p.context().close();
  });

  it('geography: the map draws the countries, the tables hold the dataset, CSV export', async () => {
    const p = await open(dash.url, 'geo');
    const exp = expectedCounts(ds.events);
    // world-atlas has 177 countries at 1:110m; each is at least one SVG path.
    await p.waitForFunction(() => document.querySelectorAll('#chart-map svg path').length > 150);
    assert.equal(await rows(p, 'table-countries'), exp.countries.size);
    assert.equal(await rows(p, 'table-cities'), exp.cities.size);
    // The events sent live by the previous test show up within the freshness window (README).
    await p.waitForFunction(
      (n) =>
        [...document.querySelectorAll('#table-countries tr')].some(
          (tr) =>
            tr.querySelector('td[data-col="country"]')?.textContent === 'US' &&
            tr.querySelector('td[data-col="events"]')?.textContent?.replaceAll(',', '') === String(n),
        ),
      exp.countries.get('US')?.events,
      { timeout: 40_000 },
    );
    // The map colours the eight countries: their paths are filled differently from the rest.
    const fills = await p
      .locator('#chart-map svg path')
      .evaluateAll((els) => els.map((e) => e.getAttribute('fill')));
    const counts = new Map<string, number>();
    for (const f of fills) counts.set(String(f), (counts.get(String(f)) ?? 0) + 1);
    const background = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
    assert.ok(fills.filter((f) => f !== background && f !== 'none').length >= exp.countries.size);
    await p.screenshot({ path: join(shots, 'geography.png'), fullPage: false });
    const [download] = await Promise.all([
      p.waitForEvent('download'),
      p
        .locator('section', { has: p.locator('#table-countries') })
        .locator('button.csv')
        .click(),
    ]);
    const csv = readFileSync((await download.path()) as string, 'utf8')
      .trim()
      .split('\n');
    assert.equal(csv[0], 'country,events,orders_completed,revenue,errors');
    assert.equal(csv.length, 1 + exp.countries.size);
    await p.context().close();
  });

  it('analytics: the marts built by dbt from the dataset', async () => {
    const p = await open(dash.url, 'analytics');
    const exp = expectedMarts(ds.events.slice(0, N));
    assert.equal(await value(p, 'kpi-orders'), exp.statusOrders.completed?.size);
    assert.equal(await rows(p, 'table-revenue'), exp.revenueByDay.size);
    assert.ok((await rows(p, 'table-users')) > 0);
    assert.equal(await rows(p, 'table-products'), Math.min(20, exp.productRevenue.size));
    assert.ok((await p.locator('#chart-funnel svg path').count()) >= 5);
    await p.screenshot({ path: join(shots, 'analytics.png'), fullPage: true });
    await p.context().close();
  });

  it('no page logged a console error', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
