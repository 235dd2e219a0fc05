/**
 * `npm run bench`: measures the fleet end to end through real processes (redis-server, s3rver,
 * the fake TMDB over HTTP, 4 `tmdb-fleet worker` processes and the `tmdb-fleet backfill` CLI)
 * and writes bench/results.md:
 *
 * - first the side by side (bench/compare.ts, `compare`): the fleet, a sequential script, a
 *   queue-less concurrent client, Crawlee, and the fleet with Bottleneck or rate-limiter-flexible
 *   as its limiter, at a TMDB-like and an unconstrained setting, whole-run figures, one table
 *   per setting;
 * - then the fleet scenarios 1–3: details requests/s over the steady middle as a fraction of the
 *   ceiling, the share of requests TMDB answered 429, peak Redis `used_memory`, peak worker RSS.
 *
 * A measurement, not a test: missed targets are printed, never retried or tuned away. The exit
 * code is non-zero only on a crash or when a run's output in the lake is wrong.
 *
 * Environment: `BENCH_ONLY=compare,1,3` runs a subset (default `compare,1,2,3,4`);
 * `BENCH_CONCURRENCY=32` skips the WORKER_CONCURRENCY probe of scenario 2. The side by side
 * reads BENCH_SETTINGS, BENCH_CONTENDERS, BENCH_TMDB_LIKE_TITLES, BENCH_UNCONSTRAINED_TITLES,
 * BENCH_SEQUENTIAL_TITLES, BENCH_FLEET_CONCURRENCY, BENCH_DIRECT_IN_FLIGHT and
 * BENCH_CRAWLEE_CONCURRENCY (README, "Performance"). Scenario 4 (bench/export.ts, a
 * 1,000,000-line export backfill) writes its own table to bench/results-export.md;
 * `BENCH_READER_NODE_OPTIONS` (e.g. `--max-old-space-size=48`) is given to its reader process as
 * NODE_OPTIONS. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runComparison } from './compare-report.js';
import { exportBenchTable, runExportBench } from './export.js';
import { killChildren } from './probes.js';
import { runScenario, type Result, type Scenario } from './scenario.js';

const MIB = 1024 * 1024;
/** bench/ of the repository (this file runs from dist/bench/). */
const REPO_BENCH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bench');

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
    `(details ${r.detailsRequests}, discover ${r.discoverRequests}), ${r.requestRps.toFixed(1)}/s over the whole run; ` +
    `first details answer ${(r.toFirstDetailsMs / 1000).toFixed(2)} s after the CLI started, CLI exit ${(r.afterLastDetailsMs / 1000).toFixed(2)} s after the last. ` +
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

/** Scenario 1–3 results and the WORKER_CONCURRENCY probes. */
interface ScenarioRuns {
  results: Result[];
  probes: Result[];
}

