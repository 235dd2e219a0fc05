/**
 * A lake that cannot be written stops everything at start, with one clear message and before
 * any TMDB request: a missing bucket, credentials S3 denies, a worker pointed at a missing bucket.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { startS3Server, s3Env, type S3Server } from './support/s3-server.js';
import { startFakeTmdb, type FakeTmdb } from './support/fake-tmdb.js';
import { startS3FaultProxy } from './support/s3-fault-proxy.js';
import { cliArgs, runCli } from './support/fleet-process.js';

let redis: RedisServer;
let s3: S3Server;
let tmdb: FakeTmdb;

beforeAll(async () => {
  redis = await startRedisServer();
  s3 = await startS3Server(['present']);
  tmdb = await startFakeTmdb({ movie: { count: 40, from: '2015-01-01', to: '2015-12-31' } });
});
afterAll(async () => {
  await tmdb?.close();
  await s3?.close();
  await redis?.stop();
});

const env = (extra: Record<string, string>) => ({
  REDIS_URL: redis.url,
  REDIS_PREFIX: `{pre-${randomUUID().slice(0, 8)}}`,
  TMDB_API_BASE_URL: tmdb.url,
  TMDB_ACCESS_TOKEN: 'test-token',
  LOG_LEVEL: 'silent',
  ...s3Env(s3, 'present'),
  ...extra,
});

it('refuses a backfill into a missing bucket before any TMDB request', async () => {
  tmdb.resetStats();
  const res = await runCli(['backfill', 'movie', '--from', '2015-01-01', '--to', '2015-12-31'], env({ S3_BUCKET: 'no-such-bucket' }));
  expect(res.code).toBe(1);
  expect(res.stderr).toContain('S3 bucket "no-such-bucket" (S3_BUCKET) does not exist');
  expect(tmdb.stats().requests).toBe(0);
});

it('refuses credentials S3 denies, naming the bucket, without printing the secret', async () => {
  const proxy = await startS3FaultProxy(s3.endpoint, { accessDenied: true });
  try {
    tmdb.resetStats();
    const res = await runCli(['backfill', 'movie'], env({ AWS_ENDPOINT_URL_S3: proxy.endpoint, AWS_SECRET_ACCESS_KEY: 'denied-SECRET-key-1' }));
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('S3 bucket "present" (S3_BUCKET) denies access to these credentials');
    expect(res.stderr).not.toContain('denied-SECRET-key-1');
    expect(tmdb.stats().requests).toBe(0);
  } finally {
    await proxy.close();
  }
});

it('stops a worker at start when its bucket is missing, exit code 1 within seconds', async () => {
  const child = spawn(process.execPath, cliArgs('worker'), {
    env: { ...process.env, ...env({ S3_BUCKET: 'no-such-bucket' }) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  expect(code).toBe(1);
  expect(stderr).toContain('no-such-bucket');
});
