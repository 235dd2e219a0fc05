/**
 * A backfill without --from/--to over more than 10,000 titles is split by date, and a date
 * window never lists a title without a release (first-air) date. TV fetches them through its
 * undated window; movie discover has no filter that reaches them, so the audit reports them
 * as uncovered, with their count. Nothing is lost silently.
 */
import { expect, it } from 'vitest';
import { lastJsonLine, runCli } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';
import { readRun } from './support/lake-reader.js';

const DATED = 10_050;
const UNDATED = 40;

const h = useFleetHarness({
  tmdb: {
    movie: { count: DATED, from: '2019-01-01', to: '2019-12-31', seed: 11, undated: UNDATED },
    tv: { count: DATED, from: '2019-01-01', to: '2019-12-31', seed: 12, undated: UNDATED },
  },
});
const env = () =>
  h.env({ TMDB_RATE_LIMIT_RPS: '2000', BATCH_MAX_RECORDS: '500', BATCH_MAX_WAIT_MS: '300', LOG_LEVEL: 'error' });

interface Summary {
  runId: string;
  state: string;
  verdict: string;
  expected: number;
  records: number;
  uncovered: number;
  shortfalls: string[];
}
interface Audit {
  verdict: string;
  coverage: { rootTotal: number; leafTotal: number; undated: number; unreached: number };
}

it('tv without dates lands every dated and every undated title exactly once, complete by its audit', async () => {
  const e = env();
  h.startWorkers(e, 2);
  const res = await runCli(['backfill', 'tv', '--yes', '--wait', '--json'], e, 240_000);
  expect(res.code, res.stderr).toBe(0);
  const s = lastJsonLine<Summary>(res.stdout);
  expect(s).toMatchObject({ state: 'completed', verdict: 'complete', expected: DATED + UNDATED, records: DATED + UNDATED, uncovered: 0 });

  const lake = await readRun(e, 'tv', s.runId);
  const all = h.tmdb.titles('tv');
  expect(all.filter((t) => t.date === '')).toHaveLength(UNDATED);
  expect([...lake.idCounts.keys()].sort((a, b) => a - b)).toEqual(all.map((t) => t.id).sort((a, b) => a - b));
  expect([...lake.idCounts.values()].every((n) => n === 1)).toBe(true);
  const audit = (lake.manifest as unknown as { audit: Audit }).audit;
  expect(audit).toMatchObject({ verdict: 'complete', coverage: { rootTotal: DATED + UNDATED, leafTotal: DATED + UNDATED, undated: 0, unreached: 0 } });
});

it('movies without dates land every dated title once and report the undated ones as uncovered, exit 3', async () => {
  const e = env();
  h.startWorkers(e, 2);
  const res = await runCli(['backfill', 'movie', '--yes', '--wait', '--json'], e, 240_000);
  expect(res.code, res.stderr).toBe(3);
  const s = lastJsonLine<Summary>(res.stdout);
  expect(s).toMatchObject({ state: 'completed', verdict: 'partial', expected: DATED + UNDATED, records: DATED, uncovered: UNDATED });
  expect(s.shortfalls.join('\n')).toContain(`${UNDATED} movies without a release date`);

  const lake = await readRun(e, 'movie', s.runId);
  const dated = h.tmdb.titles('movie').filter((t) => t.date !== '');
  expect([...lake.idCounts.keys()].sort((a, b) => a - b)).toEqual(dated.map((t) => t.id).sort((a, b) => a - b));
  expect([...lake.idCounts.values()].every((n) => n === 1)).toBe(true);
  const audit = (lake.manifest as unknown as { audit: Audit }).audit;
  expect(audit).toMatchObject({ verdict: 'partial', coverage: { rootTotal: DATED + UNDATED, leafTotal: DATED, undated: UNDATED, unreached: 0 } });
  expect(lake.manifest.uncoveredWindows).toContainEqual({ window: 'undated', total: UNDATED, reachable: 0, missed: UNDATED });
});
