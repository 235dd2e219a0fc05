/**
 * No secret is ever printed: real worker and backfill processes against the fake TMDB over
 * HTTP (wrong and right credentials, Bearer token and api_key in the URL, LOG_LEVEL=debug),
 * and the logger itself with a captured destination. `npm run build` must run first.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { DestinationStream } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger, scrubSecrets } from '../src/log.js';
import { startFakeTmdb, type FakeTmdb } from '../src/sandbox/server.js';
import { lastJsonLine, runCli, startWorker, type WorkerProcess } from './support/fleet-process.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { until } from './support/until.js';

const TOKEN = 'tok-SECRET-abc123';
const WRONG_TOKEN = 'wrong-SECRET-999';
const WRONG_KEY = 'key-SECRET-777';

let redis: RedisServer;
let tmdb: FakeTmdb;
let lakeDir: string;
let workers: WorkerProcess[] = [];

/** Fleet environment with a local lake and no credential; `extra` adds one. */
function fleetEnv(extra: Record<string, string>): Record<string, string> {
  return {
    REDIS_URL: redis.url,
    REDIS_PREFIX: `{t-${randomUUID().slice(0, 8)}}`,
    TMDB_API_BASE_URL: tmdb.url,
    TMDB_ACCESS_TOKEN: '',
    TMDB_API_KEY: '',
    TMDB_RATE_LIMIT_RPS: '1000',
    S3_BUCKET: '',
    LAKE_DIR: lakeDir,
    BATCH_MAX_RECORDS: '10',
    BATCH_MAX_WAIT_MS: '100',
    JOB_BACKOFF_MS: '50',
    LOG_LEVEL: 'debug',
    ...extra,
  };
}

/** Waits until `check` holds (polled every 50 ms), at most `timeoutMs`. */
async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  await until(what, timeoutMs, check, 50);
}

/** Starts a worker process and waits until its workers run. */
async function worker(env: Record<string, string>): Promise<WorkerProcess> {
  const w = startWorker(env);
  workers.push(w);
  await waitFor('workers started', () => w.output().includes('workers started'));
  return w;
}

/** The text of every file of the local lake (data objects gunzipped). */
function lakeText(): string {
  let text = '';
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else text += p.endsWith('.gz') ? gunzipSync(readFileSync(p)).toString('utf8') : readFileSync(p, 'utf8');
    }
  };
  walk(lakeDir);
  return text;
}

beforeAll(async () => {
  redis = await startRedisServer();
  tmdb = await startFakeTmdb({ token: TOKEN, movie: { count: 40, from: '2024-01-01', to: '2024-01-31', seed: 3 } });
  lakeDir = mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-secrets-'));
});

afterEach(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  workers = [];
});

afterAll(async () => {
  await tmdb?.close();
  await redis?.stop();
  if (lakeDir) rmSync(lakeDir, { recursive: true, force: true });
});

