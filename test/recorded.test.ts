/**
 * The main job on real input: the fake TMDB serves the recorded TMDB documents in
 * ../shared/fixtures/tmdb (discover pages, Fight Club, Alien, The Bourne Identity, Game of
 * Thrones); the raw zone must hold them exactly as TMDB sent them, with their external_ids.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { startFakeTmdb, type FakeTmdb } from './support/fake-tmdb.js';
import { lastJsonLine, runCli, startWorker, type WorkerProcess } from './support/fleet-process.js';
import { readRun } from './support/lake-reader.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../shared/fixtures/tmdb');
const fixture = (name: string) => JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as Record<string, unknown>;

let redis: RedisServer;
let tmdb: FakeTmdb;
let workers: WorkerProcess[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  tmdb = await startFakeTmdb({ recorded: true });
});
afterEach(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  workers = [];
});
afterAll(async () => {
  await tmdb?.close();
  await redis?.stop();
});

function env(): Record<string, string> {
  return {
    REDIS_URL: redis.url,
    REDIS_PREFIX: `{rec-${randomUUID().slice(0, 8)}}`,
    TMDB_API_BASE_URL: tmdb.url,
    TMDB_ACCESS_TOKEN: 'test-token',
    TMDB_RATE_LIMIT_RPS: '200',
    BATCH_MAX_WAIT_MS: '200',
    LAKE_DIR: mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-lake-')),
    LOG_LEVEL: 'warn',
  };
}

it('lands the recorded movie documents unchanged, with external_ids, in the local lake', async () => {
  const e = env();
  workers = [startWorker(e), startWorker(e)];
  const res = await runCli(['backfill', 'movie', '--wait', '--json'], e);
  expect(res.code, res.stderr).toBe(0);
  expect(res.stderr).toContain('S3_BUCKET is unset');
  const summary = lastJsonLine<{ runId: string; records: number; state: string }>(res.stdout);
  expect(summary.state).toBe('completed');
  expect(summary.records).toBe(tmdb.titles('movie').length);

  const lake = await readRun(e, 'movie', summary.runId);
  const byId = new Map(lake.records.map((r) => [Number(r.doc.id), r.doc]));
  const { id: _id, ...externalIds550 } = fixture('movie-550-external_ids.json');
  expect(byId.get(550)).toEqual({ ...fixture('movie-550.json'), external_ids: externalIds550 });
  const bourne = byId.get(2501);
  expect(bourne).toMatchObject(fixture('movie-2501.json'));
  expect(bourne).toHaveProperty('external_ids.imdb_id', 'tt0258463');
  expect(byId.get(348)).toMatchObject(fixture('movie-348.json'));
  const page1 = fixture('discover-movie-page1.json') as { results: { id: number }[] };
  for (const item of page1.results) expect(byId.has(item.id)).toBe(true);
});

it('lands Game of Thrones as recorded with append_to_response=external_ids', async () => {
  const e = env();
  workers = [startWorker(e)];
  const res = await runCli(['backfill', 'tv', '--wait', '--json'], e);
  expect(res.code, res.stderr).toBe(0);
  const summary = lastJsonLine<{ runId: string }>(res.stdout);
  const lake = await readRun(e, 'tv', summary.runId);
  const got = lake.records.find((r) => r.doc.id === 1399)?.doc;
  expect(got).toEqual(fixture('tv-1399-append-external_ids.json'));
});
