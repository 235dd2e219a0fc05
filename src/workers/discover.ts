/**
 * Discover worker: one job = one listing request, which yields TMDB ids:
 * - a page of one window of `GET /discover/{kind}` (backfill runs). Page 1 of a window decides:
 *   split the window when total_results exceeds TMDB's 10,000-result reach, else plan its pages
 *   (a few ahead at a time, so Redis holds a bounded number of discover jobs);
 * - a page of `GET /search/{kind}?query=…` (search runs; page 1 only unless `--all-pages`);
 * - a page of `GET /{kind}/changes?start_date&end_date` (changes runs: 100 ids a page, windows of
 *   at most 14 days; `"adult": true` entries skipped unless the run includes adult titles);
 * - one `GET /find/{imdb_id}?external_source=imdb_id` (enrich runs); an IMDB id without a
 *   match is recorded as unmatched.
 * Every listing fans its titles out as details jobs, once per (run, id).
 */
import { DelayedError, type Job, type Worker } from 'bullmq';
import type { Fleet } from '../fleet.js';
import { TmdbTransientError } from '../errors.js';
import { fanOut } from '../jobs/details.js';
import { PAGE_LOOKAHEAD, continuationOf, discoverPlanKey, enqueuePages, type DiscoverJobData, type PageRef } from '../jobs/discover.js';
import { enqueueFinal } from '../jobs/write.js';
import { faultPoint } from '../fault-points.js';
import type { Kind, RunParams } from '../runs/types.js';
import { MAX_PAGES, isDiscoverPage, pageSizeOf, type DiscoverPage } from '../tmdb/types.js';
import { changesQuery, discoverQuery, rootWindow, splitChangesWindow, splitWindow, undatedWindow, windowKey, type Window } from '../tmdb/windows.js';
import { createQueueWorker, handleJobError, notRunning, runInfo } from './job-support.js';

/** Creates the discover worker. */
export function createDiscoverWorker(fleet: Fleet, concurrency: number): Worker<DiscoverJobData> {
  return createQueueWorker(fleet, 'discover', concurrency, (job, token) => processDiscover(fleet, job, token));
}

async function processDiscover(fleet: Fleet, job: Job<DiscoverJobData>, token: string | undefined): Promise<string> {
  const { runId } = job.data;
  const run = await runInfo(fleet, runId);
  if (run.state !== 'running') return notRunning(runId, run.state);

  const depth = await fleet.queues.details.getJobCountByTypes('wait', 'prioritized', 'delayed');
  if (depth > fleet.config.jobs.detailsMaxDepth) {
    await job.moveToDelayed(Date.now() + 1_000 + Math.floor(Math.random() * 1_000), token);
    throw new DelayedError();
  }
  const key = discoverPlanKey(job.data);
  try {
    const read: PageRead = job.data.find
      ? { outcome: await processFind(fleet, runId, run.params, job.data.find) }
      : await processPage(fleet, job.data, run.params);
    faultPoint('discover:after-fan-out');
    if (await fleet.runs.pageDone(runId, key, 'done', read.leaf)) await enqueueFinal(fleet, runId);
    return read.outcome;
  } catch (err) {
    if (err instanceof RunEnded) return 'skipped: run ended while the request was in flight';
    return handleJobError(fleet, job, { queue: 'discover', data: job.data }, err);
  }
}

/** Error thrown when the run ended while a request was in flight: the page is left as it is. */
class RunEnded extends Error {}

/** Which listing a run's pages come from. */
type Listing = 'discover' | 'search' | 'changes';
const listingOf = (params: RunParams): Listing =>
  params.source === 'search' ? 'search' : params.source === 'changes' ? 'changes' : 'discover';

/** One page of the run's listing, as TMDB answers it. */
async function fetchListing(fleet: Fleet, params: RunParams, window: Window, page: number): Promise<unknown> {
  const kind = params.kind as Kind;
  switch (listingOf(params)) {
    case 'search':
      return fleet.tmdb().get(`/search/${kind}`, searchQuery(params, page));
    case 'changes':
      return fleet.tmdb().get(`/${kind}/changes`, changesQuery(window, page));
    case 'discover':
      return fleet.tmdb().get(`/discover/${kind}`, discoverQuery(params, window, page));
  }
}

/** The ids a page fans out: all of them, but for `"adult": true` changes of a run without adult titles. */
function idsOf(body: DiscoverPage, params: RunParams): number[] {
  const skipAdult = params.source === 'changes' && params.params.include_adult !== 'true';
  return body.results.filter((r) => !(skipAdult && (r as { adult?: unknown }).adult === true)).map((r) => r.id);
}

/** What reading one listing did, and for a page of a leaf window, how many results it returned. */
interface PageRead {
  outcome: string;
  leaf?: { window: string; results: number };
}

