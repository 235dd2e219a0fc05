/**
 * What every worker needs around a job: the run's parameters and state (cached briefly, so a
 * job costs no extra Redis round trip on the hot path), the final write job, and the mapping
 * of error classes to what happens next.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import type { Fleet } from '../fleet.js';
import { TmdbAuthError, TmdbRequestError } from '../errors.js';
import type { RunParams, RunState } from '../runs.js';

/** How long a process trusts its cached copy of a run's state, ms. */
const RUN_INFO_TTL_MS = 1_000;
const cache = new Map<string, { at: number; info: { params: RunParams; state: RunState; lakePrefix: string } }>();

/** A run's parameters, state and lake prefix, cached for {@link RUN_INFO_TTL_MS}. */
export async function runInfo(
  fleet: Fleet,
  runId: string,
): Promise<{ params: RunParams; state: RunState; lakePrefix: string }> {
  const hit = cache.get(runId);
  if (hit && Date.now() - hit.at < RUN_INFO_TTL_MS) return hit.info;
  const info = await fleet.runs.describe(runId);
  cache.set(runId, { at: Date.now(), info });
  if (cache.size > 1_000) cache.delete(cache.keys().next().value as string);
  return info;
}

/** Enqueues the run's final write job (flush, open batches, manifest), once. */
export async function enqueueFinal(fleet: Fleet, runId: string): Promise<void> {
  await fleet.queues.write.add('final', { runId, mode: 'final' }, { jobId: `final.${runId}` });
}

/** True when this attempt is the job's last one. */
export function isLastAttempt(job: Job): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/**
 * Decides what a failed job does next, by error class:
 * - TmdbAuthError: fails the whole run now (no retry anywhere);
 * - TmdbRequestError: our request is wrong; gives up now;
 * - anything else: retried by the queue with backoff; on the last attempt gives up.
 * Giving up runs `onGiveUp` (count the title or page as failed) and leaves the job failed in
 * its queue: a dead letter, visible and retryable in Bull Board.
 * @throws always: the error (or an UnrecoverableError wrapping it) for BullMQ.
 */
export async function handleJobError(
  fleet: Fleet,
  job: Job,
  runId: string,
  err: unknown,
  onGiveUp: () => Promise<void>,
): Promise<never> {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string }).code;
  if (err instanceof TmdbAuthError) {
    if (await fleet.runs.fail(runId, message)) fleet.log.error({ runId, code }, message);
    cache.delete(runId);
    throw new UnrecoverableError(message);
  }
  if (err instanceof TmdbRequestError || isLastAttempt(job)) {
    await onGiveUp();
    fleet.log.error({ runId, jobId: job.id, code, attempts: job.attemptsMade + 1 }, `job gave up: ${message}`);
    throw err instanceof TmdbRequestError ? new UnrecoverableError(message) : err;
  }
  fleet.log.warn({ runId, jobId: job.id, code, attempt: job.attemptsMade + 1 }, `job will retry: ${message}`);
  throw err;
}

/** BullMQ worker options shared by every queue: lock and stalled-job settings. */
export function workerOptions(fleet: Fleet, concurrency: number) {
  return {
    connection: fleet.redis,
    prefix: fleet.config.redis.prefix,
    concurrency,
    // A SIGKILLed worker's jobs come back after at most lockDuration + stalledInterval.
    lockDuration: 15_000,
    stalledInterval: 5_000,
    maxStalledCount: 3,
  };
}
