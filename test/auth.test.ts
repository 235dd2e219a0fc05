/**
 * Honest failures: a credential TMDB refuses stops the run within seconds with one message
 * naming the variable, without a retry storm.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { startFakeTmdb, type FakeTmdb } from './support/fake-tmdb.js';
import { lastJsonLine, runCli, startWorker, type WorkerProcess } from './support/fleet-process.js';

let redis: RedisServer;
let tmdb: FakeTmdb;
let workers: WorkerProcess[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  tmdb = await startFakeTmdb({ movie: { count: 2_000, from: '2024-01-01', to: '2024-12-31' } });
});
afterEach(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  workers = [];
});
afterAll(async () => {
  await tmdb?.close();
  await redis?.stop();
});

const baseEnv = () => ({
  REDIS_URL: redis.url,
  REDIS_PREFIX: `{auth-${randomUUID().slice(0, 8)}}`,
  TMDB_API_BASE_URL: tmdb.url,
  TMDB_RATE_LIMIT_RPS: '500',
  LAKE_DIR: mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-lake-')),
  LOG_LEVEL: 'warn',
});

it('refuses to start a backfill with a bad token, before enqueueing anything', async () => {
  const e = { ...baseEnv(), TMDB_ACCESS_TOKEN: 'not-the-token' };
  tmdb.resetStats();
  const started = Date.now();
  const res = await runCli(['backfill', 'movie', '--from', '2024-01-01', '--to', '2024-01-31', '--wait'], e);
  expect(res.code).toBe(1);
  expect(res.stderr).toMatch(/TMDB refused the credential in TMDB_ACCESS_TOKEN/);
  expect(res.stderr).not.toContain('not-the-token');
  expect(res.stdout).toBe('');
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(tmdb.stats().requests).toBe(1);
});

it('fails a running run within seconds when the workers hold a refused token', async () => {
  const e = baseEnv();
  // The CLI's token is good, so the run starts; the workers' token was revoked.
  workers = [
    startWorker({ ...e, TMDB_ACCESS_TOKEN: 'revoked-token' }),
    startWorker({ ...e, TMDB_ACCESS_TOKEN: 'revoked-token' }),
  ];
  tmdb.resetStats();
  const started = Date.now();
  const res = await runCli(['backfill', 'movie', '--from', '2024-01-01', '--to', '2024-12-31', '--wait', '--json'], {
    ...e,
    TMDB_ACCESS_TOKEN: 'test-token',
  });
  expect(res.code).toBe(1);
  const summary = lastJsonLine<{ state: string; error: string; fetched: number }>(res.stdout);
  expect(summary.state).toBe('failed');
  expect(summary.error).toMatch(/TMDB_ACCESS_TOKEN/);
  expect(summary.fetched).toBe(0);
  expect(Date.now() - started).toBeLessThan(15_000);
  // No retry storm: the workers made a handful of refused requests, not thousands.
  expect(tmdb.stats().byStatus['401'] ?? 0).toBeLessThan(40);
  const output = workers.map((w) => w.output()).join('\n');
  expect(output).not.toContain('revoked-token');
});
