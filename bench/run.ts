/**
 * `npm run bench`: measures the fleet end to end through real processes (redis-server, s3rver,
 * the fake TMDB over HTTP, 4 `tmdb-fleet worker` processes and the `tmdb-fleet backfill` CLI)
 * and prints one Markdown table (also written to bench/results.md): details requests/s as a
 * fraction of the configured ceiling, the share of requests TMDB answered 429, peak Redis
 * `used_memory` and peak worker RSS.
 *
 * A measurement, not a test: missed targets are printed, never retried or tuned away. The exit
 * code is non-zero only on a crash or when a run's output in the lake is wrong.
 *
 * Environment: `BENCH_ONLY=1,3` runs a subset of the scenarios; `BENCH_CONCURRENCY=32` skips
 * the WORKER_CONCURRENCY probe of scenario 2.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { killChildren, runScenario, type Result, type Scenario } from './scenario.js';

const MIB = 1024 * 1024;

// ---------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------

/** Ids in the catalog that answer 404 on details (counted as not found, not written). */
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
  ...scenario2(20_000, concurrency),
  id: '3',
  name: '20,000-title backfill memory',
  from: '2020-01-01',
  to: '2024-12-31',
});

/** WORKER_CONCURRENCY values tried for scenario 2, on a short run each. */
const PROBE_CONCURRENCIES = [16, 32, 64];
const PROBE_TITLES = 6_000;
const SCENARIO2_TITLES = 30_000;

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

/** Redis commands per title, the busiest first (the bench's own INFO/CLIENT calls left out). */
function redisCalls(r: Result): string {
  const entries = Object.entries(r.redisCallsPerTitle).filter(([cmd]) => cmd !== 'info' && !cmd.startsWith('client'));
  const total = entries.reduce((s, [, n]) => s + n, 0);
  const top = entries
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([cmd, n]) => `${cmd} ${n.toFixed(2)}`)
    .join(', ');
  return `${total.toFixed(1)} (${top})`;
}

function details(r: Result): string {
  const s = r.scenario;
  const c = r.cpu;
  const q = r.detailsQueue;
  const ours = c.workers + c.redis + c.cli + c.bench;
  return (
    `- ${s.id}. ${s.name}: WORKER_CONCURRENCY=${s.concurrency}; TMDB requests ${r.requests} ` +
    `(details ${r.detailsRequests}, discover ${r.discoverRequests}), ${r.requestRps.toFixed(1)}/s over the whole run. ` +
    `Steady middle (${c.windowS.toFixed(1)} s), cores busy: workers ${c.workers.toFixed(2)}, redis ${c.redis.toFixed(2)}, ` +
    `CLI ${c.cli.toFixed(2)}, bench process (fake TMDB + s3rver) ${c.bench.toFixed(2)}: ours ${ours.toFixed(2)}, ` +
    `whole machine ${c.machine.toFixed(2)} of ${os.cpus().length}. ` +
    `Details queue: ${q.meanActive.toFixed(0)} active, ${q.meanWaiting.toFixed(0)} waiting on average, none waiting in ${pct(q.emptyShare)} of samples. ` +
    `Redis commands per title: ${redisCalls(r)}.`
  );
}

// ---------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------

/**
 * The AWS SDK (read-back of the lake) warns under Node 20 that its releases after January 2027
 * need Node 22: a plain `Warning` whose message starts with "NodeVersionSupportWarning".
 */
function quietSdkNodeWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (!`${warning.name} ${warning.message}`.includes('NodeVersionSupportWarning')) {
      process.stderr.write(`${warning.name}: ${warning.message}\n`);
    }
  });
}

async function main(): Promise<number> {
  quietSdkNodeWarning();
  const only = (process.env.BENCH_ONLY ?? '1,2,3').split(',').map((s) => s.trim()).filter(Boolean);
  const fixedConcurrency = process.env.BENCH_CONCURRENCY ? Number(process.env.BENCH_CONCURRENCY) : undefined;
  const machine = `Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, ${os.platform()} ${os.release()}`;

  // Every temporary directory (redis, s3rver) goes under one directory removed at the end.
  const benchTmp = mkdtempSync(path.join(os.tmpdir(), 'tmdb-fleet-bench-'));
  const previousTmp = process.env.TMPDIR;
  process.env.TMPDIR = benchTmp;
  // Interrupted: no finally runs, so stop the children and remove the temporary directory here
  // (redis-server processes are killed by their helper's exit hook).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killChildren();
      rmSync(benchTmp, { recursive: true, force: true });
      process.stderr.write(`bench: ${signal}, children stopped\n`);
      process.exit(130);
    });
  }

  const results: Result[] = [];
  const probes: Result[] = [];
  const crashes: string[] = [];
  const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
  const attempt = async (scenario: Scenario, into: Result[]): Promise<Result | undefined> => {
    log(`scenario ${scenario.id} (${scenario.name}): ${scenario.titles} titles, WORKER_CONCURRENCY=${scenario.concurrency} ...`);
    try {
      const r = await runScenario(scenario);
      into.push(r);
      log(`  details ${r.detailsRps.toFixed(1)}/s (${(r.detailsRps / scenario.ceilingRps).toFixed(2)} of ${scenario.ceilingRps}), 429 ${r.status429}/${r.requests}, wall ${(r.wallMs / 1000).toFixed(1)} s, ${r.verified}`);
      return r;
    } catch (err) {
      crashes.push(`Scenario ${scenario.id} (${scenario.name}) crashed: ${err instanceof Error ? err.message : String(err)}`);
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
    ...(crashes.length > 0 ? ['', ...crashes] : []),
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
              `- ${p.scenario.concurrency}: details ${p.detailsRps.toFixed(1)}/s (${(p.detailsRps / p.scenario.ceilingRps).toFixed(2)}), wall ${(p.wallMs / 1000).toFixed(1)} s, cores busy: workers ${p.cpu.workers.toFixed(2)}, redis ${p.cpu.redis.toFixed(2)}, machine ${p.cpu.machine.toFixed(2)}; ${p.verified}`,
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
  return crashes.length > 0 || failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
