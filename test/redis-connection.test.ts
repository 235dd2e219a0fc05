/**
 * REDIS_URL forms a production Redis needs: a password in the URL, and TLS (`rediss://`, a
 * private CA trusted through Node's NODE_EXTRA_CA_CERTS). A whole run goes through each, and the
 * password is never printed.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { startFakeTmdb, type FakeTmdb } from '../src/sandbox/server.js';
import { lastJsonLine, runCli, startWorker, type WorkerProcess } from './support/fleet-process.js';

const PASSWORD = 'redis-SECRET-pw-42';
let redis: RedisServer;
let tmdb: FakeTmdb;
let caFile: string;
let workers: WorkerProcess[] = [];

/** A throw-away CA and a server certificate for 127.0.0.1, made with openssl. */
function makeCertificates(): { certFile: string; keyFile: string; caFile: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-tls-'));
  const f = (name: string) => path.join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=tmdb-fleet test CA');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('ext.cnf'));
  return { certFile: f('server.pem'), keyFile: f('server.key'), caFile: f('ca.pem') };
}

beforeAll(async () => {
  const tls = makeCertificates();
  caFile = tls.caFile;
  redis = await startRedisServer({ requirepass: PASSWORD, tls });
  tmdb = await startFakeTmdb({ movie: { count: 300, from: '2017-01-01', to: '2017-12-31' } });
});
afterEach(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  workers = [];
});
afterAll(async () => {
  await tmdb?.close();
  await redis?.stop();
});

async function runThrough(redisUrl: string, extra: Record<string, string> = {}): Promise<void> {
  const env = {
    REDIS_URL: redisUrl,
    REDIS_PREFIX: `{conn-${randomUUID().slice(0, 8)}}`,
    TMDB_API_BASE_URL: tmdb.url,
    TMDB_ACCESS_TOKEN: 'test-token',
    TMDB_RATE_LIMIT_RPS: '500',
    BATCH_MAX_WAIT_MS: '200',
    LAKE_DIR: mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-lake-')),
    LOG_LEVEL: 'info',
    ...extra,
  };
  workers = [startWorker(env)];
  const res = await runCli(['backfill', 'movie', '--from', '2017-01-01', '--to', '2017-12-31', '--wait', '--json'], env);
  expect(res.code, res.stderr).toBe(0);
  expect(lastJsonLine<{ state: string; records: number }>(res.stdout)).toMatchObject({ state: 'completed', records: 300 });
  for (const text of [res.stdout, res.stderr, workers[0]?.output() ?? '']) expect(text).not.toContain(PASSWORD);
}

it('runs through a Redis that requires a password given in REDIS_URL', async () => {
  await runThrough(redis.url);
});

it('runs through rediss:// (TLS) with a private CA trusted by NODE_EXTRA_CA_CERTS', async () => {
  expect(redis.tlsUrl).toMatch(/^rediss:\/\//);
  await runThrough(redis.tlsUrl ?? '', { NODE_EXTRA_CA_CERTS: caFile });
});

it('fails fast with one clear line when the password is wrong', async () => {
  const wrong = redis.url.replace(encodeURIComponent(PASSWORD), 'wrong-pw');
  const res = await runCli(['status', 'some-run'], { REDIS_URL: wrong, LOG_LEVEL: 'silent' }, 30_000);
  expect(res.code).toBe(1);
  expect(res.stderr).toMatch(/WRONGPASS|NOAUTH|invalid username-password/i);
  expect(res.stderr).not.toContain('wrong-pw');
});
