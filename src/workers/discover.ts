/**
 * Discover worker: one job = one listing request, which yields TMDB ids:
 * - a page of one window of `GET /discover/{kind}` (backfill runs). Page 1 of a window decides:
 *   split the window when total_results exceeds TMDB's 10,000-result reach, else plan its pages
 *   (a few ahead at a time, so Redis holds a bounded number of discover jobs);
 * - a page of `GET /search/{kind}?query=…` (search runs; page 1 only unless `--all-pages`);
 * - one `GET /find/{imdb_id}?external_source=imdb_id` (enrich runs); an IMDB id without a
 *   match is recorded as unmatched.
 * Every listing fans its titles out as details jobs, once per (run, id).
 */
import { DelayedError, Worker, type Job } from 'bullmq';
import type { Fleet } from '../fleet.js';
import type { DiscoverJobData } from '../queues.js';
import { pageKey, windowKey, type RunParams } from '../runs.js';
import { TmdbTransientError } from '../errors.js';
import { MAX_PAGES, MAX_RESULTS, isDiscoverPage } from '../tmdb/types.js';
import { discoverQuery, rootWindow, splitWindow } from '../windows.js';
import { enqueueFinal, handleJobError, runInfo, workerOptions } from './job-support.js';

/** Pages of a window planned ahead of the page being read. */
export const PAGE_LOOKAHEAD = 10;

/** Creates the discover worker. */
export function createDiscoverWorker(fleet: Fleet, concurrency: number): Worker<DiscoverJobData> {
  return new Worker<DiscoverJobData>(
    'discover',
    async (job, token) => processDiscover(fleet, job, token),
    workerOptions(fleet, concurrency),
  );
}

async function processDiscover(fleet: Fleet, job: Job<DiscoverJobData>, token: string | undefined): Promise<string> {
  const { runId, window, page } = job.data;
  const run = await runInfo(fleet, runId);
  if (run.state !== 'running') return `skipped: run is ${run.state}`;

  const depth = await fleet.queues.details.getJobCountByTypes('wait', 'prioritized', 'delayed');
  if (depth > fleet.config.jobs.detailsMaxDepth) {
    await job.moveToDelayed(Date.now() + 1_000 + Math.floor(Math.random() * 1_000), token);
    throw new DelayedError();
  }

  const key = job.data.find ? findKey(job.data.find) : pageKey(window, page);
  try {
    if (job.data.find) return await processFind(fleet, runId, run.params, job.data.find, key);
    const search = run.params.source === 'search';
    const body = search
      ? await fleet.tmdb().get(`/search/${run.params.kind}`, searchQuery(run.params, page))
      : await fleet.tmdb().get(`/discover/${run.params.kind}`, discoverQuery(run.params, window, page));
    if (!isDiscoverPage(body)) throw new TmdbTransientError(`unexpected listing page shape for ${key}`);

    // The run may have been cancelled or failed while this page was in flight.
    if ((await fleet.runs.state(runId)) !== 'running') return 'skipped: run ended while the page was read';
    let pages = job.data.pages;
    if (page === 1) {
      if (windowKey(window) === windowKey(rootWindow(run.params))) await fleet.runs.setExpected(runId, body.total_results);
      if (search && run.params.params.all_pages !== 'true') {
        await fleet.runs.leaf(runId, windowKey(window), Math.min(body.total_results, body.results.length));
        await fanOut(fleet, runId, run.params, body.results.map((r) => r.id));
        return finishPage(fleet, runId, key, `${body.results.length} titles (first page only)`);
      }
      if (body.total_results > MAX_RESULTS) {
        const halves = search ? undefined : splitWindow(window);
        if (halves) {
          await addPages(fleet, runId, halves.map((w) => ({ window: w, page: 1, pages: 0 })));
          return finishPage(fleet, runId, key, `split into ${halves.map(windowKey).join(' + ')}`);
        }
        await fleet.runs.uncovered(runId, windowKey(window), body.total_results, MAX_RESULTS);
        fleet.log.warn(
          { runId, window: windowKey(window), total: body.total_results },
          'window exceeds the 500-page cap and cannot be split further; the rest is reported as uncovered',
        );
      }
      await fleet.runs.leaf(runId, windowKey(window), body.total_results);
      pages = Math.min(body.total_pages, MAX_PAGES);
      const next = [];
      for (let p = 2; p <= Math.min(pages, 1 + PAGE_LOOKAHEAD); p++) next.push({ window, page: p, pages });
      await addPages(fleet, runId, next);
    } else if (page + PAGE_LOOKAHEAD <= pages) {
      await addPages(fleet, runId, [{ window, page: page + PAGE_LOOKAHEAD, pages }]);
    }

    await fanOut(fleet, runId, run.params, body.results.map((r) => r.id));
    return finishPage(fleet, runId, key, `${body.results.length} titles`);
  } catch (err) {
    return handleJobError(fleet, job, runId, err, async () => {
      if (await fleet.runs.pageDone(runId, key, true)) await enqueueFinal(fleet, runId);
    });
  }
}

