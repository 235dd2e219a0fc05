/** `tmdb-fleet worker [--queues …] [--concurrency N]`: runs workers until SIGTERM/SIGINT. */
import { Command, Option } from 'commander';
import type { GetConfig } from './private-redis.js';
import { openFleet } from '../fleet.js';
import { createLogger } from '../log.js';
import { QUEUE_NAMES, type QueueName } from '../queues.js';
import { SHUTDOWN_DEADLINE_MS, startWorkers } from '../workers/index.js';
import { positiveInt, queueList } from './options.js';
import { startScheduledRun } from './scheduled-runs.js';
import { onShutdown } from './shutdown.js';

/** Part of the shutdown deadline kept for closing connections after in-flight jobs, ms. */
const CLOSE_RESERVE_MS = 1_000;

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
      await fleet.store.check().catch(async (err: unknown) => {
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
