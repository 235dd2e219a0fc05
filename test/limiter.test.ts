/**
 * The fleet-wide rate limit (`src/tmdb/limiter.ts`) on a real redis-server, with one limiter
 * (and one Redis connection) per simulated process, as the fleet runs it:
 * - a crowd of waiting callers never exceeds the ceiling in any 1 s window, and reaches it;
 * - waiting costs nothing: one script call per request, however many callers wait and however
 *   far ahead their slot lies (no re-polling);
 * - a 429 pause stops every process at once: reservations handed out before it are dropped,
 *   nothing but requests already on their way goes out during the pause.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetRateLimiter } from '../src/tmdb/limiter.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';

let server: RedisServer;
const clients: Redis[] = [];

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await server?.stop();
});

/** `n` limiters on their own connections, like `n` worker processes. */
function fleet(n: number, rps: number, prefix: string): FleetRateLimiter[] {
  return Array.from({ length: n }, () => {
    const redis = new Redis(server.url, { maxRetriesPerRequest: null });
    clients.push(redis);
    return new FleetRateLimiter({ redis, prefix, rps });
  });
}

/** Calls per Redis command so far (INFO commandstats). */
async function commandCalls(): Promise<Record<string, number>> {
  const admin = new Redis(server.url);
  try {
    const out: Record<string, number> = {};
    for (const m of (await admin.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1] ?? ''] = Number(m[2]);
    return out;
  } finally {
    admin.disconnect();
  }
}

/** The most requests in any window of `ms` (times in ms). */
function busiestWindow(times: number[], ms: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[i] ?? 0) - (sorted[j] ?? 0) >= ms) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('fleet-wide rate limit', () => {
  it('holds 40 requests/s across 4 processes with 200 callers waiting, at one script call per request (no re-polling)', async () => {
    const limiters = fleet(4, 40, '{lim-a}');
    const before = await commandCalls();
    const times: number[] = [];
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => limiters[i % 4]?.schedule(async () => void times.push(Date.now()))),
    );
    const tookMs = Date.now() - started;
    const after = await commandCalls();
    // ioredis sends EVAL the first time a connection meets a script, EVALSHA after.
    const evalsha = (after.evalsha ?? 0) + (after.eval ?? 0) - (before.evalsha ?? 0) - (before.eval ?? 0);
    const all = Object.keys(after).reduce((n, k) => n + (after[k] ?? 0) - (before[k] ?? 0), 0) - 1; // minus the INFO
    process.stdout.write(`limiter: 200 requests in ${tookMs} ms, busiest 1 s ${busiestWindow(times, 1_000)}, ${evalsha} EVALSHA, ${all} commands\n`);
    expect(times).toHaveLength(200);
    // Slots are exactly 25 ms apart; a timer that fires late packs one more into a window.
    expect(busiestWindow(times, 1_000)).toBeLessThanOrEqual(42);
    // 200 slots 25 ms apart: the last at 4.975 s; no slot left unused.
    expect(tookMs).toBeGreaterThanOrEqual(4_900);
    expect(tookMs).toBeLessThan(5_400);
    expect(evalsha).toBe(200);
    // 4 a request (EVALSHA and the script's TIME, GET, SET), plus each process's set-up of its
    // pause subscriber (ready check, SUBSCRIBE): at most 3 each.
    expect(all).toBeLessThanOrEqual(4 * 200 + 4 * 3);
  });

  it('stops every process during a 429 pause: reservations handed out before it are dropped', async () => {
    const limiters = fleet(3, 40, '{lim-b}');
    const times: number[] = [];
    const crowd = Promise.all(
      Array.from({ length: 120 }, (_, i) => limiters[i % 3]?.schedule(async () => void times.push(Date.now()))),
    );
    await new Promise((r) => setTimeout(r, 500));
    const pausedAt = Date.now();
    await limiters[0]?.pauseFleet(1_500);
    await crowd;
    const during = times.filter((t) => t > pausedAt + 30 && t < pausedAt + 1_500);
    const after = times.filter((t) => t >= pausedAt + 1_500);
    process.stdout.write(`limiter pause: ${during.length} requests during the pause, ${after.length} after, busiest 1 s after ${busiestWindow(after, 1_000)}\n`);
    expect(during).toEqual([]);
    expect(times).toHaveLength(120);
    // Back at the ceiling right after the pause, not beyond it.
    expect(busiestWindow(after, 1_000)).toBeLessThanOrEqual(42);
    expect(Math.min(...after) - pausedAt).toBeLessThan(1_600);
  });

  it('never shortens a pause in force', async () => {
    const [a, b] = fleet(2, 40, '{lim-c}');
    const pausedAt = Date.now();
    await a?.pauseFleet(1_000);
    await b?.pauseFleet(100);
    let at = 0;
    await b?.schedule(async () => void (at = Date.now()));
    expect(at - pausedAt).toBeGreaterThanOrEqual(990);
  });
});