describe('processes never print a secret', () => {
  it('(a) a wrong TMDB_ACCESS_TOKEN: the backfill fails naming the variable, never its value', async () => {
    const env = fleetEnv({ TMDB_ACCESS_TOKEN: WRONG_TOKEN });
    const w = await worker(env);
    const r = await runCli(['backfill', 'movie', '--yes'], env, 30_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('TMDB_ACCESS_TOKEN');
    expect(r.stderr).toMatch(/401/);
    await w.stop();
    for (const text of [r.stdout, r.stderr, w.output()]) {
      expect(text).not.toContain(WRONG_TOKEN);
      expect(text).not.toContain(TOKEN);
    }
  });

  it('(a) a worker with a wrong token fails a run at debug level without printing either token', async () => {
    const prefix = `{t-${randomUUID().slice(0, 8)}}`;
    const w = await worker(fleetEnv({ TMDB_ACCESS_TOKEN: WRONG_TOKEN, REDIS_PREFIX: prefix }));
    // The backfill itself holds the right token (its first discover request succeeds).
    const env = fleetEnv({ TMDB_ACCESS_TOKEN: TOKEN, REDIS_PREFIX: prefix });
    const r = await runCli(['backfill', 'movie', '--yes', '--wait', '--json'], env, 30_000);
    expect(r.code).toBe(1);
    const summary = lastJsonLine<{ state: string; error?: string }>(r.stdout);
    expect(summary.state).toBe('failed');
    expect(summary.error).toContain('TMDB_ACCESS_TOKEN');
    await w.stop();
    // The worker met the 401 and said so.
    expect(w.output()).toContain('TMDB_ACCESS_TOKEN');
    for (const text of [r.stdout, r.stderr, w.output()]) {
      expect(text).not.toContain(WRONG_TOKEN);
      expect(text).not.toContain(TOKEN);
    }
  });

  it('(b) a wrong TMDB_API_KEY (sent in the URL query) is never printed', async () => {
    const env = fleetEnv({ TMDB_API_KEY: WRONG_KEY });
    const w = await worker(env);
    const r = await runCli(['backfill', 'movie', '--yes'], env, 30_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('TMDB_API_KEY');
    await w.stop();
    for (const text of [r.stdout, r.stderr, w.output()]) expect(text).not.toContain(WRONG_KEY);
  });

  it('(b) a whole run on an api_key at debug level prints and stores no key', async () => {
    const env = fleetEnv({ TMDB_API_KEY: TOKEN });
    const w = await worker(env);
    const r = await runCli(['backfill', 'movie', '--yes', '--wait', '--json'], env, 30_000);
    expect(r.code).toBe(0);
    const summary = lastJsonLine<{ state: string; fetched: number; records: number }>(r.stdout);
    expect(summary).toMatchObject({ state: 'completed', fetched: 40, records: 40 });
    await w.stop();
    for (const text of [r.stdout, r.stderr, w.output()]) expect(text).not.toContain(TOKEN);
    const lake = lakeText();
    expect(lake).toContain('"id"'); // the lake holds the run's documents...
    expect(lake).not.toContain(TOKEN); // ...and not the key they were fetched with
  });
});

describe('the logger never writes a secret', () => {
  function capture(): { lines: string[]; destination: DestinationStream } {
    const lines: string[] = [];
    return { lines, destination: { write: (line: string) => void lines.push(line) } };
  }

  const bearerConfig = loadConfig({ TMDB_ACCESS_TOKEN: TOKEN, LOG_LEVEL: 'debug' });
  const keyConfig = loadConfig({ TMDB_API_KEY: WRONG_KEY, LOG_LEVEL: 'debug' });

  it('redacts an authorization header', () => {
    const { lines, destination } = capture();
    createLogger(bearerConfig, destination).info({ headers: { authorization: `Bearer ${TOKEN}` } }, 'request sent');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('request sent');
    expect(lines[0]).not.toContain(TOKEN);
  });

  it('scrubs the token from an authorization header nested where no redact path reaches', () => {
    const { lines, destination } = capture();
    createLogger(bearerConfig, destination).debug({ a: { b: { c: { Authorization: TOKEN } } } }, 'deep');
    expect(lines[0]).toContain('deep');
    expect(lines[0]).not.toContain(TOKEN);
  });

  it('scrubs the token from an Error message and stack', () => {
    const { lines, destination } = capture();
    const log = createLogger(bearerConfig, destination);
    log.error({ err: new Error(`upstream rejected ${TOKEN}`) }, 'job failed');
    log.error(new Error(`plain ${TOKEN}`));
    log.warn(`in the message ${TOKEN}`);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain('upstream rejected');
    for (const line of lines) expect(line).not.toContain(TOKEN);
  });

  it('scrubs api_key from a URL, keeping the rest of it', () => {
    const { lines, destination } = capture();
    const log = createLogger(bearerConfig, destination); // the key is not even configured
    log.debug({ url: `https://api.themoviedb.org/3/movie/550?api_key=${WRONG_KEY}&page=1` }, 'GET');
    log.info(`GET /3/discover/movie?page=2&api_key=${WRONG_KEY}`);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('page=1');
    for (const line of lines) expect(line).not.toContain(WRONG_KEY);
  });

  it('scrubs a configured api key wherever it appears', () => {
    const { lines, destination } = capture();
    createLogger(keyConfig, destination).error({ detail: `key ${WRONG_KEY} was refused` }, 'auth');
    expect(lines[0]).toContain('was refused');
    expect(lines[0]).not.toContain(WRONG_KEY);
  });

  it('scrubs S3 credentials and the dashboard password', () => {
    const config = loadConfig({
      S3_BUCKET: 'lake',
      AWS_ACCESS_KEY_ID: 'AKIA-SECRET-ID',
      AWS_SECRET_ACCESS_KEY: 'aws-SECRET-key',
      DASHBOARD_USER: 'admin',
      DASHBOARD_PASSWORD: 'dash-SECRET-pw',
      LOG_LEVEL: 'info',
    });
    const { lines, destination } = capture();
    const log = createLogger(config, destination);
    log.info({ credentials: config.lake.kind === 's3' ? config.lake.credentials : undefined }, 'lake');
    log.warn({ note: 'login with dash-SECRET-pw failed; key aws-SECRET-key / AKIA-SECRET-ID' }, 'dashboard');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).not.toMatch(/-SECRET-/);
  });

  it('scrubs a password whose characters JSON escapes', () => {
    const password = 'p"w\\SECRET-q';
    const config = loadConfig({ DASHBOARD_USER: 'admin', DASHBOARD_PASSWORD: password, LOG_LEVEL: 'info' });
    const { lines, destination } = capture();
    createLogger(config, destination).warn(`basic auth failed for admin:${password}`);
    expect(lines).toHaveLength(1);
    const msg = (JSON.parse(lines[0]!) as { msg: string }).msg;
    expect(msg).toContain('basic auth failed');
    expect(msg).not.toContain(password);
  });
});

describe('scrubSecrets', () => {
  it.each([
    ['a configured secret', `token ${TOKEN} here`, [TOKEN], 'token [REDACTED] here'],
    ['every occurrence', `${TOKEN}/${TOKEN}`, [TOKEN], '[REDACTED]/[REDACTED]'],
    ['api_key in a query', `/3/movie/1?api_key=${WRONG_KEY}&page=1`, [], '/3/movie/1?api_key=[REDACTED]&page=1'],
    ['API_KEY in any case', `?API_KEY=${WRONG_KEY}`, [], '?API_KEY=[REDACTED]'],
    ['api_key last in a quoted URL', `"u":"/x?api_key=${WRONG_KEY}"`, [], '"u":"/x?api_key=[REDACTED]"'],
    ['a Bearer credential', 'authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig', [], 'authorization: Bearer [REDACTED]'],
    ['nothing secret', 'page=1 total_results=20', [TOKEN], 'page=1 total_results=20'],
  ])('%s', (_label, input, secrets, expected) => {
    expect(scrubSecrets(input, secrets)).toBe(expected);
  });
});
