/**
 * `backfill --source export`: the whole catalog from TMDB's daily ID export, streamed from the
 * (fake) files host through real worker processes, landing exactly once: undated titles
 * included (no discover window reaches them), adult ids skipped unless asked, stale ids counted
 * as not found; the newest file found by falling back a day; a reader killed mid-file resumed
 * from its checkpoint.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { FakeTitle } from '../src/sandbox/catalog.js';
import { daysAgo } from '../src/sandbox/days.js';
import { exportFileName } from '../src/sandbox/feeds.js';
import { cliArgs, lastJsonLine, runCli } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';
import { readRun } from './support/lake-reader.js';

const ADULT = Array.from({ length: 300 }, (_, i) => 10_001 + i);
const STALE = Array.from({ length: 200 }, (_, i) => 20_001 + i);
/** The catalog TMDB has: ids 1..9,000 (every 7th without a date) and the adult ids. */
const catalog = (kind: 'movie' | 'tv'): FakeTitle[] =>
  [...Array.from({ length: 9_000 }, (_, i) => i + 1), ...ADULT].map((id) => ({
    id,
    date: id % 7 === 0 ? '' : `20${String(10 + (id % 14)).padStart(2, '0')}-0${1 + (id % 9)}-1${id % 10}`,
    voteCount: id % 50,
    originalLanguage: kind === 'movie' ? 'en' : 'ja',
  }));
const popularity = (id: number) => ((id * 7_919) % 1_000) / 50;
const movieLine = (id: number) =>
  JSON.stringify({ adult: ADULT.includes(id), id, original_title: `T ${id}`, popularity: popularity(id), video: false });
const tvLine = (id: number) => JSON.stringify({ id, original_name: `S ${id}`, popularity: popularity(id) });
/** Export lines: the ids in order, an adult id every 10 lines, a stale id every 15, and junk. */
function exportLines(ids: number[], line: (id: number) => string, withAdult = true): string[] {
  const out: string[] = [];
  ids.forEach((id, i) => {
    out.push(line(id));
    if (withAdult && i % 10 === 0 && ADULT[i / 10] !== undefined) out.push(line(ADULT[i / 10]!));
    if (i % 15 === 0 && STALE[i / 15] !== undefined) out.push(line(STALE[i / 15]!));
  });
  out.splice(3, 0, 'not json', '{"id":"x"}');
  return out;
}
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

const h = useFleetHarness({ tmdb: { movie: { titles: catalog('movie') }, tv: { titles: catalog('tv') } } });
const env = (extra: Record<string, string> = {}) =>
  h.env({ TMDB_FILES_BASE_URL: h.tmdb.filesUrl, TMDB_RATE_LIMIT_RPS: '1000', LOG_LEVEL: 'error', ...extra });
const sorted = (ids: Iterable<number>) => [...ids].sort((a, b) => a - b);

it('lands every non-adult id of the newest export once, undated ones included, stale ids as not found, with 1 discover request', async () => {
  const movie = exportLines(range(1_500), movieLine);
  const tv = exportLines(range(40), tvLine, false);
  h.tmdb.configure({
    exports: { [exportFileName('movie', daysAgo(1))]: () => movie, [exportFileName('tv', daysAgo(1))]: () => tv },
  });
  h.tmdb.resetStats();
  const e = env();
  h.startWorkers(e, 2);
  const res = await runCli(['backfill', 'movie', '--source', 'export', '--wait', '--json'], e);
  expect(res.code, res.stderr).toBe(0);
  expect(res.stderr).toContain(`${exportFileName('movie', daysAgo(1))}: ${movie.length} lines read, 1600 kept (150 adult skipped, 0 below --min-popularity, 2 malformed)`);
  const s = lastJsonLine<{ runId: string; state: string; source: string; expected: number; discovered: number; records: number; notFound: number }>(res.stdout);
  expect(s).toMatchObject({ state: 'completed', source: 'export', expected: 1_600, discovered: 1_600, records: 1_500, notFound: 100 });
  const lake = await readRun(e, 'movie', s.runId);
  expect(sorted(lake.idCounts.keys())).toEqual(range(1_500));
  expect([...lake.idCounts.values()].every((n) => n === 1)).toBe(true);
  expect(lake.records.filter((r) => r.doc.release_date === '').length).toBe(214);
  const stats = h.tmdb.stats();
  expect(stats.discoverRequests).toBeLessThan(3);
  expect(stats.exportRequests.slice(0, 3)).toEqual([
    { method: 'HEAD', file: exportFileName('movie', daysAgo(0)), status: 404 },
    { method: 'HEAD', file: exportFileName('movie', daysAgo(1)), status: 200 },
    { method: 'GET', file: exportFileName('movie', daysAgo(1)), status: 200 },
  ]);
  expect(lake.manifest.summary).toMatchObject({ expected: 1_600, records: 1_500, notFound: 100 });
  expect((lake.manifest.summary as unknown as { export: Record<string, number> }).export).toMatchObject({
    line: movie.length, kept: 1_600, adult: 150, malformed: 2, done: true,
  });

  const tvRes = await runCli(['backfill', 'tv', '--source', 'export', '--wait', '--json'], e);
  expect(tvRes.code, tvRes.stderr).toBe(0);
  const t = lastJsonLine<{ runId: string; records: number; notFound: number }>(tvRes.stdout);
  expect(t).toMatchObject({ records: 40, notFound: 3 });
  expect(sorted((await readRun(e, 'tv', t.runId)).idCounts.keys())).toEqual(range(40));
});

