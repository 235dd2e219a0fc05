/**
 * A discover page that fails for good loses its own 20 titles, never the pages after it; a
 * failed page 1 loses its window, and the audit says so. The run audits itself: the manifest
 * names the failed page or lost window, and the CLI's exit code says complete (0), complete
 * with a shortfall (3, or 0 with --allow-partial) or failed (1).
 */
import { expect, it } from 'vitest';
import { lastJsonLine, runCli } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';
import { readRun } from './support/lake-reader.js';
import { splitWindow, windowKey } from '../src/tmdb/windows.js';

const FROM = '2022-01-01';
const TO = '2022-06-30';
const FAILING_PAGE = 5;
const TV_FROM = '2021-01-01';
const TV_TO = '2021-12-31';
// The tv year exceeds 10,000 titles: it is split in two halves, and page 1 of the first fails.
const [lostHalf, keptHalf] = splitWindow({ from: TV_FROM, to: TV_TO })!;

const h = useFleetHarness({
  tmdb: {
    movie: { count: 1_500, from: FROM, to: TO, seed: 3 },
    tv: { count: 10_100, from: TV_FROM, to: TV_TO, seed: 9 },
    failingPages: [
      { kind: 'movie', page: FAILING_PAGE, where: { 'primary_release_date.gte': FROM, 'primary_release_date.lte': TO } },
      { kind: 'tv', page: 1, where: { 'first_air_date.gte': lostHalf.from!, 'first_air_date.lte': lostHalf.to! } },
    ],
  },
});
const env = (extra: Record<string, string> = {}) =>
  h.env({
    TMDB_RATE_LIMIT_RPS: '2000',
    BATCH_MAX_RECORDS: '100',
    BATCH_MAX_WAIT_MS: '300',
    JOB_ATTEMPTS: '2',
    JOB_BACKOFF_MS: '20',
    LOG_LEVEL: 'error',
    ...extra,
  });

interface Summary {
  runId: string;
  state: string;
  verdict: string;
  records: number;
  pagesFailed: number;
}
interface Audit {
  verdict: string;
  shortfalls: string[];
  pages: { planned: number; done: number; failed: number; failedPages: { window: string; page: number }[] };
  coverage: {
    rootTotal: number;
    leafTotal: number;
    unreached: number;
    shortLeaves: { window: string; total: number; returned: number; discovered: number }[];
    lostWindows: { window: string; parentTotal?: number }[];
  };
  written: { fetched: number; records: number };
}

const backfillMovie = (e: Record<string, string>, ...extra: string[]) =>
  runCli(['backfill', 'movie', '--from', FROM, '--to', TO, '--wait', '--json', ...extra], e, 180_000);

/** The ids of the failing page: discover serves the catalog by date, then id, 20 a page. */
const failingPageIds = () => h.tmdb.titles('movie').slice((FAILING_PAGE - 1) * 20, FAILING_PAGE * 20).map((t) => t.id);

it('loses only the failed page: every other title lands once, the audit names the page, exit 3', async () => {
  const e = env({ RUN_FAILURE_THRESHOLD: '0.05' });
  h.startWorkers(e, 2);
  const res = await backfillMovie(e);
  expect(res.code, res.stderr).toBe(3);
  const s = lastJsonLine<Summary>(res.stdout);
  expect(s).toMatchObject({ state: 'completed', verdict: 'partial', records: 1_480, pagesFailed: 1 });

  const lake = await readRun(e, 'movie', s.runId);
  const lost = new Set(failingPageIds());
  const want = h.tmdb.titles('movie').map((t) => t.id).filter((id) => !lost.has(id));
  expect([...lake.idCounts.keys()].sort((a, b) => a - b)).toEqual(want.sort((a, b) => a - b));
  expect([...lake.idCounts.values()].every((n) => n === 1)).toBe(true);

  const audit = (lake.manifest as unknown as { audit: Audit }).audit;
  expect(audit.verdict).toBe('partial');
  expect(audit.pages).toMatchObject({ planned: 75, done: 75, failed: 1, failedPages: [{ window: `${FROM}_${TO}`, page: FAILING_PAGE }] });
  expect(audit.coverage).toMatchObject({
    rootTotal: 1_500,
    leafTotal: 1_500,
    unreached: 0,
    shortLeaves: [{ window: `${FROM}_${TO}`, total: 1_500, returned: 1_480, discovered: 1_480 }],
    lostWindows: [],
  });
  expect(audit.written).toMatchObject({ fetched: 1_480, records: 1_480 });
  expect(audit.shortfalls.join('\n')).toContain(`${FROM}_${TO} page ${FAILING_PAGE}`);

  // status shows the verdict and the shortfalls, from anywhere, after the run.
  const status = await runCli(['status', s.runId, '--json'], e);
  expect(lastJsonLine<Summary & { shortfalls: string[] }>(status.stdout)).toMatchObject({ verdict: 'partial', shortfalls: audit.shortfalls });
  const human = await runCli(['status', s.runId], e);
  expect(human.stdout).toContain('audit: partial');
  expect(human.stdout).toContain(`${FROM}_${TO} page ${FAILING_PAGE}`);
});

it('exits 0 for the same shortfall with --allow-partial, and 1 when the failed page is over RUN_FAILURE_THRESHOLD', async () => {
  const e = env({ RUN_FAILURE_THRESHOLD: '0.05' });
  h.startWorkers(e, 2);
  const allowed = await backfillMovie(e, '--allow-partial');
  expect(allowed.code, allowed.stderr).toBe(0);
  expect(lastJsonLine<Summary>(allowed.stdout)).toMatchObject({ state: 'completed', verdict: 'partial', records: 1_480 });

  const strict = env({ RUN_FAILURE_THRESHOLD: '0.001' });
  h.startWorkers(strict, 2);
  const failed = await backfillMovie(strict, '--allow-partial');
  expect(failed.code, failed.stderr).toBe(1);
  const s = lastJsonLine<Summary>(failed.stdout);
  expect(s).toMatchObject({ state: 'failed', verdict: 'partial', records: 1_480, pagesFailed: 1 });
});

it('reports a window whose page 1 failed for good as lost, with its parent total, and lands the rest once', async () => {
  const e = env();
  h.startWorkers(e, 2);
  const res = await runCli(['backfill', 'tv', '--from', TV_FROM, '--to', TV_TO, '--wait', '--json'], e, 240_000);
  expect(res.code, res.stderr).toBe(3);
  const s = lastJsonLine<Summary>(res.stdout);
  const inHalf = (w: typeof lostHalf) => h.tmdb.titles('tv').filter((t) => t.date >= w.from! && t.date <= w.to!);
  const kept = inHalf(keptHalf);
  expect(s).toMatchObject({ state: 'completed', verdict: 'partial', records: kept.length, pagesFailed: 1 });

  const lake = await readRun(e, 'tv', s.runId);
  expect([...lake.idCounts.keys()].sort((a, b) => a - b)).toEqual(kept.map((t) => t.id).sort((a, b) => a - b));
  expect([...lake.idCounts.values()].every((n) => n === 1)).toBe(true);
  const audit = (lake.manifest as unknown as { audit: Audit }).audit;
  expect(audit.coverage.lostWindows).toEqual([{ window: windowKey(lostHalf), parentTotal: 10_100 }]);
  expect(audit.coverage).toMatchObject({ rootTotal: 10_100, leafTotal: kept.length, unreached: inHalf(lostHalf).length });
  expect(audit.pages.failedPages).toEqual([{ window: windowKey(lostHalf), page: 1 }]);
  expect(audit.shortfalls.join('\n')).toContain(windowKey(lostHalf));
});
