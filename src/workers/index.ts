/**
 * Starts the workers of the chosen queues in this process and stops them within a deadline: they
 * stop taking jobs, in-flight jobs get until the deadline to finish; after it the workers are
 * force-closed (their jobs' locks lapse and another worker takes them over) without waiting
 * for a lost Redis.
 */
import type { Worker } from 'bullmq';
import type { Fleet } from '../fleet.js';
import { giveUp, type QueuedJob } from '../jobs/give-up.js';
import type { StartScheduledRun } from '../jobs/schedule.js';
import { closeLapsedWatches } from '../jobs/watch.js';
import type { QueueName } from '../queues.js';
import { createCopyWorker } from './copy.js';
import { createDetailsWorker } from './details.js';
import { createDiscoverWorker } from './discover.js';
import { createScheduleWorker } from './schedule.js';
import { createUploadWorker } from './upload.js';
import { joinTelemetry, observeJobs } from './telemetry.js';
import { createWriteWorker } from './write.js';

/** How a {@link WorkerSet} closed: every in-flight job finished, or the deadline cut some off. */
export type CloseOutcome = 'drained' | 'cut-off';

/** A set of running workers. */
export interface WorkerSet {
  workers: Worker[];
  /**
   * Stops taking jobs and waits for in-flight ones up to `deadlineMs`, then force-closes, waiting
   * at most {@link FORCE_CLOSE_WAIT_MS} more for that (a force close can hang on a lost Redis).
   */
  close(deadlineMs?: number): Promise<CloseOutcome>;
}

/** Default graceful-shutdown deadline, ms: a worker process exits within it (SIGTERM/SIGINT). */
export const SHUTDOWN_DEADLINE_MS = 10_000;

/** Longest a force close is waited for after the deadline, ms. */
export const FORCE_CLOSE_WAIT_MS = 500;

/** Resolves with `promise`'s outcome, or with `onTimeout` after `ms` (a rejection counts as done). */
async function within<T, U>(promise: Promise<T>, ms: number, onTimeout: U): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<U>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** BullMQ fails a job that stalled more than `maxStalledCount` times with this message. */
function isStalledFailure(err: Error): boolean {
  return /stalled more than allowable limit/i.test(err.message);
}

/** What a worker process gives workers that need the layers above them. */
export interface WorkerHooks {
  /** Starts a schedule's run through the CLI's producers; without it, no schedule worker runs here. */
  startScheduledRun?: StartScheduledRun;
}

/** Creates the worker of one queue (undefined: this process cannot run that queue). */
type WorkerFactory = (fleet: Fleet, concurrency: number, hooks: WorkerHooks) => Worker | undefined;

/** One worker factory per queue (each module under src/workers/ owns one queue). */
const WORKER_FACTORIES: Record<QueueName, WorkerFactory> = {
  discover: createDiscoverWorker,
  details: createDetailsWorker,
  write: createWriteWorker,
  upload: createUploadWorker,
  copy: (fleet, concurrency) => createCopyWorker(fleet, concurrency),
  schedule: (fleet, concurrency, hooks) => (hooks.startScheduledRun ? createScheduleWorker(fleet, concurrency, hooks.startScheduledRun) : undefined),
};

/**
 * Starts one worker per queue in `queues`, each running `concurrency` jobs at once. The
 * schedule queue's worker starts only with `hooks.startScheduledRun` (`tmdb-fleet worker`; the
 * in-process workers of a run command leave schedules to the fleet).
 */
export function startWorkers(fleet: Fleet, queues: readonly QueueName[], concurrency: number, hooks: WorkerHooks = {}): WorkerSet {
  const workers: Worker[] = [];
  for (const name of queues) {
    const worker = WORKER_FACTORIES[name](fleet, concurrency, hooks);
    if (!worker) continue;
    worker.on('error', (err) => {
      // While Redis is down every reconnection attempt errs: the fleet's RedisWatch tells that once.
      if (fleet.redisWatch.up) fleet.log.warn({ queue: name, err: err.message }, 'worker error');
    });
    observeJobs(fleet, name, worker);
    worker.on('failed', (job, err) => {
      if (!job || (job.attemptsMade < (job.opts.attempts ?? 1) && !isStalledFailure(err))) return;
      fleet.log.error({ queue: name, jobId: job.id, err: err.message }, 'job failed for good (dead letter)');
      // A job failed by the stalled-job checker never reached our error handling: count it here.
      if (isStalledFailure(err)) {
        const queued = { queue: name, data: job.data } as QueuedJob;
        void giveUp(fleet, queued, err.message).catch(() => undefined);
      }
    });
    workers.push(worker);
  }
  fleet.log.info({ queues, concurrency, lake: fleet.store.location }, 'workers started');
  const leaveTelemetry = joinTelemetry(fleet, queues);
  // Copy workers also close sync watches whose process died (their lease lapsed).
  const sweep = queues.includes('copy')
    ? setInterval(() => void closeLapsedWatches(fleet).catch(() => undefined), Math.max(500, fleet.config.sync.watchLeaseMs / 3))
    : undefined;
  return {
    workers,
    async close(deadlineMs = SHUTDOWN_DEADLINE_MS) {
      clearInterval(sweep);
      const graceful = Promise.all(workers.map((w) => w.close())).then(
        () => 'drained' as const,
        () => 'cut-off' as const,
      );
      const outcome = await within(graceful, deadlineMs, 'cut-off' as const);
      if (outcome === 'cut-off') {
        fleet.log.warn({ deadlineMs }, 'in-flight jobs did not finish in time; they return to their queues');
        const forced = Promise.all(workers.map((w) => w.close(true))).catch(() => undefined);
        await within(forced, FORCE_CLOSE_WAIT_MS, undefined);
      }
      // Telemetry leaves Redis within the deadline too (Redis may be down).
      await within(leaveTelemetry().catch(() => undefined), FORCE_CLOSE_WAIT_MS, undefined);
      return outcome;
    },
  };
}
