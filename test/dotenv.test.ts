/**
 * `.env` outside Docker: the CLI reads `./.env` like Compose does, and the process environment
 * wins over it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from './support/fleet-process.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';

let redis: RedisServer;
let dir: string;

beforeAll(async () => {
  redis = await startRedisServer();
  dir = mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-dotenv-'));
  writeFileSync(path.join(dir, '.env'), `# a comment\nBATCH_MAX_RECORDS=abc\nREDIS_URL="${redis.url}"\n`);
  // A run only this Redis knows: \`status\` finds it only through the file's REDIS_URL.
  const client = new Redis(redis.url);
  await client.hset(`{tmdb-fleet}:run:${RUN}`, {
    kind: 'movie',
    state: 'running',
    params: JSON.stringify({ kind: 'movie', params: {} }),
    createdAt: '2026-01-01T00:00:00.000Z',
    lakePrefix: 'raw/tmdb',
  });
  client.disconnect();
});

afterAll(async () => {
  await redis?.stop();
});

const RUN = 'movie-20260101T000000-0a0b0c0d';

it('reads ./.env: a bad value there stops the command with exit 2 naming the variable', async () => {
  expect(process.env.BATCH_MAX_RECORDS ?? process.env.REDIS_URL).toBeUndefined();
  const res = await runCli(['status', RUN], {}, 30_000, { cwd: dir });
  expect(res.code).toBe(2);
  expect(res.stderr).toMatch(/BATCH_MAX_RECORDS="abc": expected a whole number/);
});

it('lets the process environment win over ./.env, and takes the rest from the file', async () => {
  const res = await runCli(['status', RUN, '--json'], { BATCH_MAX_RECORDS: '50' }, 30_000, { cwd: dir });
  // The config is valid (BATCH_MAX_RECORDS from the environment) and REDIS_URL came from the
  // file: the run only the test's Redis knows is found.
  expect(res.code, res.stderr).toBe(0);
  expect(JSON.parse(res.stdout.trim())).toMatchObject({ runId: RUN, state: 'running' });
});
