/**
 * Backfill arguments as a user types them: every bad one stops with a message naming the value
 * and what was expected; good ones become the run's parameters. The CLI is checked as a real
 * process (exit code and output), so `npm run build` must run first.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBackfillArgs, type BackfillArgs } from '../src/producers/backfill.js';
import { UsageError } from '../src/errors.js';
import type { RunParams } from '../src/runs/types.js';
import { runCli } from './support/fleet-process.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';

/** The UsageError parseBackfillArgs throws for `args` (fails the test when it does not). */
function usageError(args: BackfillArgs): UsageError {
  try {
    parseBackfillArgs(args);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error(`parseBackfillArgs accepted ${JSON.stringify(args)}`);
}

describe('parseBackfillArgs refuses', () => {
  const cases: { label: string; args: BackfillArgs; message: RegExp }[] = [
    { label: 'an unknown kind', args: { kind: 'film' }, message: /kind "film".*expected movie or tv/ },
    { label: 'an empty kind', args: { kind: '' }, message: /expected movie or tv/ },
    { label: 'a day that does not exist', args: { kind: 'movie', from: '2024-02-30' }, message: /--from "2024-02-30".*YYYY-MM-DD/ },
    { label: 'Feb 29 of a common year', args: { kind: 'movie', to: '2023-02-29' }, message: /--to "2023-02-29".*YYYY-MM-DD/ },
    { label: 'a month 13', args: { kind: 'tv', from: '2024-13-01' }, message: /--from "2024-13-01"/ },
    { label: 'an unpadded date', args: { kind: 'movie', from: '2024-1-1' }, message: /--from "2024-1-1".*YYYY-MM-DD/ },
    { label: 'a word for a date', args: { kind: 'movie', to: 'yesterday' }, message: /--to "yesterday".*YYYY-MM-DD/ },
    {
      label: '--from after --to',
      args: { kind: 'movie', from: '2024-03-01', to: '2024-02-01' },
      message: /--from 2024-03-01 is after --to 2024-02-01/,
    },
    { label: '--param without =', args: { kind: 'movie', params: ['with_genres'] }, message: /--param "with_genres" is not key=value/ },
    { label: '--param with an empty name', args: { kind: 'movie', params: ['=28'] }, message: /--param "=28" is not key=value/ },
    { label: 'an unknown param', args: { kind: 'movie', params: ['foo=1'] }, message: /--param foo is not a TMDB \/discover\/movie filter/ },
    { label: 'page', args: { kind: 'movie', params: ['page=3'] }, message: /--param page .*pages are planned by the fleet/ },
    {
      label: 'a date filter for movie',
      args: { kind: 'movie', params: ['primary_release_date.gte=2020-01-01'] },
      message: /primary_release_date\.gte.*--from\/--to/,
    },
    {
      label: 'a date filter for tv',
      args: { kind: 'tv', params: ['first_air_date.lte=2020-01-01'] },
      message: /first_air_date\.lte.*--from\/--to/,
    },
    { label: 'a movie-only filter for tv', args: { kind: 'tv', params: ['with_cast=287'] }, message: /with_cast is not a TMDB \/discover\/tv filter/ },
    {
      label: 'a tv-only filter for movie',
      args: { kind: 'movie', params: ['with_networks=213'] },
      message: /with_networks is not a TMDB \/discover\/movie filter/,
    },
    { label: 'a non-numeric vote_count.gte', args: { kind: 'movie', params: ['vote_count.gte=ten'] }, message: /vote_count\.gte=ten: expected a whole number/ },
    { label: 'a negative vote_count.lte', args: { kind: 'tv', params: ['vote_count.lte=-1'] }, message: /vote_count\.lte=-1: expected a whole number/ },
  ];

  it.each(cases)('$label', ({ args, message }) => {
    const err = usageError(args);
    expect(err.code).toBe('USAGE');
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('\n');
  });

  it('does not hint at --from/--to for an unrelated unknown name', () => {
    expect(usageError({ kind: 'movie', params: ['foo=1'] }).message).not.toContain('--from');
  });
});

describe('parseBackfillArgs accepts', () => {
  const cases: { label: string; args: BackfillArgs; params: RunParams }[] = [
    { label: 'a bare kind', args: { kind: 'movie' }, params: { kind: 'movie', params: {} } },
    { label: 'tv with an empty param list', args: { kind: 'tv', params: [] }, params: { kind: 'tv', params: {} } },
    {
      label: 'a date range',
      args: { kind: 'movie', from: '2024-01-01', to: '2024-12-31' },
      params: { kind: 'movie', from: '2024-01-01', to: '2024-12-31', params: {} },
    },
    { label: 'a one-day range', args: { kind: 'tv', from: '2024-02-29', to: '2024-02-29' }, params: { kind: 'tv', from: '2024-02-29', to: '2024-02-29', params: {} } },
    { label: 'only --to', args: { kind: 'movie', to: '1999-12-31' }, params: { kind: 'movie', to: '1999-12-31', params: {} } },
    {
      label: 'discover filters',
      args: { kind: 'movie', params: ['with_genres=28,12', 'vote_count.gte=10', 'with_original_language=fr'] },
      params: { kind: 'movie', params: { with_genres: '28,12', 'vote_count.gte': '10', with_original_language: 'fr' } },
    },
    {
      label: 'a value containing =',
      args: { kind: 'tv', params: ['with_keywords=a=b'] },
      params: { kind: 'tv', params: { with_keywords: 'a=b' } },
    },
    {
      label: 'a tv-only filter for tv',
      args: { kind: 'tv', params: ['with_networks=213', 'vote_count.lte=500'] },
      params: { kind: 'tv', params: { with_networks: '213', 'vote_count.lte': '500' } },
    },
    {
      label: 'a repeated param (last wins)',
      args: { kind: 'movie', params: ['with_genres=28', 'with_genres=12'] },
      params: { kind: 'movie', params: { with_genres: '12' } },
    },
  ];

  it.each(cases)('$label', ({ args, params }) => {
    expect(parseBackfillArgs(args)).toEqual(params);
  });
});

describe('the CLI (real process)', () => {
  let redis: RedisServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    redis = await startRedisServer();
    env = {
      REDIS_URL: redis.url,
      REDIS_PREFIX: `{t-${randomUUID().slice(0, 8)}}`,
      // Nothing may reach a real TMDB from these tests.
      TMDB_API_BASE_URL: 'http://127.0.0.1:9/3',
      TMDB_ACCESS_TOKEN: 'unused',
      TMDB_API_KEY: '',
      S3_BUCKET: '',
      LOG_LEVEL: 'warn',
    };
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it('backfill film exits 2 with one line naming "film"', async () => {
    const r = await runCli(['backfill', 'film'], env, 20_000);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"film"');
    expect(lines[0]).toMatch(/movie or tv/);
    expect(r.stdout).toBe('');
  });

  it('backfill movie --from 2024-13-01 exits 2 naming the date', async () => {
    const r = await runCli(['backfill', 'movie', '--from', '2024-13-01'], env, 20_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('2024-13-01');
    expect(r.stderr).toMatch(/YYYY-MM-DD/);
    expect(r.stdout).toBe('');
  });

  it('backfill movie --param page=2 exits 2 with the --from/--to hint', async () => {
    const r = await runCli(['backfill', 'movie', '--param', 'page=2'], env, 20_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--param page .*pages are planned by the fleet/);
  });

  it('worker --queues discover,nope exits non-zero naming "nope"', async () => {
    const r = await runCli(['worker', '--queues', 'discover,nope'], env, 20_000);
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull(); // it stopped by itself rather than starting workers
    expect(r.stderr).toContain('"nope"');
  });

  it.each<[string[], RegExp]>([
    [['backfill', 'movie', '--nope'], /unknown option '--nope'/],
    [['status'], /missing required argument 'runId'/],
    [['verify'], /missing required argument 'runId'/],
    [['backfill', 'movie', '--workers', '0'], /--workers "0" is not a whole number ≥ 1/],
    [['search', 'movie'], /required option '--query <text>' not specified/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('commander refuses %j with exit 2 (bad input), naming what is wrong', async (args, message) => {
    const r = await runCli(args, env, 20_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('--help exits 0', async () => {
    const r = await runCli(['backfill', '--help'], env, 20_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--allow-partial');
  });

  it('status of an unknown run exits 1 with "no run"', async () => {
    const r = await runCli(['status', 'movie-20240101T000000-dead'], env, 20_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no run');
    expect(r.stderr).toContain('movie-20240101T000000-dead');
    expect(r.stdout).toBe('');
  });
});
