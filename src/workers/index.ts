/**
 * Starts the workers of the chosen queues in this process and stops them cleanly: on
 * SIGTERM/SIGINT they stop taking jobs, in-flight jobs get until the deadline to finish (after
 * it, their locks lapse and another worker takes them over), connections close, exit code 0.
 */
import type { Worker } from 'bullmq';
import type { Fleet } from '../fleet.js';
import type { DiscoverJobData, QueueName } from '../queues.js';
import { pageKey } from '../runs.js';
import { copyPlanKey } from '../copy-jobs.js';
import { enqueueFinal } from './job-support.js';
import { createCopyWorker } from './copy.js';
import { createDetailsWorker } from './details.js';
import { createDiscoverWorker } from './discover.js';
import { createUploadWorker, filePageKey } from './upload.js';
import { createWriteWorker } from './write.js';

/** A set of running workers. */
export interface WorkerSet {
  workers: Worker[];
  /** Stops taking jobs and waits for in-flight ones up to `deadlineMs`, then force-closes. */
  close(deadlineMs?: number): Promise<void>;
}

/** Default graceful-shutdown deadline, ms. */
export const SHUTDOWN_DEADLINE_MS = 10_000;

type JobData = { runId: string; id?: number; window?: DiscoverJobData['window']; page?: number; srcKey?: string; name?: string };

/** BullMQ fails a job that stalled more than `maxStalledCount` times with this message. */
function isStalledFailure(err: Error): boolean {
  return /stalled more than allowable limit/i.test(err.message);
}

async function countStalledFailure(fleet: Fleet, queue: QueueName, data: JobData): Promise<void> {
  let complete = false;
  if (queue === 'details' && data.id !== undefined) complete = await fleet.runs.terminal(data.runId, data.id, 'failed');
  if (queue === 'discover' && data.window && data.page !== undefined) {
    complete = await fleet.runs.pageDone(data.runId, pageKey(data.window, data.page), true);
  }
  if (queue === 'copy' && data.srcKey !== undefined) {
    complete = await fleet.runs.pageDone(data.runId, copyPlanKey(data.srcKey), true);
  }
  if (queue === 'upload' && data.name !== undefined) {
    complete = await fleet.runs.pageDone(data.runId, filePageKey(data.name), true);
  }
  if (complete) await enqueueFinal(fleet, data.runId);
}

/** Creates the worker of one queue. */
type WorkerFactory = (fleet: Fleet, concurrency: number) => Worker;

/** One worker factory per queue (each module under src/workers/ owns one queue). */
const WORKER_FACTORIES: Record<QueueName, WorkerFactory> = {
  discover: createDiscoverWorker,
  details: createDetailsWorker,
  write: createWriteWorker,
  upload: createUploadWorker,
  copy: createCopyWorker,
};

/** Starts one worker per queue in `queues`, each running `concurrency` jobs at once. */
export function startWorkers(fleet: Fleet, queues: readonly QueueName[], concurrency: number): WorkerSet {
  const workers: Worker[] = [];
  for (const name of queues) {
    const worker = WORKER_FACTORIES[name](fleet, concurrency);
    worker.on('error', (err) => fleet.log.warn({ queue: name, err: err.message }, 'worker error'));
    worker.on('failed', (job, err) => {
      if (!job || (job.attemptsMade < (job.opts.attempts ?? 1) && !isStalledFailure(err))) return;
      fleet.log.error({ queue: name, jobId: job.id, err: err.message }, 'job failed for good (dead letter)');
      // A job failed by the stalled-job checker never reached our error handling: count it here.
      if (isStalledFailure(err)) void countStalledFailure(fleet, name, job.data as JobData).catch(() => undefined);
    });
    workers.push(worker);
  }
  fleet.log.info({ queues, concurrency, lake: fleet.store.location }, 'workers started');
  return {
    workers,
    async close(deadlineMs = SHUTDOWN_DEADLINE_MS) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'deadline'>((resolve) => {
        timer = setTimeout(() => resolve('deadline'), deadlineMs);
      });
      const graceful = Promise.all(workers.map((w) => w.close())).then(() => 'closed' as const);
      const outcome = await Promise.race([graceful, deadline]);
      clearTimeout(timer);
      if (outcome === 'deadline') {
        fleet.log.warn({ deadlineMs }, 'in-flight jobs did not finish in time; they return to their queues');
        await Promise.all(workers.map((w) => w.close(true)));
      }
    },
  };
}
