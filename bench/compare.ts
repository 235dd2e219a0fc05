/**
 * The side-by-side of `npm run bench`: the fleet and the ways a user could do without it, one
 * after another on the same fake TMDB over HTTP (its own limit 10 % above the ceiling) and the
 * same S3 server (s3rver), fresh instances for each contender, at two settings:
 *
 * - `tmdb-like`: ceiling 40 rps, 100 ms ± 30 ms latency, 2,000 titles;
 * - `unconstrained`: ceiling 2,000 rps, no latency, 20,000 titles (sequential capped at 2,000).
 *
 * Contenders: `fleet` (4 `tmdb-fleet worker` processes + the CLI), `sequential`, `direct` and
 * `crawlee` (bench/contenders/*.ts, one child process each), and the fleet with a library's
 * limiter, `fleet-bottleneck` and `fleet-rlf` (bench/fleet-limiters.ts). Each is measured as a
 * whole run: from spawning its first process to its manifest written; CPU of every process
 * (redis-server's included for the fleet) from the reaped children's CPU times.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeTmdb } from '../src/sandbox/server.js';
import { CLI_NODE_FLAGS } from '../test/support/fleet-process.js';
import { s3Env, startS3Server } from '../test/support/s3-server.js';
import { runWithPid, type NodeArgs } from './fleet-spawn.js';
import { steadyRate } from './measure.js';
import { fleetCallsPerTitle, peakRssBytes, reapedChildrenCpuSeconds } from './probes.js';
import { readSummary, runScenario, type Scenario } from './scenario.js';
import { verifyRun } from './verify.js';

/** One of the two settings of the side-by-side. */
export interface Setting {
  id: 'tmdb-like' | 'unconstrained';
  name: string;
  ceilingRps: number;
  latencyMs: number | [number, number];
  titles: number;
  /** Titles of the sequential contender (capped where it would take too long). */
  sequentialTitles: number;
  from: string;
  to: string;
  /** WORKER_CONCURRENCY of the fleet's processes. */
  fleetConcurrency: number;
  /** Requests in flight of the direct client. */
  directInFlight: number;
  /** Crawlee's maxConcurrency (= minConcurrency). */
  crawleeConcurrency: number;
}

/** What one contender did at one setting, measured over the whole run. */
export interface Outcome {
  contender: string;
  /** Titles in the fake's catalog for this contender. */
  titles: number;
  /** Titles in the lake, once each (when verified). */
  landed: number;
  ceilingRps: number;
  /** From spawning the first process to the manifest written (the last process's exit), ms. */
  wallMs: number;
  /** Fleets: from the CLI's start, its workers already up (as with `docker compose up`), ms. */
  runWallMs?: number;
  /** Details answered 200 or 404 (429s not counted). */
  detailsAnswered: number;
  requests: number;
  status429: number;
  /** user + sys of every process of the contender, s. */
  cpuSeconds: number;
  /** Peak RSS: the contender's process; the fleet: the sum of each process's peak. */
  peakRss: number;
  /** Fleets: from the CLI's start to the first details answer, and from the last one to the CLI's exit, ms. */
  phases?: { toFirstDetailsMs: number; afterLastDetailsMs: number };
  /** Redis commands per title (fleets only). */
  redisPerTitle: number | undefined;
  /** Details 200s per second over the middle 80 % of the run. */
  steadyDetailsRps: number;
  verified: string;
  ok: boolean;
}

/** Fake TMDB's own limit: 10 % above the ceiling. */
const TMDB_HEADROOM = 1.1;
const BUCKET = 'lake';
const FLEET_WORKERS = 4;

const envInt = (name: string, fallback: number): number => {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
};

/** Ids that answer 404 on details: three ids of the catalog (ids are a permutation of 1…titles). */
export function notFoundIds(titles: number): number[] {
  return [...new Set([17, Math.floor(titles / 2) + 3, titles - 4])].filter((id) => id >= 1 && id <= titles);
}

