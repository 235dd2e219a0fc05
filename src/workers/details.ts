/**
 * Details worker: one job = one title, one request:
 * `GET /{kind}/{id}?append_to_response=external_ids`. The document is staged in Redis once per
 * (run, id); every BATCH_MAX_RECORDS staged documents trigger a write job, and the first of each
 * batch schedules a tail flush after BATCH_MAX_WAIT_MS. A 404 is counted as notFound.
 */
import { Worker, type Job } from 'bullmq';
import type { Fleet } from '../fleet.js';
import type { DetailsJobData } from '../queues.js';
import { TmdbNotFoundError, TmdbTransientError } from '../errors.js';
import { isDetailsDocument } from '../tmdb/types.js';
import { enqueueFinal, handleJobError, runInfo, workerOptions } from './job-support.js';

/** Creates the details worker. */
export function createDetailsWorker(fleet: Fleet, concurrency: number): Worker<DetailsJobData> {
  return new Worker<DetailsJobData>('details', async (job) => processDetails(fleet, job), workerOptions(fleet, concurrency));
}

async function processDetails(fleet: Fleet, job: Job<DetailsJobData>): Promise<string> {
  const { runId, kind, id } = job.data;
  const run = await runInfo(fleet, runId);
  if (run.state !== 'running') return `skipped: run is ${run.state}`;
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
    return handleJobError(fleet, job, runId, err, async () => {
      if (await fleet.runs.terminal(runId, id, 'failed')) await enqueueFinal(fleet, runId);
    });
  }
  const staged = await fleet.runs.stage(runId, id, JSON.stringify(document));
  const max = fleet.config.batch.maxRecords;
  if (staged.staged) {
    const write = fleet.queues.write;
    if (staged.stagedTotal % max === 0) {
      await write.add('full', { runId, mode: 'full' }, { jobId: `w.${runId}.${staged.stagedTotal / max}` });
    }
    if (staged.stagedTotal % max === 1 || max === 1) {
      await write.add(
        'tail',
        { runId, mode: 'tail', upTo: staged.stagedTotal },
        { jobId: `f.${runId}.${staged.stagedTotal}`, delay: fleet.config.batch.maxWaitMs },
      );
    }
  }
  if (staged.complete) await enqueueFinal(fleet, runId);
  return staged.staged ? 'staged' : 'already staged';
}
