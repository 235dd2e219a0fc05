/**
 * Completeness past TMDB's 500-page cap when dates cannot help: a single day with more than
 * 10,000 titles is split by vote_count; what no filter can split is reported, never dropped
 * silently.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { startFakeTmdb, type FakeTitle, type FakeTmdb } from './support/fake-tmdb.js';
import { lastJsonLine, runCli, startWorker, type WorkerProcess } from './support/fleet-process.js';
import { readRun } from './support/lake-reader.js';

let redis: RedisServer;
let tmdb: FakeTmdb;
let workers: WorkerProcess[] = [];

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

beforeAll(async () => {
  redis = await startRedisServer();
  tmdb = await startFakeTmdb({ movie: { titles: crowdedDay }, tv: { titles: unsplittable } });
});
afterEach(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  workers = [];
});
afterAll(async () => {
  await tmdb?.close();
  await redis?.stop();
});

const env = () => ({
  REDIS_URL: redis.url,
  REDIS_PREFIX: `{cov-${randomUUID().slice(0, 8)}}`,
  TMDB_API_BASE_URL: tmdb.url,
  TMDB_ACCESS_TOKEN: 'test-token',
  TMDB_RATE_LIMIT_RPS: '2000',
  BATCH_MAX_RECORDS: '500',
  BATCH_MAX_WAIT_MS: '300',
  LAKE_DIR: mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-lake-')),
  LOG_LEVEL: 'error',
});

it('splits a single day of more than 10,000 titles by vote_count and gets every one', async () => {
  const e = env();
  workers = [startWorker(e), startWorker(e)];
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
  workers = [startWorker(e), startWorker(e)];
  const res = await runCli(['backfill', 'tv', '--from', DAY, '--to', DAY, '--wait', '--json'], e, 180_000);
  expect(res.code, res.stderr).toBe(0);
  const s = lastJsonLine<{ runId: string; state: string; records: number; uncovered: number }>(res.stdout);
  expect(s).toMatchObject({ state: 'completed', records: 10_000, uncovered: 50 });
  const lake = await readRun(e, 'tv', s.runId);
  expect(lake.idCounts.size).toBe(10_000);
  expect(lake.manifest.uncoveredWindows).toEqual([
    { window: `${DAY}_${DAY}_v0-0`, total: 10_050, reachable: 10_000, missed: 50 },
  ]);
});
