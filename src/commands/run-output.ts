/**
 * What every run-starting command shares: start the run, print its id, optionally run workers
 * in this process and follow the run to its end, then print the summary (human lines, or one
 * JSON object as the last stdout line) and set the exit code (0 completed, 1 otherwise).
 */
import type { Config } from '../config.js';
import { openFleet, type Fleet } from '../fleet.js';
import { createLogger } from '../log.js';
import { watchRun } from '../progress.js';
import { QUEUE_NAMES } from '../queues.js';
import type { RunSummary } from '../runs.js';
import { startWorkers, type WorkerSet } from '../workers/index.js';
import { UsageError } from '../errors.js';

/** Options every run-starting command takes. */
export interface FollowOptions {
  wait?: boolean;
  json?: boolean;
  workers?: number;
}

/** The summary fields printed by `status`, `--json` and friends, as one JSON line. */
export function summaryLine(s: RunSummary): string {
  return JSON.stringify({
    runId: s.runId,
    state: s.state,
    error: s.error,
    kind: s.kind,
    source: s.params.source ?? 'discover',
    expected: s.expected,
    discovered: s.discovered,
    fetched: s.fetched,
    notFound: s.notFound,
    failed: s.failed,
    objects: s.objects,
    records: s.records,
    pagesPlanned: s.pagesPlanned,
    pagesDone: s.pagesDone,
    pagesFailed: s.pagesFailed,
    uncovered: s.uncovered,
    unmatched: s.unmatched,
    copies: s.copies,
    createdAt: s.createdAt,
    finishedAt: s.finishedAt,
  });
}

/** The summary as a few human lines. */
export function humanSummary(s: RunSummary): string {
  const lines = [
    `run ${s.runId} (${s.kind}) ${s.state}${s.error ? `: ${s.error}` : ''}`,
    `  titles: ${s.discovered} discovered, ${s.fetched} fetched, ${s.notFound} not found, ${s.failed} failed (TMDB reported ${s.expected})`,
    `  pages: ${s.pagesDone}/${s.pagesPlanned} done, ${s.pagesFailed} failed`,
    `  lake: ${s.objects} objects, ${s.records} records`,
  ];
  if (s.uncovered > 0) lines.push(`  uncovered: ${s.uncovered} titles beyond TMDB's 500-page cap (see manifest)`);
  if (s.copies) lines.push(`  copies: ${s.copies.copied} copied, ${s.copies.skipped} skipped, ${s.copies.failed} failed`);
  if (s.unmatched > 0) lines.push(`  unmatched: ${s.unmatched} IMDB ids without a TMDB title (see manifest)`);
  return lines.join('\n');
}

/**
 * Opens a client fleet, starts a run with `start` (which returns its id), prints the id and,
 * with `--wait`, follows it (running `--workers N` worker sets in this process) and prints the
 * summary. Closes everything it opened.
 * @throws UsageError for `--workers` without `--wait`; whatever `start` throws.
 */
export async function startAndFollow(
  config: Config,
  opts: FollowOptions,
  start: (fleet: Fleet) => Promise<string>,
): Promise<void> {
  if (opts.workers && !opts.wait) throw new UsageError('--workers needs --wait (the workers stop when the run ends)');
  const log = createLogger(config);
  const fleet = openFleet(config, log, 'client');
  let workerFleet: Fleet | undefined;
  const sets: WorkerSet[] = [];
  try {
    if (config.lake.kind === 'local') {
      process.stderr.write(`tmdb-fleet: S3_BUCKET is unset: the lake is the local directory ${config.lake.dir}\n`);
    }
    const runId = await start(fleet);
    if (!opts.json) process.stdout.write(`${runId}\n`);
    if (!opts.wait) {
      if (opts.json) process.stdout.write(`${summaryLine(await fleet.runs.summary(runId))}\n`);
      return;
    }
    if (opts.workers) {
      workerFleet = openFleet(config, log, 'worker');
      for (let i = 0; i < opts.workers; i++) sets.push(startWorkers(workerFleet, QUEUE_NAMES, config.jobs.concurrency));
    }
    const summary = await watchRun(fleet.runs, runId);
    process.stdout.write(opts.json ? `${summaryLine(summary)}\n` : `${humanSummary(summary)}\n`);
    if (summary.state !== 'completed') process.exitCode = 1;
  } finally {
    await Promise.all(sets.map((s) => s.close()));
    await workerFleet?.close();
    await fleet.close();
  }
}
