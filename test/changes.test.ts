/**
 * `changes`: the titles TMDB changed in a range of days, read from the (fake) changes feed in
 * windows of at most 14 days, 100 ids a page, each distinct id refreshed once through real
 * worker processes; a run without --since continues from the previous completed run's end (the
 * watermark in Redis, else the newest manifest in the lake); with neither it stops with exit 2.
 */
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { daysAgo } from '../src/sandbox/days.js';
import type { FakeChange } from '../src/sandbox/feeds.js';
import { lastJsonLine, runCli } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';
import { readRun } from './support/lake-reader.js';

const DELETED = 90_001;
const ADULT = 2_999;
/** 60 ids changed each day from 25 days ago to today; id 7 changes on many days; one adult, one deleted. */
const CHANGES: FakeChange[] = [
  ...Array.from({ length: 26 }, (_, d) => Array.from({ length: 60 }, (_, i) => ({ id: d * 100 + i + 10, date: daysAgo(d) }))).flat(),
  ...[0, 3, 15, 20, 24].map((d) => ({ id: 7, date: daysAgo(d) })),
  { id: ADULT, date: daysAgo(2), adult: true },
  { id: DELETED, date: daysAgo(5), adult: null },
];
/** The distinct ids changed from `from` to `to` days ago (inclusive), adult ones left out. */
const changedBetween = (from: number, to: number) =>
  [...new Set(CHANGES.filter((c) => c.date >= daysAgo(from) && c.date <= daysAgo(to) && c.adult !== true).map((c) => c.id))].sort((a, b) => a - b);

const h = useFleetHarness({
  tmdb: {
    movie: { titles: Array.from({ length: 3_000 }, (_, i) => ({ id: i + 1, date: '2020-01-01', voteCount: 1, originalLanguage: 'en' })) },
    changes: { movie: CHANGES },
  },
});
const env = () => h.env({ TMDB_RATE_LIMIT_RPS: '1000', LOG_LEVEL: 'error' });
type Summary = { runId: string; state: string; source: string; expected: number; discovered: number; records: number; notFound: number };

it('refreshes exactly the ids changed since 20 days ago, once each, in two windows of at most 14 days', async () => {
  const e = env();
  h.startWorkers(e, 2);
  h.tmdb.resetStats();
  const res = await runCli(['changes', 'movie', '--since', daysAgo(20), '--wait', '--json'], e);
  expect(res.code, res.stderr).toBe(0);
  expect(res.stderr).toContain(`movie changes ${daysAgo(20)} to ${daysAgo(0)}: 2 windows of at most 14 days`);
  const expected = changedBetween(20, 0);
  const s = lastJsonLine<Summary>(res.stdout);
  expect(s).toMatchObject({ state: 'completed', source: 'changes', discovered: expected.length, records: expected.length - 1, notFound: 1 });
  const lake = await readRun(e, 'movie', s.runId);
  expect([...lake.idCounts.keys()].sort((a, b) => a - b)).toEqual(expected.filter((id) => id !== DELETED));
  expect([...lake.idCounts.values()].every((n) => n === 1)).toBe(true);

  const requests = h.tmdb.stats().changesRequests;
  expect(requests.every((r) => r.status === 200)).toBe(true);
  const windows = [...new Set(requests.map((r) => `${r.startDate}..${r.endDate}`))].sort();
  expect(windows).toEqual([`${daysAgo(20)}..${daysAgo(7)}`, `${daysAgo(6)}..${daysAgo(0)}`]);
  for (const [from, to] of [[20, 7], [6, 0]] as const) {
    const pages = requests.filter((r) => r.startDate === daysAgo(from)).map((r) => r.page).sort((a, b) => a - b);
    const distinct = new Set(CHANGES.filter((c) => c.date >= daysAgo(from) && c.date <= daysAgo(to)).map((c) => c.id)).size;
    expect(pages).toEqual(Array.from({ length: Math.ceil(distinct / 100) }, (_, i) => i + 1));
  }
  const params = (lake.manifest as unknown as { params: Record<string, unknown> }).params;
  expect(params).toMatchObject({ kind: 'movie', source: 'changes', from: daysAgo(20), to: daysAgo(0) });
});

it('continues from the previous run\'s end without --since (Redis, then the lake after Redis lost it); with neither, exit 2', async () => {
  const e = env();
  h.startWorkers(e, 2);
  const none = await runCli(['changes', 'movie'], e);
  expect(none.code).toBe(2);
  expect(none.stderr.trim().split('\n').at(-1)).toMatch(/no completed movie changes or export run to continue from .*: pass --since YYYY-MM-DD$/);

  const first = await runCli(['changes', 'movie', '--since', daysAgo(4), '--until', daysAgo(3), '--wait', '--json'], e);
  expect(first.code, first.stderr).toBe(0);
  const a = lastJsonLine<Summary>(first.stdout);
  expect(a.records).toBe(changedBetween(4, 3).length);

  h.tmdb.resetStats();
  const second = await runCli(['changes', 'movie', '--until', daysAgo(1), '--wait', '--json'], e);
  expect(second.code, second.stderr).toBe(0);
  expect(second.stderr).toContain(`movie changes ${daysAgo(3)} to ${daysAgo(1)} (continued from Redis)`);
  const b = lastJsonLine<Summary>(second.stdout);
  expect(b.discovered).toBe(changedBetween(3, 1).length);
  expect(h.tmdb.stats().changesRequests.map((r) => [r.startDate, r.endDate])).toContainEqual([daysAgo(3), daysAgo(1)]);
  expect((await readRun(e, 'movie', b.runId)).idCounts.size).toBe(changedBetween(3, 1).length);

  // Redis loses the watermark: the newest completed changes manifest in the lake says where to go on.
  const config = loadConfig(e);
  const redis = new Redis(config.redis.url);
  try {
    const keys = await redis.keys(`${config.redis.prefix}:watermark:*`);
    expect(keys).toHaveLength(1);
    await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
  const third = await runCli(['changes', 'movie', '--wait', '--json'], e);
  expect(third.code, third.stderr).toBe(0);
  expect(third.stderr).toContain(`movie changes ${daysAgo(1)} to ${daysAgo(0)} (continued from the manifest of ${b.runId})`);
  const c = lastJsonLine<Summary>(third.stdout);
  expect(c.discovered).toBe(changedBetween(1, 0).length);
});

it('refuses bad changes input with one line and exit 2', async () => {
  const e = env();
  const cases: [string[], RegExp][] = [
    [['movie', '--since', '2024-02-30'], /--since "2024-02-30" is not a date: expected YYYY-MM-DD/],
    [['movie', '--since', daysAgo(1), '--until', daysAgo(3)], new RegExp(`--since ${daysAgo(1)} is after --until ${daysAgo(3)}`)],
    [['person', '--since', daysAgo(1)], /kind "person" is not supported: expected movie or tv/],
  ];
  for (const [args, message] of cases) {
    const res = await runCli(['changes', ...args], e);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr.trim().split('\n').at(-1)).toMatch(message);
  }
});