/** One discover, search or changes page: plans what follows it, fans its titles out. */
async function processPage(fleet: Fleet, data: DiscoverJobData, params: RunParams): Promise<PageRead> {
  const { runId, window, page } = data;
  const kind = params.kind as Kind;
  const listing = listingOf(params);
  const body = data.answered ?? (await fetchListing(fleet, params, window, page));
  if (!isDiscoverPage(body)) throw new TmdbTransientError(`unexpected listing page shape for ${discoverPlanKey(data)}`);
  // The run may have been cancelled or failed while this page was in flight.
  if ((await fleet.runs.state(runId)) !== 'running') throw new RunEnded();

  const key = windowKey(window);
  const leaf = { window: key, results: body.results.length };
  if (page === 1) {
    const root = listing !== 'changes' && key === windowKey(rootWindow(params));
    if (root) await fleet.runs.setExpected(runId, body.total_results);
    if (listing === 'search' && params.params.all_pages !== 'true') {
      await fleet.runs.leaf(runId, key, Math.min(body.total_results, body.results.length));
      await fanOut(fleet, runId, kind, body.results.map((r) => r.id), key);
      return { outcome: `${body.results.length} titles (first page only)`, leaf };
    }
    const split = await planWindow(fleet, runId, params, window, body, listing);
    if (split) return { outcome: split };
  } else {
    const next = continuationOf(data);
    if (next) await enqueuePages(fleet, runId, [next]);
  }
  const ids = idsOf(body, params);
  await fanOut(fleet, runId, kind, ids, key);
  return { outcome: `${ids.length} titles`, leaf };
}

/**
 * Page 1 of a window: splits a window past the 10,000-result reach (returns what it did; a tv
 * root without dates also gets its undated window), or records it as a leaf (and what no split
 * can reach as uncovered) and plans its next pages.
 */
async function planWindow(
  fleet: Fleet,
  runId: string,
  params: RunParams,
  window: DiscoverJobData['window'],
  body: DiscoverPage,
  listing: Listing,
): Promise<string | undefined> {
  const reach = MAX_PAGES * pageSizeOf(listing);
  if (body.total_results > reach) {
    const halves = listing === 'search' ? undefined : listing === 'changes' ? splitChangesWindow(window) : splitWindow(window);
    if (halves) {
      const undated = undatedWindow(params, window);
      const parts = undated ? [...halves, undated] : halves;
      await fleet.runs.split(runId, windowKey(window), body.total_results, parts.map(windowKey));
      await enqueuePages(fleet, runId, parts.map((w) => ({ window: w, page: 1, pages: 0 })));
      return `split into ${parts.map(windowKey).join(' + ')}`;
    }
    await fleet.runs.uncovered(runId, windowKey(window), body.total_results, reach);
    fleet.log.warn(
      { runId, window: windowKey(window), total: body.total_results },
      'window exceeds the 500-page cap and cannot be split further; the rest is reported as uncovered',
    );
  }
  if (listing === 'changes') await fleet.runs.countLeaf(runId, windowKey(window), body.total_results);
  else await fleet.runs.leaf(runId, windowKey(window), body.total_results);
  const pages = Math.min(body.total_pages, MAX_PAGES);
  const next: PageRef[] = [];
  for (let p = 2; p <= Math.min(pages, 1 + PAGE_LOOKAHEAD); p++) next.push({ window, page: p, pages });
  await enqueuePages(fleet, runId, next);
  return undefined;
}

/** Query parameters of one page of `GET /search/{kind}`. */
function searchQuery(params: RunParams, page: number): Record<string, string> {
  return { query: params.params.query ?? '', include_adult: 'false', page: String(page) };
}

/** One `GET /find/{imdb_id}`: the matching titles of the run's kind, or an unmatched IMDB id. */
async function processFind(fleet: Fleet, runId: string, params: RunParams, imdbId: string): Promise<string> {
  const body = await fleet.tmdb().get(`/find/${encodeURIComponent(imdbId)}`, { external_source: 'imdb_id' });
  const results = (body as Record<string, unknown> | null)?.[`${params.kind}_results`];
  if (!Array.isArray(results)) throw new TmdbTransientError(`unexpected find answer for ${imdbId}`);
  const ids = results
    .map((r: unknown) => (r as { id?: unknown }).id)
    .filter((id): id is number => typeof id === 'number');
  if ((await fleet.runs.state(runId)) !== 'running') throw new RunEnded();
  if (ids.length === 0) await fleet.runs.unmatched(runId, imdbId);
  await fanOut(fleet, runId, params.kind as Kind, ids);
  return ids.length === 0 ? 'unmatched' : `${ids.length} titles`;
}
