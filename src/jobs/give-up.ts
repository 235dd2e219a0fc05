/**
 * What giving up on a job means for its run, per queue: the title, page, file or copy is
 * recorded as failed for good (counted once, listed in the manifest's audit), and the run's
 * final write job is enqueued when that was the last open item. A discover page that fails for
 * good still plans the page it would have planned (its continuation), so it loses its own
 * results only; a failed page 1 loses its window (the audit lists it). Used by every worker's
 * error handling and by the accounting of jobs BullMQ failed as stalled (which never reach a
 * worker's handler).
 */
import type { Fleet } from '../fleet.js';
import type { QueueName } from '../queues.js';
import { copyPlanKey, type CopyJobData } from './copy.js';
import type { DetailsJobData } from './details.js';
import { continuationOf, discoverPlanKey, enqueuePages, type DiscoverJobData } from './discover.js';
import type { ScheduleJobData } from './schedule.js';
import { filePlanKey, type UploadJobData } from './upload.js';
import { enqueueFinal, type WriteJobData } from './write.js';

/** The data of each queue's jobs. */
export interface JobDataByQueue {
  discover: DiscoverJobData;
  details: DetailsJobData;
  write: WriteJobData;
  upload: UploadJobData;
  copy: CopyJobData;
  schedule: ScheduleJobData;
}

/** A job of some queue, with its data. */
export type QueuedJob = { [Q in QueueName]: { queue: Q; data: JobDataByQueue[Q] } }[QueueName];

/**
 * Records a job's item as failed for good in its run.
 * @param reason - why (listed for files and copies).
 */
export async function giveUp(fleet: Fleet, job: QueuedJob, reason: string): Promise<void> {
  const runs = fleet.runs;
  let complete = false;
  switch (job.queue) {
    case 'details':
      complete = await runs.terminal(job.data.runId, job.data.id, 'failed');
      break;
    case 'discover': {
      // Planned before this page is marked failed, so the run cannot complete in between.
      const next = continuationOf(job.data);
      if (next) await enqueuePages(fleet, job.data.runId, [next]);
      complete = await runs.pageDone(job.data.runId, discoverPlanKey(job.data), 'failed');
      break;
    }
    case 'upload': {
      const d = job.data;
      await runs.recordFile(d.runId, { name: d.name, key: d.key, bytes: 0, sha256: '', checksum: '', status: 'failed', error: reason });
      complete = await runs.pageDone(d.runId, filePlanKey(d.name), 'failed');
      break;
    }
    case 'copy': {
      const d = job.data;
      await runs.recordCopy(d.runId, { source: d.srcKey, destination: d.dstKey, status: 'failed', size: 0, etag: d.etag, reason });
      complete = await runs.pageDone(d.runId, copyPlanKey(d.srcKey), 'failed');
      break;
    }
    case 'write':
      // Write jobs own no item: their batches stay open and the final job stores them.
      return;
    case 'schedule':
      // A tick owns no run item: the next tick tries again.
      return;
  }
  if (complete) await enqueueFinal(fleet, job.data.runId);
}
