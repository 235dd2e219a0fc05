/**
 * Redis goes away mid-run (killed like a crash, AOF with fsync always) and comes back after a
 * few seconds: the worker processes reconnect without crashing and the run completes with every
 * title exactly once.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { startS3Server, s3Env, type S3Server } from './support/s3-server.js';
import { startFakeTmdb, type FakeTmdb } from './support/fake-tmdb.js';
import { lastJsonLine, runCli, startWorker, type WorkerProcess } from './support/fleet-process.js';
import { readRun } from './support/lake-reader.js';
import { RunStore, type RunSummary } from '../src/runs.js';

const BUCKET = 'redis-restart';
let redis: RedisServer;
let s3: S3Server;
let tmdb: FakeTmdb;
let workers: WorkerProcess[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  redis = await startRedisServer({ appendonly: true, appendfsync: 'always' });
  s3 = await startS3Server([BUCKET]);
  tmdb = await startFakeTmdb({ movie: { count: 3_000, from: '2021-01-01', to: '2021-12-31', seed: 21 } });
});
afterEach(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  workers = [];
});
afterAll(async () => {
  await tmdb?.close();
  await s3?.close();
  await redis?.stop();
});

it('survives a Redis crash and restart mid-run: no worker crashes, nothing lost or duplicated', async () => {
  const env = {
    REDIS_URL: redis.url,
    REDIS_PREFIX: `{rr-${randomUUID().slice(0, 8)}}`,
    TMDB_API_BASE_URL: tmdb.url,
    TMDB_ACCESS_TOKEN: 'test-token',
    TMDB_RATE_LIMIT_RPS: '300',
    BATCH_MAX_RECORDS: '50',
    BATCH_MAX_WAIT_MS: '200',
    JOB_BACKOFF_MS: '100',
    JOB_ATTEMPTS: '10',
    LOG_LEVEL: 'warn',
    ...s3Env(s3, BUCKET),
  };
  workers = [startWorker(env), startWorker(env)];
  const started = await runCli(['backfill', 'movie', '--from', '2021-01-01', '--to', '2021-12-31', '--json'], env);
  expect(started.code, started.stderr).toBe(0);
  const { runId } = lastJsonLine<{ runId: string }>(started.stdout);

  await sleep(3_000);
  redis.kill();
  await sleep(5_000);
  await redis.restart();

  const client = new Redis(redis.url, { maxRetriesPerRequest: null });
  const runs = new RunStore(client, env.REDIS_PREFIX);
  try {
    let summary: RunSummary = await runs.summary(runId);
    const deadline = Date.now() + 120_000;
    while (summary.state === 'running' || summary.state === 'finalizing') {
      if (Date.now() > deadline) throw new Error(`run did not finish: ${JSON.stringify(summary)}`);
      await sleep(500);
      summary = await runs.summary(runId);
    }
    expect(summary).toMatchObject({ state: 'completed', discovered: 3_000, fetched: 3_000, records: 3_000 });
    for (const w of workers) expect(w.child.exitCode, w.output()).toBeNull();
    const lake = await readRun(env, 'movie', runId);
    expect(lake.idCounts.size).toBe(3_000);
    expect([...lake.idCounts.values()].every((n) => n === 1)).toBe(true);
  } finally {
    client.disconnect();
  }
});