it('keeps only lines at or above --min-popularity, adult ones too with --include-adult', async () => {
  const date = daysAgo(2);
  const movie = exportLines(range(600), movieLine);
  h.tmdb.configure({ exports: { [exportFileName('movie', date)]: () => movie } });
  const e = env();
  h.startWorkers(e, 2);
  const res = await runCli(
    ['backfill', 'movie', '--source', 'export', '--export-date', date, '--min-popularity', '10', '--include-adult', '--wait', '--json'],
    e,
  );
  expect(res.code, res.stderr).toBe(0);
  const ids = movie.map((l) => (l.startsWith('{"adult"') ? (JSON.parse(l) as { id: number }).id : 0)).filter((id) => id > 0);
  const kept = ids.filter((id) => popularity(id) >= 10);
  const landed = kept.filter((id) => !STALE.includes(id));
  expect(landed.some((id) => ADULT.includes(id))).toBe(true);
  const s = lastJsonLine<{ runId: string; expected: number; records: number; notFound: number }>(res.stdout);
  expect(s).toMatchObject({ expected: kept.length, records: landed.length, notFound: kept.length - landed.length });
  const lake = await readRun(e, 'movie', s.runId);
  expect(sorted(lake.idCounts.keys())).toEqual(sorted(landed));
});

it('refuses bad export input with one line and exit 2', async () => {
  const e = env();
  const cases: [string[], RegExp][] = [
    [['--export-date', '2024-02-30'], /--export-date "2024-02-30" is not a date/],
    [['--min-popularity', 'high'], /--min-popularity "high" is not a number ≥ 0/],
    [['--from', '2024-01-01'], /--from, --to and --param filter discover windows/],
    [['--export-date', daysAgo(40)], new RegExp(`--export-date ${daysAgo(40)}: .*${exportFileName('movie', daysAgo(40))} does not exist`)],
  ];
  for (const [args, message] of cases) {
    const res = await runCli(['backfill', 'movie', '--source', 'export', ...args], e);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr.trim().split('\n').at(-1)).toMatch(message);
  }
  const discover = await runCli(['backfill', 'movie', '--min-popularity', '3'], e);
  expect(discover.code).toBe(2);
  expect(discover.stderr).toContain('--export-date, --min-popularity and --include-adult need --source export');
  const source = await runCli(['backfill', 'movie', '--source', 'dump'], e);
  expect(source.stderr).toContain('--source "dump" is not supported: expected discover or export');
  h.tmdb.configure({ exports: {} });
  const none = await runCli(['backfill', 'tv', '--source', 'export'], e);
  expect(none.code).toBe(2);
  expect(none.stderr).toContain(`no tv export for ${daysAgo(0)} or ${daysAgo(1)} at ${h.tmdb.filesUrl}/p/exports/ (TMDB_FILES_BASE_URL): pass --export-date`);
});

it('resumes an export whose reader and workers were SIGKILLed mid-file from its checkpoint, landing every id once', async () => {
  const movie = exportLines(range(9_000), movieLine);
  const file = exportFileName('movie', daysAgo(0));
  h.tmdb.configure({ exports: { [file]: () => movie } });
  const e = env({ DETAILS_QUEUE_MAX_DEPTH: '100', TMDB_RATE_LIMIT_RPS: '400' });
  const workers = h.startWorkers(e, 1);
  const reader = spawn(process.execPath, cliArgs('backfill', 'movie', '--source', 'export'), { env: { ...process.env, ...e }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  reader.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(reader, 'exit');
  const config = loadConfig(e);
  const redis = new Redis(config.redis.url);
  let runId = '';
  let checkpoint = 0;
  try {
    for (const deadline = Date.now() + 60_000; checkpoint < 4_000; ) {
      if (Date.now() > deadline) throw new Error(`no checkpoint past line 4000: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
      runId = /run (\S+) started: reading/.exec(stderr)?.[1] ?? '';
      if (runId) checkpoint = Number((await redis.hget(`${config.redis.prefix}:run:${runId}`, 'export.line')) ?? 0);
    }
    reader.kill('SIGKILL');
    await Promise.all([exited, ...workers.map((w) => w.kill())]);
    checkpoint = Number(await redis.hget(`${config.redis.prefix}:run:${runId}`, 'export.line'));
    expect(checkpoint).toBeLessThan(movie.length);
  } finally {
    redis.disconnect();
  }

  const resumed = await runCli(['backfill', '--resume', runId, '--wait', '--json', '--workers', '2'], { ...e, DETAILS_QUEUE_MAX_DEPTH: '5000', TMDB_RATE_LIMIT_RPS: '1000' });
  expect(resumed.code, resumed.stderr).toBe(0);
  const m = /export read again from line (\d+) \(byte (\d+)\), (\d+) lines read this time/.exec(resumed.stderr);
  expect(m, resumed.stderr).not.toBeNull();
  expect(Number(m![1])).toBe(checkpoint);
  expect(Number(m![2])).toBeGreaterThan(checkpoint * 50);
  expect(Number(m![3])).toBe(movie.length - checkpoint);
  const s = lastJsonLine<{ state: string; expected: number; records: number; notFound: number; discovered: number }>(resumed.stdout);
  const stale = STALE.filter((_, i) => i * 15 < 9_000).length;
  expect(s).toMatchObject({ state: 'completed', expected: 9_000 + stale, discovered: 9_000 + stale, records: 9_000, notFound: stale });
  const lake = await readRun(e, 'movie', runId);
  expect(lake.idCounts.size).toBe(9_000);
  expect([...lake.idCounts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
});
