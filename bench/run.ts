/**
 * `npm run bench`: measures the fleet end to end through real processes (redis-server, s3rver,
 * the fake TMDB over HTTP, N `tmdb-fleet worker` processes and the `tmdb-fleet backfill` CLI)
 * and prints one Markdown table: details requests/s as a fraction of the configured ceiling,
 * the share of requests TMDB answered 429, peak Redis `used_memory` and peak worker RSS.
 *
 * A measurement, not a test: targets missed are printed, never retried or tuned away. The exit
 * code is non-zero only on a crash or when a run's output in the lake is wrong.
 *
 * Environment: `BENCH_ONLY=1,3` runs a subset of the scenarios; `BENCH_CONCURRENCY=32` skips
 * the WORKER_CONCURRENCY probe of scenario 2.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startFakeTmdb, type FakeTmdb, type FakeTmdbStats } from '../test/support/fake-tmdb.js';
import { CLI, lastJsonLine, startWorker, type WorkerProcess } from '../test/support/fleet-process.js';
import { readRun } from '../test/support/lake-reader.js';
import { startRedisServer, type RedisServer } from '../test/support/redis-server.js';
import { s3Env, startS3Server, type S3Server } from '../test/support/s3-server.js';

const BUCKET = 'lake';
const PREFIX = '{bench}';
const MIB = 1024 * 1024;
/** Clock ticks per second of /proc/<pid>/stat utime/stime (Linux: 100). */
const CLK_TCK = 100;

// ---------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------

interface Scenario {
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
}

const NOT_FOUND = [17, 1_234, 999];

const scenario1: Scenario = {
  id: '1',
  name: '40 rps, 100 ms latency, 4 workers',
  titles: 1_600,
  from: '2024-01-01',
  to: '2024-12-31',
  ceilingRps: 40,
  tmdbRps: 44,
  latencyMs: 100,
  workers: 4,
  concurrency: 16,
  notFound: NOT_FOUND,
  timeoutMs: 150_000,
};

const scenario2 = (titles: number, concurrency: number): Scenario => ({
  id: '2',
  name: '2000 rps, no latency, 4 workers',
  titles,
  from: '2015-01-01',
  to: '2024-12-31',
  ceilingRps: 2_000,
  tmdbRps: 2_200,
  latencyMs: 0,
  workers: 4,
  concurrency,
  notFound: NOT_FOUND,
  timeoutMs: 180_000,
});

const scenario3 = (concurrency: number): Scenario => ({
  id: '3',
  name: '20,000-title backfill memory',
  titles: 20_000,
  from: '2020-01-01',
  to: '2024-12-31',
  ceilingRps: 2_000,
  tmdbRps: 2_200,
  latencyMs: 0,
  workers: 4,
  concurrency,
  notFound: NOT_FOUND,
  timeoutMs: 180_000,
});

/** WORKER_CONCURRENCY values tried for scenario 2, on a short run each. */
const PROBE_CONCURRENCIES = [16, 32, 64];
const PROBE_TITLES = 6_000;
const SCENARIO2_TITLES = 30_000;

// ---------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------

interface CpuPicture {
  /** CPU seconds per wall second (1.0 = one core busy), over the CLI's lifetime. */
  workers: number;
  redis: number;
  cli: number;
  /** This process: the fake TMDB, s3rver and the samplers. */
  bench: number;
}

