/**
 * The operations view, end to end, while a run is going (worker processes with their own
 * /metrics, the dashboard as a process, a fake TMDB slowed so the run lasts, s3rver, one title
 * that fails for good): `curl /metrics` shows TMDB request, latency and lake write series; every
 * metric the Grafana dashboard and the alert rules under ops/ name exists in a real scrape; and a
 * person in headless Chromium logs in, sees every queue with counts in Bull Board, watches the
 * run's progress move on the runs page, opens its dead letter and reads its error, and without
 * credentials gets 401. Screenshots go to test-output/browser/.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../src/config.js';
import { workersKey, type WorkerBeat } from '../src/metrics/heartbeat.js';
import { QUEUE_NAMES } from '../src/queues.js';
import type { Page } from 'playwright-core';
import { openBrowser } from './support/browser.js';
import { runCli, startDashboardProcess, startWorker, type DashboardProcess, type WorkerProcess } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';
import { exposedSamples, metricNames } from './support/promql.js';

const run = promisify(execFile);
const SHOTS = path.resolve('test-output/browser');
const AUTH = { username: 'ops', password: 'ops-pass-2718' };

const h = useFleetHarness({
  tmdb: { movie: { count: 900, from: '2021-01-01', to: '2021-12-31', seed: 21 }, latencyMs: [20, 40] },
  buckets: ['ops'],
});

/** `curl -sf [-u user:pw] <url>`: the body, as a person would fetch it. */
async function curl(url: string, auth?: { username: string; password: string }): Promise<string> {
  const args = ['-sS', '--fail', '--max-time', '10', ...(auth ? ['-u', `${auth.username}:${auth.password}`] : []), url];
  return (await run('curl', args, { maxBuffer: 16 * 1024 * 1024 })).stdout;
}

/** The value of the first sample of `name` whose labels include every `label`. */
function sample(text: string, name: string, ...labels: string[]): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labels.every((l) => line.includes(l))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/** Waits until the page has reloaded itself (its meta refresh): a mark left on the old document is gone. */
async function selfReload(page: Page): Promise<void> {
  await page.evaluate(() => Reflect.set(window, 'tmdbFleetStale', true));
  await page.waitForFunction(() => !Reflect.has(window, 'tmdbFleetStale'), null, { timeout: 15_000 });
  await page.waitForLoadState('load');
}

