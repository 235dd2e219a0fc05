/** `tmdb-fleet worker [--queues …] [--concurrency N]`: runs workers until SIGTERM/SIGINT. */
import { Command, Option } from 'commander';
import pRetry from 'p-retry';
import type { GetConfig } from './private-redis.js';
import { openFleet, type Fleet } from '../fleet.js';
import { isTransientLakeError } from '../lake/store.js';
import { createLogger } from '../log.js';
import { QUEUE_NAMES, type QueueName } from '../queues.js';
import { SHUTDOWN_DEADLINE_MS, startWorkers } from '../workers/index.js';
import { positiveInt, queueList } from './options.js';
import { startScheduledRun } from './scheduled-runs.js';
import { onShutdown } from './shutdown.js';

/** Part of the shutdown deadline kept for closing connections after in-flight jobs, ms. */
const CLOSE_RESERVE_MS = 1_000;

/** Longest wait between two lake checks of a worker starting while S3 is down, ms. */
const LAKE_RETRY_MAX_MS = 30_000;

/**
 * Checks the lake (S3 HeadBucket) until it answers, by p-retry. A worker outlives S3 outages as
 * it outlives Redis outages: while S3 answers 5xx or nothing, it logs and checks again (1 s,
 * doubling to {@link LAKE_RETRY_MAX_MS}).
 * @throws the check's error when waiting cannot help (missing bucket, denied access, no credentials).
 */
function checkLakeUntilUp(fleet: Fleet): Promise<void> {
  return pRetry(() => fleet.store.check(), {
    retries: Infinity,
    minTimeout: 1_000,
    maxTimeout: LAKE_RETRY_MAX_MS,
    shouldRetry: ({ error }) => isTransientLakeError(error),
    onFailedAttempt: ({ error, retryDelay }) => {
      if (isTransientLakeError(error)) {
        fleet.log.warn({ err: error.message, retryInMs: retryDelay }, 'the lake cannot be reached yet; the worker starts when it answers');
      }
    },
  });
}

/** The `worker` command. */
export function workerCommand(getConfig: GetConfig): Command {
  return new Command('worker')
    .description('run workers (long-running) for the given queues')
    .addOption(new Option('--queues <names>', 'comma-separated queues').default([...QUEUE_NAMES], QUEUE_NAMES.join(',')).argParser(queueList))
    .option('--concurrency <n>', 'jobs per queue at once (default WORKER_CONCURRENCY)', positiveInt('--concurrency'))
    .action(async (opts: { queues: QueueName[]; concurrency?: number }) => {
      const cfg = await getConfig();
      const log = createLogger(cfg);
      const fleet = openFleet(cfg, log, 'worker');
      if (cfg.lake.kind === 'local') log.warn({ dir: cfg.lake.dir }, 'S3_BUCKET is unset: writing the lake to a local directory (LAKE_DIR)');
      await checkLakeUntilUp(fleet).catch(async (err: unknown) => {
        await fleet.close();
        throw err;
      });
      fleet.tmdb();
      const set = startWorkers(fleet, opts.queues, opts.concurrency ?? cfg.jobs.concurrency, { startScheduledRun });
      // Exit 0 when every in-flight job finished, 1 when the deadline cut some off; never later.
      onShutdown(async () => {
        const outcome = await set.close(SHUTDOWN_DEADLINE_MS - CLOSE_RESERVE_MS);
        if (outcome === 'cut-off') {
          process.stderr.write(
            `tmdb-fleet: in-flight jobs did not finish before the shutdown deadline; they return to their queues when their locks lapse\n`,
          );
        }
        await fleet.close();
        return outcome === 'drained';
      }, SHUTDOWN_DEADLINE_MS);
    });
}
