/**
 * `backfill … --dry-run`: plans a backfill's windows with page-1 requests only (the same
 * splitting the discover worker does: tmdb/windows.ts), enqueues nothing, and estimates what
 * the run would cost at the fleet's rate ceiling.
 */
import type { Fleet } from '../fleet.js';
import { TmdbTransientError } from '../errors.js';
import type { RunParams } from '../runs/types.js';
import { MAX_PAGES, MAX_RESULTS, isDiscoverPage } from '../tmdb/types.js';
import { discoverQuery, rootWindow, splitWindow, type Window } from '../tmdb/windows.js';

/** What a backfill would do. */
export interface BackfillPlan {
  /** total_results TMDB reports for the whole query. */
  expected: number;
  /** Windows that fit the 500-page cap. */
  leaves: number;
  /** Titles the leaves hold (what the run can fetch by discover). */
  reachable: number;
  /** Titles no window reaches (undated, past the cap of an unsplittable window). */
  unreachable: number;
  /** Discover pages the run would read (page 1 of every window included). */
  pages: number;
  /** TMDB requests in all: discover pages + one details request per reachable title. */
  requests: number;
  /** Requests this plan itself made. */
  planRequests: number;
  /** The run's duration at TMDB_RATE_LIMIT_RPS, s. */
  etaSeconds: number;
}

/** Plans a discover backfill without enqueuing anything. @throws TMDB errors as the client does. */
export async function planBackfill(fleet: Fleet, params: RunParams): Promise<BackfillPlan> {
  let planRequests = 0;
  const total = async (w: Window): Promise<{ results: number; pages: number }> => {
    planRequests++;
    const body = await fleet.tmdb().getRetrying(`/discover/${params.kind}`, discoverQuery(params, w, 1));
    if (!isDiscoverPage(body)) throw new TmdbTransientError('unexpected discover page shape');
    return { results: body.total_results, pages: body.total_pages };
  };
  const root = rootWindow(params);
  const first = await total(root);
  let leaves = 0;
  let reachable = 0;
  let pages = 0;
  const queue: { window: Window; answer: { results: number; pages: number } }[] = [{ window: root, answer: first }];
  // Split windows level by level, asking a few page-1 totals at once (the limiter paces them).
  while (queue.length > 0) {
    const { window, answer } = queue.shift() as (typeof queue)[number];
    const halves = answer.results > MAX_RESULTS ? splitWindow(window) : undefined;
    if (halves) {
      const answers = await Promise.all(halves.map(total));
      halves.forEach((w, i) => queue.push({ window: w, answer: answers[i] as { results: number; pages: number } }));
      pages++;
      continue;
    }
    leaves++;
    reachable += Math.min(answer.results, MAX_RESULTS);
    pages += Math.max(1, Math.min(answer.pages, MAX_PAGES));
  }
  const requests = pages + reachable;
  return {
    expected: first.results,
    leaves,
    reachable,
    unreachable: Math.max(0, first.results - reachable),
    pages,
    requests,
    planRequests,
    etaSeconds: Math.ceil(requests / fleet.config.tmdb.rateLimitRps),
  };
}

/** A duration in seconds as `7 h 38 min`, `12 min`, `45 s`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
