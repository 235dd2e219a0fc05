/**
 * Details worker: one job = one title, one request:
 * `GET /{kind}/{id}?append_to_response=external_ids`. The document is staged in Redis once per
 * (run, id) while the run is running; every BATCH_MAX_RECORDS staged documents trigger a write
 * job, and a document staged while no tail flush is armed arms one (its write job runs
 * BATCH_MAX_WAIT_MS later). A 404 is counted as notFound.
 *
 * Staging is bounded: while more than STAGING_MAX_RECORDS documents of the run are staged and
 * not yet in a stored object (writes lag: S3 slow or failing), details jobs wait (delayed, not
 * failed, no attempt spent). The count comes back with every staging call and is trusted for
 * {@link PENDING_TTL_MS}, so the check costs no Redis round trip per job (one per process and
 * run at most every {@link PENDING_TTL_MS} when no staging refreshed it).
 */
import { DelayedError, type Job, type Worker } from 'bullmq';
import { LRUCache } from 'lru-cache';
import type { Fleet } from '../fleet.js';
import { TmdbNotFoundError, TmdbTransientError } from '../errors.js';
import type { DetailsJobData } from '../jobs/details.js';
import { enqueueAfterStage, enqueueFinal } from '../jobs/write.js';
import { faultPoint } from '../fault-points.js';
import { isDetailsDocument } from '../tmdb/types.js';
import { createQueueWorker, handleJobError, notRunning, runInfo } from './job-support.js';

/** How long this process trusts the last pending count it saw for a run, ms. */
export const PENDING_TTL_MS = 500;

/** A details job over the staging bound waits this long plus up to as much again (jitter), ms. */
const STAGING_WAIT_MS = 1_000;

/** Per run: documents staged and not yet stored, as last seen by this process. */
const pendingSeen = new LRUCache<string, number>({ max: 1_000, ttl: PENDING_TTL_MS });
/** Per run: a pending count being read (one read at a time). */
const pendingReads = new Map<string, Promise<number>>();

/** The run's pending count: the last one seen within {@link PENDING_TTL_MS}, else read once. */
async function pendingOf(fleet: Fleet, runId: string): Promise<number> {
  const seen = pendingSeen.get(runId);
  if (seen !== undefined) return seen;
  let read = pendingReads.get(runId);
  if (!read) {
    read = fleet.runs.pending(runId).finally(() => pendingReads.delete(runId));
    pendingReads.set(runId, read);
  }
  const pending = await read;
  pendingSeen.set(runId, pending);
  return pending;
}

/** Creates the details worker. */
export function createDetailsWorker(fleet: Fleet, concurrency: number): Worker<DetailsJobData> {
  return createQueueWorker(fleet, 'details', concurrency, (job, token) => processDetails(fleet, job, token));
}

async function processDetails(fleet: Fleet, job: Job<DetailsJobData>, token: string | undefined): Promise<string> {
  const { runId, kind, id } = job.data;
  const run = await runInfo(fleet, runId);
  if (run.state !== 'running') return notRunning(runId, run.state);
  if ((await pendingOf(fleet, runId)) >= fleet.config.batch.stagingMaxRecords) {
    await job.moveToDelayed(Date.now() + STAGING_WAIT_MS + Math.floor(Math.random() * STAGING_WAIT_MS), token);
    throw new DelayedError();
  }
  let document: unknown;
  try {
    document = await fleet.tmdb().get(`/${kind}/${id}`, { append_to_response: 'external_ids' });
    if (!isDetailsDocument(document) || document.id !== id) {
      throw new TmdbTransientError(`unexpected details document for ${kind} ${id}`);
    }
  } catch (err) {
    if (err instanceof TmdbNotFoundError) {
      if (await fleet.runs.terminal(runId, id, 'notFound')) await enqueueFinal(fleet, runId);
      return 'not found';
    }
    return handleJobError(fleet, job, { queue: 'details', data: job.data }, err);
  }
  const staged = await fleet.runs.stage(runId, id, JSON.stringify(document));
  if (staged.active) pendingSeen.set(runId, staged.pending);
  faultPoint('details:after-stage');
  if (staged.staged) await enqueueAfterStage(fleet, runId, staged);
  if (staged.complete) await enqueueFinal(fleet, runId);
  if (!staged.active) return 'skipped: run is no longer running (nothing staged)';
  return staged.staged ? 'staged' : 'already staged';
}
