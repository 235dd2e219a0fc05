/**
 * Redis going away, seen from the processes a user runs: a CLI following a run waits for Redis
 * to come back (saying so once, never printing the password) and still prints its summary; it
 * gives up after REDIS_WAIT_MS with one line; a CLI with nothing listening on REDIS_URL fails in
 * one line within seconds; workers SIGTERMed while Redis is down still exit within their
 * shutdown deadline. Redis runs with AOF (fsync always) and a password, and is SIGKILLed and
 * restarted from its AOF, as in production.
 */
import { createServer } from 'node:net';
import { once } from 'node:events';
import { expect, it } from 'vitest';
import { lastJsonLine, runCli, startCli } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';
import { readRun } from './support/lake-reader.js';
import { startRedisServer } from './support/redis-server.js';
import { SHUTDOWN_DEADLINE_MS } from '../src/workers/index.js';
import { until } from './support/until.js';

const PASSWORD = 'outage-SECRET-pw-7';
const TITLES = 1_200;
const YEAR = ['--from', '2016-01-01', '--to', '2016-12-31'];
/** What a loaded 2-core machine may add to the deadline: signal delivery and process exit. */
const EXIT_SLACK_MS = 2_000;

const h = useFleetHarness({
  redis: { appendonly: true, appendfsync: 'always', requirepass: PASSWORD },
  tmdb: { movie: { count: TITLES, from: '2016-01-01', to: '2016-12-31', seed: 21 }, seed: 22 },
});
const fleetEnv = (extra: Record<string, string> = {}) =>
  h.env({ TMDB_RATE_LIMIT_RPS: '200', BATCH_MAX_RECORDS: '50', JOB_BACKOFF_MS: '50', ...extra });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `check` holds (polled every 25 ms), at most `timeoutMs`. */
async function waitFor(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  await until(what, timeoutMs, check, 25);
}

/** stderr lines that talk about Redis (the CLI's own lines and any log line mentioning it). */
const redisLines = (stderr: string) => stderr.split('\n').filter((l) => /redis/i.test(l));
const WAITING = /^tmdb-fleet: lost Redis at 127\.0\.0\.1:\d+ \(REDIS_URL\): .+; waiting up to \d+ s for it to come back \(REDIS_WAIT_MS\)$/;
const BACK = /^tmdb-fleet: Redis at 127\.0\.0\.1:\d+ is back after \d+\.\d s$/;

async function expectEveryTitleOnce(env: Record<string, string>, runId: string): Promise<void> {
  const lake = await readRun(env, 'movie', runId);
  expect(lake.idCounts.size).toBe(TITLES);
  expect([...lake.idCounts.values()].filter((n) => n !== 1)).toEqual([]);
  expect(lake.manifest.objects.reduce((n, o) => n + o.records, 0)).toBe(TITLES);
}

it('backfill --wait follows a run through a Redis restart: says once it waits, prints its summary last, exit 0, every title once; workers log the outage once', async () => {
  h.tmdb.configure({ latencyMs: 0 });
  h.tmdb.resetStats();
  const env = fleetEnv();
  const workers = h.startWorkers(env, 2);
  const cli = startCli(['backfill', 'movie', ...YEAR, '--wait', '--json'], env, 150_000);
  await waitFor('a fifth of the titles requested', () => h.tmdb.stats().detailsRequests >= TITLES / 5);
  h.redis.kill();
  const requestedAtKill = h.tmdb.stats().detailsRequests;
  await waitFor('the CLI saying it waits for Redis', () => WAITING.test(redisLines(cli.stderr())[0] ?? ''), 5_000);
  await sleep(3_000);
  await h.redis.restart();
  const res = await cli.result;

  expect(requestedAtKill).toBeLessThan(TITLES * 0.8);
  expect(res.code, res.stderr).toBe(0);
  const summary = lastJsonLine<{ runId: string; state: string; records: number; failed: number }>(res.stdout);
  expect(summary).toMatchObject({ state: 'completed', records: TITLES, failed: 0 });
  const lines = redisLines(res.stderr);
  expect(lines, res.stderr).toHaveLength(2);
  expect(lines[0]).toMatch(WAITING);
  expect(lines[0]).toContain(`127.0.0.1:${h.redis.port} (REDIS_URL)`);
  expect(lines[1]).toMatch(BACK);
  expect(res.stderr + res.stdout).not.toContain(PASSWORD);
  await expectEveryTitleOnce(env, summary.runId);
  // Each worker logs the outage once, not once per reconnection attempt and per queue.
  for (const w of workers) {
    expect(w.output().split('\n').filter((l) => /ECONN|lost Redis/.test(l)), w.output()).toEqual([
      expect.stringContaining(`lost Redis at 127.0.0.1:${h.redis.port} (REDIS_URL)`),
    ]);
    expect(w.output()).not.toContain(PASSWORD);
  }
});

