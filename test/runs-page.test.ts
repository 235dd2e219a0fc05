/**
 * The dashboard's runs pages over real HTTP (a real Redis, the fake TMDB, runs started by the
 * built CLI): a run's page offers cancel and resume, which act on the run and say so; a POST
 * from another site or to a read-only dashboard is refused and hides nothing it should not;
 * values are escaped; the manifest is served once the run ends; an unknown run is a 404.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startDashboard, type Dashboard } from '../src/dashboard/server.js';
import { openFleet, type Fleet } from '../src/fleet.js';
import { createLogger } from '../src/log.js';
import { runCli } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';

const h = useFleetHarness({ tmdb: { movie: { count: 300, from: '2019-01-01', to: '2019-12-31', seed: 31 } } });
const AUTH = { user: 'ops', password: 'runs-page-pw' };
const authorization = `Basic ${Buffer.from(`${AUTH.user}:${AUTH.password}`).toString('base64')}`;

describe('runs pages', () => {
  let env: Record<string, string>;
  let fleet: Fleet;
  let editable: Dashboard;
  let readOnly: Dashboard;
  let backfill = '';
  let search = '';

  const get = async (base: Dashboard, path: string) => {
    const res = await fetch(`${base.url}${path}`, { headers: { authorization } });
    return { status: res.status, text: await res.text() };
  };
  const post = (base: Dashboard, path: string, origin = base.url) =>
    fetch(`${base.url}${path}`, { method: 'POST', redirect: 'manual', headers: { authorization, origin } });

  beforeAll(async () => {
    env = h.env({ DASHBOARD_USER: AUTH.user, DASHBOARD_PASSWORD: AUTH.password });
    // No worker yet: both runs stay running.
    const started = await runCli(['backfill', 'movie', '--from', '2019-01-01', '--to', '2019-12-31'], env);
    expect(started.code, started.stderr).toBe(0);
    backfill = started.stdout.trim();
    const searched = await runCli(['search', 'movie', '--query', '<b>Bourne</b>'], env);
    expect(searched.code, searched.stderr).toBe(0);
    search = searched.stdout.trim();
    const config = loadConfig(env);
    fleet = openFleet(config, createLogger(config), 'worker');
    editable = await startDashboard(fleet, { host: '127.0.0.1', port: 0, auth: config.dashboard.auth });
    readOnly = await startDashboard(fleet, { host: '127.0.0.1', port: 0, auth: config.dashboard.auth, readOnly: true });
  });

  afterAll(async () => {
    await editable?.close();
    await readOnly?.close();
    await fleet?.close();
  });

  it('lists both runs, newest first, with state and progress, behind basic auth', async () => {
    expect((await fetch(`${editable.url}/runs`)).status).toBe(401);
    const { status, text } = await get(editable, '/runs');
    expect(status).toBe(200);
    expect(text.indexOf(search)).toBeLessThan(text.indexOf(backfill));
    expect(text).toMatch(new RegExp(`data-run="${backfill}"[\\s\\S]*?running[\\s\\S]*?0 / 300 titles`));
    expect(text).toContain('<meta http-equiv="refresh" content="5">');
  });

  it('escapes what a run was started with', async () => {
    const { text } = await get(editable, `/runs/${search}`);
    expect(text).toContain('&lt;b&gt;Bourne&lt;/b&gt;');
    expect(text).not.toContain('<b>Bourne</b>');
  });

  it('a read-only dashboard shows no action and refuses them', async () => {
    const { text } = await get(readOnly, `/runs/${backfill}`);
    expect(text).toContain('running');
    expect(text).not.toContain('Cancel run');
    expect(text).not.toContain('<form class="inline" method="post"');
    const res = await post(readOnly, `/runs/${backfill}/cancel`);
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/read-only/);
    expect(await fleet.runs.state(backfill)).toBe('running');
  });

  it('refuses a POST from another site', async () => {
    const res = await post(editable, `/runs/${backfill}/cancel`, 'http://evil.example');
    expect(res.status).toBe(403);
    expect(await fleet.runs.state(backfill)).toBe('running');
  });

  it('resumes and cancels a run from its page, and says what it did', async () => {
    const page = await get(editable, `/runs/${backfill}`);
    expect(page.text).toContain(`action="/runs/${backfill}/cancel"`);
    expect(page.text).toContain(`action="/runs/${backfill}/resume"`);

    const resumed = await post(editable, `/runs/${backfill}/resume`);
    expect(resumed.status).toBe(303);
    const after = await get(editable, resumed.headers.get('location') ?? '');
    expect(after.text).toMatch(/class="banner notice">resumed: \d+ dead letters retried, \d+ pages and \d+ titles enqueued again/);

    const cancelled = await post(editable, `/runs/${backfill}/cancel`);
    expect(cancelled.status).toBe(303);
    expect(await fleet.runs.state(backfill)).toBe('cancelled');
    const shown = await get(editable, cancelled.headers.get('location') ?? '');
    expect(shown.text).toMatch(/class="banner notice">cancelling: \d+ queued jobs removed/);
    expect(shown.text).toContain('state-cancelled');
    expect(shown.text).not.toContain('Cancel run');

    const again = await post(editable, `/runs/${backfill}/cancel`);
    const refused = await get(editable, again.headers.get('location') ?? '');
    expect(refused.text).toMatch(/class="banner error">run .* is already cancelled/);
  });

  it('serves the manifest once a worker has written it', async () => {
    expect((await get(editable, `/runs/${backfill}/manifest.json`)).status).toBe(404);
    h.startWorkers(env);
    await expect.poll(async () => (await get(editable, `/runs/${backfill}/manifest.json`)).status, { timeout: 30_000, interval: 500 }).toBe(200);
    const manifest = JSON.parse((await get(editable, `/runs/${backfill}/manifest.json`)).text) as { runId: string; state: string };
    expect(manifest).toMatchObject({ runId: backfill, state: 'cancelled' });
    const { text } = await get(editable, `/runs/${backfill}`);
    expect(text).toContain(`href="/runs/${backfill}/manifest.json"`);
    expect(text).not.toContain('http-equiv="refresh"');
  });

  it('counts a SIGKILLed worker as not alive on /metrics within 20 s, and keeps its last heartbeat', async () => {
    const metrics = async () => (await get(editable, '/metrics')).text;
    const alive = async () => Number(/^tmdb_fleet_workers_alive\{queue="details"\} (\d+)$/m.exec(await metrics())?.[1]);
    const [worker] = h.startWorkers(env);
    const lastSeen = new RegExp(`^tmdb_fleet_worker_last_seen_timestamp_seconds\\{worker="[^"]+:${worker?.child.pid}"\\} \\d+`, 'm');
    await expect.poll(metrics, { timeout: 10_000, interval: 250 }).toMatch(lastSeen);
    expect(await alive()).toBeGreaterThanOrEqual(1);
    await worker?.kill();
    const killedAt = Date.now();
    await expect.poll(alive, { timeout: 25_000, interval: 500 }).toBe(0);
    expect(Date.now() - killedAt).toBeLessThan(20_000);
    expect(await metrics()).toMatch(lastSeen);
  });

  it('answers 404 for a run nobody knows', async () => {
    const { status, text } = await get(editable, '/runs/movie-20200101T000000-deadbeef');
    expect(status).toBe(404);
    expect(text).toContain('Unknown run');
  });
});
