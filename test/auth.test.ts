/**
 * Honest failures: a credential TMDB refuses stops the run within seconds with one message
 * naming the variable, without a retry storm.
 */
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { FINISHED_RUN_TTL_S } from '../src/runs/lifecycle.js';
import { lastJsonLine, runCli } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';

const h = useFleetHarness({ tmdb: { movie: { count: 2_000, from: '2024-01-01', to: '2024-12-31' } } });

it('refuses to start a backfill with a bad token, before enqueueing anything', async () => {
  const e = h.env({ TMDB_ACCESS_TOKEN: 'not-the-token' });
  h.tmdb.resetStats();
  const started = Date.now();
  const res = await runCli(['backfill', 'movie', '--from', '2024-01-01', '--to', '2024-01-31', '--wait'], e);
  expect(res.code).toBe(1);
  expect(res.stderr).toMatch(/TMDB refused the credential in TMDB_ACCESS_TOKEN/);
  expect(res.stderr).not.toContain('not-the-token');
  expect(res.stdout).toBe('');
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(h.tmdb.stats().requests).toBe(1);
});

it('fails a running run within seconds when the workers hold a refused token', async () => {
  const e = h.env();
  // The CLI's token is good, so the run starts; the workers' token was revoked.
  const workers = h.startWorkers({ ...e, TMDB_ACCESS_TOKEN: 'revoked-token' }, 2);
  h.tmdb.resetStats();
  const started = Date.now();
  const res = await runCli(['backfill', 'movie', '--from', '2024-01-01', '--to', '2024-12-31', '--wait', '--json'], {
    ...e,
    TMDB_ACCESS_TOKEN: 'test-token',
  });
  expect(res.code).toBe(1);
  const summary = lastJsonLine<{ runId: string; state: string; error: string; fetched: number }>(res.stdout);
  expect(summary.state).toBe('failed');
  expect(summary.error).toMatch(/TMDB_ACCESS_TOKEN/);
  expect(summary.fetched).toBe(0);
  expect(Date.now() - started).toBeLessThan(15_000);
  // No retry storm: the workers made a handful of refused requests, not thousands.
  expect(h.tmdb.stats().byStatus['401'] ?? 0).toBeLessThan(40);
  const output = workers.map((w) => w.output()).join('\n');
  expect(output).not.toContain('revoked-token');
  // The failed run's keys expire (it stays resumable until then).
  const config = loadConfig(e);
  const redis = new Redis(config.redis.url);
  try {
    const keys = await redis.keys(`${config.redis.prefix}:run:${summary.runId}*`);
    expect(keys.length).toBeGreaterThan(1);
    for (const key of keys) {
      const ttl = await redis.ttl(key);
      expect(ttl, key).toBeGreaterThan(FINISHED_RUN_TTL_S - 60);
      expect(ttl, key).toBeLessThanOrEqual(FINISHED_RUN_TTL_S);
    }
  } finally {
    redis.disconnect();
  }
});
