/**
 * The dashboard over real HTTP, a real redis-server and the fleet's real queues.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startDashboard, type Dashboard } from '../src/dashboard/server.js';
import { openFleet, type Fleet } from '../src/fleet.js';
import { createLogger } from '../src/log.js';
import { QUEUE_NAMES } from '../src/queues.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';

function fleetOn(url: string): Fleet {
  const config = loadConfig({
    REDIS_URL: url,
    REDIS_PREFIX: `{t${randomBytes(6).toString('hex')}}`,
    LOG_LEVEL: 'silent',
  });
  return openFleet(config, createLogger(config), 'client');
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

describe('dashboard', () => {
  let redis: RedisServer;
  let fleet: Fleet;
  let open: Dashboard;
  let secured: Dashboard;
  const auth = { user: 'ops', password: 's3cret-pass' };

  beforeAll(async () => {
    redis = await startRedisServer();
    fleet = fleetOn(redis.url);
    open = await startDashboard(fleet, { host: '127.0.0.1', port: 0, auth: undefined });
    secured = await startDashboard(fleet, { host: '127.0.0.1', port: 0, auth });
  });

  afterAll(async () => {
    await open?.close();
    await secured?.close();
    await fleet?.close();
    await redis?.stop();
  });

  it('listens on the port it was given (0 = any) and reports its url', () => {
    expect(open.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(open.url).not.toMatch(/:0$/);
  });

  it('GET /healthz answers 200 while redis is up', async () => {
    const res = await fetch(`${open.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', redis: 'up' });
  });

  it('serves Bull Board at /', async () => {
    const res = await fetch(`${open.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toMatch(/bull-board|tmdb-fleet/i);
  });

  it('lists every fleet queue in the Bull Board API', async () => {
    const res = await fetch(`${open.url}/api/queues`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { queues: { name: string }[] };
    expect(body.queues.map((q) => q.name).sort()).toEqual([...QUEUE_NAMES].sort());
  });

  it('GET /metrics exports queue depths by state and process metrics', async () => {
    await fleet.queues.details.add('details', { runId: 'r-metrics', kind: 'movie', id: 603 });
    const res = await fetch(`${open.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toContain('tmdb_fleet_queue_jobs{queue="details",state="waiting"} 1');
    for (const queue of ['discover', 'details', 'write']) {
      for (const state of ['waiting', 'active', 'delayed', 'failed', 'completed']) {
        expect(text).toContain(`tmdb_fleet_queue_jobs{queue="${queue}",state="${state}"}`);
      }
    }
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  describe('with basic auth', () => {
    it('answers 401 with a Basic challenge without credentials', async () => {
      const res = await fetch(`${secured.url}/`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="tmdb-fleet"/);
      expect((await fetch(`${secured.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${secured.url}/api/queues`)).status).toBe(401);
    });

    it('answers 401 to a wrong password or user', async () => {
      const wrongPassword = await fetch(`${secured.url}/`, {
        headers: { authorization: basic(auth.user, 'nope') },
      });
      expect(wrongPassword.status).toBe(401);
      const wrongUser = await fetch(`${secured.url}/`, {
        headers: { authorization: basic('root', auth.password) },
      });
      expect(wrongUser.status).toBe(401);
      const garbage = await fetch(`${secured.url}/`, { headers: { authorization: 'Basic !!!' } });
      expect(garbage.status).toBe(401);
    });

    it('answers 200 to the right credentials', async () => {
      const headers = { authorization: basic(auth.user, auth.password) };
      const res = await fetch(`${secured.url}/`, { headers });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect((await fetch(`${secured.url}/metrics`, { headers })).status).toBe(200);
    });

    it('leaves /healthz open', async () => {
      const res = await fetch(`${secured.url}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok', redis: 'up' });
    });
  });

  it('refuses a non-loopback bind without auth', async () => {
    await expect(
      startDashboard(fleet, { host: '0.0.0.0', port: 0, auth: undefined }),
    ).rejects.toThrow(/DASHBOARD_USER/);
    await expect(
      startDashboard(fleet, { host: '0.0.0.0', port: 0, auth: undefined }),
    ).rejects.toMatchObject({ name: 'ConfigError', message: expect.stringMatching(/DASHBOARD_PASSWORD/) });
  });

  it('binds a non-loopback address when auth is set', async () => {
    const wide = await startDashboard(fleet, { host: '0.0.0.0', port: 0, auth });
    try {
      const port = new URL(wide.url).port;
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(401);
    } finally {
      await wide.close();
    }
  });

  it('GET /healthz answers 503 once redis is gone', async () => {
    const doomed = await startRedisServer();
    const lonely = fleetOn(doomed.url);
    const dashboard = await startDashboard(lonely, { host: '127.0.0.1', port: 0, auth: undefined });
    try {
      expect((await fetch(`${dashboard.url}/healthz`)).status).toBe(200);
      doomed.kill();
      await expect
        .poll(async () => (await fetch(`${dashboard.url}/healthz`)).status, { timeout: 10_000, interval: 200 })
        .toBe(503);
      const res = await fetch(`${dashboard.url}/healthz`);
      expect(await res.json()).toEqual({ status: 'degraded', redis: 'down' });
      const started = Date.now();
      await fetch(`${dashboard.url}/healthz`);
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await dashboard.close();
      await lonely.close();
      await doomed.stop();
    }
  });
});
