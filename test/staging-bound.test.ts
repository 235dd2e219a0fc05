/**
 * Staging is bounded: while S3 is slow (each PUT held 1 s, one at a time, for a minute: ~20
 * titles written a second against 400 fetched), details jobs wait once a run has
 * STAGING_MAX_RECORDS documents staged and not yet stored, so Redis memory stays flat instead of
 * holding every fetched document (tv documents, ~7 KB each). Redis `used_memory` is sampled every
 * 250 ms; then S3 recovers and the run lands every title once. Real processes: two workers,
 * s3rver behind the fault proxy, the fake TMDB.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { runKeys } from '../src/runs/keys.js';
import { lastJsonLine, runCli } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';
import { readRun } from './support/lake-reader.js';
import { startS3FaultProxy, type S3FaultProxy } from './support/s3-fault-proxy.js';

const TITLES = 2_500;
const FROM = '2021-01-01';
const TO = '2021-12-31';
const STAGING_MAX_RECORDS = 200;
const SLOW_MS = 60_000;
/** Documents staged by details jobs already past the check when the bound was reached: 2 processes × 16. */
const IN_FLIGHT = 2 * 16;
/**
 * The bound on Redis used_memory during the slow minute, MiB. Measured: 6.5 MiB peak (232
 * documents staged at most); without the staging bound 19.6 MiB (2,380 staged), and growing
 * with the backfill's size.
 */
const MEMORY_BOUND_MIB = 10;

const h = useFleetHarness({ tmdb: { tv: { count: TITLES, from: FROM, to: TO, seed: 61 } }, buckets: ['lake'] });
let proxy: S3FaultProxy;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  proxy = await startS3FaultProxy(h.s3?.endpoint ?? '');
});
afterAll(async () => {
  await proxy?.close();
});

describe('STAGING_MAX_RECORDS', () => {
  it('keeps Redis memory bounded while S3 writes 1 object a second for a minute; nothing lost', async () => {
    const env = h.env({
      AWS_ENDPOINT_URL_S3: proxy.endpoint,
      TMDB_RATE_LIMIT_RPS: '400',
      BATCH_MAX_RECORDS: '20',
      BATCH_MAX_WAIT_MS: '500',
      STAGING_MAX_RECORDS: String(STAGING_MAX_RECORDS),
    });
    const config = loadConfig(env);
    const client = new Redis(config.redis.url);
    const used = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1] ?? 0);
    const baseline = await used();
    proxy.configure({ putDelayMs: 1_000, putConcurrency: 1 });
    h.startWorkers(env, 2);
    const started = await runCli(['backfill', 'tv', '--from', FROM, '--to', TO, '--json'], env);
    expect(started.code, started.stderr).toBe(0);
    const { runId } = lastJsonLine<{ runId: string }>(started.stdout);
    const run = runKeys(config.redis.prefix, runId).run;

    let peakMemory = 0;
    let peakPending = 0;
    let state = 'running';
    const slowUntil = Date.now() + SLOW_MS;
    const deadline = slowUntil + 120_000;
    try {
      while (state === 'running' || state === 'finalizing') {
        if (Date.now() > slowUntil) proxy.configure({ putDelayMs: 0 });
        else {
          peakMemory = Math.max(peakMemory, await used());
          peakPending = Math.max(peakPending, Number((await client.hget(run, 'pending')) ?? 0));
        }
        if (Date.now() > deadline) throw new Error(`run ${runId} did not end`);
        state = (await client.hget(run, 'state')) ?? 'gone';
        await sleep(250);
      }
    } finally {
      proxy.configure({ putDelayMs: 0 });
      client.disconnect();
    }
    const mib = (b: number) => (b / 2 ** 20).toFixed(1);
    process.stdout.write(
      `\nstaging bound ${env.STAGING_MAX_RECORDS}: peak pending ${peakPending}, peak used_memory ${mib(peakMemory)} MiB (baseline ${mib(baseline)} MiB), run ${state}\n`,
    );
    expect(state).toBe('completed');
    const lake = await readRun(env, 'tv', runId);
    const lost = h.tmdb.titles('tv').filter((t) => !lake.idCounts.has(t.id)).length;
    const duplicated = [...lake.idCounts.values()].filter((n) => n > 1).length;
    expect({ lost, duplicated }).toEqual({ lost: 0, duplicated: 0 });
    expect(peakPending).toBeLessThanOrEqual(STAGING_MAX_RECORDS + IN_FLIGHT);
    expect(peakMemory / 2 ** 20).toBeLessThan(MEMORY_BOUND_MIB);
  });
});