it('workers SIGTERMed while Redis is down exit within the shutdown deadline; the followed run still lands every title once', async () => {
  h.tmdb.configure({ latencyMs: 1_500 });
  const env = fleetEnv();
  const workers = h.startWorkers(env, 2);
  const cli = startCli(['backfill', 'movie', ...YEAR, '--wait', '--json'], env, 150_000);
  await waitFor('details requests in flight', () => h.tmdb.stats().detailsRequests >= 40 && h.tmdb.inFlight() >= 8);
  h.redis.kill();
  const signalled = Date.now();
  const stops = await Promise.all(workers.map(async (w) => ({ code: await w.stop(), ms: Date.now() - signalled, output: w.output() })));
  for (const stop of stops) {
    expect(stop.ms, stop.output).toBeLessThan(SHUTDOWN_DEADLINE_MS + EXIT_SLACK_MS);
    // In-flight jobs could not finish (staging needs Redis): they return to their queue, exit 1.
    expect(stop.code, stop.output).toBe(1);
    expect(stop.output).toContain('shutdown deadline');
  }
  await h.redis.restart();
  h.tmdb.configure({ latencyMs: 0 });
  h.startWorkers(env, 2);
  const res = await cli.result;

  expect(res.code, res.stderr).toBe(0);
  const summary = lastJsonLine<{ runId: string; state: string; records: number }>(res.stdout);
  expect(summary).toMatchObject({ state: 'completed', records: TITLES });
  expect(redisLines(res.stderr).filter((l) => WAITING.test(l))).toHaveLength(1);
  await expectEveryTitleOnce(env, summary.runId);
});

it('gives up after REDIS_WAIT_MS when Redis does not come back: one more line naming REDIS_URL and the cause, exit 1', async () => {
  const gone = await startRedisServer({ requirepass: PASSWORD });
  const env = fleetEnv({ REDIS_URL: gone.url, REDIS_WAIT_MS: '2000' });
  const cli = startCli(['backfill', 'movie', ...YEAR, '--wait'], env, 60_000);
  try {
    await waitFor('the run id', () => /^movie-\S+\n/.test(cli.stdout()));
    gone.kill();
    const killed = Date.now();
    const res = await cli.result;
    const elapsed = Date.now() - killed;

    expect(res.code, res.stderr).toBe(1);
    expect(elapsed).toBeGreaterThanOrEqual(2_000);
    expect(elapsed).toBeLessThan(2_000 + 3_000);
    const lines = redisLines(res.stderr);
    expect(lines, res.stderr).toHaveLength(2);
    expect(lines[0]).toMatch(WAITING);
    expect(lines[1]).toMatch(
      new RegExp(`^tmdb-fleet: Redis at 127\\.0\\.0\\.1:${gone.port} \\(REDIS_URL\\) did not come back within 2 s \\(REDIS_WAIT_MS\\): .*ECONNREFUSED`),
    );
    expect(res.stderr.trim().split('\n').at(-1)).toBe(lines[1]);
    expect(res.stderr + res.stdout).not.toContain(PASSWORD);
  } finally {
    cli.child.kill('SIGKILL');
    await gone.stop();
  }
});

it('with nothing listening on REDIS_URL, status, runs and backfill print one line naming REDIS_URL and the cause, exit 1, within seconds', async () => {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const env = fleetEnv({ REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:${port}`, LOG_LEVEL: 'info' });
  for (const args of [['status', 'movie-20260101T000000-abcd'], ['runs'], ['backfill', 'movie', ...YEAR, '--wait']]) {
    const started = Date.now();
    const res = await runCli(args, env, 30_000);
    expect(Date.now() - started, args[0]).toBeLessThan(5_000);
    expect(res.code, res.stderr).toBe(1);
    // backfill also says where the lake is (LAKE_DIR); nothing else may be printed.
    const lines = res.stderr.trim().split('\n').filter((l) => !l.includes('S3_BUCKET is unset'));
    expect(lines, res.stderr).toEqual([
      `tmdb-fleet: cannot connect to Redis at 127.0.0.1:${port} (REDIS_URL): connect ECONNREFUSED 127.0.0.1:${port}`,
    ]);
    expect(res.stdout).toBe('');
  }
});
