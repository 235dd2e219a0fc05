/**
 * The write queue's contract (1 job = 1 object, or the run's final flush and manifest).
 * A details job that stages the n-th full batch's last document enqueues a `full` write; a
 * document staged while no tail flush is armed arms one, and its `tail` job runs
 * BATCH_MAX_WAIT_MS later; the run's completion (or a cancel) enqueues `final`.
 */
import type { Fleet } from '../fleet.js';
import { formatJobId } from './job-id.js';

/**
 * Data of a write job:
 * - `full`: one object of exactly BATCH_MAX_RECORDS staged documents;
 * - `tail`: objects for the documents staged when it starts, however few (`upTo` in jobs
 *   enqueued by earlier versions is ignored);
 * - `final`: every staged document and open batch, then the run's manifest.
 */
export type WriteJobData =
  | { runId: string; mode: 'full' }
  | { runId: string; mode: 'tail'; upTo?: number }
  | { runId: string; mode: 'final' };

/** Enqueues the run's final write job (flush, open batches, manifest), once. */
export async function enqueueFinal(fleet: Fleet, runId: string): Promise<void> {
  await fleet.queues.write.add('final', { runId, mode: 'final' } satisfies WriteJobData, {
    jobId: formatJobId({ type: 'final', runId }),
  });
}

/**
 * Enqueues the tail flush of arm number `arm` (from the run store: staging, a tail flush that
 * left documents behind, a reconcile), `delayMs` from now.
 * @param delayMs - @defaultValue BATCH_MAX_WAIT_MS
 */
export async function enqueueTail(fleet: Fleet, runId: string, arm: number, delayMs = fleet.config.batch.maxWaitMs): Promise<void> {
  await fleet.queues.write.add('tail', { runId, mode: 'tail' } satisfies WriteJobData, {
    jobId: formatJobId({ type: 'tail', runId, arm }),
    delay: delayMs,
  });
}

/**
 * After a document was staged as the run's `stagedTotal`-th: a full write when it completes a
 * batch, the tail flush it armed (`tailArm`, 0 for none) after BATCH_MAX_WAIT_MS.
 */
export async function enqueueAfterStage(
  fleet: Fleet,
  runId: string,
  staged: { stagedTotal: number; tailArm: number },
): Promise<void> {
  const max = fleet.config.batch.maxRecords;
  if (staged.stagedTotal % max === 0) {
    await fleet.queues.write.add('full', { runId, mode: 'full' } satisfies WriteJobData, {
      jobId: formatJobId({ type: 'full', runId, batch: staged.stagedTotal / max }),
    });
  }
  if (staged.tailArm > 0) await enqueueTail(fleet, runId, staged.tailArm);
}

/** Enqueues a flush of everything staged so far (on resume), under a fresh id. */
export async function enqueueFlush(fleet: Fleet, runId: string): Promise<void> {
  await fleet.queues.write.add('tail', { runId, mode: 'tail' } satisfies WriteJobData, {
    jobId: formatJobId({ type: 'resume', runId, at: Date.now() }),
  });
}