/** The page key of an enrich run's find request. */
export function findKey(imdbId: string): string {
  return `find#${imdbId}`;
}

/** Query parameters of one page of `GET /search/{kind}`. */
function searchQuery(params: RunParams, page: number): Record<string, string> {
  return { query: params.params.query ?? '', include_adult: 'false', page: String(page) };
}

/** One `GET /find/{imdb_id}`: the matching titles of the run's kind, or an unmatched IMDB id. */
async function processFind(fleet: Fleet, runId: string, params: RunParams, imdbId: string, key: string): Promise<string> {
  const body = await fleet.tmdb().get(`/find/${encodeURIComponent(imdbId)}`, { external_source: 'imdb_id' });
  const results = (body as Record<string, unknown> | null)?.[`${params.kind}_results`];
  if (!Array.isArray(results)) throw new TmdbTransientError(`unexpected find answer for ${imdbId}`);
  const ids = results
    .map((r: unknown) => (r as { id?: unknown }).id)
    .filter((id): id is number => typeof id === 'number');
  if ((await fleet.runs.state(runId)) !== 'running') return 'skipped: run ended while the id was looked up';
  if (ids.length === 0) await fleet.runs.unmatched(runId, imdbId);
  await fanOut(fleet, runId, params, ids);
  return finishPage(fleet, runId, key, ids.length === 0 ? 'unmatched' : `${ids.length} titles`);
}

async function finishPage(fleet: Fleet, runId: string, key: string, outcome: string): Promise<string> {
  if (await fleet.runs.pageDone(runId, key)) await enqueueFinal(fleet, runId);
  return outcome;
}

/** Plans pages, then enqueues their jobs (deterministic ids make re-delivery harmless). */
async function addPages(fleet: Fleet, runId: string, pages: Omit<DiscoverJobData, 'runId'>[]): Promise<void> {
  if (pages.length === 0) return;
  await fleet.runs.plan(runId, pages.map((p) => pageKey(p.window, p.page)));
  await fleet.queues.discover.addBulk(
    pages.map((p) => ({
      name: 'page',
      data: { runId, ...p },
      opts: { jobId: `d.${runId}.${windowKey(p.window)}.${p.page}` },
    })),
  );
}

/** Enqueues one details job per title this run has not discovered yet. */
async function fanOut(fleet: Fleet, runId: string, params: RunParams, ids: number[]): Promise<void> {
  const fresh = await fleet.runs.unseen(runId, ids);
  if (fresh.length === 0) return;
  await fleet.queues.details.addBulk(
    fresh.map((id) => ({
      name: 'title',
      data: { runId, kind: params.kind, id },
      opts: { jobId: `t.${runId}.${id}` },
    })),
  );
  await fleet.runs.discovered(runId, fresh);
}
