/**
 * One benchmark scenario end to end through real processes: a fresh redis-server, s3rver and
 * fake TMDB; N `tmdb-fleet worker` processes; `tmdb-fleet backfill --wait --json`. Measures the
 * details rate at TMDB, 429s, Redis memory, worker RSS, CPU per process and Redis commands per
 * title, the whole run from the workers' start to the manifest, then checks the run's output in
 * the lake.
 */
import { Redis } from 'ioredis';
import { startFakeTmdb, type FakeTmdb, type FakeTmdbStats } from '../src/sandbox/server.js';
import { lastJsonLine, type WorkerProcess } from '../test/support/fleet-process.js';
import { startRedisServer } from '../test/support/redis-server.js';
import { s3Env, startS3Server } from '../test/support/s3-server.js';
import { realCli, runWithPid, startFleetWorker, waitForIdle, waitForWorkers, type NodeArgs, type OneShot } from './fleet-spawn.js';
import { cpuPicture, queuePicture, steadyRate, steadyWindow, type CpuPicture, type CpuSample, type QueuePicture } from './measure.js';
import { callsPerTitle, commandCalls, cpuSeconds, every, infoField, machineCpu, peakRssBytes, rssBytes } from './probes.js';
import { verifyRun, type RunSummary } from './verify.js';

const BUCKET = 'lake';
const PREFIX = '{bench}';

/** One run of the fleet: the catalog, TMDB's behaviour and the fleet's settings. */
export interface Scenario {
  id: string;
  name: string;
  titles: number;
  from: string;
  to: string;
  /** TMDB_RATE_LIMIT_RPS: the fleet's ceiling. */
  ceilingRps: number;
  /** The fake's own limit (TMDB's), a little above the ceiling. */
  tmdbRps: number;
  /** The fake's added latency per request, ms: fixed, or uniform in [min, max]. */
  latencyMs: number | [number, number];
  workers: number;
  concurrency: number;
  notFound: number[];
  /** The CLI is killed after this long (a hang shows as a crash, not a stuck bench). */
  timeoutMs: number;
  /** More fleet environment (experiments only). */
  extraEnv?: Record<string, string>;
  /** How the fleet's processes are started; default the real CLI. */
  nodeArgs?: NodeArgs;
}

/** The run as a whole: from spawning the first worker to the CLI's exit (manifest written). */
export interface WholeRun {
  wallMs: number;
  /** Details answered 200 or 404 (not 429). */
  detailsAnswered: number;
  /** Sum over every process (workers, CLI, redis-server) of its own peak RSS (VmHWM), bytes. */
  peakRss: number;
}

/** What one scenario measured. */
export interface Result {
  scenario: Scenario;
  /** Details 200s per second over the middle 80 % of the run. */
  detailsRps: number;
  /** All TMDB requests (discover, details, 429s) per second from the CLI's start to its exit. */
  requestRps: number;
  requests: number;
  detailsRequests: number;
  discoverRequests: number;
  status429: number;
  maxInFlight: number;
  baselineUsedMemory: number;
  peakUsedMemory: number;
  peakWorkerRss: number;
  /** From the CLI's start to its exit, ms. */
  wallMs: number;
  /** From the CLI's start to the first details answer (start-up: CLI, pre-flight, page 1), ms. */
  toFirstDetailsMs: number;
  /** From the last details answer to the CLI's exit (tail: last objects, manifest, the CLI noticing), ms. */
  afterLastDetailsMs: number;
  whole: WholeRun;
  cpu: CpuPicture;
  /** The details queue as sampled every 200 ms (middle 80 % of samples). */
  detailsQueue: QueuePicture;
  /** Redis commands per title during the run, by command (INFO commandstats delta). */
  redisCallsPerTitle: Record<string, number>;
  /** Titles in the lake (once each) when verified. */
  landed: number;
  verified: string;
  ok: boolean;
}

/** Servers of one scenario and the environment of its fleet processes. */
interface Rig {
  fake: FakeTmdb;
  monitor: Redis;
  redisPid: number;
  env: Record<string, string>;
}

