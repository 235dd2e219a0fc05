/**
 * `tmdb-fleet report` end to end: a real redis-server, the fake TMDB serving the recorded
 * catalog (Fight Club, Alien, The Bourne Identity with their real budgets and revenues, plus
 * synthetic titles), a worker process and a local lake. The expected figures are computed here
 * from the lake's own documents (read back with lake-reader), never hard-coded.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { startFakeTmdb, type FakeTmdb } from '../src/sandbox/server.js';
import { lastJsonLine, runCli, startWorker, type WorkerProcess } from './support/fleet-process.js';
import { readRun } from './support/lake-reader.js';
import { formatPct, formatR, formatUsd, type RunReport } from '../src/report/render.js';

let redis: RedisServer;
let tmdb: FakeTmdb;
let worker: WorkerProcess | undefined;
let e: Record<string, string>;
let runId: string;

beforeAll(async () => {
  redis = await startRedisServer();
  tmdb = await startFakeTmdb({ recorded: true });
  e = {
    REDIS_URL: redis.url,
    REDIS_PREFIX: `{rep-${randomUUID().slice(0, 8)}}`,
    TMDB_API_BASE_URL: tmdb.url,
    TMDB_ACCESS_TOKEN: 'test-token',
    TMDB_RATE_LIMIT_RPS: '200',
    BATCH_MAX_RECORDS: '10',
    BATCH_MAX_WAIT_MS: '200',
    LAKE_DIR: mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-lake-')),
    LOG_LEVEL: 'warn',
  };
  worker = startWorker(e);
  const res = await runCli(['backfill', 'movie', '--yes', '--wait', '--json'], e);
  expect(res.code, res.stderr).toBe(0);
  runId = lastJsonLine<{ runId: string }>(res.stdout).runId;
});
afterAll(async () => {
  await worker?.kill();
  await tmdb?.close();
  await redis?.stop();
});

/** Independent arithmetic over the lake's documents (zeros = unknown, excluded). */
async function expectations() {
  const lake = await readRun(e, 'movie', runId);
  const docs = lake.records.map((r) => r.doc as { id: number; title: string; release_date: string; budget: number; revenue: number; popularity: number });
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const revenues = docs.filter((d) => d.revenue > 0);
  const budgets = docs.filter((d) => d.budget > 0);
  const byRevenue = [...revenues].sort((a, b) => b.revenue - a.revenue || a.id - b.id);
  const byBudget = [...budgets].sort((a, b) => b.budget - a.budget || a.id - b.id);
  const r = (pairs: [number, number][]) => {
    const n = pairs.length;
    const mx = sum(pairs.map((p) => p[0])) / n;
    const my = sum(pairs.map((p) => p[1])) / n;
    const cov = sum(pairs.map(([x, y]) => (x - mx) * (y - my)));
    const vx = sum(pairs.map(([x]) => (x - mx) ** 2));
    const vy = sum(pairs.map(([, y]) => (y - my) ** 2));
    return { r: cov / Math.sqrt(vx * vy), n };
  };
  const years = new Map<number, { titles: number; revenue: number[]; budget: number[] }>();
  for (const d of docs) {
    if (!d.release_date) continue;
    const y = Number(d.release_date.slice(0, 4));
    const g = years.get(y) ?? { titles: 0, revenue: [], budget: [] };
    g.titles++;
    if (d.revenue > 0) g.revenue.push(d.revenue);
    if (d.budget > 0) g.budget.push(d.budget);
    years.set(y, g);
  }
  const top = byRevenue[0]!;
  const big = byBudget[0]!;
  return {
    titles: docs.length,
    objects: lake.manifest.objects.length,
    revenue: { mean: sum(revenues.map((d) => d.revenue)) / revenues.length, n: revenues.length, excluded: docs.length - revenues.length },
    budget: { mean: sum(budgets.map((d) => d.budget)) / budgets.length, n: budgets.length, excluded: docs.length - budgets.length },
    top,
    big,
    pct: ((top.revenue - big.budget) / big.budget) * 100,
    popRevenue: r(revenues.map((d) => [d.popularity, d.revenue])),
    popYear: r(docs.filter((d) => d.release_date).map((d) => [d.popularity, Number(d.release_date.slice(0, 4))])),
    unknownYear: docs.filter((d) => !d.release_date).length,
    years,
  };
}

