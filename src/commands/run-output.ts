/**
 * What every run-starting command shares: start the run, print its id, optionally run workers
 * in this process and follow the run to its end, then print the summary (human lines, or one
 * JSON object as the last stdout line) and set the exit code (`exit-codes.ts`: 0 complete by
 * its audit, 3 complete with a shortfall unless `--allow-partial`, 1 failed or cancelled).
 */
import type { Config } from '../config.js';
import { openFleet, type Fleet } from '../fleet.js';
import { createLogger } from '../log.js';
import { writeStderr } from '../terminal.js';
import { watchRun } from './progress.js';
import { QUEUE_NAMES } from '../queues.js';
import type { RunSummary } from '../runs/types.js';
import { startWorkers, type WorkerSet } from '../workers/index.js';
import { UsageError } from '../errors.js';
import { runExitCode } from './exit-codes.js';
import { humanSummary } from './run-summary.js';

/** Options every run-starting command takes. */
export interface FollowOptions {
  wait?: boolean;
  json?: boolean;
  workers?: number;
  /** Exit 0 rather than 3 for a run that completes with a shortfall. */
  allowPartial?: boolean;
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
    files: s.files,
    verdict: s.verdict ?? null,
    shortfalls: s.shortfalls ?? [],
    createdAt: s.createdAt,
    finishedAt: s.finishedAt,
  });
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
      writeStderr(`tmdb-fleet: S3_BUCKET is unset: the lake is the local directory ${config.lake.dir}\n`);
    }
    const runId = await fleet.redisWatch.guard(start(fleet));
    if (!opts.json) process.stdout.write(`${runId}\n`);
    if (!opts.wait) {
      if (opts.json) process.stdout.write(`${summaryLine(await fleet.redisWatch.guard(fleet.runs.summary(runId)))}\n`);
      return;
    }
    if (opts.workers) {
      workerFleet = openFleet(config, log, 'worker');
      for (let i = 0; i < opts.workers; i++) sets.push(startWorkers(workerFleet, QUEUE_NAMES, config.jobs.concurrency));
    }
    const workers = async () => (await Promise.all(Object.values(fleet.queues).map((q) => q.getWorkersCount()))).reduce((a, b) => a + b, 0);
    const summary = await watchRun(fleet.runs, runId, { redis: fleet.redisWatch, workers });
    process.stdout.write(opts.json ? `${summaryLine(summary)}\n` : `${humanSummary(summary)}\n`);
    process.exitCode = runExitCode(summary, opts.allowPartial ?? false);
  } finally {
    // Redis given up on: in-flight jobs cannot finish, so do not wait the shutdown deadline for them.
    await Promise.all(sets.map((s) => s.close(fleet.redisWatch.failure ? 0 : undefined)));
    await workerFleet?.close();
    await fleet.close();
  }
}
