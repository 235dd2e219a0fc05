/**
 * Politeness and dead letters: the fleet stays under its ceiling, honours 429 Retry-After
 * fleet-wide, dead-letters a title that keeps failing; a worker SIGTERMed with jobs in flight
 * lets them finish and exits 0.
 * (5xx, garbage bodies, resets and hangs are in the fault suite, test/faults/suite.test.ts.)
 */
import { expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { lastJsonLine, runCli, startCli } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';
import { readRun } from './support/lake-reader.js';
import { loadConfig } from '../src/config.js';
import { closeQueues, openQueues } from '../src/queues.js';
import { SHUTDOWN_DEADLINE_MS } from '../src/workers/index.js';

const h = useFleetHarness({
  tmdb: { movie: { count: 1_500, from: '2022-01-01', to: '2022-06-30', seed: 3 }, seed: 5 },
  buckets: ['faults'],
});
const fleetEnv = (extra: Record<string, string> = {}) =>
  h.env({ BATCH_MAX_RECORDS: '50', JOB_BACKOFF_MS: '20', JOB_ATTEMPTS: '12', TMDB_TIMEOUT_MS: '2000', LOG_LEVEL: 'error', ...extra });

async function backfillExactlyOnce(env: Record<string, string>): Promise<void> {
  const res = await runCli(['backfill', 'movie', '--from', '2022-01-01', '--to', '2022-06-30', '--wait', '--json'], env, 180_000);
  expect(res.code, res.stderr).toBe(0);
  const summary = lastJsonLine<{ runId: string; state: string; records: number; failed: number }>(res.stdout);
  expect(summary).toMatchObject({ state: 'completed', records: 1_500, failed: 0 });
  const lake = await readRun(env, 'movie', summary.runId);
  expect(lake.idCounts.size).toBe(1_500);
  expect([...lake.idCounts.values()].every((n) => n === 1)).toBe(true);
}

it('honours 429 Retry-After fleet-wide when TMDB limits below our ceiling, and still lands everything once', async () => {
  h.tmdb.configure({ rateLimit: { rps: 100, retryAfterSec: 1 }, errorRate: 0, dropRate: 0, latencyMs: 0 });
  h.tmdb.resetStats();
  const env = fleetEnv({ TMDB_RATE_LIMIT_RPS: '300' });
  h.startWorkers(env, 2);
  await backfillExactlyOnce(env);
  const stats = h.tmdb.stats();
  const limited = stats.byStatus['429'] ?? 0;
  expect(limited).toBeGreaterThan(0);
  // Each 429 pauses the whole fleet for Retry-After, so 429s stay a small share, not a storm.
  expect(limited / stats.requests).toBeLessThan(0.2);
});

it('stops a worker cleanly on SIGTERM with jobs in flight: they finish, exit 0 within the deadline, the run still lands every title once', async () => {
  // A slow TMDB keeps details requests in flight when the signal comes.
  h.tmdb.configure({ rateLimit: undefined, errorRate: 0, dropRate: 0, latencyMs: 1_500 });
  h.tmdb.resetStats();
  const env = fleetEnv({ TMDB_RATE_LIMIT_RPS: '100' });
  const [worker] = h.startWorkers(env);
  if (!worker) throw new Error('no worker started');
  const cli = startCli(['backfill', 'movie', '--from', '2022-01-01', '--to', '2022-06-30', '--wait', '--json'], env, 180_000);
  const deadline = Date.now() + 30_000;
  while (!(h.tmdb.stats().detailsRequests >= 20 && h.tmdb.inFlight() >= 8)) {
    if (Date.now() > deadline) throw new Error(`no details requests in flight: ${JSON.stringify(h.tmdb.stats().byStatus)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const inFlight = h.tmdb.inFlight();
  const started = Date.now();
  const code = await worker.stop();
  const elapsed = Date.now() - started;

  expect(inFlight).toBeGreaterThanOrEqual(8);
  expect(code, worker.output()).toBe(0);
  expect(elapsed).toBeLessThan(SHUTDOWN_DEADLINE_MS + 2_000);
  // Every request in flight was answered and read (none abandoned by a closing worker) ...
  expect(h.tmdb.inFlight()).toBe(0);
  expect(h.tmdb.stats().byStatus.aborted ?? 0).toBe(0);
  // ... and its job finished: none is left active (locked by a worker that is gone).
  const config = loadConfig(env);
  const connection = new Redis(config.redis.url);
  const queues = openQueues(config, connection);
  try {
    expect(await Promise.all([queues.discover, queues.details, queues.write].map((q) => q.getActiveCount()))).toEqual([0, 0, 0]);
  } finally {
    await closeQueues(queues);
    connection.disconnect();
  }

  h.tmdb.configure({ latencyMs: 0 });
  h.startWorkers(env, 2);
  const res = await cli.result;
  expect(res.code, res.stderr).toBe(0);
  const summary = lastJsonLine<{ runId: string; state: string; records: number }>(res.stdout);
  expect(summary).toMatchObject({ state: 'completed', records: 1_500 });
  const lake = await readRun(env, 'movie', summary.runId);
  expect(lake.idCounts.size).toBe(1_500);
  expect([...lake.idCounts.values()].every((n) => n === 1)).toBe(true);
});

it('dead-letters a title that keeps failing: counted as failed, kept in the failed list with its last error, run still completes', async () => {
  const failing = h.tmdb.titles('movie').slice(0, 2).map((t) => t.id);
  h.tmdb.configure({ rateLimit: undefined, errorRate: 0, dropRate: 0, latencyMs: 0, failingIds: failing });
  const env = fleetEnv({ TMDB_RATE_LIMIT_RPS: '1000', JOB_ATTEMPTS: '3' });
  h.startWorkers(env, 2);
  try {
    const res = await runCli(['backfill', 'movie', '--from', '2022-01-01', '--to', '2022-06-30', '--wait', '--json'], env, 120_000);
    const summary = lastJsonLine<{ runId: string; state: string; records: number; failed: number }>(res.stdout);
    expect(summary).toMatchObject({ state: 'completed', records: 1_498, failed: 2 });
    // Completed with a shortfall: exit 3, and the manifest's audit lists the failed ids.
    expect(res.code, res.stderr).toBe(3);
    const audit = ((await readRun(env, 'movie', summary.runId)).manifest as unknown as {
      audit: { verdict: string; titles: { failed: number; failedIds: number[] }; shortfalls: string[] };
    }).audit;
    expect(audit.verdict).toBe('partial');
    expect(audit.titles).toMatchObject({ failed: 2, failedIds: [...failing].sort((a, b) => a - b) });
    expect(audit.shortfalls).toContain(`2 titles failed for good: ${[...failing].sort((a, b) => a - b).join(', ')}`);
    const config = loadConfig(env);
    const connection = new Redis(config.redis.url);
    const queues = openQueues(config, connection);
    try {
      const dead = await queues.details.getFailed();
      expect(dead.map((j) => (j.data as { id: number }).id).sort()).toEqual([...failing].sort());
      for (const job of dead) {
        expect(job.attemptsMade).toBe(3);
        expect(job.failedReason).toMatch(/TMDB answered 500/);
      }
    } finally {
      await closeQueues(queues);
      connection.disconnect();
    }
  } finally {
    h.tmdb.configure({ failingIds: [] });
  }
});

it('stays under the fleet-wide ceiling with several worker processes: TMDB (limit 110/s) never answers 429 to a 100/s fleet', async () => {
  h.tmdb.configure({ rateLimit: { rps: 110, retryAfterSec: 1 }, errorRate: 0, dropRate: 0, latencyMs: [0, 5] });
  h.tmdb.resetStats();
  const env = fleetEnv({ TMDB_RATE_LIMIT_RPS: '100' });
  h.startWorkers(env, 3);
  await backfillExactlyOnce(env);
  const stats = h.tmdb.stats();
  expect(stats.byStatus['429'] ?? 0).toBe(0);
  h.tmdb.configure({ rateLimit: undefined });
});

it('ends a run as failed when its dead letters exceed RUN_FAILURE_THRESHOLD, manifest and all', async () => {
  const failing = h.tmdb.titles('movie').slice(0, 3).map((t) => t.id);
  h.tmdb.configure({ rateLimit: undefined, errorRate: 0, dropRate: 0, latencyMs: 0, failingIds: failing });
  const env = fleetEnv({ TMDB_RATE_LIMIT_RPS: '1000', JOB_ATTEMPTS: '2', RUN_FAILURE_THRESHOLD: '0.001' });
  h.startWorkers(env, 2);
  try {
    const res = await runCli(['backfill', 'movie', '--from', '2022-01-01', '--to', '2022-06-30', '--wait', '--json'], env, 120_000);
    expect(res.code).toBe(1);
    const summary = lastJsonLine<{ runId: string; state: string; error: string; records: number; failed: number }>(res.stdout);
    expect(summary).toMatchObject({ state: 'failed', records: 1_497, failed: 3 });
    expect(summary.error).toMatch(/3 of 1500 titles .* RUN_FAILURE_THRESHOLD=0.001/);
    const lake = await readRun(env, 'movie', summary.runId);
    expect(lake.manifest.state).toBe('failed');
    expect(lake.idCounts.size).toBe(1_497);
  } finally {
    h.tmdb.configure({ failingIds: [] });
  }
});
