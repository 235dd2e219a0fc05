/**
 * Completeness past TMDB's 500-page cap when dates cannot help: a single day with more than
 * 10,000 titles is split by vote_count; what no filter can split is reported, never dropped
 * silently.
 */
import { expect, it } from 'vitest';
import type { FakeTitle } from '../src/sandbox/catalog.js';
import { lastJsonLine, runCli } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';
import { readRun } from './support/lake-reader.js';

const DAY = '2021-05-05';
const crowdedDay: FakeTitle[] = Array.from({ length: 10_400 }, (_, i) => ({
  id: i + 1,
  date: DAY,
  voteCount: i % 97,
  originalLanguage: 'en',
}));
const unsplittable: FakeTitle[] = Array.from({ length: 10_050 }, (_, i) => ({
  id: i + 1,
  date: DAY,
  voteCount: 0,
  originalLanguage: 'en',
}));

const h = useFleetHarness({ tmdb: { movie: { titles: crowdedDay }, tv: { titles: unsplittable } } });
const env = () => h.env({ TMDB_RATE_LIMIT_RPS: '2000', BATCH_MAX_RECORDS: '500', BATCH_MAX_WAIT_MS: '300', LOG_LEVEL: 'error' });

it('splits a single day of more than 10,000 titles by vote_count and gets every one', async () => {
  const e = env();
  h.startWorkers(e, 2);
  const res = await runCli(['backfill', 'movie', '--from', DAY, '--to', DAY, '--wait', '--json'], e, 180_000);
  expect(res.code, res.stderr).toBe(0);
  const s = lastJsonLine<{ runId: string; state: string; records: number; uncovered: number }>(res.stdout);
  expect(s).toMatchObject({ state: 'completed', records: 10_400, uncovered: 0 });
  const lake = await readRun(e, 'movie', s.runId);
  expect(lake.idCounts.size).toBe(10_400);
  expect(lake.manifest.uncoveredWindows).toEqual([]);
});

it('reports what no filter can split as uncovered in the summary and the manifest', async () => {
  const e = env();
  h.startWorkers(e, 2);
  // The 50 titles no filter reaches are a shortfall: exit 3 without --allow-partial (test/discover-failures.test.ts).
  const res = await runCli(['backfill', 'tv', '--from', DAY, '--to', DAY, '--wait', '--json', '--allow-partial'], e, 180_000);
  expect(res.code, res.stderr).toBe(0);
  const s = lastJsonLine<{ runId: string; state: string; records: number; uncovered: number }>(res.stdout);
  expect(s).toMatchObject({ state: 'completed', records: 10_000, uncovered: 50 });
  const lake = await readRun(e, 'tv', s.runId);
  expect(lake.idCounts.size).toBe(10_000);
  expect(lake.manifest.uncoveredWindows).toEqual([
    { window: `${DAY}_${DAY}_v0-0`, total: 10_050, reachable: 10_000, missed: 50 },
  ]);
});
