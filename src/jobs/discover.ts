/**
 * The discover queue's contract (1 job = 1 listing request): a page of one window of
 * `GET /discover/{kind}` or `GET /search/{kind}`, or one `GET /find/{imdb_id}`. Every enqueue
 * plans the item in the run first, so the run cannot complete before the job is done.
 */
import type { Fleet } from '../fleet.js';
import type { DiscoverPage } from '../tmdb/types.js';
import type { Window } from '../tmdb/windows.js';
import { formatJobId } from './job-id.js';
import { formatPlanKey } from './plan-key.js';

/** Data of a discover job: one page of one window (discover or search), or one IMDB id to find. */
export interface DiscoverJobData {
  runId: string;
  window: Window;
  page: number;
  /** Pages this window has (≤ 500), known once page 1 was read; 0 for a page-1 job. */
  pages: number;
  /** Enrich runs: the IMDB id to look up with `GET /find/{imdb_id}` (window and page unused). */
  find?: string;
  /**
   * Page 1 as the backfill command already read it (its plan's probe, {@link answeredPage}):
   * the job uses it instead of asking TMDB again.
   */
  answered?: DiscoverPage;
}

/** A page to enqueue: its window, number and the window's page count (0 when unknown), and its answer when read already. */
export type PageRef = Pick<DiscoverJobData, 'window' | 'page' | 'pages' | 'answered'>;

/**
 * What a discover job reads of a discover or search page TMDB answered (its ids and totals), for
 * {@link DiscoverJobData.answered}: a page's 20 ids, not its 20 documents, in Redis.
 */
export function answeredPage(page: DiscoverPage): DiscoverPage {
  return {
    page: page.page,
    total_pages: page.total_pages,
    total_results: page.total_results,
    results: page.results.map((r) => ({ id: r.id })),
  };
}

/**
 * Pages of a window planned ahead of the page being read: page 1 plans pages 2 … 1 + this,
 * and page p (p ≥ 2) plans page p + this, so Redis holds a bounded number of discover jobs.
 */
export const PAGE_LOOKAHEAD = 10;

/**
 * The page that page `data.page` of a window plans when it is over, done or failed for good
 * (so a failed page loses its own results only): page + {@link PAGE_LOOKAHEAD}, if the window
 * has it. Undefined for page 1 (it plans its window when read), find lookups, and the last pages.
 */
export function continuationOf(data: Pick<DiscoverJobData, 'window' | 'page' | 'pages' | 'find'>): PageRef | undefined {
  if (data.find !== undefined || data.page < 2 || data.page + PAGE_LOOKAHEAD > data.pages) return undefined;
  return { window: data.window, page: data.page + PAGE_LOOKAHEAD, pages: data.pages };
}

/** The plan key of a discover job (its page, or its IMDB id). */
export function discoverPlanKey(data: Pick<DiscoverJobData, 'window' | 'page' | 'find'>): string {
  return data.find !== undefined
    ? formatPlanKey({ type: 'find', imdbId: data.find })
    : formatPlanKey({ type: 'page', window: data.window, page: data.page });
}

/** Plans pages (idempotent), then enqueues their jobs (deduplicated by id). */
export async function enqueuePages(fleet: Fleet, runId: string, pages: readonly PageRef[]): Promise<void> {
  if (pages.length === 0) return;
  await fleet.runs.plan(runId, pages.map((p) => discoverPlanKey(p)));
  await fleet.queues.discover.addBulk(
    pages.map((p) => ({
      name: 'page',
      data: { runId, ...p } satisfies DiscoverJobData,
      opts: { jobId: formatJobId({ type: 'page', runId, window: p.window, page: p.page }) },
    })),
  );
}

/** Plans IMDB ids to look up (idempotent), then enqueues one find job each. */
export async function enqueueFinds(fleet: Fleet, runId: string, imdbIds: readonly string[]): Promise<void> {
  if (imdbIds.length === 0) return;
  await fleet.runs.plan(runId, imdbIds.map((imdbId) => formatPlanKey({ type: 'find', imdbId })));
  await fleet.queues.discover.addBulk(
    imdbIds.map((imdbId) => ({
      name: 'find',
      data: { runId, window: {}, page: 1, pages: 0, find: imdbId } satisfies DiscoverJobData,
      opts: { jobId: formatJobId({ type: 'find', runId, imdbId }) },
    })),
  );
}
