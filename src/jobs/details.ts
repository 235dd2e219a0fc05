/**
 * The details queue's contract (1 job = 1 title): `GET /{kind}/{id}`. Titles are fanned out once
 * per (run, id): the run's discovered bitmap decides which ids are new.
 */
import type { Fleet } from '../fleet.js';
import type { Kind } from '../runs/types.js';
import { formatJobId } from './job-id.js';

/** Data of a details job: one title. */
export interface DetailsJobData {
  runId: string;
  kind: Kind;
  id: number;
}

/** Titles enqueued per BullMQ addBulk call. */
const BULK = 1_000;

/** Enqueues one details job per id (deduplicated by id while the job exists). */
export async function enqueueTitles(fleet: Fleet, runId: string, kind: Kind, ids: readonly number[]): Promise<void> {
  for (let i = 0; i < ids.length; i += BULK) {
    await fleet.queues.details.addBulk(
      ids.slice(i, i + BULK).map((id) => ({
        name: 'title',
        data: { runId, kind, id } satisfies DetailsJobData,
        opts: { jobId: formatJobId({ type: 'title', runId, id }) },
      })),
    );
  }
}

/**
 * Enqueues a details job for each title this run has not discovered yet, then marks them
 * discovered (a crash in between re-enqueues the same ids, deduplicated by job id).
 * @param windowKey - the window whose page listed the ids (counted for its audit), if any.
 */
export async function fanOut(fleet: Fleet, runId: string, kind: Kind, ids: readonly number[], windowKey?: string): Promise<void> {
  const fresh = await fleet.runs.unseen(runId, ids);
  if (fresh.length === 0) return;
  await enqueueTitles(fleet, runId, kind, fresh);
  await fleet.runs.discovered(runId, fresh, windowKey);
}
