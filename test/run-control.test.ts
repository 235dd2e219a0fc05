/**
 * Operator controls over runs: a duplicate backfill is refused, a run is cancelled cleanly, a
 * failed run is resumed once its cause is fixed and still lands every title exactly once.
 */
import { expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { lastJsonLine, runCli, type WorkerProcess } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';
import { readRun } from './support/lake-reader.js';
import { loadConfig } from '../src/config.js';
import { closeQueues, openQueues } from '../src/queues.js';

const h = useFleetHarness({ tmdb: { movie: { count: 2_500, from: '2019-01-01', to: '2019-12-31', seed: 4 } } });
const env = (extra: Record<string, string> = {}) =>
  h.env({ TMDB_RATE_LIMIT_RPS: '300', BATCH_MAX_RECORDS: '50', LOG_LEVEL: 'error', ...extra });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const YEAR = ['--from', '2019-01-01', '--to', '2019-12-31'];

it('refuses a second backfill with the same parameters while one runs, unless --force', async () => {
  const e = env();
  const first = await runCli(['backfill', 'movie', ...YEAR, '--param', 'with_genres=28'], e);
  expect(first.code, first.stderr).toBe(0);
  const firstId = first.stdout.trim();
  const second = await runCli(['backfill', 'movie', ...YEAR, '--param', 'with_genres=28'], e);
  expect(second.code).toBe(2);
  expect(second.stderr).toContain(`run ${firstId} with the same parameters is still running`);
  const other = await runCli(['backfill', 'movie', ...YEAR, '--param', 'with_genres=12'], e);
  expect(other.code, other.stderr).toBe(0);
  const forced = await runCli(['backfill', 'movie', ...YEAR, '--param', 'with_genres=28', '--force'], e);
  expect(forced.code, forced.stderr).toBe(0);
  expect(forced.stdout.trim()).not.toBe(firstId);
});

it('cancels a run: queued jobs removed, staged documents flushed, manifest marked cancelled', async () => {
  const e = env({ TMDB_RATE_LIMIT_RPS: '100' });
  h.startWorkers(e);
  const started = await runCli(['backfill', 'movie', ...YEAR], e);
  expect(started.code, started.stderr).toBe(0);
  const runId = started.stdout.trim();
  await sleep(2_500);
  const res = await runCli(['cancel', runId, '--wait', '--json'], e);
  expect(res.code, res.stderr).toBe(0);
  const s = lastJsonLine<{ state: string; records: number; fetched: number }>(res.stdout);
  expect(s.state).toBe('cancelled');
  expect(s.records).toBeGreaterThan(0);
  expect(s.records).toBeLessThan(2_500);
  expect(s.records).toBe(s.fetched);

  const lake = await readRun(e, 'movie', runId);
  expect(lake.manifest.state).toBe('cancelled');
  expect(lake.idCounts.size).toBe(s.records);
  expect([...lake.idCounts.values()].every((n) => n === 1)).toBe(true);

  const config = loadConfig(e);
  const connection = new Redis(config.redis.url);
  const queues = openQueues(config, connection);
  try {
    const left = await Promise.all([queues.discover, queues.details].map((q) => q.getJobCountByTypes('wait', 'delayed', 'prioritized')));
    expect(left).toEqual([0, 0]);
  } finally {
    await closeQueues(queues);
    connection.disconnect();
  }
  const again = await runCli(['cancel', runId], e);
  expect(again.code).toBe(2);
  expect(again.stderr).toContain('already cancelled');
});

it('resumes a run that failed on a revoked token once the workers have a good one, landing every title once', async () => {
  const e = env();
  const revoked: WorkerProcess[] = h.startWorkers({ ...e, TMDB_ACCESS_TOKEN: 'revoked' }, 2);
  const failed = await runCli(['backfill', 'movie', ...YEAR, '--wait', '--json'], e);
  const f = lastJsonLine<{ runId: string; state: string }>(failed.stdout);
  expect(f.state).toBe('failed');
  await Promise.all(revoked.map((w) => w.kill()));

  h.startWorkers(e, 2);
  const resumed = await runCli(['backfill', '--resume', f.runId, '--wait', '--json'], e);
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(resumed.stderr).toMatch(/resumed .*dead letters retried/);
  const s = lastJsonLine<{ runId: string; state: string; records: number; failed: number }>(resumed.stdout);
  expect(s).toMatchObject({ runId: f.runId, state: 'completed', records: 2_500, failed: 0 });
  const lake = await readRun(e, 'movie', f.runId);
  expect(lake.idCounts.size).toBe(2_500);
  expect([...lake.idCounts.values()].every((n) => n === 1)).toBe(true);

  const done = await runCli(['backfill', '--resume', f.runId], e);
  expect(done.code).toBe(2);
  expect(done.stderr).toContain('is completed; there is nothing to resume');
});

it('resumes a run that failed over RUN_FAILURE_THRESHOLD: the retried titles land once, nothing lands twice', async () => {
  const failing = h.tmdb.titles('movie').slice(0, 40).map((t) => t.id);
  h.tmdb.configure({ failingIds: failing });
  const e = env({ JOB_ATTEMPTS: '2', JOB_BACKOFF_MS: '20', RUN_FAILURE_THRESHOLD: '0.01' });
  let runId: string;
  try {
    h.startWorkers(e, 2);
    const failed = await runCli(['backfill', 'movie', ...YEAR, '--wait', '--json'], e);
    expect(failed.code).toBe(1);
    const f = lastJsonLine<{ runId: string; state: string; failed: number; records: number }>(failed.stdout);
    expect(f).toMatchObject({ state: 'failed', failed: 40, records: 2_460 });
    runId = f.runId;
  } finally {
    h.tmdb.configure({ failingIds: [] });
  }
  // The failed run keeps what a resume needs, and expires on its own.
  const config = loadConfig(e);
  const redis = new Redis(config.redis.url);
  try {
    expect(await redis.ttl(`${config.redis.prefix}:run:${runId}:fetched`)).toBeGreaterThan(0);
  } finally {
    redis.disconnect();
  }

  const resumed = await runCli(['backfill', '--resume', runId, '--wait', '--json'], e);
  expect(resumed.code, resumed.stderr).toBe(0);
  const s = lastJsonLine<{ state: string; records: number; fetched: number; failed: number; discovered: number }>(resumed.stdout);
  expect(s).toMatchObject({ state: 'completed', records: 2_500, fetched: 2_500, failed: 0, discovered: 2_500 });
  const lake = await readRun(e, 'movie', runId);
  expect(lake.manifest.state).toBe('completed');
  expect(lake.idCounts.size).toBe(2_500);
  expect([...lake.idCounts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
  expect(lake.manifest.objects.reduce((sum, o) => sum + o.records, 0)).toBe(2_500);
});
