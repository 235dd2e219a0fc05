/**
 * `tmdb-fleet sync s3://src-bucket/prefix s3://dst-bucket/prefix [--watch]`: copies S3 objects
 * server-side into another bucket/prefix, keeping their keys below the prefix.
 * - without `--watch`: one run over what the source holds now (objects missing or different at
 *   the destination are copied, the rest skipped); `--wait [--workers N]` follows it to the end;
 * - with `--watch`: a long-running run fed by S3 event notifications posted to the dashboard's
 *   `POST /webhooks/s3`; Ctrl-C or SIGTERM stops the watch and finalises the run's manifest.
 */
import { Command } from 'commander';
import type { Config } from '../config.js';
import type { GetConfig } from './private-redis.js';
import { UsageError } from '../errors.js';
import { openFleet, type Fleet } from '../fleet.js';
import { formatS3Url } from '../lake/s3-url.js';
import { createS3Client } from '../lake/store.js';
import { createLogger } from '../log.js';
import { renewLease } from '../jobs/watch.js';
import { parseSyncArgs, startSync, startWatch, stopWatch, type SyncArgs } from '../producers/sync.js';
import type { RunSummary } from '../runs/types.js';
import { startWorkers, type WorkerSet } from '../workers/index.js';
import { EXIT, runExitCode } from './exit-codes.js';
import { withFollowOptions } from './options.js';
import { runIsOver } from './progress.js';
import { startAndFollow, summaryLine, type FollowOptions } from './run-output.js';
import { humanSummary } from './run-summary.js';

/** Options of `sync`. */
interface SyncOptions extends FollowOptions {
  watch?: boolean;
  force?: boolean;
}

/** Poll interval of the watch's progress lines, ms. */
const WATCH_POLL_MS = 1_000;
/** How long a stopped watch waits for its manifest before exiting anyway, ms. */
const FINALISE_WAIT_MS = 30_000;

/** The `sync` command. */
export function syncCommand(getConfig: GetConfig): Command {
  const command = new Command('sync')
    .description('copy the objects of an S3 bucket/prefix into another one, keeping the key hierarchy (once, or --watch)')
    .argument('[source]', 'source, s3://bucket/prefix')
    .argument('[destination]', 'destination, s3://bucket/prefix (not inside the source)')
    .option('--watch', 'keep running: copy each new object announced to the dashboard webhook POST /webhooks/s3');
  return withFollowOptions(command, 'also run N workers in this process (with --wait, or with --watch)').action(async (source: string | undefined, destination: string | undefined, opts: SyncOptions) => {
    const args = parseSyncArgs(source, destination);
    const config = await getConfig();
    const client = createS3Client(config.s3);
    try {
      if (opts.watch) {
        if (opts.wait) throw new UsageError('--wait does not apply to --watch: a watch runs until Ctrl-C or SIGTERM');
        await watch(config, client, args, opts);
        return;
      }
      await startAndFollow(config, opts, async (fleet) => {
        const r = await startSync(fleet, client, args, { force: opts.force ?? false });
        process.stderr.write(
          `tmdb-fleet: ${formatS3Url(args.source)} → ${formatS3Url(args.destination)}: ${r.listed} objects, ${r.enqueued} to copy, ${r.skipped} already there\n`,
        );
        return r.runId;
      });
    } finally {
      client.destroy();
    }
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const copiesLine = (s: RunSummary) =>
  `${s.runId} ${s.state}: copied ${s.copies?.copied ?? 0}, skipped ${s.copies?.skipped ?? 0}, failed ${s.copies?.failed ?? 0}`;

/** Runs `sync --watch` until SIGINT/SIGTERM (or the run is cancelled elsewhere). */
async function watch(config: Config, client: ReturnType<typeof createS3Client>, args: SyncArgs, opts: SyncOptions): Promise<void> {
  const log = createLogger(config);
  const fleet = openFleet(config, log, 'client');
  let workerFleet: Fleet | undefined;
  const sets: WorkerSet[] = [];
  let stop: () => void = () => undefined;
  const stopped = new Promise<string>((resolve) => {
    const onSignal = (signal: string) => () => resolve(signal);
    const onInt = onSignal('SIGINT');
    const onTerm = onSignal('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    stop = () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    };
  });
  try {
    const runId = await fleet.redisWatch.guard(startWatch(fleet, client, args, { force: opts.force ?? false }));
    process.stdout.write(`${runId}\n`);
    if (opts.workers) {
      workerFleet = openFleet(config, log, 'worker');
      for (let i = 0; i < opts.workers; i++) sets.push(startWorkers(workerFleet, ['copy', 'write'], config.jobs.concurrency));
    }
    process.stderr.write(
      `tmdb-fleet: watching ${formatS3Url(args.source)} → ${formatS3Url(args.destination)} (run ${runId}); ` +
        `S3 events go to the dashboard's POST /webhooks/s3${config.sync.webhookSecret ? '' : ' (the dashboard needs SYNC_WEBHOOK_SECRET)'}; Ctrl-C stops\n`,
    );
    let last = '';
    let signal: string | undefined;
    void stopped.then((s) => (signal = s));
    let renewed = Date.now();
    while (signal === undefined) {
      if (Date.now() - renewed >= config.sync.watchLeaseMs / 3) {
        await renewLease(fleet, runId).catch(() => undefined);
        renewed = Date.now();
      }
      // A failed poll is retried, unless Redis was given up on (REDIS_WAIT_MS): then the watch ends.
      const s = await fleet.redisWatch.guard(fleet.runs.summary(runId)).catch((err: unknown) => {
        if (fleet.redisWatch.failure) throw err;
        return undefined;
      });
      if (s) {
        const line = copiesLine(s);
        if (line !== last) process.stderr.write(`${line}\n`);
        last = line;
        if (s.state !== 'running') break;
      }
      await Promise.race([sleep(Math.min(WATCH_POLL_MS, config.sync.watchLeaseMs / 3)), stopped]);
    }
    if (signal) process.stderr.write(`tmdb-fleet: ${signal} received, stopping the watch\n`);
    await stopWatch(fleet, runId);
    const deadline = Date.now() + FINALISE_WAIT_MS;
    let summary = await fleet.runs.summary(runId);
    while (!runIsOver(summary) && Date.now() < deadline) {
      await sleep(250);
      summary = await fleet.runs.summary(runId);
    }
    if (!runIsOver(summary)) {
      process.stderr.write(`tmdb-fleet: run ${runId} is ${summary.state}; a write worker finishes its manifest\n`);
    }
    process.stdout.write(opts.json ? `${summaryLine(summary)}\n` : `${humanSummary(summary)}\n`);
    // A watch is stopped on purpose: it ends cancelled or completed; failed or partial say so.
    if (summary.state === 'failed') process.exitCode = EXIT.failed;
    else if (summary.state === 'completed') process.exitCode = runExitCode(summary, opts.allowPartial ?? false);
  } finally {
    stop();
    await Promise.all(sets.map((s) => s.close(fleet.redisWatch.failure ? 0 : undefined)));
    await workerFleet?.close();
    await fleet.close();
  }
}
