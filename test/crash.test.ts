/**
 * Exactly once under crashes: worker processes are SIGKILLed at random moments of a run and
 * replaced; the raw zone must still hold every title exactly once.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { startS3Server, s3Env, type S3Server } from './support/s3-server.js';
import { startFakeTmdb, type FakeTmdb } from './support/fake-tmdb.js';
import { runCli, lastJsonLine, startWorker, type WorkerProcess } from './support/fleet-process.js';
import { readRun } from './support/lake-reader.js';
import { RunStore } from '../src/runs.js';

const BUCKET = 'crash-lake';
let redis: RedisServer;
let s3: S3Server;
let tmdb: FakeTmdb;
let workers: WorkerProcess[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  redis = await startRedisServer();
  s3 = await startS3Server([BUCKET]);
  tmdb = await startFakeTmdb({
    movie: { count: 4_000, from: '2023-01-01', to: '2023-12-31', seed: 11 },
    latencyMs: [2, 20],
    notFoundIds: [5, 50, 500],
  });
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

it('loses and duplicates nothing when workers are SIGKILLed mid-run and restarted', async () => {
  const prefix = `{crash-${randomUUID().slice(0, 8)}}`;
  const env = {
    REDIS_URL: redis.url,
    REDIS_PREFIX: prefix,
    TMDB_API_BASE_URL: tmdb.url,
    TMDB_ACCESS_TOKEN: 'test-token',
    TMDB_RATE_LIMIT_RPS: '400',
    BATCH_MAX_RECORDS: '25',
    BATCH_MAX_WAIT_MS: '200',
    WORKER_CONCURRENCY: '16',
    JOB_BACKOFF_MS: '50',
    LOG_LEVEL: 'warn',
    ...s3Env(s3, BUCKET),
  };
  workers = [startWorker(env), startWorker(env)];
  const started = await runCli(['backfill', 'movie', '--from', '2023-01-01', '--to', '2023-12-31', '--json'], env);
  expect(started.code, started.stderr).toBe(0);
  const { runId } = lastJsonLine<{ runId: string }>(started.stdout);

  const client = new Redis(redis.url);
  const runs = new RunStore(client, prefix);
  try {
    // Kill a random worker every 1–2 s while the run is in progress, replacing it at once.
    let kills = 0;
    let summary = await runs.summary(runId);
    const deadline = Date.now() + 150_000;
    while (summary.state !== 'completed' && summary.state !== 'failed' && Date.now() < deadline) {
      await sleep(1_000 + Math.floor(Math.random() * 1_000));
      summary = await runs.summary(runId);
      if (kills < 6 && summary.state === 'running') {
        const victim = Math.floor(Math.random() * workers.length);
        await workers[victim]?.kill();
        workers[victim] = startWorker(env);
        kills++;
      }
    }
    expect(kills).toBeGreaterThanOrEqual(3);
    expect(summary.state, summary.error).toBe('completed');
    expect(summary).toMatchObject({ discovered: 4_000, fetched: 3_997, notFound: 3, failed: 0, records: 3_997 });

    const lake = await readRun(env, 'movie', runId);
    const duplicated = [...lake.idCounts.values()].filter((n) => n > 1).length;
    const expected = tmdb.titles('movie').map((t) => t.id).filter((id) => ![5, 50, 500].includes(id));
    const lost = expected.filter((id) => !lake.idCounts.has(id)).length;
    expect({ lost, duplicated, landed: lake.idCounts.size }).toEqual({ lost: 0, duplicated: 0, landed: 3_997 });
    expect(lake.manifest.objects.map((o) => o.key).sort()).toEqual(lake.keys);
  } finally {
    client.disconnect();
  }
});
