/**
 * What every worker needs around a job: the run's parameters and state (cached briefly by
 * lru-cache, so a job costs no extra Redis round trip on the hot path), BullMQ worker options,
 * and the one mapping of an error's consequence (`errors.ts`) to what the job does next.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { LRUCache } from 'lru-cache';
import type { Fleet } from '../fleet.js';
import { consequenceOf } from '../errors.js';
import { giveUp, type QueuedJob } from '../jobs/give-up.js';
import type { RunInfo } from '../runs/lifecycle.js';
import type { JobDataByQueue } from '../jobs/give-up.js';
import type { QueueName } from '../queues.js';

/** How long a process trusts its cached copy of a run's state, ms. */
const RUN_INFO_TTL_MS = 1_000;
const cache = new LRUCache<string, RunInfo>({ max: 1_000, ttl: RUN_INFO_TTL_MS });

/**
 * A run's parameters, state and lake prefix. A running run is cached for
 * {@link RUN_INFO_TTL_MS} (the hot path); any other state is read afresh, so a run reopened by
 * a resume is never taken for failed.
 */
export async function runInfo(fleet: Fleet, runId: string): Promise<RunInfo> {
  const hit = cache.get(runId);
  if (hit) return hit;
  const info = await fleet.runs.describe(runId);
  if (info.state === 'running') cache.set(runId, info);
  return info;
}

/**
 * What a job of a run that is not running does: skips (its run was cancelled, completed or is
 * finalizing), or — when the run failed — stays failed in its queue, a dead letter that
 * `backfill --resume` retries.
 * @throws UnrecoverableError for a failed run.
 */
export function notRunning(runId: string, state: RunInfo['state']): string {
  if (state === 'failed') throw new UnrecoverableError(`run ${runId} failed: kept as a dead letter for a resume`);
  return `skipped: run is ${state}`;
}

/** True when this attempt is the job's last one. */
export function isLastAttempt(job: Job): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/**
 * Decides what a failed job does next, by the error's consequence:
 * - `fail-run`: fails the whole run now (no retry anywhere);
 * - `give-up`, or `retry` on the last attempt: records the job's item as failed for good
 *   (`jobs/give-up.ts`) and leaves the job failed in its queue: a dead letter, visible and
 *   retryable in Bull Board;
 * - `retry`: the queue retries with backoff.
 * @throws always: the error (or an UnrecoverableError wrapping it) for BullMQ.
 */
export async function handleJobError(fleet: Fleet, job: Job, queued: Exclude<QueuedJob, { queue: 'schedule' }>, err: unknown): Promise<never> {
  const runId = queued.data.runId;
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string }).code;
  const consequence = consequenceOf(err);
  if (consequence === 'fail-run') {
    if (await fleet.runs.fail(runId, message)) fleet.log.error({ runId, code }, message);
    cache.delete(runId);
    throw new UnrecoverableError(message);
  }
  if (consequence === 'give-up' || isLastAttempt(job)) {
    await giveUp(fleet, queued, message);
    fleet.log.error({ runId, jobId: job.id, code, attempts: job.attemptsMade + 1 }, `job gave up: ${message}`);
    throw consequence === 'give-up' ? new UnrecoverableError(message) : err;
  }
  fleet.log.warn({ runId, jobId: job.id, code, attempt: job.attemptsMade + 1 }, `job will retry: ${message}`);
  throw err;
}

/** A job processor: returns what it did (kept as the job's return value). */
export type Processor<Q extends QueueName> = (job: Job<JobDataByQueue[Q]>, token: string | undefined) => Promise<string>;

/**
 * Lock of an active job, ms: BullMQ renews it every half of this for every job a live worker
 * holds, so only an event loop blocked longer than 3 s (we never block that long: no job does
 * CPU work above milliseconds) or a dead process lets it lapse.
 */
export const JOB_LOCK_MS = 6_000;

/**
 * How often each worker looks for active jobs whose lock lapsed and moves them back to wait, ms.
 * A SIGKILLed worker's jobs are back in work within JOB_LOCK_MS + JOB_STALLED_CHECK_MS (8 s;
 * `test/faults/recovery.test.ts` holds it to 10 s).
 */
export const JOB_STALLED_CHECK_MS = 2_000;

/**
 * Creates the BullMQ worker of a queue with the options every queue shares: lock and
 * stalled-job settings ({@link JOB_LOCK_MS}, {@link JOB_STALLED_CHECK_MS}; a job stalled 3
 * times fails: a dead letter).
 */
export function createQueueWorker<Q extends QueueName>(
  fleet: Fleet,
  queue: Q,
  concurrency: number,
  processor: Processor<Q>,
): Worker<JobDataByQueue[Q]> {
  return new Worker<JobDataByQueue[Q]>(queue, processor, {
    connection: fleet.redis,
    prefix: fleet.config.redis.prefix,
    concurrency,
    lockDuration: JOB_LOCK_MS,
    stalledInterval: JOB_STALLED_CHECK_MS,
    maxStalledCount: 3,
  });
}