async function startRig(scenario: Scenario, cleanups: (() => Promise<unknown>)[]): Promise<Rig> {
  const redis = await startRedisServer();
  cleanups.push(() => redis.stop());
  const s3 = await startS3Server([BUCKET]);
  cleanups.push(() => s3.close());
  const fake = await startFakeTmdb({
    movie: { count: scenario.titles, from: scenario.from, to: scenario.to, seed: 42 },
    notFoundIds: scenario.notFound,
    latencyMs: scenario.latencyMs,
    rateLimit: { rps: scenario.tmdbRps, retryAfterSec: 1 },
  });
  cleanups.push(() => fake.close());
  const monitor = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  cleanups.push(async () => monitor.disconnect());
  const redisPid = await infoField(monitor, 'server', 'process_id');
  const env: Record<string, string> = {
    REDIS_URL: redis.url,
    REDIS_PREFIX: PREFIX,
    TMDB_API_BASE_URL: fake.url,
    TMDB_ACCESS_TOKEN: 'test-token',
    TMDB_RATE_LIMIT_RPS: String(scenario.ceilingRps),
    WORKER_CONCURRENCY: String(scenario.concurrency),
    BATCH_MAX_RECORDS: '100',
    BATCH_MAX_WAIT_MS: '1000',
    LOG_LEVEL: 'warn',
    ...s3Env(s3, BUCKET),
    ...scenario.extraEnv,
  };
  return { fake, monitor, redisPid, env };
}

/** Samplers of one run: Redis memory and queue depth, worker RSS, CPU per process group. */
interface Samplers {
  stop(): Promise<void>;
  peakUsedMemory(): number;
  peakWorkerRss(): number;
  cliPeakRss(): number;
  /** Redis commands the samplers sent (other than INFO), by command. */
  ownCalls(): Record<string, number>;
  cpuSamples: CpuSample[];
  depth: { waiting: number; active: number }[];
}

function startSamplers(rig: Rig, workers: WorkerProcess[], cliPid: () => number, baselineUsedMemory: number): Samplers {
  let peakUsedMemory = baselineUsedMemory;
  let peakWorkerRss = 0;
  let cliPeakRss = 0;
  const depth: { waiting: number; active: number }[] = [];
  let ownLlen = 0;
  const stopMemory = every(200, async () => {
    const [used, waiting, active] = await Promise.all([
      infoField(rig.monitor, 'memory', 'used_memory'),
      rig.monitor.llen(`${PREFIX}:details:wait`),
      rig.monitor.llen(`${PREFIX}:details:active`),
    ]);
    if (used > peakUsedMemory) peakUsedMemory = used;
    depth.push({ waiting, active });
    ownLlen += 2;
  });
  const stopRss = every(500, () => {
    for (const w of workers) {
      const rss = w.child.pid === undefined ? undefined : rssBytes(w.child.pid);
      if (rss !== undefined && rss > peakWorkerRss) peakWorkerRss = rss;
    }
  });
  // CPU: cumulative CPU seconds per process every 250 ms, so the picture covers the steady
  // middle of the run (the same window as the rate), not CLI start-up and the final flush.
  const cpuSamples: CpuSample[] = [];
  const sampleCpu = () => {
    const bench = process.cpuUsage();
    const pid = cliPid();
    if (pid > 0) cliPeakRss = Math.max(cliPeakRss, peakRssBytes(pid) ?? 0);
    cpuSamples.push({
      at: Date.now(),
      workers: workers.reduce((sum, w) => sum + (w.child.pid === undefined ? 0 : (cpuSeconds(w.child.pid) ?? 0)), 0),
      redis: cpuSeconds(rig.redisPid) ?? 0,
      cli: pid > 0 ? (cpuSeconds(pid) ?? Number.NaN) : 0,
      bench: (bench.user + bench.system) / 1e6,
      machine: machineCpu(),
    });
  };
  sampleCpu();
  const stopCpu = every(250, sampleCpu);
  return {
    async stop() {
      await Promise.all([stopMemory(), stopRss(), stopCpu()]);
    },
    peakUsedMemory: () => peakUsedMemory,
    peakWorkerRss: () => peakWorkerRss,
    cliPeakRss: () => cliPeakRss,
    ownCalls: () => ({ llen: ownLlen }),
    cpuSamples,
    depth,
  };
}

/** The run summary on the last line of stdout (`{}` when there is none). */
export function readSummary(stdout: string): RunSummary {
  try {
    return lastJsonLine<RunSummary>(stdout);
  } catch {
    return {};
  }
}

