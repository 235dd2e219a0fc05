/**
 * Secrets stay secret at rest and in the browser: after runs (one with dead letters, one that
 * fails on a refused token), no secret is anywhere in Redis (job data, failed reasons, run
 * state), in the lake, or in what the dashboard serves. The dashboard refuses to start beyond
 * loopback without credentials, from the CLI too, and has a read-only mode.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.js';
import { startDashboard } from '../src/dashboard/server.js';
import { openFleet } from '../src/fleet.js';
import { createLogger } from '../src/log.js';
import { QUEUE_NAMES } from '../src/queues.js';
import { lastJsonLine, runCli } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';

const TOKEN = 'tok-SECRET-at-rest-9f1';
const BAD_TOKEN = 'revoked-SECRET-at-rest-3c2';
const DASHBOARD_PASSWORD = 'dash-SECRET-pw-77';
const SECRETS = [TOKEN, BAD_TOKEN, DASHBOARD_PASSWORD];

const h = useFleetHarness({ tmdb: { token: TOKEN, movie: { count: 400, from: '2016-01-01', to: '2016-12-31' } } });

/** Every string value stored under the prefix: strings, hashes, lists, sets, zsets, streams. */
async function everyValue(client: Redis, prefix: string): Promise<string> {
  const out: string[] = [];
  for (const key of await client.keys(`${prefix}*`)) {
    const type = await client.type(key);
    if (type === 'string') out.push((await client.getBuffer(key))?.toString('latin1') ?? '');
    else if (type === 'hash') out.push(JSON.stringify(await client.hgetall(key)));
    else if (type === 'list') out.push(JSON.stringify(await client.lrange(key, 0, -1)));
    else if (type === 'set') out.push(JSON.stringify(await client.smembers(key)));
    else if (type === 'zset') out.push(JSON.stringify(await client.zrange(key, 0, -1)));
    else if (type === 'stream') out.push(JSON.stringify(await client.xrange(key, '-', '+')));
    out.push(key);
  }
  return out.join('\n');
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

it('leaves no secret in Redis, the lake or the dashboard', async () => {
  const prefix = `{sec-${randomUUID().slice(0, 8)}}`;
  const lakeDir = mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-lake-'));
  const env = {
    REDIS_URL: h.redis.url,
    REDIS_PREFIX: prefix,
    TMDB_API_BASE_URL: h.tmdb.url,
    TMDB_ACCESS_TOKEN: TOKEN,
    TMDB_RATE_LIMIT_RPS: '500',
    BATCH_MAX_WAIT_MS: '200',
    JOB_ATTEMPTS: '2',
    JOB_BACKOFF_MS: '20',
    LAKE_DIR: lakeDir,
    LOG_LEVEL: 'debug',
  };
  // A completed run with dead letters (failed reasons are stored in Redis)...
  h.tmdb.configure({ failingIds: h.tmdb.titles('movie').slice(0, 3).map((t) => t.id) });
  const first = h.startWorkers(env);
  // Its 3 failed titles are a shortfall under RUN_FAILURE_THRESHOLD: --allow-partial makes that exit 0.
  const ok = await runCli(['backfill', 'movie', '--from', '2016-01-01', '--to', '2016-12-31', '--wait', '--json', '--allow-partial'], env);
  expect(ok.code, ok.stderr).toBe(0);
  h.tmdb.configure({ failingIds: [] });
  await Promise.all(first.map((w) => w.kill()));
  // ...and a run failed by a revoked token (its error is stored in the run).
  h.startWorkers({ ...env, TMDB_ACCESS_TOKEN: BAD_TOKEN });
  const failed = await runCli(['backfill', 'movie', '--from', '2016-01-01', '--to', '2016-06-30', '--wait', '--json'], env);
  expect(failed.code).toBe(1);

  const client = new Redis(h.redis.url);
  const stored = await everyValue(client, prefix);
  client.disconnect();
  expect(stored).toContain('TMDB answered 500');
  expect(stored).toContain('TMDB_ACCESS_TOKEN');
  for (const s of SECRETS) expect(stored).not.toContain(s);

  const lake = filesUnder(lakeDir)
    .map((f) => (f.endsWith('.gz') ? gunzipSync(readFileSync(f)) : readFileSync(f)).toString('utf8'))
    .join('\n');
  expect(lake).toContain('"objects"');
  for (const s of SECRETS) expect(lake).not.toContain(s);

  const config = loadConfig({ ...env, DASHBOARD_USER: 'ops', DASHBOARD_PASSWORD });
  const fleet = openFleet(config, createLogger(config), 'client');
  const dashboard = await startDashboard(fleet, { host: '127.0.0.1', port: 0, auth: config.dashboard.auth });
  try {
    const authorization = `Basic ${Buffer.from(`ops:${DASHBOARD_PASSWORD}`).toString('base64')}`;
    const pages = await Promise.all(
      [
        '/',
        '/api/queues',
        '/api/queues?activeQueue=details&status=failed',
        '/api/redis/stats',
        '/runs',
        ...[ok, failed].map((r) => `/runs/${lastJsonLine<{ runId: string }>(r.stdout).runId}`),
        `/runs/${lastJsonLine<{ runId: string }>(ok.stdout).runId}/manifest.json`,
      ].map(async (p) => {
        const res = await fetch(`${dashboard.url}${p}`, { headers: { authorization } });
        expect(res.status, p).toBe(200);
        return res.text();
      }),
    );
    const served = pages.join('\n');
    expect(served).toContain('details');
    expect(served).toContain('TMDB answered 500'); // the dead letters of the first run
    expect(served).toContain('TMDB_ACCESS_TOKEN'); // why the second run failed
    for (const s of SECRETS) expect(served).not.toContain(s);
  } finally {
    await dashboard.close();
    await fleet.close();
  }
});

it('refuses to start the dashboard beyond loopback without credentials, from the CLI', async () => {
  const res = await runCli(['dashboard', '--port', '0'], { REDIS_URL: h.redis.url, DASHBOARD_HOST: '0.0.0.0', LOG_LEVEL: 'silent' }, 20_000);
  expect(res.code).toBe(2);
  expect(res.stderr).toMatch(/DASHBOARD_USER/);
  expect(res.stderr).toMatch(/DASHBOARD_PASSWORD/);
});

it('serves a read-only Bull Board when asked', async () => {
  const config = loadConfig({ REDIS_URL: h.redis.url, REDIS_PREFIX: `{ro-${randomUUID().slice(0, 8)}}`, LOG_LEVEL: 'silent' });
  const fleet = openFleet(config, createLogger(config), 'client');
  const dashboard = await startDashboard(fleet, { host: '127.0.0.1', port: 0, auth: undefined, readOnly: true });
  try {
    const body = (await (await fetch(`${dashboard.url}/api/queues`)).json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    expect(body.queues.map((q) => [q.name, q.readOnlyMode]).sort()).toEqual(
      [...QUEUE_NAMES].sort().map((name) => [name, true]),
    );
  } finally {
    await dashboard.close();
    await fleet.close();
  }
});
