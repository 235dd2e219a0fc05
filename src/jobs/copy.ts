/**
 * The copy queue's contract (1 job = 1 S3 object copied): data, deterministic ids and how copies
 * are planned in a run and enqueued. Shared by the sync producer (listing), the S3 event
 * webhook (watch) and the copy worker.
 */
import { createHash } from 'node:crypto';
import type { Fleet } from '../fleet.js';
import { formatJobId } from './job-id.js';
import { formatPlanKey } from './plan-key.js';

/** Data of a copy job. */
export interface CopyJobData {
  runId: string;
  srcBucket: string;
  srcKey: string;
  dstBucket: string;
  dstKey: string;
  /** ETag (unquoted) the listing or the event saw; '' when unknown. */
  etag: string;
}

/** The plan key of a copy (`copy#<source key>`). */
export function copyPlanKey(srcKey: string): string {
  return formatPlanKey({ type: 'copy', srcKey });
}

/**
 * The job id of a copy: deterministic from run, source bucket, key and ETag, so a replayed
 * event (or a re-run listing) is deduplicated by BullMQ while the job exists. Hashed: keys may
 * hold any character, ids must not contain `:` or `.`.
 */
export function copyJobId(data: Pick<CopyJobData, 'runId' | 'srcBucket' | 'srcKey' | 'etag'>): string {
  const digest = createHash('sha1').update(`${data.srcBucket}\u0000${data.srcKey}\u0000${data.etag}`).digest('hex');
  return formatJobId({ type: 'copy', runId: data.runId, digest });
}

/** Plans the copies in the run (idempotent), then enqueues one job each (deduplicated by id). */
export async function enqueueCopies(fleet: Fleet, runId: string, copies: readonly Omit<CopyJobData, 'runId'>[]): Promise<void> {
  if (copies.length === 0) return;
  await fleet.runs.plan(runId, copies.map((c) => copyPlanKey(c.srcKey)));
  await fleet.queues.copy.addBulk(
    copies.map((c) => {
      const data: CopyJobData = { runId, ...c };
      return { name: 'copy', data, opts: { jobId: copyJobId(data) } };
    }),
  );
}
