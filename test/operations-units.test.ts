/**
 * The pieces of the operations view on their own: endpoint templates (bounded metric labels),
 * a run's progress, rate and ETA as the runs page shows them, worker heartbeats in a real Redis,
 * and lake writes counted by the metered store over a real local lake.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { duration, runRow } from '../src/dashboard/run-view.js';
import { meteredStore } from '../src/lake/metered-store.js';
import { LocalStore } from '../src/lake/local-store.js';
import { isAlive, readWorkers, startHeartbeat, WORKER_FORGET_MS, WORKER_STALE_MS, workersKey } from '../src/metrics/heartbeat.js';
import { createProcessMetrics } from '../src/metrics/process.js';
import { runProgress, type RunListing } from '../src/runs/history.js';
import { endpointTemplate } from '../src/tmdb/client.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';

describe('endpointTemplate', () => {
  it.each([
    ['/movie/550', '/movie/{id}'],
    ['/tv/1399', '/tv/{id}'],
    ['/discover/movie', '/discover/movie'],
    ['/search/tv', '/search/tv'],
    ['/find/tt0137523', '/find/{external_id}'],
    ['/movie/550?append_to_response=external_ids', '/movie/{id}'],
  ])('%s → %s', (path, template) => {
    expect(endpointTemplate(path)).toBe(template);
  });
});

const listing = (over: Partial<RunListing>): RunListing => ({
  runId: 'movie-20260101T000000-00000000', kind: 'movie', source: 'discover', state: 'running', error: undefined,
  params: { kind: 'movie', params: {} }, createdAt: '2026-01-01T00:00:00.000Z', finishedAt: undefined, verdict: undefined,
  origin: 'redis', expected: 0, discovered: 0, fetched: 0, notFound: 0, failed: 0, pagesPlanned: 0, pagesDone: 0,
  pagesFailed: 0, objects: 0, records: 0, uncovered: 0, unmatched: 0, ...over,
});

describe('a run as the runs page shows it', () => {
  const start = Date.parse('2026-01-01T00:00:00.000Z');

  it('counts titles fetched, not found and failed against the larger of discovered and reachable', () => {
    expect(runProgress(listing({ expected: 1_000, discovered: 400, fetched: 300, notFound: 5, failed: 2 }))).toEqual({ done: 307, total: 1_000, unit: 'titles' });
    // Titles beyond the page cap are not waited for.
    expect(runProgress(listing({ expected: 10_400, uncovered: 400, discovered: 10_000, fetched: 10_000 }))).toEqual({ done: 10_000, total: 10_000, unit: 'titles' });
    expect(runProgress(listing({ kind: 'upload', pagesPlanned: 3, pagesDone: 1, pagesFailed: 1 }))).toEqual({ done: 2, total: 3, unit: 'files' });
    expect(runProgress(listing({ kind: 'sync', pagesPlanned: 11, copies: { copied: 4, skipped: 3, failed: 1 } }))).toEqual({ done: 8, total: 10, unit: 'objects' });
  });

  it('gives rate since start and the time left at that rate, for running runs only', () => {
    const row = runRow(listing({ expected: 1_000, discovered: 1_000, fetched: 250 }), start + 100_000);
    expect(row).toMatchObject({ done: 250, total: 1_000, percent: 25, rate: '2.5 titles/s', eta: '5m 00s', live: true });
    expect(runRow(listing({ expected: 100, discovered: 100, fetched: 100, state: 'finalizing' }), start + 10_000).eta).toBe('finishing');
    const done = runRow(listing({ state: 'completed', expected: 10, discovered: 10, fetched: 10, finishedAt: '2026-01-01T00:01:00.500Z' }), start + 1e9);
    expect(done).toMatchObject({ percent: 100, rate: '-', eta: '-', live: false, finished: '2026-01-01 00:01:00Z' });
    expect(runRow(listing({}), start + 5_000)).toMatchObject({ rate: '-', eta: '-', percent: 0 });
    expect([duration(12.4), duration(200), duration(3_720)]).toEqual(['12s', '3m 20s', '1h 02m']);
  });
});

describe('worker heartbeats', () => {
  let server: RedisServer;
  let redis: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('says who is alive, forgets the long silent, and leaves no beat after a clean stop', async () => {
    const prefix = '{hb}';
    const beat = startHeartbeat(redis, prefix, ['discover', 'details'], (err) => {
      throw err;
    });
    beat.update({ metricsUrl: 'http://127.0.0.1:9464/metrics' });
    await expect.poll(async () => (await readWorkers(redis, prefix)).length).toBe(1);
    const [me] = await readWorkers(redis, prefix);
    expect(me).toMatchObject({ pid: process.pid, queues: ['discover', 'details'], metricsUrl: 'http://127.0.0.1:9464/metrics' });
    if (!me) throw new Error('no beat');
    expect(isAlive(me, me.lastSeen + WORKER_STALE_MS)).toBe(true);
    expect(isAlive(me, me.lastSeen + WORKER_STALE_MS + 1)).toBe(false);
    // A worker silent for over an hour (SIGKILLed long ago) is dropped from Redis.
    await redis.hset(workersKey(prefix), 'gone:1', JSON.stringify({ ...me, id: 'gone:1', lastSeen: Date.now() - WORKER_FORGET_MS - 1 }));
    expect((await readWorkers(redis, prefix)).map((w) => w.id)).toEqual([me.id]);
    expect(await redis.hexists(workersKey(prefix), 'gone:1')).toBe(0);
    await beat.stop();
    expect(await readWorkers(redis, prefix)).toEqual([]);
  });
});

describe('metered lake', () => {
  it('counts PUT bytes and latency of successful writes, and failures apart', async () => {
    const metrics = createProcessMetrics();
    const dir = mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-metered-'));
    const store = meteredStore(new LocalStore(dir), metrics);
    await store.put('raw/a.json', '{"é":1}', 'application/json');
    await store.put('raw/b.bin', new Uint8Array(10), 'application/octet-stream');
    await expect(store.put('../escape', 'x', 'text/plain')).rejects.toThrow(/escapes/);
    expect(await store.list('raw/')).toEqual(['raw/a.json', 'raw/b.bin']);
    const text = await metrics.registry.metrics();
    expect(text).toContain('tmdb_fleet_lake_written_bytes_total 18');
    expect(text).toContain('tmdb_fleet_lake_put_duration_seconds_count{outcome="ok"} 2');
    expect(text).toContain('tmdb_fleet_lake_put_duration_seconds_count{outcome="error"} 1');
  });
});