/** The CLI's outcome, checked against the lake. */
async function checkOutcome(scenario: Scenario, rig: Rig, res: OneShot, workers: WorkerProcess[]): Promise<{ verified: string; ok: boolean; landed: number }> {
  if (res.timedOut) return { verified: `CLI killed after ${scenario.timeoutMs} ms`, ok: false, landed: 0 };
  const summary = readSummary(res.stdout);
  const expected = { catalogIds: rig.fake.titles('movie').map((t) => t.id), notFound: scenario.notFound };
  let verified = await verifyRun(rig.env, expected, summary).catch((err: unknown) => `lake unreadable: ${String(err)}`);
  const ok = verified.startsWith('verified') && res.code === 0;
  if (!ok && res.code !== 0) verified += ` (CLI exit ${res.code}: ${res.stderr.trim().split('\n').slice(-3).join(' | ')})`;
  if (!ok) {
    for (const [i, w] of workers.entries()) {
      const tail = w.output().trim().split('\n').slice(-5).join('\n');
      if (tail) process.stderr.write(`bench: worker ${i} last output:\n${tail}\n`);
    }
  }
  return { verified, ok, landed: ok ? expected.catalogIds.length - scenario.notFound.length : (summary.records ?? 0) };
}

/** Runs the scenario on fresh servers and stops everything it started before returning. */
export async function runScenario(scenario: Scenario): Promise<Result> {
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const rig = await startRig(scenario, cleanups);
    return await measureRun(scenario, rig, cleanups);
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((err: unknown) => process.stderr.write(`bench: cleanup failed: ${String(err)}\n`));
    }
  }
}

async function measureRun(scenario: Scenario, rig: Rig, cleanups: (() => Promise<unknown>)[]): Promise<Result> {
  const nodeArgs = scenario.nodeArgs ?? realCli;
  const workers: WorkerProcess[] = [];
  cleanups.push(() => Promise.all(workers.map((w) => w.kill())));
  const spawnedAt = Date.now();
  for (let i = 0; i < scenario.workers; i++) workers.push(startFleetWorker(nodeArgs, rig.env));
  await waitForWorkers(rig.env.REDIS_URL!, PREFIX, scenario.workers, workers);
  await waitForIdle(workers);
  rig.fake.resetStats();

  const callsBefore = await commandCalls(rig.monitor);
  const baselineUsedMemory = await infoField(rig.monitor, 'memory', 'used_memory');
  let cliPid = -1;
  const samplers = startSamplers(rig, workers, () => cliPid, baselineUsedMemory);
  const started = Date.now();
  let res: OneShot;
  try {
    const args = nodeArgs('backfill', 'movie', '--from', scenario.from, '--to', scenario.to, '--wait', '--json');
    res = await runWithPid(args, rig.env, scenario.timeoutMs, (pid) => (cliPid = pid));
  } finally {
    await samplers.stop();
  }
  const ended = Date.now();
  const livePeaks = [...workers.map((w) => w.child.pid ?? -1), rig.redisPid].map((pid) => peakRssBytes(pid) ?? 0);
  // The run is over: idle workers would only add CPU while the bench reads the lake back.
  await Promise.all(workers.map((w) => w.kill()));
  const stats: FakeTmdbStats = rig.fake.stats();
  const [steadyFrom, steadyTo] = steadyWindow(stats.detailsOkTimestamps);
  const redisCallsPerTitle = callsPerTitle(callsBefore, await commandCalls(rig.monitor), scenario.titles, samplers.ownCalls());
  const outcome = await checkOutcome(scenario, rig, res, workers);
  return {
    scenario,
    detailsRps: steadyRate(stats.detailsOkTimestamps),
    requestRps: stats.requests / ((ended - started) / 1000),
    requests: stats.requests,
    detailsRequests: stats.detailsRequests,
    discoverRequests: stats.discoverRequests,
    status429: stats.byStatus['429'] ?? 0,
    maxInFlight: stats.maxInFlight,
    baselineUsedMemory,
    peakUsedMemory: samplers.peakUsedMemory(),
    peakWorkerRss: samplers.peakWorkerRss(),
    wallMs: ended - started,
    toFirstDetailsMs: (stats.detailsOkTimestamps[0] ?? Number.NaN) - started,
    afterLastDetailsMs: ended - (stats.detailsOkTimestamps.at(-1) ?? Number.NaN),
    whole: {
      wallMs: ended - spawnedAt,
      detailsAnswered: stats.detailsOkTimestamps.length + (stats.byStatus['404'] ?? 0),
      peakRss: livePeaks.reduce((a, b) => a + b, 0) + samplers.cliPeakRss(),
    },
    cpu: cpuPicture(samplers.cpuSamples, steadyFrom, steadyTo),
    redisCallsPerTitle,
    detailsQueue: queuePicture(samplers.depth),
    ...outcome,
  };
}