it('prints the Markdown report with the lake’s own numbers and writes the SVG chart', async () => {
  const x = await expectations();
  // The recorded titles with their real money are part of the run; some synthetic ones have 0 (unknown).
  expect(x.titles).toBe(tmdb.titles('movie').length);
  expect(x.revenue.excluded).toBeGreaterThan(0);

  const out = mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-report-'));
  const res = await runCli(['report', runId, '--out', out], e);
  expect(res.code, res.stderr).toBe(0);
  const md = res.stdout;
  expect(md).toContain(`## Run ${runId} (movie, completed)`);
  expect(md).toContain(`${x.titles} titles in ${x.objects} object${x.objects === 1 ? "" : "s"}`);
  expect(md).toContain(`| mean revenue (USD) | ${formatUsd(x.revenue.mean)} | ${x.revenue.n} | ${x.revenue.excluded} |`);
  expect(md).toContain(`| mean budget (USD) | ${formatUsd(x.budget.mean)} | ${x.budget.n} | ${x.budget.excluded} |`);
  expect(md).toContain(`top-grossing: ${x.top.title} (id ${x.top.id}, ${x.top.release_date.slice(0, 4)}), revenue | ${formatUsd(x.top.revenue)} |`);
  expect(md).toContain(`biggest budget: ${x.big.title} (id ${x.big.id}, ${x.big.release_date.slice(0, 4)}), budget | ${formatUsd(x.big.budget)} |`);
  expect(md).toContain(`| ${formatPct(x.pct)} |`);
  expect(md).toContain(`| popularity ~ revenue (Pearson r) | ${formatR(x.popRevenue.r)} (`);
  expect(md).toMatch(new RegExp(`popularity ~ revenue \\(Pearson r\\) \\| [^|]+ \\| ${x.popRevenue.n} \\| ${x.revenue.excluded} \\|`));
  expect(md).toContain(`| popularity ~ release year (Pearson r) | ${formatR(x.popYear.r)} (`);
  expect(md).toContain(`| titles with unknown release year | ${x.unknownYear} |`);
  for (const [year, g] of x.years) {
    const money = (v: number[]) =>
      v.length > 0 ? `${formatUsd(v.reduce((a, b) => a + b, 0))} | ${formatUsd(v.reduce((a, b) => a + b, 0) / v.length)} | ${v.length}` : `n/a | n/a | 0`;
    expect(md).toContain(`| ${year} | ${g.titles} | ${money(g.revenue)} | ${money(g.budget)} |`);
  }

  const svgPath = path.join(out, `${runId}-revenue-budget.svg`);
  expect(md).toContain(`Chart: ${svgPath}`);
  expect(existsSync(svgPath)).toBe(true);
  const svg = readFileSync(svgPath, 'utf8');
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg).toContain('Release year');
  expect(svg).toContain('Total USD (zero = unknown, excluded)');
});

it('prints the same figures as JSON with --format json', async () => {
  const x = await expectations();
  const out = mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-report-'));
  const res = await runCli(['report', runId, '--format', 'json', '--out', out], e);
  expect(res.code, res.stderr).toBe(0);
  const report = JSON.parse(res.stdout) as RunReport;
  expect(report).toMatchObject({ runId, kind: 'movie', state: 'completed', objects: x.objects, chart: path.join(out, `${runId}-revenue-budget.svg`) });
  const s = report.stats;
  expect(s.titles).toBe(x.titles);
  expect(s.hasMoney).toBe(true);
  expect(s.revenue).toMatchObject({ n: x.revenue.n, excludedZero: x.revenue.excluded, missing: 0 });
  expect(s.revenue.mean).toBeCloseTo(x.revenue.mean, 3);
  expect(s.budget).toMatchObject({ n: x.budget.n, excludedZero: x.budget.excluded });
  expect(s.budget.mean).toBeCloseTo(x.budget.mean, 3);
  expect(s.topVsBiggest?.topGrossing).toMatchObject({ id: x.top.id, title: x.top.title, revenue: x.top.revenue });
  expect(s.topVsBiggest?.biggestBudget).toMatchObject({ id: x.big.id, title: x.big.title, budget: x.big.budget });
  expect(s.topVsBiggest?.differencePct).toBeCloseTo(x.pct, 9);
  expect(s.correlations.popularityRevenue.n).toBe(x.popRevenue.n);
  expect(s.correlations.popularityRevenue.r).toBeCloseTo(x.popRevenue.r, 9);
  expect(s.correlations.popularityYear.n).toBe(x.popYear.n);
  expect(s.correlations.popularityYear.r).toBeCloseTo(x.popYear.r, 9);
  expect(s.unknownYear).toBe(x.unknownYear);
  expect(s.years.map((y) => [y.year, y.titles, y.revenue.total, y.revenue.n, y.budget.total, y.budget.n])).toEqual(
    [...x.years.entries()]
      .sort(([a], [b]) => a - b)
      .map(([year, g]) => [year, g.titles, g.revenue.reduce((a, b) => a + b, 0), g.revenue.length, g.budget.reduce((a, b) => a + b, 0), g.budget.length]),
  );
  expect(existsSync(report.chart ?? '')).toBe(true);
});

it('refuses a run that moved no TMDB titles (an upload) with exit 2 and one line saying why', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-report-upload-'));
  writeFileSync(path.join(dir, 'a.csv'), 'id|name\n1|x\n');
  const up = await runCli(['upload', path.join(dir, 'a.csv'), '--dataset', 'people', '--json'], e);
  expect(up.code, up.stderr).toBe(0);
  const uploadRun = lastJsonLine<{ runId: string }>(up.stdout).runId;
  const res = await runCli(['report', uploadRun], e);
  expect(res.code).toBe(2);
  expect(res.stderr.trim().split('\n')).toEqual([
    `tmdb-fleet: run "${uploadRun}" is an upload run: report covers TMDB title runs (backfill, search, enrich); see "tmdb-fleet status ${uploadRun}" for its files or copies`,
  ]);
  expect(res.stdout).toBe('');
});

it('refuses a run without a manifest, naming it and its state', async () => {
  const unknown = 'movie-20990101T000000-dead';
  const res = await runCli(['report', unknown], e);
  expect(res.code).toBe(1);
  expect(res.stderr).toContain(`run "${unknown}" has no manifest`);
  expect(res.stderr).toContain('Redis does not know it');

  // A run that is still running (no worker to finish it) has no manifest yet.
  await worker?.kill();
  worker = undefined;
  const started = await runCli(['backfill', 'movie', '--from', '1999-01-01', '--to', '1999-12-31'], e);
  expect(started.code, started.stderr).toBe(0);
  const running = started.stdout.trim().split('\n').pop() ?? '';
  const res2 = await runCli(['report', running], e);
  expect(res2.code).toBe(1);
  expect(res2.stderr).toContain(`run "${running}" has no manifest`);
  expect(res2.stderr).toContain('it is running');
});