interface Result {
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
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** Rate over the middle of the run: drop the first and last 10 % of timestamps. */
export function steadyRate(timestamps: number[]): number {
  const sorted = timestamps.slice().sort((a, b) => a - b);
  const cut = Math.floor(sorted.length * 0.1);
  const middle = sorted.slice(cut, sorted.length - cut);
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

async function runScenario(scenario: Scenario): Promise<Result> {
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
    };

    cleanups.push(() => Promise.all(workers.map((w) => w.kill())));
    for (let i = 0; i < scenario.workers; i++) workers.push(startWorker(env));
    await waitForWorkers(redis.url, scenario.workers, workers);
    fake.resetStats();

    const baselineUsedMemory = await infoField(monitor, 'memory', 'used_memory');
    let peakUsedMemory = baselineUsedMemory;
    let peakWorkerRss = 0;
    const stopMemory = every(200, async () => {
      const used = await infoField(monitor, 'memory', 'used_memory');
      if (used > peakUsedMemory) peakUsedMemory = used;
    });
    const stopRss = every(500, () => {
      for (const w of workers) {
        const rss = w.child.pid === undefined ? undefined : rssBytes(w.child.pid);
        if (rss !== undefined && rss > peakWorkerRss) peakWorkerRss = rss;
      }
    });
    // CPU: last value seen per pid (the CLI's /proc entry vanishes when it exits).
    const pids = { workers: workers.map((w) => w.child.pid ?? -1), redis: redisPid, cli: -1 };
    const cpuAt = (pid: number) => cpuSeconds(pid) ?? 0;
    const cpuStart = { workers: pids.workers.map(cpuAt), redis: cpuAt(redisPid), bench: process.cpuUsage() };
    let cliCpu = 0;
    const stopCpu = every(250, () => {
      if (pids.cli > 0) cliCpu = cpuSeconds(pids.cli) ?? cliCpu;
    });

    const started = Date.now();
    let res: Awaited<ReturnType<typeof runCliWithPid>>;
    try {
      res = await runCliWithPid(
        ['backfill', 'movie', '--from', scenario.from, '--to', scenario.to, '--wait', '--json'],
        env,
        scenario.timeoutMs,
        (pid) => (pids.cli = pid),
      );
    } finally {
      await Promise.all([stopMemory(), stopRss(), stopCpu()]);
    }
    const wallMs = Date.now() - started;
    const wallS = wallMs / 1000;
    const benchCpu = process.cpuUsage(cpuStart.bench);
    const cpu: CpuPicture = {
      workers: pids.workers.reduce((s, pid, i) => s + cpuAt(pid) - (cpuStart.workers[i] ?? 0), 0) / wallS,
      redis: (cpuAt(redisPid) - cpuStart.redis) / wallS,
      cli: cliCpu / wallS,
      bench: (benchCpu.user + benchCpu.system) / 1e6 / wallS,
    };
    const stats: FakeTmdbStats = fake.stats();

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
      verified,
      ok,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((err: unknown) => process.stderr.write(`bench: cleanup failed: ${String(err)}\n`));
    }
  }
}

// ---------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------

const mib = (bytes: number) => `${(bytes / MIB).toFixed(1)} MiB`;
const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

function row(r: Result): string {
  const s = r.scenario;
  const share = r.requests > 0 ? r.status429 / r.requests : 0;
  return `| ${s.id}. ${s.name} | ${s.titles.toLocaleString('en-US')} | ${s.ceilingRps} | ${r.detailsRps.toFixed(1)} | ${(r.detailsRps / s.ceilingRps).toFixed(2)} | ${pct(share)} (${r.status429}/${r.requests}) | ${mib(r.peakUsedMemory)} (baseline ${mib(r.baselineUsedMemory)}) | ${mib(r.peakWorkerRss)} | ${(r.wallMs / 1000).toFixed(1)} s | ${r.verified} |`;
}

function table(results: Result[]): string {
  return [
    '| scenario | titles | ceiling rps | achieved details rps | fraction | 429 share | peak Redis used_memory | peak worker RSS | wall time | verified |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...results.map(row),
  ].join('\n');
}

function details(r: Result): string {
  const s = r.scenario;
  const c = r.cpu;
  return (
    `- ${s.id}. ${s.name}: WORKER_CONCURRENCY=${s.concurrency}; requests ${r.requests} (details ${r.detailsRequests}, discover ${r.discoverRequests}), ` +
    `all requests ${r.requestRps.toFixed(1)}/s over the whole run, max in flight at TMDB ${r.maxInFlight}; ` +
    `CPU (cores busy) workers ${c.workers.toFixed(2)}, redis ${c.redis.toFixed(2)}, CLI ${c.cli.toFixed(2)}, ` +
    `bench process (fake TMDB + s3rver) ${c.bench.toFixed(2)}, total ${(c.workers + c.redis + c.cli + c.bench).toFixed(2)} of ${os.cpus().length}`
  );
}

