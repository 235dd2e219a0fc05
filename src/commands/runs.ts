/**
 * `tmdb-fleet runs [--kind …] [--state …] [--limit N] [--json]`: the run history, newest first,
 * from Redis and, for runs Redis no longer holds, from their manifests in the lake
 * (src/runs/history.ts).
 */
import { Command } from 'commander';
import type { GetConfig } from './private-redis.js';
import { UsageError } from '../errors.js';
import { openFleet } from '../fleet.js';
import { createLogger } from '../log.js';
import { DEFAULT_RUN_LIMIT, listRuns, runProgress, type RunListing } from '../runs/history.js';
import type { RunKind, RunState } from '../runs/types.js';

const KINDS: readonly RunKind[] = ['movie', 'tv', 'upload', 'sync'];
const STATES: readonly RunState[] = ['running', 'finalizing', 'completed', 'failed', 'cancelled'];

/** Options as commander hands them over (validated by {@link parseRunsOptions}). */
interface RawOptions {
  kind?: string;
  state?: string;
  limit?: string;
  json?: boolean;
}

/**
 * Checks the options of `runs`.
 * @throws UsageError naming the bad value and what was expected (exit 2).
 */
export function parseRunsOptions(opts: RawOptions): { kind?: RunKind; state?: RunState; limit: number } {
  if (opts.kind !== undefined && !(KINDS as readonly string[]).includes(opts.kind)) {
    throw new UsageError(`--kind "${opts.kind}" is not a run kind: expected one of ${KINDS.join(', ')}`);
  }
  if (opts.state !== undefined && !(STATES as readonly string[]).includes(opts.state)) {
    throw new UsageError(`--state "${opts.state}" is not a run state: expected one of ${STATES.join(', ')}`);
  }
  if (opts.limit !== undefined && (!/^\d+$/.test(opts.limit) || Number(opts.limit) < 1)) {
    throw new UsageError(`--limit "${opts.limit}" is not a whole number ≥ 1`);
  }
  return {
    ...(opts.kind ? { kind: opts.kind as RunKind } : {}),
    ...(opts.state ? { state: opts.state as RunState } : {}),
    limit: opts.limit === undefined ? DEFAULT_RUN_LIMIT : Number(opts.limit),
  };
}

/** `2026-11-21T05:12:00.114Z` → `2026-11-21 05:12:00Z`; `-` when unset. */
function shortTime(iso: string | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
}

/** The history as an aligned table, one run a line. */
export function runsTable(runs: RunListing[]): string {
  const header = ['RUN', 'KIND', 'SOURCE', 'STATE', 'PROGRESS', 'RECORDS', 'FAILED', 'CREATED', 'FINISHED', 'AUDIT'];
  const rows = runs.map((r) => {
    const p = runProgress(r);
    return [
      r.runId, r.kind, r.source, r.state, `${p.done}/${p.total} ${p.unit}`, String(r.records),
      String(r.failed + r.pagesFailed), shortTime(r.createdAt), shortTime(r.finishedAt), r.verdict ?? '-',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  return [header, ...rows].map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

/** The `runs` command. */
export function runsCommand(getConfig: GetConfig): Command {
  return new Command('runs')
    .description('list runs newest first: Redis, then manifests in the lake for runs Redis no longer holds')
    .option('--kind <kind>', `only runs of this kind: ${KINDS.join(', ')}`)
    .option('--state <state>', `only runs in this state: ${STATES.join(', ')}`)
    .option('--limit <n>', `at most n runs (default ${DEFAULT_RUN_LIMIT})`)
    .option('--json', 'one JSON object {"runs":[…],"warnings":[…]} on the last line of stdout')
    .action(async (opts: RawOptions) => {
      const filter = parseRunsOptions(opts);
      const config = await getConfig();
      const fleet = openFleet(config, createLogger(config), 'client');
      try {
        const { runs, warnings } = await fleet.redisWatch.guard(listRuns(fleet, filter));
        for (const w of warnings) process.stderr.write(`tmdb-fleet: ${w}\n`);
        if (opts.json) {
          const listed = runs.map((r) => ({ ...r, progress: runProgress(r) }));
          process.stdout.write(`${JSON.stringify({ runs: listed, warnings })}\n`);
        } else {
          process.stdout.write(runs.length > 0 ? `${runsTable(runs)}\n` : 'no runs\n');
        }
      } finally {
        await fleet.close();
      }
    });
}