/** Runs scenarios 1–3 (those in `only`), noting crashes in `crashes`. */
async function runScenarios(only: string[], log: (line: string) => void, crashes: string[]): Promise<ScenarioRuns> {
  const results: Result[] = [];
  const probes: Result[] = [];
  const fixedConcurrency = process.env.BENCH_CONCURRENCY ? Number(process.env.BENCH_CONCURRENCY) : undefined;
  const attempt = async (scenario: Scenario, into: Result[]): Promise<void> => {
    log(`scenario ${scenario.id} (${scenario.name}): ${scenario.titles} titles, WORKER_CONCURRENCY=${scenario.concurrency} ...`);
    try {
      const r = await runScenario(scenario);
      into.push(r);
      log(`  details ${r.detailsRps.toFixed(1)}/s (${(r.detailsRps / scenario.ceilingRps).toFixed(2)} of ${scenario.ceilingRps}), 429 ${r.status429}/${r.requests}, wall ${(r.wallMs / 1000).toFixed(1)} s, ${r.verified}`);
    } catch (err) {
      crashes.push(`Scenario ${scenario.id} (${scenario.name}) crashed: ${err instanceof Error ? err.message : String(err)}`);
      log(`  crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  };
  if (only.includes('1')) await attempt(scenario1, results);
  let best = fixedConcurrency;
  if (only.includes('2') && best === undefined) {
    for (const c of PROBE_CONCURRENCIES) await attempt({ ...scenario2(PROBE_TITLES, c), id: '2p', name: `probe, WORKER_CONCURRENCY=${c}` }, probes);
    best = probes.filter((p) => p.ok).sort((a, b) => b.detailsRps - a.detailsRps)[0]?.scenario.concurrency;
  }
  if (only.includes('2')) await attempt(scenario2(SCENARIO2_TITLES, best ?? 32), results);
  if (only.includes('3')) await attempt(scenario3(best ?? 32), results);
  return { results, probes };
}

/** Scenario 4 (the export backfill): its table goes to bench/results-export.md. */
async function runExportScenario(log: (line: string) => void, crashes: string[]): Promise<void> {
  const r = await runExportBench(log).catch((err: unknown) => {
    crashes.push(`Scenario 4 (export) crashed: ${err instanceof Error ? err.message : String(err)}`);
    log(`  crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return undefined;
  });
  if (!r) return;
  const table4 = exportBenchTable(r);
  process.stdout.write(`\n${table4}\n`);
  writeFileSync(path.join(REPO_BENCH, 'results-export.md'), `# Export benchmark\n\nProduced by \`BENCH_ONLY=4 npm run bench\` (bench/export.ts).\n\n${table4}\n`);
  if (!r.ok) crashes.push(`Scenario 4 (export): ${r.verified}, peak used_memory ${r.peakUsedMemory} bytes`);
}

/** The fleet scenarios' section of bench/results.md. */
function scenariosSection({ results, probes }: ScenarioRuns, crashes: string[]): string {
  return [
    table(results),
    ...(crashes.length > 0 ? ['', ...crashes] : []),
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
  ].join('\n');
}

const SIDE_BY_SIDE = 'Side by side: the fleet and the scripts, whole run';
const FLEET_SCENARIOS = 'Fleet scenarios 1–3';

/**
 * bench/results.md with the sections that ran replaced and the others kept as they were (a
 * `BENCH_ONLY=compare` run keeps the last scenarios' table, and the other way round).
 */
function writeResults(sections: Map<string, string>, machine: string): string {
  const out = path.join(REPO_BENCH, 'results.md');
  const previous = new Map<string, string>();
  if (existsSync(out)) {
    const parts = readFileSync(out, 'utf8').split(/^## /m);
    for (const part of parts.slice(1)) {
      const [title = '', ...body] = part.split('\n');
      previous.set(title.trim(), body.join('\n').trim());
    }
    // A results.md from before the side by side: all of it is the scenarios' table.
    const legacy = parts.length === 1 ? /^Produced by .*\n([\s\S]*)$/m.exec(parts[0] ?? '') : null;
    if (legacy?.[1]?.trim()) previous.set(FLEET_SCENARIOS, legacy[1].trim());
  }
  const order = [SIDE_BY_SIDE, FLEET_SCENARIOS];
  const body = order
    .map((title) => {
      const text = sections.get(title);
      if (text !== undefined) return `## ${title}\n\n${machine}\n\n${text}`;
      const kept = previous.get(title);
      return kept !== undefined ? `## ${title}\n\n${kept}` : undefined;
    })
    .filter((x): x is string => x !== undefined);
  writeFileSync(out, `# Benchmark results\n\nProduced by \`npm run bench\` (bench/run.ts; \`BENCH_ONLY=compare\` or \`BENCH_ONLY=1,2,3\` rewrites its own section only).\n\n${body.join('\n\n')}\n`);
  return out;
}

async function main(): Promise<number> {
  quietSdkNodeWarning();
  const only = (process.env.BENCH_ONLY ?? 'compare,1,2,3,4').split(',').map((s) => s.trim()).filter(Boolean);
  const machine = `Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, ${os.platform()} ${os.release()}`;

  // Every temporary directory (redis, s3rver, Crawlee) goes under one directory removed at the end.
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

  const crashes: string[] = [];
  const sections = new Map<string, string>();
  const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
  let runs: ScenarioRuns | undefined;
  try {
    if (only.includes('compare')) {
      const comparison = await runComparison(log);
      crashes.push(...comparison.failures);
      sections.set(SIDE_BY_SIDE, comparison.text);
    }
    runs = await runScenarios(only, log, crashes);
    if (only.includes('4')) await runExportScenario(log, crashes);
  } finally {
    process.env.TMPDIR = previousTmp;
    if (previousTmp === undefined) delete process.env.TMPDIR;
    rmSync(benchTmp, { recursive: true, force: true });
  }
  runs ??= { results: [], probes: [] };
  if (runs.results.length > 0 || runs.probes.length > 0) sections.set(FLEET_SCENARIOS, scenariosSection(runs, crashes));
  if (sections.size > 0) {
    process.stdout.write(`\n${[...sections.values()].join('\n\n')}\n\n${machine}\n`);
    log(`wrote ${writeResults(sections, machine)}`);
  }
  const failed = [...runs.results, ...runs.probes].some((r) => !r.ok);
  return crashes.length > 0 || failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
