/**
 * Look before you leap: `backfill --dry-run` plans the windows with page-1 requests only and
 * enqueues nothing; a backfill without dates or over BACKFILL_CONFIRM_TITLES asks on a terminal
 * and needs --yes otherwise.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { cliArgs, lastJsonLine, runCli } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';

const h = useFleetHarness({ tmdb: { movie: { count: 25_000, from: '2010-01-01', to: '2014-12-31', seed: 9 } } });
const RANGE = ['--from', '2010-01-01', '--to', '2014-12-31'];

/** Runs recorded and jobs enqueued under the environment's prefix. */
async function runKeys(env: Record<string, string>): Promise<string[]> {
  const config = loadConfig(env);
  const redis = new Redis(config.redis.url);
  try {
    const keys = await redis.keys(`${config.redis.prefix}:*`);
    return keys.filter((k) => /:runs?(:|$)|:(discover|details|write):(wait|delayed|prioritized|\d|[a-z]\.)/.test(k));
  } finally {
    redis.disconnect();
  }
}

it('--dry-run plans every window with page-1 requests, prints the cost, enqueues nothing', async () => {
  const e = h.env({ TMDB_RATE_LIMIT_RPS: '1000' });
  h.tmdb.resetStats();
  const res = await runCli(['backfill', 'movie', ...RANGE, '--dry-run', '--json'], e);
  expect(res.code, res.stderr).toBe(0);
  const plan = lastJsonLine<{ expected: number; reachable: number; leaves: number; pages: number; requests: number; planRequests: number; etaSeconds: number }>(res.stdout);
  expect(plan.expected).toBe(25_000);
  expect(plan.reachable).toBe(25_000);
  expect(plan.leaves).toBeGreaterThanOrEqual(3);
  // 20 results a page: every leaf's pages, plus page 1 of every window that was split.
  expect(plan.pages).toBeGreaterThanOrEqual(Math.ceil(25_000 / 20));
  expect(plan.requests).toBe(plan.pages + 25_000);
  expect(plan.etaSeconds).toBe(Math.ceil(plan.requests / 1000));
  // Only page-1 requests, one per window planned, and no details.
  expect(h.tmdb.stats().discoverRequests).toBe(plan.planRequests);
  expect(plan.planRequests).toBe(2 * plan.leaves - 1);
  expect(h.tmdb.stats().detailsRequests).toBe(0);
  expect(await runKeys(e)).toEqual([]);
});

it('refuses a backfill without dates off a terminal unless --yes, saying what it would cost', async () => {
  const e = h.env({ TMDB_RATE_LIMIT_RPS: '40' });
  const res = await runCli(['backfill', 'movie'], e);
  expect(res.code).toBe(2);
  const lines = res.stderr.split('\n').filter((l) => l.startsWith('tmdb-fleet:') && !l.includes('S3_BUCKET is unset'));
  expect(lines).toEqual([
    expect.stringMatching(/^tmdb-fleet: this backfill would fetch 25,000 titles \(no --from\/--to: the whole catalog\), about 10 min at 40 requests\/s: pass --yes to start it \(or --dry-run to see its plan\)$/),
  ]);
  expect(await runKeys(e)).toEqual([]);
  const yes = await runCli(['backfill', 'movie', '--yes'], e);
  expect((await runKeys(e)).length).toBeGreaterThan(0); // the check above can see a run
  expect(yes.code, yes.stderr).toBe(0);
  expect(yes.stdout.trim()).toMatch(/^movie-\d{8}T\d{6}-[0-9a-f]{8}$/);
});

it('refuses a dated backfill over BACKFILL_CONFIRM_TITLES unless --yes', async () => {
  const e = h.env({ BACKFILL_CONFIRM_TITLES: '1000' });
  const res = await runCli(['backfill', 'movie', ...RANGE], e);
  expect(res.code).toBe(2);
  expect(res.stderr).toContain('this backfill would fetch 25,000 titles, about');
  const small = await runCli(['backfill', 'movie', '--from', '2010-01-01', '--to', '2010-01-10'], e);
  expect(small.code, small.stderr).toBe(0);
});

it('asks on a terminal, and a "n" starts nothing', async () => {
  const e = h.env({ TMDB_RATE_LIMIT_RPS: '40' });
  // script(1) gives the CLI a pseudo-terminal; the answer arrives on it.
  const command = [process.execPath, ...cliArgs('backfill', 'movie')].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { env: { ...process.env, ...e }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('Start it? [y/N]')) child.stdin.end('n\n');
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(out).toContain('tmdb-fleet: backfill 25,000 titles (no --from/--to: the whole catalog), about 10 min at 40 requests/s. Start it? [y/N]');
  expect(out).not.toMatch(/movie-\d{8}T/);
  expect(out).toContain('backfill not started: not confirmed');
  expect(code).toBe(2);
  expect(await runKeys(e)).toEqual([]);
});
