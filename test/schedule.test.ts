/**
 * `schedule`: BullMQ job schedulers on the schedule queue, run by the fleet's own worker
 * processes: a 2-second cron fires again and again, each tick processed once fleet-wide; a tick
 * that finds the schedule's previous run still busy skips and says so; list and remove; bad
 * input refused before anything is stored.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { daysAgo } from '../src/sandbox/days.js';
import type { FakeChange } from '../src/sandbox/feeds.js';
import { lastJsonLine, runCli } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';

/** 240 ids changed over the last 3 days: at 80 requests/s a changes run is busy about 3 s. */
const CHANGES: FakeChange[] = Array.from({ length: 240 }, (_, i) => ({ id: i + 1, date: daysAgo(i % 3) }));
const h = useFleetHarness({
  tmdb: {
    movie: { titles: Array.from({ length: 300 }, (_, i) => ({ id: i + 1, date: '2021-05-05', voteCount: 3, originalLanguage: 'en' })) },
    changes: { movie: CHANGES },
  },
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Status = { runId: string; state: string; source: string; records: number; createdAt: string; finishedAt?: string };

it('fires a 2-second cron schedule on the fleet\'s workers, once per tick, skipping while its previous run is busy', async () => {
  const e = h.env({ TMDB_RATE_LIMIT_RPS: '80', LOG_LEVEL: 'warn' });
  const add = await runCli(['schedule', 'add', 'movie-changes', '--cron', '*/2 * * * * *', '--', 'changes', 'movie', '--since', daysAgo(2)], e);
  expect(add.code, add.stderr).toBe(0);
  expect(add.stdout).toMatch(/^schedule movie-changes: cron "\*\/2 \* \* \* \* \*" \(UTC\) → tmdb-fleet changes movie --since \S+; next tick /);
  const workers = h.startWorkers(e, 2);

  const config = loadConfig(e);
  const connection = new Redis(config.redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue('schedule', { connection, prefix: config.redis.prefix });
  let outcomes: string[];
  try {
    for (const deadline = Date.now() + 60_000; ; ) {
      const done = await queue.getJobs(['completed']);
      outcomes = done.map((j) => String(j.returnvalue));
      const started = outcomes.filter((o) => o.startsWith('started '));
      if (started.length >= 2 && outcomes.some((o) => o.startsWith('skipped: the previous run'))) break;
      if (Date.now() > deadline) throw new Error(`schedule did not fire twice with a skip: ${JSON.stringify(outcomes)}`);
      await sleep(500);
    }
    const removed = await runCli(['schedule', 'remove', 'movie-changes'], e);
    expect(removed.code, removed.stderr).toBe(0);
    expect(await queue.getJobs(['failed'])).toEqual([]);
    const ticks = await queue.getJobs(['completed']);
    expect(new Set(ticks.map((j) => j.id)).size).toBe(ticks.length);
    expect(new Set(ticks.map((j) => j.timestamp)).size).toBe(ticks.length);
  } finally {
    await queue.close();
    connection.disconnect();
  }

  const runIds = outcomes.filter((o) => o.startsWith('started ')).map((o) => o.slice('started '.length));
  const skip = outcomes.find((o) => o.startsWith('skipped: the previous run'));
  expect(skip).toMatch(new RegExp(`^skipped: the previous run (${runIds.join('|')}) of schedule movie-changes is still (running|finalizing)$`));
  expect(workers.map((w) => w.output()).join('')).toContain('schedule tick skipped: the previous run');

  const runs: Status[] = [];
  for (const runId of runIds) {
    for (let s = lastJsonLine<Status>((await runCli(['status', runId, '--json'], e)).stdout); ; ) {
      if (s.state === 'completed') {
        runs.push(s);
        break;
      }
      await sleep(300);
      s = lastJsonLine<Status>((await runCli(['status', runId, '--json'], e)).stdout);
    }
  }
  runs.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  for (const r of runs) expect(r).toMatchObject({ source: 'changes', records: 240 });
  for (let i = 1; i < runs.length; i++) expect(runs[i]!.createdAt >= runs[i - 1]!.finishedAt!).toBe(true);
});

it('lists and removes schedules, and refuses bad ones with one line and exit 2', async () => {
  const e = h.env();
  const add = await runCli(['schedule', 'add', 'daily-tv', '--cron', '0 9 * * *', '--tz', 'Europe/Paris', '--', 'changes', 'tv'], e);
  expect(add.code, add.stderr).toBe(0);
  const every = await runCli(['schedule', 'add', 'hourly', '--every', '3600000', '--', 'backfill', 'movie', '--source', 'export', '--min-popularity', '5'], e);
  expect(every.code, every.stderr).toBe(0);
  const list = await runCli(['schedule', 'list', '--json'], e);
  const rows = lastJsonLine<Record<string, unknown>[]>(list.stdout) as unknown as Record<string, unknown>[];
  expect(rows.map((r) => r.name).sort()).toEqual(['daily-tv', 'hourly']);
  expect(rows.find((r) => r.name === 'daily-tv')).toMatchObject({ pattern: '0 9 * * *', tz: 'Europe/Paris', command: ['changes', 'tv'] });
  const next = String(rows.find((r) => r.name === 'daily-tv')?.next);
  expect(new Date(next).getTime()).toBeGreaterThan(Date.now());
  expect(rows.find((r) => r.name === 'hourly')).toMatchObject({ every: 3_600_000 });
  expect((await runCli(['schedule', 'list'], e)).stdout).toContain('daily-tv  cron "0 9 * * *" (Europe/Paris)');

  const bad: [string[], RegExp][] = [
    [['bad name', '--every', '1000', '--', 'changes', 'movie'], /schedule name "bad name" is not/],
    [['x', '--cron', 'every day', '--', 'changes', 'movie'], /--cron "every day" is not a cron pattern/],
    [['x', '--cron', '0 9 * * *', '--tz', 'Mars/Olympus', '--', 'changes', 'movie'], /--tz "Mars\/Olympus" is not an IANA time zone/],
    [['x', '--every', '1000', '--', 'changes', 'person'], /kind "person" is not supported/],
    [['x', '--every', '1000', '--', 'upload', './a.csv'], /"upload" cannot be scheduled: expected one of backfill, changes, search, enrich/],
    [['x', '--every', '1000', '--', 'changes', 'movie', '--wait'], /--wait, --json and --workers have no place in a schedule/],
    [['x', '--every', '1000', '--', 'changes', 'movie', '--since', '2024-13-01'], /--since "2024-13-01" is not a date/],
    [['x', '--', 'changes', 'movie'], /exactly one of --cron/],
  ];
  for (const [args, message] of bad) {
    const res = await runCli(['schedule', 'add', ...args], e);
    expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(message);
  }
  expect(lastJsonLine<unknown[]>((await runCli(['schedule', 'list', '--json'], e)).stdout)).toHaveLength(2);

  expect((await runCli(['schedule', 'remove', 'daily-tv'], e)).code).toBe(0);
  const gone = await runCli(['schedule', 'remove', 'daily-tv'], e);
  expect(gone.code).toBe(2);
  expect(gone.stderr).toContain('no schedule named "daily-tv"');
  expect((lastJsonLine<Record<string, unknown>[]>((await runCli(['schedule', 'list', '--json'], e)).stdout) as unknown as { name: string }[]).map((r) => r.name)).toEqual(['hourly']);
});
