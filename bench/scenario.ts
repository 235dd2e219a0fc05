/**
 * One benchmark scenario end to end through real processes: a fresh redis-server, s3rver and
 * fake TMDB; N `tmdb-fleet worker` processes; `tmdb-fleet backfill --wait --json`. Measures the
 * details rate at TMDB, 429s, Redis memory, worker RSS, CPU per process and Redis commands per
 * title, then checks the run's output in the lake.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startFakeTmdb, type FakeTmdb, type FakeTmdbStats } from '../test/support/fake-tmdb.js';
import { cliArgs, lastJsonLine, startWorker, type WorkerProcess } from '../test/support/fleet-process.js';
import { readRun } from '../test/support/lake-reader.js';
import { startRedisServer, type RedisServer } from '../test/support/redis-server.js';
import { s3Env, startS3Server, type S3Server } from '../test/support/s3-server.js';

const BUCKET = 'lake';
const PREFIX = '{bench}';
/** Clock ticks per second of /proc/<pid>/stat utime/stime (Linux: 100). */
const CLK_TCK = 100;

// ---------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------

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
  latencyMs: number;
  workers: number;
  concurrency: number;
  notFound: number[];
  /** The CLI is killed after this long (a hang shows as a crash, not a stuck bench). */
  timeoutMs: number;
  /** More fleet environment (experiments only). */
  extraEnv?: Record<string, string>;
}

// ---------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------

/** CPU seconds per wall second (1.0 = one core busy) over the steady middle of the run. */
export interface CpuPicture {
  /** Length of the window measured, s. */
  windowS: number;
  /** All worker processes together. */
  workers: number;
  redis: number;
  cli: number;
  /** This process: the fake TMDB, s3rver and the samplers. */
  bench: number;
  /** The whole machine, every process (ours or anyone else's). */
  machine: number;
}

export interface Result {
  scenario: Scenario;
  /** Details 200s per second over the middle 80 % of the run. */
  detailsRps: number;
  /** All TMDB requests (discover, details, 429s) per second over the whole run. */
  requestRps: number;
  requests: number;
  detailsRequests: number;
  discoverRequests: number;
  status429: number;
  maxInFlight: number;
  baselineUsedMemory: number;
  peakUsedMemory: number;
  peakWorkerRss: number;
  wallMs: number;
  cpu: CpuPicture;
  /** The details queue as sampled every 200 ms (middle 80 % of samples). */
  detailsQueue: { meanWaiting: number; emptyShare: number; meanActive: number };
  /** Redis commands per title during the run, by command (INFO commandstats delta). */
  redisCallsPerTitle: Record<string, number>;
  verified: string;
  ok: boolean;
}

// ---------------------------------------------------------------------------------------
// Process and Redis probes
// ---------------------------------------------------------------------------------------

/** utime + stime of a process in seconds, or undefined once it is gone. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** Child processes alive right now (workers, the CLI), for {@link killChildren}. */
const children = new Set<ChildProcess>();

