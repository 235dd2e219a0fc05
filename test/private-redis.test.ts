/**
 * One machine, one command: with REDIS_URL unset and nothing on 127.0.0.1:6379 (a fresh network
 * namespace, since this machine runs a Redis there), `backfill --wait --workers 2` starts a
 * private redis-server in TMDB_FLEET_HOME, lands every title once, stops it at exit (and on
 * SIGINT), and a later command in the same directory finds the run again. Without redis-server
 * on PATH: one line, exit 2.
 */
import { mkdtempSync, mkdirSync, existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../src/config.js';
import { lastJsonLine } from './support/fleet-process.js';
import { readRun } from './support/lake-reader.js';
import { cliInNetns, driveInNetns, requireNetns } from './support/netns.js';
import type { DriverSpec } from './support/netns-driver.js';

const CATALOG = { movie: { count: 400, from: '2024-01-01', to: '2024-01-31', seed: 11 } };
const BACKFILL = ['backfill', 'movie', '--from', '2024-01-01', '--to', '2024-01-31', '--wait'];
const STARTED = /tmdb-fleet: started a private Redis in \.\/\.tmdb-fleet \(set REDIS_URL to use your own\)/g;

/** This environment without any fleet variable (REDIS_URL above all), plus `extra`. */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !CONFIG_VARIABLES.includes(name)) env[name] = value;
  }
  return { ...env, TMDB_ACCESS_TOKEN: 'test-token', LOG_LEVEL: 'warn', BATCH_MAX_WAIT_MS: '200', ...extra };
}

/** A fresh working directory (no .env) with its lake; TMDB_FLEET_HOME stays the default ./.tmdb-fleet. */
function workdir(): { cwd: string; lake: string; home: string } {
  const cwd = mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-private-'));
  return { cwd, lake: path.join(cwd, 'lake'), home: path.join(cwd, '.tmdb-fleet') };
}

/** Pids of redis-server processes running in `home` (their working directory), from /proc. */
function redisServersIn(home: string): number[] {
  const real = realpathSync(home);
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'redis-server' && readlinkSync(`/proc/${entry}/cwd`) === real) pids.push(Number(entry));
    } catch {
      /* gone, or not ours */
    }
  }
  return pids;
}

/** Every movie id the fake serves lands exactly once in the run's objects. */
async function expectEveryTitleOnce(lake: string, runId: string, movieIds: number[]): Promise<void> {
  const run = await readRun({ LAKE_DIR: lake }, 'movie', runId);
  expect([...run.idCounts.keys()].sort((a, b) => a - b)).toEqual([...movieIds].sort((a, b) => a - b));
  expect([...run.idCounts.values()].every((n) => n === 1)).toBe(true);
  expect(run.manifest.state).toBe('completed');
}