// ---------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const only = (process.env.BENCH_ONLY ?? '1,2,3').split(',').map((s) => s.trim()).filter(Boolean);
  const fixedConcurrency = process.env.BENCH_CONCURRENCY ? Number(process.env.BENCH_CONCURRENCY) : undefined;
  const machine = `Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, ${os.platform()} ${os.release()}`;

  // Every temporary directory (redis, s3rver) goes under one directory removed at the end.
  const benchTmp = mkdtempSync(path.join(os.tmpdir(), 'tmdb-fleet-bench-'));
  const previousTmp = process.env.TMPDIR;
  process.env.TMPDIR = benchTmp;

  const results: Result[] = [];
  const probes: Result[] = [];
  let crashed = false;
  const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
  const attempt = async (scenario: Scenario, into: Result[]): Promise<Result | undefined> => {
    log(`scenario ${scenario.id} (${scenario.name}): ${scenario.titles} titles, WORKER_CONCURRENCY=${scenario.concurrency} ...`);
    try {
      const r = await runScenario(scenario);
      into.push(r);
      log(`  details ${r.detailsRps.toFixed(1)}/s (${(r.detailsRps / scenario.ceilingRps).toFixed(2)} of ${scenario.ceilingRps}), 429 ${r.status429}/${r.requests}, wall ${(r.wallMs / 1000).toFixed(1)} s, ${r.verified}`);
      return r;
    } catch (err) {
      crashed = true;
      log(`  crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return undefined;
    }
  };

  try {
    if (only.includes('1')) await attempt(scenario1, results);

    let best = fixedConcurrency;
    if ((only.includes('2') || only.includes('3')) && best === undefined) {
      if (only.includes('2')) {
        for (const c of PROBE_CONCURRENCIES) await attempt({ ...scenario2(PROBE_TITLES, c), id: '2p', name: `probe, WORKER_CONCURRENCY=${c}` }, probes);
        const ranked = probes.filter((p) => p.ok).sort((a, b) => b.detailsRps - a.detailsRps);
        best = ranked[0]?.scenario.concurrency;
      }
      best ??= 32;
    }
    if (only.includes('2')) await attempt(scenario2(SCENARIO2_TITLES, best ?? 32), results);
    if (only.includes('3')) await attempt(scenario3(best ?? 32), results);
  } finally {
    process.env.TMPDIR = previousTmp;
    if (previousTmp === undefined) delete process.env.TMPDIR;
    rmSync(benchTmp, { recursive: true, force: true });
  }

  const lines = [
    table(results),
    '',
    machine,
    '',
    ...results.map(details),
    ...(probes.length > 0
      ? [
          '',
          `WORKER_CONCURRENCY probe for scenario 2 (${PROBE_TITLES.toLocaleString('en-US')} titles each; the best is used for scenarios 2 and 3):`,
          '',
          ...probes.map(
            (p) =>
              `- ${p.scenario.concurrency}: details ${p.detailsRps.toFixed(1)}/s (${(p.detailsRps / p.scenario.ceilingRps).toFixed(2)}), wall ${(p.wallMs / 1000).toFixed(1)} s, CPU workers ${p.cpu.workers.toFixed(2)} redis ${p.cpu.redis.toFixed(2)} bench ${p.cpu.bench.toFixed(2)}, ${p.verified}`,
          ),
        ]
      : []),
  ];
  const text = `${lines.join('\n')}\n`;
  process.stdout.write(`\n${text}`);
  const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bench/results.md');
  writeFileSync(out, `# Benchmark results\n\nProduced by \`npm run bench\` (bench/run.ts).\n\n${text}`);
  log(`wrote ${out}`);

  const failed = [...results, ...probes].some((r) => !r.ok);
  return crashed || failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