/** The two settings, sizes from BENCH_TMDB_LIKE_TITLES, BENCH_UNCONSTRAINED_TITLES, BENCH_SEQUENTIAL_TITLES. */
export function settings(): Setting[] {
  const tmdbLikeTitles = envInt('BENCH_TMDB_LIKE_TITLES', 2_000);
  const unconstrainedTitles = envInt('BENCH_UNCONSTRAINED_TITLES', 20_000);
  return [
    {
      id: 'tmdb-like',
      name: 'TMDB-like: ceiling 40 rps, 100 ± 30 ms latency',
      ceilingRps: 40,
      latencyMs: [70, 130],
      titles: tmdbLikeTitles,
      sequentialTitles: tmdbLikeTitles,
      from: '2024-01-01',
      to: '2024-12-31',
      fleetConcurrency: envInt('BENCH_FLEET_CONCURRENCY', 16),
      directInFlight: envInt('BENCH_DIRECT_IN_FLIGHT', 16),
      // maxRequestsPerMinute does not spread requests within the minute: in-flight requests
      // × latency must hold the rate (40 rps × 0.1 s = 4).
      crawleeConcurrency: envInt('BENCH_CRAWLEE_CONCURRENCY', 4),
    },
    {
      id: 'unconstrained',
      name: 'unconstrained: ceiling 2,000 rps, no latency',
      ceilingRps: 2_000,
      latencyMs: 0,
      titles: unconstrainedTitles,
      sequentialTitles: Math.min(unconstrainedTitles, envInt('BENCH_SEQUENTIAL_TITLES', 2_000)),
      from: '2020-01-01',
      to: '2024-12-31',
      fleetConcurrency: envInt('BENCH_FLEET_CONCURRENCY', 64),
      directInFlight: envInt('BENCH_DIRECT_IN_FLIGHT', 64),
      crawleeConcurrency: envInt('BENCH_CRAWLEE_CONCURRENCY', 64),
    },
  ];
}

/** A contender of the side-by-side. */
export interface Contender {
  id: string;
  /** How it ran, for the notes under the table. */
  describe(s: Setting): string;
  /** Titles it gets at a setting. */
  titles(s: Setting): number;
  run(s: Setting): Promise<Outcome>;
}

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const meanLatencyMs = (s: Setting) => (Array.isArray(s.latencyMs) ? (s.latencyMs[0] + s.latencyMs[1]) / 2 : s.latencyMs);

/** Generous time limits: a hang shows as a failed row, not a stuck bench. */
function timeoutMs(s: Setting, titles: number, oneAtATime: boolean): number {
  const perTitleMs = oneAtATime ? Math.max(1000 / s.ceilingRps, meanLatencyMs(s) + 3) : 1000 / s.ceilingRps;
  return 120_000 + 5 * titles * perTitleMs;
}

/** The fleet, through the real CLI or the bench entry with a library's limiter. */
function fleetContender(id: string, limiter?: string): Contender {
  const entry = path.join(benchDir, 'fleet-cli.js');
  const nodeArgs: NodeArgs | undefined = limiter ? (...args) => [...CLI_NODE_FLAGS, entry, ...args] : undefined;
  return {
    id,
    describe: (s) => `${id}: ${FLEET_WORKERS} \`tmdb-fleet worker\` processes (WORKER_CONCURRENCY=${s.fleetConcurrency}) and \`tmdb-fleet backfill movie --wait --json\`${limiter ? `, limiter swapped for ${limiter} (bench/fleet-limiters.ts)` : ''}`,
    titles: (s) => s.titles,
    async run(s) {
      const scenario: Scenario = {
        id,
        name: `${id} at ${s.id}`,
        titles: s.titles,
        from: s.from,
        to: s.to,
        ceilingRps: s.ceilingRps,
        tmdbRps: Math.round(s.ceilingRps * TMDB_HEADROOM),
        latencyMs: s.latencyMs,
        workers: FLEET_WORKERS,
        concurrency: s.fleetConcurrency,
        notFound: notFoundIds(s.titles),
        timeoutMs: timeoutMs(s, s.titles, false),
        ...(limiter ? { extraEnv: { BENCH_LIMITER: limiter }, nodeArgs } : {}),
      };
      const cpuBefore = reapedChildrenCpuSeconds();
      const r = await runScenario(scenario);
      const redisPerTitle = fleetCallsPerTitle(r.redisCallsPerTitle).reduce((sum, [, n]) => sum + n, 0);
      return {
        contender: id,
        titles: s.titles,
        landed: r.landed,
        ceilingRps: s.ceilingRps,
        wallMs: r.whole.wallMs,
        runWallMs: r.wallMs,
        detailsAnswered: r.whole.detailsAnswered,
        requests: r.requests,
        status429: r.status429,
        cpuSeconds: reapedChildrenCpuSeconds() - cpuBefore,
        peakRss: r.whole.peakRss,
        redisPerTitle,
        phases: { toFirstDetailsMs: r.toFirstDetailsMs, afterLastDetailsMs: r.afterLastDetailsMs },
        steadyDetailsRps: r.detailsRps,
        verified: r.verified,
        ok: r.ok,
      };
    },
  };
}