describe('a private Redis when REDIS_URL is unset and nothing answers on 6379', () => {
  let unshare = '';
  beforeAll(() => {
    unshare = requireNetns(); // throws (never skips) where a network namespace cannot be made
  });

  it('backfill --wait --workers 2 starts one, lands every title once, stops it; status finds the run again', async () => {
    const w = workdir();
    const env = cleanEnv({ LAKE_DIR: w.lake, TMDB_RATE_LIMIT_RPS: '1000' });
    const spec: DriverSpec = { tmdb: CATALOG, steps: [{ args: [...BACKFILL, '--workers', '2', '--json'], env: {}, cwd: w.cwd }] };
    const first = await driveInNetns(unshare, spec, env);
    const run = first.results[0]!;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.match(STARTED)?.length, run.stderr).toBe(1);
    expect(run.stderr).not.toContain('test-token');
    const summary = lastJsonLine<{ runId: string; state: string; records: number }>(run.stdout);
    expect(summary).toMatchObject({ state: 'completed', records: 400 });
    await expectEveryTitleOnce(w.lake, summary.runId, first.movieIds);
    expect(redisServersIn(w.home)).toEqual([]);
    expect(existsSync(path.join(w.home, 'redis.sock'))).toBe(false);
    expect(existsSync(path.join(w.home, 'appendonlydir'))).toBe(true);

    // A new namespace, the same directory: status restarts the private Redis from its AOF.
    const later = await driveInNetns(unshare, { tmdb: CATALOG, steps: [{ args: ['status', summary.runId, '--json'], env: {}, cwd: w.cwd }] }, env);
    const status = later.results[0]!;
    expect(status.code, status.stderr).toBe(0);
    expect(lastJsonLine(status.stdout)).toMatchObject({ runId: summary.runId, state: 'completed', records: 400 });
    expect(status.stderr.match(STARTED)?.length, status.stderr).toBe(1);
    expect(redisServersIn(w.home)).toEqual([]);
  });

  it('SIGINT stops the private Redis; backfill --resume in the same directory finishes the run, every title once', async () => {
    const w = workdir();
    const env = cleanEnv({ LAKE_DIR: w.lake, TMDB_RATE_LIMIT_RPS: '60' });
    const interrupted = await driveInNetns(
      unshare,
      {
        tmdb: CATALOG,
        steps: [{ args: [...BACKFILL, '--workers', '2'], env: {}, cwd: w.cwd, interrupt: { afterStdout: '^movie-', delayMs: 1_500 } }],
      },
      env,
    );
    const cut = interrupted.results[0]!;
    expect(cut.code, cut.stderr).toBe(130);
    expect(cut.stderr).toContain('SIGINT received, stopping the private Redis');
    const runId = cut.stdout.trim().split('\n')[0]!;
    expect(redisServersIn(w.home)).toEqual([]);

    const resumed = await driveInNetns(
      unshare,
      {
        tmdb: CATALOG,
        steps: [
          { args: ['status', runId, '--json'], env: {}, cwd: w.cwd },
          { args: ['backfill', '--resume', runId, '--wait', '--workers', '2', '--json'], env: { TMDB_RATE_LIMIT_RPS: '1000' }, cwd: w.cwd },
        ],
      },
      env,
    );
    const [status, resume] = resumed.results;
    expect(lastJsonLine(status!.stdout)).toMatchObject({ runId, state: 'running' });
    expect(lastJsonLine<{ records: number }>(status!.stdout).records).toBeLessThan(400);
    expect(resume!.code, resume!.stderr).toBe(0);
    expect(lastJsonLine(resume!.stdout)).toMatchObject({ runId, state: 'completed', records: 400 });
    await expectEveryTitleOnce(w.lake, runId, resumed.movieIds);
    expect(redisServersIn(w.home)).toEqual([]);
  });

  it('without redis-server on PATH: one line naming how to install it or REDIS_URL, exit 2; a bad argument starts nothing', async () => {
    const w = workdir();
    const emptyPath = path.join(w.cwd, 'bin');
    mkdirSync(emptyPath);
    const env = cleanEnv({ LAKE_DIR: w.lake, PATH: emptyPath, TMDB_API_BASE_URL: 'http://127.0.0.1:9/3' });
    const r = await cliInNetns(unshare, [...BACKFILL, '--workers', '2'], env, w.cwd);
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tmdb-fleet: .*redis-server is not on PATH: install Redis \(apt install redis-server, or brew install redis\) or set REDIS_URL/);
    expect(r.stderr).not.toContain('test-token');
    expect(existsSync(w.home)).toBe(false);

    // With redis-server on PATH, a bad argument is still one line, before anything starts.
    const bad = await cliInNetns(unshare, ['backfill', 'movie', '--from', '2024-02-30', '--wait', '--workers', '2'], { ...env, PATH: process.env.PATH ?? '' }, w.cwd);
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual(['tmdb-fleet: --from "2024-02-30" is not a date: expected YYYY-MM-DD, e.g. 2024-01-31']);
    expect(existsSync(w.home)).toBe(false);
  });
});
