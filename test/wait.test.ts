/**
 * `--wait` ends as soon as the run does: the run store publishes every change of a run's state,
 * and the CLI's wait wakes on it instead of sleeping out its poll interval.
 */
import { PassThrough } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { watchRun } from '../src/commands/progress.js';
import { openRunStore } from '../src/runs/store.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

it('returns within 1 s of the run ending (not after its 10 s poll interval)', async () => {
  const runs = openRunStore(redis, '{wait-test}');
  const runId = 'movie-20261122T000000-0000beef';
  expect(await runs.create(runId, { kind: 'movie', params: {} }, { lakePrefix: 'raw/tmdb' })).toBeUndefined();
  const stream = new PassThrough() as unknown as NodeJS.WriteStream;
  const waiting = watchRun(runs, runId, { intervalMs: 10_000, stream });
  await new Promise((r) => setTimeout(r, 500));
  const ended = Date.now();
  expect(await runs.transition(runId, { from: 'running', to: 'completed', finish: true })).toBe(true);
  const summary = await waiting;
  expect(summary.state).toBe('completed');
  // Typically ~5 ms; the bound leaves room for a loaded CI machine, 10× under the interval.
  expect(Date.now() - ended).toBeLessThan(1_000);
});
