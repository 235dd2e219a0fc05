/**
 * Window planning for TMDB discover (`GET /discover/movie`, `GET /discover/tv`). TMDB serves at
 * most 500 pages of 20 results per query; a window whose total_results exceeds 10,000 is split
 * in two by date until each part fits, and a single day that still does not fit is split by
 * `vote_count` ranges. Pure functions: no I/O.
 */
import type { Kind, Window } from './queues.js';
import type { RunParams } from './runs.js';

/** Earliest date a backfill without `--from` starts at (the first films are from the 1870s). */
export const EARLIEST_DATE = '1870-01-01';

/** Latest date a backfill without `--to` reaches: announced titles lie years ahead. */
export function latestDate(now = new Date()): string {
  return `${now.getUTCFullYear() + 20}-12-31`;
}

/** The discover query parameter names of a kind's date filter. */
export function dateFilter(kind: Kind): { gte: string; lte: string } {
  return kind === 'movie'
    ? { gte: 'primary_release_date.gte', lte: 'primary_release_date.lte' }
    : { gte: 'first_air_date.gte', lte: 'first_air_date.lte' };
}

/** The first window of a run: its dates, and vote_count bounds if the user filtered on them. */
export function rootWindow(params: RunParams): Window {
  const w: Window = {};
  if (params.from) w.from = params.from;
  if (params.to) w.to = params.to;
  const gte = params.params['vote_count.gte'];
  const lte = params.params['vote_count.lte'];
  if (gte !== undefined) w.voteMin = Number(gte);
  if (lte !== undefined) w.voteMax = Number(lte);
  return w;
}

/** Query parameters of one discover page of a window (user filters, then the window's own). */
export function discoverQuery(params: RunParams, w: Window, page: number): Record<string, string> {
  if (params.kind !== 'movie' && params.kind !== 'tv') throw new Error(`a ${params.kind} run has no TMDB discover query`);
  const { gte, lte } = dateFilter(params.kind);
  const q: Record<string, string> = {
    sort_by: params.kind === 'movie' ? 'primary_release_date.asc' : 'first_air_date.asc',
    ...params.params,
  };
  if (w.from) q[gte] = w.from;
  if (w.to) q[lte] = w.to;
  if (w.voteMin !== undefined) q['vote_count.gte'] = String(w.voteMin);
  if (w.voteMax !== undefined) q['vote_count.lte'] = String(w.voteMax);
  q.page = String(page);
  return q;
}

const DAY_MS = 86_400_000;
const toDay = (date: string) => Math.floor(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
const fromDay = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

/**
 * Splits a window whose query exceeds the page cap into two that cover it exactly.
 * @returns the two halves, or undefined when the window is a single day and a single
 * vote_count value (nothing left to split by).
 */
export function splitWindow(w: Window, now = new Date()): [Window, Window] | undefined {
  const from = w.from ?? EARLIEST_DATE;
  const to = w.to ?? latestDate(now);
  const a = toDay(from);
  const b = toDay(to);
  if (a < b) {
    const mid = Math.floor((a + b) / 2);
    return [
      { ...w, from, to: fromDay(mid) },
      { ...w, from: fromDay(mid + 1), to },
    ];
  }
  const lo = w.voteMin ?? 0;
  const hi = w.voteMax;
  if (hi === undefined) {
    const cut = lo === 0 ? 0 : lo * 2;
    return [
      { ...w, from, to, voteMin: lo, voteMax: cut },
      { ...w, from, to, voteMin: cut + 1 },
    ];
  }
  if (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    return [
      { ...w, from, to, voteMin: lo, voteMax: mid },
      { ...w, from, to, voteMin: mid + 1, voteMax: hi },
    ];
  }
  return undefined;
}
