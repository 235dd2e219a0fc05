/**
 * Resume and cancel: the operator's controls over a run that already exists.
 *
 * - {@link resumeRun} re-drives everything a run still owes after every process was stopped (or
 *   after a failure was fixed): dead-lettered jobs of the run are retried, pages planned but not
 *   done and titles discovered but not terminal are enqueued again (deterministic job ids make
 *   this harmless for what is still queued), staged documents are flushed, and a complete run
 *   gets its final write job.
 * - {@link cancelRun} stops a run: its queued discover and details jobs are removed, in-flight ones
 *   are skipped, staged documents are flushed, and the manifest says `cancelled`.
 */
import type { Job, JobType } from 'bullmq';
import type { Fleet } from '../fleet.js';
import { UsageError } from '../errors.js';
import { enqueueTitles } from '../jobs/details.js';
import { enqueueFinds, enqueuePages, type PageRef } from '../jobs/discover.js';
import { parsePlanKey } from '../jobs/plan-key.js';
import { enqueueFinal, enqueueFlush } from '../jobs/write.js';
import { QUEUE_NAMES } from '../queues.js';
import type { ExportCounts, Kind, RunParams } from '../runs/types.js';
import { MAX_PAGES, pageSizeOf } from '../tmdb/types.js';
import { windowKey } from '../tmdb/windows.js';
import { EXPORT_GUARD, continueExport } from './export.js';

/** Jobs read from a queue per round trip while scanning for a run's jobs. */
const SCAN_BATCH = 500;

/** Calls `visit` for every job of `runId` in the given states of every queue. */
async function forEachRunJob(
  fleet: Fleet,
  runId: string,
  states: JobType[],
  visit: (job: Job) => Promise<void>,
): Promise<number> {
  // Collect first, then visit: visiting (retry, remove) changes the lists being paged.
  const found: Job[] = [];
  for (const name of QUEUE_NAMES) {
    const queue = fleet.queues[name];
    for (let start = 0; ; start += SCAN_BATCH) {
      const jobs = await queue.getJobs(states, start, start + SCAN_BATCH - 1, true);
      for (const job of jobs) {
        if ((job?.data as { runId?: string } | undefined)?.runId === runId) found.push(job as Job);
      }
      if (jobs.length < SCAN_BATCH) break;
    }
  }
  for (const job of found) await visit(job);
  return found.length;
}

/** What a resume did. */
export interface Resumed {
  retried: number;
  pages: number;
  titles: number;
  /** Export runs whose file was not read to the end: where reading started again, and how it ended. */
  export?: { from: ExportCounts; counts: ExportCounts };
}

/**
 * Resumes a run that is running without workers, or failed (after its cause was fixed).
 * Checks the lake and the TMDB credential first, like a new backfill. An export run whose file
 * was not read to the end continues reading it from its checkpoint, in this process (returns
 * when the file was read).
 * @throws RunNotFoundError; UsageError for a completed or cancelled run; LakeError,
 * TmdbAuthError before anything is enqueued.
 */
export async function resumeRun(fleet: Fleet, runId: string): Promise<Resumed> {
  const info = await fleet.runs.describe(runId);
  if (info.state === 'completed' || info.state === 'cancelled') {
    throw new UsageError(`run ${runId} is ${info.state}; there is nothing to resume (start a new backfill)`);
  }
  if (info.params.kind === 'upload') {
    throw new UsageError(`run ${runId} is an upload: run the same "tmdb-fleet upload" again instead (files already in the lake are skipped)`);
  }
  await fleet.store.check();
  if (info.params.kind === 'movie' || info.params.kind === 'tv') await fleet.tmdb().checkCredential();
  if (info.state === 'failed') await fleet.runs.reopen(runId);

  const retried = await forEachRunJob(fleet, runId, ['failed'], (job) =>
    job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true }),
  );

  const { pages, exportOpen } = await enqueueUnfinishedPages(fleet, runId, info.params);
  const ids = await fleet.runs.unfinishedIds(runId);
  await enqueueTitles(fleet, runId, info.params.kind as Kind, ids);
  await enqueueFlush(fleet, runId);
  if (await fleet.runs.isComplete(runId)) await enqueueFinal(fleet, runId);
  fleet.log.info({ runId, retried, pages, titles: ids.length }, 'run resumed');
  const exported = exportOpen ? await continueExport(fleet, runId, info.params) : undefined;
  return { retried, pages, titles: ids.length, ...(exported ? { export: exported } : {}) };
}

/**
 * Enqueues again every planned item of a run that is not done: discover, search and changes
 * pages (with their window's page count when page 1 was read) and find lookups (deduplicated by
 * job id while they are still queued).
 * @returns how many were enqueued, and whether the run's export file still has to be read.
 * @throws UsageError when an enrich run stopped before its CSV was read to the end.
 */
async function enqueueUnfinishedPages(fleet: Fleet, runId: string, params: RunParams): Promise<{ pages: number; exportOpen: boolean }> {
  const pages: PageRef[] = [];
  const finds: string[] = [];
  let exportOpen = false;
  for (const key of await fleet.runs.unfinishedPages(runId)) {
    if (key === EXPORT_GUARD) exportOpen = true;
    const item = parsePlanKey(key);
    if (item.type === 'guard' && item.guard === 'csv') {
      throw new UsageError(`run ${runId} stopped before its CSV was read to the end; start a new enrich run (finished titles are in the lake)`);
    }
    if (item.type === 'find') finds.push(item.imdbId);
    if (item.type !== 'page') continue;
    const total = item.page > 1 ? await fleet.runs.leafTotal(runId, windowKey(item.window)) : undefined;
    const count = total === undefined ? 0 : Math.min(Math.ceil(total / pageSizeOf(params.source)), MAX_PAGES);
    pages.push({ window: item.window, page: item.page, pages: count });
  }
  await enqueuePages(fleet, runId, pages);
  await enqueueFinds(fleet, runId, finds);
  return { pages: pages.length + finds.length, exportOpen };
}

/**
 * Cancels a run: no new discover or details work, staged documents flushed, manifest
 * `cancelled`.
 * @throws RunNotFoundError; UsageError for a run that already ended.
 */
export async function cancelRun(fleet: Fleet, runId: string): Promise<{ removed: number }> {
  const info = await fleet.runs.describe(runId);
  if (info.state === 'completed' || info.state === 'cancelled') {
    throw new UsageError(`run ${runId} is already ${info.state}`);
  }
  await fleet.runs.transition(runId, { from: '*', to: 'cancelled', error: 'cancelled by the user' });
  const removed = await forEachRunJob(fleet, runId, ['wait', 'delayed', 'prioritized'], async (job) => {
    if (job.queueName !== 'write') await job.remove().catch(() => undefined);
  });
  await enqueueFinal(fleet, runId);
  fleet.log.info({ runId, removed }, 'run cancelled');
  return { removed };
}