/** A script contender: `node dist/bench/contenders/<id>.js`, one process. */
function scriptContender(id: 'sequential' | 'direct' | 'crawlee', describe: (s: Setting) => string, inFlight: (s: Setting) => number): Contender {
  const titles = (s: Setting) => (id === 'sequential' ? s.sequentialTitles : s.titles);
  return {
    id,
    describe,
    titles,
    run: (s) => runScript(id, s, titles(s), inFlight(s)),
  };
}

async function runScript(id: string, s: Setting, titles: number, inFlight: number): Promise<Outcome> {
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const s3 = await startS3Server([BUCKET]);
    cleanups.push(() => s3.close());
    const notFound = notFoundIds(titles);
    const fake = await startFakeTmdb({
      movie: { count: titles, from: s.from, to: s.to, seed: 42 },
      notFoundIds: notFound,
      latencyMs: s.latencyMs,
      rateLimit: { rps: Math.round(s.ceilingRps * TMDB_HEADROOM), retryAfterSec: 1 },
    });
    cleanups.push(() => fake.close());
    const env: Record<string, string> = {
      TMDB_API_BASE_URL: fake.url,
      TMDB_ACCESS_TOKEN: 'test-token',
      TMDB_RATE_LIMIT_RPS: String(s.ceilingRps),
      BENCH_FROM: s.from,
      BENCH_TO: s.to,
      BENCH_IN_FLIGHT: String(inFlight),
      CRAWLEE_STORAGE_DIR: mkdtempSync(path.join(os.tmpdir(), 'crawlee-')),
      ...s3Env(s3, BUCKET),
    };
    let pid = -1;
    let sampledPeak = 0;
    const sampler = setInterval(() => (sampledPeak = Math.max(sampledPeak, peakRssBytes(pid) ?? 0)), 250);
    const cpuBefore = reapedChildrenCpuSeconds();
    const started = Date.now();
    const script = path.join(benchDir, 'contenders', `${id}.js`);
    const res = await runWithPid([script], env, timeoutMs(s, titles, id === 'sequential'), (p) => (pid = p)).finally(() => clearInterval(sampler));
    const wallMs = Date.now() - started;
    const cpuSeconds = reapedChildrenCpuSeconds() - cpuBefore;
    const stats = fake.stats();
    const summary = readSummary(res.stdout) as ReturnType<typeof readSummary> & { maxRssBytes?: number };
    let verified = res.timedOut ? `killed after ${timeoutMs(s, titles, id === 'sequential')} ms` : await verifyRun(env, { catalogIds: fake.titles('movie').map((t) => t.id), notFound }, summary).catch((err: unknown) => `lake unreadable: ${String(err)}`);
    const ok = verified.startsWith('verified') && res.code === 0;
    if (!ok && res.stderr.trim()) verified += ` (exit ${res.code}: ${res.stderr.trim().split('\n').slice(-3).join(' | ')})`;
    return {
      contender: id,
      titles,
      landed: ok ? titles - notFound.length : (summary.records ?? 0),
      ceilingRps: s.ceilingRps,
      wallMs,
      detailsAnswered: stats.detailsOkTimestamps.length + (stats.byStatus['404'] ?? 0),
      requests: stats.requests,
      status429: stats.byStatus['429'] ?? 0,
      cpuSeconds,
      peakRss: summary.maxRssBytes ?? sampledPeak,
      redisPerTitle: undefined,
      steadyDetailsRps: steadyRate(stats.detailsOkTimestamps),
      verified,
      ok,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((err: unknown) => process.stderr.write(`bench: cleanup failed: ${String(err)}\n`));
    }
  }
}

/** Every contender, in the order they run and appear. */
export const CONTENDERS: Contender[] = [
  fleetContender('fleet'),
  scriptContender(
    'sequential',
    (s) => `sequential: one request at a time, spaced at the ceiling; objects uploaded one by one${s.sequentialTitles < s.titles ? ` (capped at ${s.sequentialTitles.toLocaleString('en-US')} titles: BENCH_SEQUENTIAL_TITLES)` : ''}`,
    () => 1,
  ),
  scriptContender('direct', (s) => `direct: ${s.directInFlight} in flight, token bucket at the ceiling (burst ${Math.max(1, Math.floor(s.ceilingRps * 0.05))}), objects uploaded as they fill`, (s) => s.directInFlight),
  scriptContender(
    'crawlee',
    (s) => `crawlee: BasicCrawler, maxConcurrency = minConcurrency = ${s.crawleeConcurrency}, maxRequestsPerMinute ${s.ceilingRps * 60}, storage in memory`,
    (s) => s.crawleeConcurrency,
  ),
  fleetContender('fleet-bottleneck', 'bottleneck'),
  fleetContender('fleet-rlf', 'rate-limiter-flexible'),
];
