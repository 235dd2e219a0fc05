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
import { QUEUE_NAMES, type DiscoverJobData } from '../queues.js';
import { parseWindowKey } from '../runs.js';
import { CSV_PLAN_KEY } from './enrich.js';
import { MAX_PAGES, PAGE_SIZE } from '../tmdb/types.js';
import { discoverQuery, rootWindow } from '../windows.js';

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

/**
 * Resumes a run that is running without workers, or failed (after its cause was fixed).
 * Checks the lake and the TMDB credential first, like a new backfill.
 * @throws RunNotFoundError; UsageError for a completed or cancelled run; LakeError,
 * TmdbAuthError before anything is enqueued.
 */
export async function resumeRun(fleet: Fleet, runId: string): Promise<{ retried: number; pages: number; titles: number }> {
  const info = await fleet.runs.describe(runId);
  if (info.state === 'completed' || info.state === 'cancelled') {
    throw new UsageError(`run ${runId} is ${info.state}; there is nothing to resume (start a new backfill)`);
  }
  if (info.params.kind === 'upload') {
    throw new UsageError(`run ${runId} is an upload: run the same "tmdb-fleet upload" again instead (files already in the lake are skipped)`);
  }
  await fleet.store.check();
  await fleet.tmdb().get(`/discover/${info.params.kind}`, discoverQuery({ ...info.params, params: {} }, rootWindow(info.params), 1));
  if (info.state === 'failed') await fleet.runs.reopen(runId);

  const retried = await forEachRunJob(fleet, runId, ['failed'], (job) =>
    job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true }),
  );

  const pages: { name: string; data: DiscoverJobData; opts: { jobId: string } }[] = [];
  for (const key of await fleet.runs.unfinishedPages(runId)) {
    if (key === CSV_PLAN_KEY) {
      throw new UsageError(`run ${runId} stopped before its CSV was read to the end; start a new enrich run (finished titles are in the lake)`);
    }
    if (key.startsWith('find#')) {
      const imdb = key.slice('find#'.length);
      pages.push({ name: 'find', data: { runId, window: {}, page: 1, pages: 0, find: imdb }, opts: { jobId: `f.${runId}.${imdb}` } });
      continue;
    }
    const [wk, p] = key.split('#');
    const page = Number(p);
    const window = parseWindowKey(wk ?? '');
    const total = page > 1 ? await fleet.runs.leafTotal(runId, wk ?? '') : undefined;
    const count = total === undefined ? 0 : Math.min(Math.ceil(total / PAGE_SIZE), MAX_PAGES);
    pages.push({ name: 'page', data: { runId, window, page, pages: count }, opts: { jobId: `d.${runId}.${wk}.${page}` } });
  }
  if (pages.length > 0) await fleet.queues.discover.addBulk(pages);

  const ids = await fleet.runs.unfinishedIds(runId);
  for (let i = 0; i < ids.length; i += 1_000) {
    await fleet.queues.details.addBulk(
      ids.slice(i, i + 1_000).map((id) => ({
        name: 'title',
        data: { runId, kind: info.params.kind, id },
        opts: { jobId: `t.${runId}.${id}` },
      })),
    );
  }

  await fleet.queues.write.add(
    'tail',
    { runId, mode: 'tail', upTo: await fleet.runs.stagedTotal(runId) },
    { jobId: `resume.${runId}.${Date.now()}` },
  );
  if (await fleet.runs.isComplete(runId)) {
    await fleet.queues.write.add('final', { runId, mode: 'final' }, { jobId: `final.${runId}` });
  }
  fleet.log.info({ runId, retried, pages: pages.length, titles: ids.length }, 'run resumed');
  return { retried, pages: pages.length, titles: ids.length };
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
  await fleet.runs.transition(runId, '*', 'cancelled', 'cancelled by the user');
  const removed = await forEachRunJob(fleet, runId, ['wait', 'delayed', 'prioritized'], async (job) => {
    if (job.queueName !== 'write') await job.remove().catch(() => undefined);
  });
  await fleet.queues.write.add('final', { runId, mode: 'final' }, { jobId: `final.${runId}` });
  fleet.log.info({ runId, removed }, 'run cancelled');
  return { removed };
}