describe('operations view during a run', () => {
  let env: Record<string, string>;
  let dashboard: DashboardProcess;
  let runId = '';
  let failingId = 0;
  const workerMetricsUrls: string[] = [];
  let workers: WorkerProcess[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    failingId = h.tmdb.titles('movie')[0]?.id ?? 0;
    h.tmdb.configure({ failingIds: [failingId] });
    env = h.env({
      TMDB_RATE_LIMIT_RPS: '20',
      JOB_ATTEMPTS: '2',
      JOB_BACKOFF_MS: '20',
      BATCH_MAX_RECORDS: '50',
      WORKER_METRICS_PORT: '0',
      DASHBOARD_USER: AUTH.username,
      DASHBOARD_PASSWORD: AUTH.password,
    });
    // Started here, not by the harness (which kills its workers after each test): the run spans tests.
    workers = [startWorker(env), startWorker(env)];
    dashboard = await startDashboardProcess(env);
    const started = await runCli(['backfill', 'movie', '--from', '2021-01-01', '--to', '2021-12-31'], env);
    expect(started.code, started.stderr).toBe(0);
    runId = started.stdout.trim();
    const config = loadConfig(env);
    const redis = new Redis(config.redis.url);
    try {
      // Each worker advertises its own /metrics in its heartbeat.
      for (let waited = 0; workerMetricsUrls.length < 2; waited += 200) {
        if (waited > 15_000) throw new Error('the workers did not advertise their metrics URLs');
        await new Promise((r) => setTimeout(r, 200));
        const beats = Object.values(await redis.hgetall(workersKey(config.redis.prefix))).map((b) => JSON.parse(b) as WorkerBeat);
        workerMetricsUrls.splice(0, workerMetricsUrls.length, ...beats.flatMap((b) => (b.metricsUrl ? [b.metricsUrl] : [])));
      }
    } finally {
      redis.disconnect();
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await dashboard?.kill();
    h.tmdb.configure({ failingIds: [] });
  });

  it('curl /metrics shows TMDB requests, latency and lake writes on the workers, and run progress on the dashboard', async () => {
    await expect.poll(async () => {
      const texts = await Promise.all(workerMetricsUrls.map((u) => curl(u)));
      return texts.reduce((sum, t) => sum + (sample(t, 'tmdb_fleet_lake_written_bytes_total') ?? 0), 0);
    }, { timeout: 30_000, interval: 500 }).toBeGreaterThan(0);
    const texts = await Promise.all(workerMetricsUrls.map((u) => curl(u)));
    const total = (name: string, ...labels: string[]) => texts.reduce((sum, t) => sum + (sample(t, name, ...labels) ?? 0), 0);
    expect(total('tmdb_fleet_tmdb_requests_total', 'endpoint="/movie/{id}"', 'status="200"')).toBeGreaterThan(0);
    expect(total('tmdb_fleet_tmdb_requests_total', 'endpoint="/discover/movie"', 'status="200"')).toBeGreaterThan(0);
    expect(total('tmdb_fleet_tmdb_request_duration_seconds_count', 'endpoint="/movie/{id}"')).toBeGreaterThan(0);
    expect(total('tmdb_fleet_tmdb_request_duration_seconds_sum', 'endpoint="/movie/{id}"')).toBeGreaterThan(0);
    expect(total('tmdb_fleet_lake_put_duration_seconds_count', 'outcome="ok"')).toBeGreaterThan(0);
    expect(total('tmdb_fleet_lake_records_written_total')).toBeGreaterThan(0);
    for (const t of texts) expect(sample(t, 'tmdb_fleet_tmdb_rate_limit_requests_per_second')).toBe(20);

    const fleetWide = await curl(`${dashboard.url}/metrics`, AUTH);
    expect(sample(fleetWide, 'tmdb_fleet_run_state', `run_id="${runId}"`, 'state="running"')).toBe(1);
    expect(sample(fleetWide, 'tmdb_fleet_run_items_expected', `run_id="${runId}"`)).toBe(900);
    expect(sample(fleetWide, 'tmdb_fleet_run_items_done', `run_id="${runId}"`)).toBeGreaterThan(0);
    expect(sample(fleetWide, 'tmdb_fleet_workers_alive', 'queue="details"')).toBe(2);
    for (const queue of QUEUE_NAMES) expect(sample(fleetWide, 'tmdb_fleet_queue_jobs', `queue="${queue}"`, 'state="waiting"')).toBeDefined();
  });

  it('names only metrics a real scrape has: the Grafana dashboard, the alert rules and the examples in docs/operations.md', async () => {
    const grafana = JSON.parse(readFileSync('ops/grafana/tmdb-fleet.json', 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
    const alerts = parseYaml(readFileSync('ops/prometheus/alerts.yml', 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const documented = [...readFileSync('docs/operations.md', 'utf8').matchAll(/```promql\n([\s\S]*?)```/g)].flatMap((m) =>
      (m[1] ?? '').split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#')),
    );
    const exprs = [
      ...grafana.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `Grafana "${p.title}"`, expr: t.expr }))),
      ...alerts.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }))),
      ...documented.map((expr) => ({ where: 'docs/operations.md', expr })),
    ];
    expect(grafana.panels.filter((p) => p.targets).length).toBeGreaterThanOrEqual(15);
    expect(alerts.groups[0]?.rules.map((r) => r.alert)).toEqual(expect.arrayContaining(['TmdbFleetNoWorkerAlive', 'TmdbFleetRunStuck']));
    expect(documented.length).toBeGreaterThanOrEqual(5);

    // Scrape while the run goes, once every series has had time to appear.
    const scraped = new Set<string>();
    for (const text of [...(await Promise.all(workerMetricsUrls.map((u) => curl(u)))), await curl(`${dashboard.url}/metrics`, AUTH)]) {
      for (const name of exposedSamples(text)) scraped.add(name);
    }
    const named = new Map<string, string>();
    for (const { where, expr } of exprs) for (const name of metricNames(expr)) named.set(name, where);
    expect(named.size).toBeGreaterThanOrEqual(15);
    const missing = [...named].filter(([name]) => !scraped.has(name)).map(([name, where]) => `${name} (${where})`);
    expect(missing).toEqual([]);
  });

  it('in Chromium: 401 without credentials; Bull Board with every queue; the run moving; its dead letter and error', async () => {
    const anonymous = await openBrowser();
    try {
      const page = await anonymous.context.newPage();
      // Chromium gets the 401 challenge and, having no credentials to answer it, gives up.
      const challenged = page.waitForResponse(`${dashboard.url}/runs`);
      const navigation = await page.goto(`${dashboard.url}/runs`).then(() => 'shown', (err: Error) => err.message);
      const res = await challenged;
      expect(res.status()).toBe(401);
      expect(res.headers()['www-authenticate']).toBe('Basic realm="tmdb-fleet"');
      expect(navigation).toMatch(/ERR_INVALID_AUTH_CREDENTIALS|shown/);
    } finally {
      await anonymous.close();
    }

    const browser = await openBrowser(AUTH);
    try {
      const page = await browser.context.newPage();
      await page.goto(`${dashboard.url}/`);
      for (const queue of QUEUE_NAMES) {
        // Each queue's card in Bull Board's overview: its name and its job count.
        const card = page.locator(`xpath=//main//*[normalize-space(text())="${queue}"]/ancestor::*[contains(., " Jobs")][1]`);
        await expect.poll(async () => (await card.first().innerText()).replace(/\s+/g, ' '), { timeout: 10_000 }).toMatch(/\d+ Jobs/);
      }
      const details = page.locator('xpath=//main//*[normalize-space(text())="details"]/ancestor::*[contains(., " Jobs")][1]');
      expect(Number(/(\d+) Jobs/.exec(await details.first().innerText())?.[1])).toBeGreaterThan(0);
      await page.screenshot({ path: path.join(SHOTS, '1-bull-board.png') });

      // The board's header menu links to the runs page.
      await page.locator('header ul[class*="actions"] > li').last().locator('button').click();
      await page.getByText('Runs', { exact: true }).click();
      await page.waitForURL(`${dashboard.url}/runs`);
      const progress = page.locator(`tr[data-run="${runId}"] .bar em`);
      const reading = async () => Number(/^(\d+) \/ 900 titles$/.exec((await progress.innerText()).trim())?.[1]);
      const first = await reading();
      await page.screenshot({ path: path.join(SHOTS, '2-runs.png') });
      // The page reloads itself while the run goes: read again after its own reloads.
      let second = first;
      for (let reloads = 0; second <= first && reloads < 8; reloads++) {
        await selfReload(page);
        second = await reading();
      }
      expect(second).toBeGreaterThan(first);
      expect(await page.locator(`tr[data-run="${runId}"]`).innerText()).toContain('running');
      await page.screenshot({ path: path.join(SHOTS, '3-runs-later.png') });

      await page.getByRole('link', { name: runId }).click();
      const dead = page.locator(`tr[data-dead-letter]`);
      for (let i = 0; (await dead.count()) === 0; i++) {
        if (i > 12) throw new Error('no dead letter shown within 60 s');
        await selfReload(page);
      }
      const letter = await dead.first().innerText();
      expect(letter).toContain(`title ${failingId}`);
      expect(letter).toContain('TMDB answered 500');
      await page.screenshot({ path: path.join(SHOTS, '4-run.png'), fullPage: true });
      await dead.first().getByRole('link').click();
      await page.waitForURL(/\/queue\/details\//);
      // Bull Board opens a failed job on its Error tab: the error a person reads.
      await page.getByText(`TMDB answered 500 for /movie/${failingId}`).first().waitFor({ timeout: 10_000 });
      await page.screenshot({ path: path.join(SHOTS, '5-dead-letter.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
