/**
 * Copy worker: one job = one S3 object copied server-side from a sync's source to its
 * destination. HeadObject on both sides first: a destination that already holds the source
 * (same size and ETag) is skipped, so a replayed event or a re-run copies nothing twice; a
 * source deleted since it was listed is skipped too. Then CopyObject (multipart above 5 GiB,
 * see lake/s3-copy.ts), the outcome recorded in the run (`:copies`), and the run's planned key
 * marked done — the last one enqueues the run's final write job (the manifest). S3 refusing for
 * good (403, 400) gives up at once; other errors are retried with backoff.
 */
import type { Job, Worker } from 'bullmq';
import type { Fleet } from '../fleet.js';
import { PermanentS3Error } from '../errors.js';
import { copyPlanKey, type CopyJobData } from '../jobs/copy.js';
import { enqueueFinal } from '../jobs/write.js';
import { createS3Client } from '../lake/store.js';
import { copyObject, headObject, isPermanentS3Error, sameObject, type CopyOptions } from '../lake/s3-copy.js';
import type { CopyRecord } from '../runs/types.js';
import { createQueueWorker, handleJobError, notRunning, runInfo } from './job-support.js';

/**
 * Creates the copy worker, with its own S3 client (endpoint, region and credentials from the
 * config, whether or not the lake itself is on S3), destroyed when the worker closes.
 * @param copyOptions - internal tuning (tests lower the multipart threshold).
 */
export function createCopyWorker(fleet: Fleet, concurrency: number, copyOptions: CopyOptions = {}): Worker<CopyJobData> {
  const client = createS3Client(fleet.config.s3);
  const worker = createQueueWorker(fleet, 'copy', concurrency, (job) => processCopy(fleet, client, job, copyOptions));
  worker.on('closed', () => client.destroy());
  return worker;
}

async function processCopy(
  fleet: Fleet,
  client: ReturnType<typeof createS3Client>,
  job: Job<CopyJobData>,
  copyOptions: CopyOptions,
): Promise<string> {
  const d = job.data;
  const run = await runInfo(fleet, d.runId);
  if (run.state !== 'running') return notRunning(d.runId, run.state);
  const src = { bucket: d.srcBucket, key: d.srcKey };
  const dst = { bucket: d.dstBucket, key: d.dstKey };
  const record = (r: Omit<CopyRecord, 'source' | 'destination'>) =>
    fleet.runs.recordCopy(d.runId, { source: d.srcKey, destination: d.dstKey, ...r });
  const done = async () => {
    if (await fleet.runs.pageDone(d.runId, copyPlanKey(d.srcKey))) await enqueueFinal(fleet, d.runId);
  };
  try {
    const info = await headObject(client, src);
    if (!info) {
      await record({ status: 'skipped', size: 0, etag: d.etag, reason: 'source object no longer exists' });
      await done();
      return 'skipped: source gone';
    }
    if (sameObject(info, await headObject(client, dst))) {
      await record({ status: 'skipped', size: info.size, etag: info.etag, reason: 'destination already has this ETag and size' });
      await done();
      return 'skipped: destination is up to date';
    }
    const res = await copyObject(client, src, info, dst, copyOptions);
    await record({ status: 'copied', size: info.size, etag: info.etag });
    await done();
    fleet.log.debug({ runId: d.runId, src: d.srcKey, dst: d.dstKey, multipart: res.multipart }, 'object copied');
    return res.multipart ? 'copied (multipart)' : 'copied';
  } catch (err) {
    const cause = isPermanentS3Error(err)
      ? new PermanentS3Error(`copy of s3://${d.srcBucket}/${d.srcKey}: ${(err as Error).message}`, { cause: err })
      : err;
    return handleJobError(fleet, job, { queue: 'copy', data: d }, cause);
  }
}