/** SIGKILLs every worker and CLI process still running (on SIGINT/SIGTERM of the bench). */
export function killChildren(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Tracks a child until it exits. */
function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Busy and total CPU seconds of the whole machine (all processes, ours or not), from /proc/stat. */
function machineCpu(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

interface CpuSample {
  at: number;
  workers: number;
  redis: number;
  /** NaN once the CLI has exited. */
  cli: number;
  bench: number;
  machine: { busy: number; total: number };
}

/** Cores busy per process group between the samples nearest to `from` and `to`. */
function cpuPicture(samples: CpuSample[], from: number, to: number): CpuPicture {
  const nearest = (t: number) =>
    samples.reduce((best, x) => (Math.abs(x.at - t) < Math.abs(best.at - t) ? x : best), samples[0]!);
  const a = nearest(from);
  const b = nearest(to);
  const span = (b.at - a.at) / 1000;
  const rate = (x: number, y: number) => (span > 0 ? (y - x) / span : Number.NaN);
  const cores = os.cpus().length;
  return {
    windowS: span,
    workers: rate(a.workers, b.workers),
    redis: rate(a.redis, b.redis),
    cli: rate(a.cli, b.cli),
    bench: rate(a.bench, b.bench),
    machine: b.machine.total > a.machine.total ? ((b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total)) * cores : Number.NaN,
  };
}

/** Resident set size of a process in bytes, or undefined once it is gone. */
function rssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** One field of `INFO <section>` as a number. */
async function infoField(redis: Redis, section: string, field: string): Promise<number> {
  const text = await redis.info(section);
  const m = new RegExp(`^${field}:(\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

/** Calls per Redis command so far (`INFO commandstats`), e.g. {evalsha: 1234, bzpopmin: 56}. */
async function commandCalls(redis: Redis): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** Runs `tick` every `ms` (never two at once) until the returned stop function is called. */
function every(ms: number, tick: () => Promise<void> | void): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    running = Promise.resolve()
      .then(tick)
      .catch(() => undefined)
      .finally(() => {
        busy = false;
      });
  }, ms);
  return async () => {
    clearInterval(timer);
    await running;
    await tick();
  };
}

/** Waits until `n` worker processes have a BullMQ worker on the details queue. */
async function waitForWorkers(url: string, n: number, workers: WorkerProcess[], timeoutMs = 30_000): Promise<void> {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue('details', { connection, prefix: PREFIX });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const dead = workers.find((w) => w.child.exitCode !== null || w.child.signalCode !== null);
      if (dead) throw new Error(`a worker exited at start:\n${dead.output().slice(-2_000)}`);
      if ((await queue.getWorkers()).length >= n) return;
      if (Date.now() > deadline) throw new Error(`workers not ready after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/** Runs the CLI like `runCli` of fleet-process.ts, but tells the caller the child's pid. */
async function runCliWithPid(
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
  onPid: (pid: number) => void,
): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  const child = spawn(process.execPath, cliArgs(...args), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  if (child.pid !== undefined) onPid(child.pid);
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr, timedOut };
}

// ---------------------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------------------

/** Mean waiting/active details jobs and the share of samples with none waiting, over the middle 80 %. */
function queuePicture(samples: { waiting: number; active: number }[]): Result['detailsQueue'] {
  const cut = Math.floor(samples.length * 0.1);
  const middle = samples.slice(cut, samples.length - cut);
  const n = Math.max(middle.length, 1);
  return {
    meanWaiting: middle.reduce((s, x) => s + x.waiting, 0) / n,
    emptyShare: middle.filter((x) => x.waiting === 0).length / n,
    meanActive: middle.reduce((s, x) => s + x.active, 0) / n,
  };
}

/** The middle of the run: timestamps with the first and last 10 % dropped. */
function steadyMiddle(timestamps: number[]): number[] {
  const sorted = timestamps.slice().sort((a, b) => a - b);
  const cut = Math.floor(sorted.length * 0.1);
  return sorted.slice(cut, sorted.length - cut);
}

/** First and last timestamp of the steady middle of the run. */
function steadyWindow(timestamps: number[]): [number, number] {
  const middle = steadyMiddle(timestamps);
  return [middle[0] ?? 0, middle[middle.length - 1] ?? 0];
}

/** Rate over the middle of the run: drop the first and last 10 % of timestamps; count / span. */
export function steadyRate(timestamps: number[]): number {
  const middle = steadyMiddle(timestamps);
  if (middle.length < 2) return Number.NaN;
  const spanMs = middle[middle.length - 1]! - middle[0]!;
  return spanMs > 0 ? ((middle.length - 1) * 1000) / spanMs : Number.NaN;
}

interface Summary {
  runId?: string;
  state?: string;
  error?: string;
  discovered?: number;
  fetched?: number;
  notFound?: number;
  failed?: number;
  records?: number;
}

/** Checks the run's output in the lake: every title but the not-found ones, exactly once. */
async function verify(env: Record<string, string>, scenario: Scenario, fake: FakeTmdb, summary: Summary): Promise<string> {
  if (summary.state !== 'completed' || !summary.runId) return `run ${summary.state ?? 'unknown'}${summary.error ? `: ${summary.error}` : ''}`;
  const lake = await readRun(env, 'movie', summary.runId);
  const notFound = new Set(scenario.notFound);
  const expected = fake.titles('movie').map((t) => t.id).filter((id) => !notFound.has(id));
  const problems: string[] = [];
  if (lake.records.length !== expected.length) problems.push(`${lake.records.length} records, expected ${expected.length}`);
  const duplicates = [...lake.idCounts.values()].filter((c) => c > 1).length;
  if (duplicates > 0) problems.push(`${duplicates} ids duplicated`);
  const missing = expected.filter((id) => !lake.idCounts.has(id)).length;
  if (missing > 0) problems.push(`${missing} ids missing`);
  const extra = [...lake.idCounts.keys()].filter((id) => notFound.has(id)).length;
  if (extra > 0) problems.push(`${extra} not-found ids present`);
  if (summary.notFound !== notFound.size) problems.push(`summary notFound ${summary.notFound}, expected ${notFound.size}`);
  if (summary.failed !== 0) problems.push(`summary failed ${summary.failed}`);
  if (lake.manifest.state !== 'completed') problems.push(`manifest state ${lake.manifest.state}`);
  const manifestRecords = lake.manifest.objects.reduce((s, o) => s + o.records, 0);
  if (manifestRecords !== lake.records.length) problems.push(`manifest lists ${manifestRecords} records`);
  if (lake.manifest.objects.length !== lake.keys.length) problems.push(`manifest lists ${lake.manifest.objects.length} objects, lake has ${lake.keys.length}`);
  if (problems.length > 0) return problems.join('; ');
  return `verified (${lake.records.length} records in ${lake.keys.length} objects)`;
}

// ---------------------------------------------------------------------------------------
// One scenario
// ---------------------------------------------------------------------------------------

export async function runScenario(scenario: Scenario): Promise<Result> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const workers: WorkerProcess[] = [];
  try {
    const redis: RedisServer = await startRedisServer();
    cleanups.push(() => redis.stop());
    const s3: S3Server = await startS3Server([BUCKET]);
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

    cleanups.push(() => Promise.all(workers.map((w) => w.kill())));
    for (let i = 0; i < scenario.workers; i++) {
      const worker = startWorker(env);
      track(worker.child);
      workers.push(worker);
    }
    await waitForWorkers(redis.url, scenario.workers, workers);
    fake.resetStats();

    const callsBefore = await commandCalls(monitor);
    const baselineUsedMemory = await infoField(monitor, 'memory', 'used_memory');
    let peakUsedMemory = baselineUsedMemory;
    let peakWorkerRss = 0;
    const depth: { waiting: number; active: number }[] = [];
    const stopMemory = every(200, async () => {
      const [used, waiting, active] = await Promise.all([
        infoField(monitor, 'memory', 'used_memory'),
        monitor.llen(`${PREFIX}:details:wait`),
        monitor.llen(`${PREFIX}:details:active`),
      ]);
      if (used > peakUsedMemory) peakUsedMemory = used;
      depth.push({ waiting, active });
    });
    const stopRss = every(500, () => {
      for (const w of workers) {
        const rss = w.child.pid === undefined ? undefined : rssBytes(w.child.pid);
        if (rss !== undefined && rss > peakWorkerRss) peakWorkerRss = rss;
      }
    });
    // CPU: cumulative CPU seconds per process every 250 ms, so the picture covers the steady
    // middle of the run (the same window as the rate), not CLI start-up and the final flush.
    let cliPid = -1;
    const cpuSamples: CpuSample[] = [];
    const sampleCpu = () => {
      const bench = process.cpuUsage();
      cpuSamples.push({
        at: Date.now(),
        workers: workers.reduce((sum, w) => sum + (w.child.pid === undefined ? 0 : (cpuSeconds(w.child.pid) ?? 0)), 0),
        redis: cpuSeconds(redisPid) ?? 0,
        cli: cliPid > 0 ? (cpuSeconds(cliPid) ?? Number.NaN) : 0,
        bench: (bench.user + bench.system) / 1e6,
        machine: machineCpu(),
      });
    };
    sampleCpu();
    const stopCpu = every(250, sampleCpu);

    const started = Date.now();
    let res: Awaited<ReturnType<typeof runCliWithPid>>;
    try {
      res = await runCliWithPid(
        ['backfill', 'movie', '--from', scenario.from, '--to', scenario.to, '--wait', '--json'],
        env,
        scenario.timeoutMs,
        (pid) => (cliPid = pid),
      );
    } finally {
      await Promise.all([stopMemory(), stopRss(), stopCpu()]);
    }
    const wallMs = Date.now() - started;
    const wallS = wallMs / 1000;
    const stats: FakeTmdbStats = fake.stats();
    const [steadyFrom, steadyTo] = steadyWindow(stats.detailsOkTimestamps);
    const cpu = cpuPicture(cpuSamples, steadyFrom, steadyTo);
    const callsAfter = await commandCalls(monitor);
    const redisCallsPerTitle: Record<string, number> = {};
    for (const [cmd, n] of Object.entries(callsAfter)) {
      const delta = n - (callsBefore[cmd] ?? 0);
      if (delta > 0) redisCallsPerTitle[cmd] = delta / scenario.titles;
    }

    let verified: string;
    let ok = false;
    if (res.timedOut) verified = `CLI killed after ${scenario.timeoutMs} ms`;
    else {
      let summary: Summary = {};
      try {
        summary = lastJsonLine<Summary>(res.stdout);
      } catch {
        summary = {};
      }
      verified = await verify(env, scenario, fake, summary).catch((err: unknown) => `lake unreadable: ${String(err)}`);
      ok = verified.startsWith('verified') && res.code === 0;
      if (!ok && res.code !== 0) verified += ` (CLI exit ${res.code}: ${res.stderr.trim().split('\n').slice(-3).join(' | ')})`;
    }
    if (!ok) {
      for (const [i, w] of workers.entries()) {
        const tail = w.output().trim().split('\n').slice(-5).join('\n');
        if (tail) process.stderr.write(`bench: worker ${i} last output:\n${tail}\n`);
      }
    }

    return {
      scenario,
      detailsRps: steadyRate(stats.detailsOkTimestamps),
      requestRps: stats.requests / wallS,
      requests: stats.requests,
      detailsRequests: stats.detailsRequests,
      discoverRequests: stats.discoverRequests,
      status429: stats.byStatus['429'] ?? 0,
      maxInFlight: stats.maxInFlight,
      baselineUsedMemory,
      peakUsedMemory,
      peakWorkerRss,
      wallMs,
      cpu,
      redisCallsPerTitle,
      detailsQueue: queuePicture(depth),
      verified,
      ok,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((err: unknown) => process.stderr.write(`bench: cleanup failed: ${String(err)}\n`));
    }
  }
}

