/**
 * Window planning for TMDB discover (`GET /discover/movie`, `GET /discover/tv`). TMDB serves at
 * most 500 pages of 20 results per query; a window whose total_results exceeds 10,000 is split
 * in two by date until each part fits, and a single day that still does not fit is split by
 * `vote_count` ranges. A date split reaches only dated titles: when a tv run without dates is
 * split, its undated window (titles without a first-air date) is planned beside the two halves.
 * Pure functions: no I/O. A window's key (`windowKey`, `parseWindowKey`) is formatted and parsed
 * here only.
 */
import type { Kind, RunParams } from '../runs/types.js';

/**
 * A slice of the catalog that one discover query covers: release (movie) or first-air (tv)
 * dates, inclusive, and an optional vote_count range used to split a single crowded day.
 */
export interface Window {
  from?: string;
  to?: string;
  voteMin?: number;
  voteMax?: number;
  /**
   * tv only: the titles without a first-air date (`first_air_date.lte` {@link UNDATED_BEFORE}
   * plus `include_null_first_air_dates=true`; a dated title before 1870 matches too, and no
   * date window reaches it). Never with `from` or `to`.
   */
  undated?: true;
}

/** Earliest date a backfill without `--from` starts at (the first films are from the 1870s). */
export const EARLIEST_DATE = '1870-01-01';

/** The last day before {@link EARLIEST_DATE}: the undated window's date bound, which no date window covers. */
export const UNDATED_BEFORE = '1869-12-31';

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

/**
 * The window a split of `w` adds beside its two date halves so that no title is out of reach:
 * for the root window of a tv discover run without `--from`/`--to` (whose total TMDB counts
 * with the undated titles), the undated window with the root's vote bounds; else undefined
 * (movie discover has no filter for undated titles: they are reported as uncovered).
 */
export function undatedWindow(params: RunParams, w: Window): Window | undefined {
  if (params.kind !== 'tv' || (params.source ?? 'discover') !== 'discover' || params.from || params.to) return undefined;
  if (w.undated || windowKey(w) !== windowKey(rootWindow(params))) return undefined;
  return { undated: true, ...votes(w) };
}

/** The vote_count bounds of a window, alone. */
function votes(w: Window): Pick<Window, 'voteMin' | 'voteMax'> {
  return { ...(w.voteMin !== undefined ? { voteMin: w.voteMin } : {}), ...(w.voteMax !== undefined ? { voteMax: w.voteMax } : {}) };
}

/**
 * Query parameters of one discover page of a window (user filters, then the window's own).
 * @throws Error for a run that is not a movie or tv run, or an undated window of a movie run.
 */
export function discoverQuery(params: RunParams, w: Window, page: number): Record<string, string> {
  if (params.kind !== 'movie' && params.kind !== 'tv') throw new Error(`a ${params.kind} run has no TMDB discover query`);
  if (w.undated && params.kind !== 'tv') throw new Error('only tv discover can ask for undated titles');
  const { gte, lte } = dateFilter(params.kind);
  const q: Record<string, string> = {
    sort_by: params.kind === 'movie' ? 'primary_release_date.asc' : 'first_air_date.asc',
    ...params.params,
  };
  if (w.undated) {
    q[lte] = UNDATED_BEFORE;
    q.include_null_first_air_dates = 'true';
  }
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
  if (w.undated) return splitVotes({ undated: true }, w);
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
  return splitVotes({ ...w, from, to }, w);
}

/** Splits the vote_count range of `w` in two, each part `base` plus its range; undefined for a single value. */
function splitVotes(base: Window, w: Window): [Window, Window] | undefined {
  const lo = w.voteMin ?? 0;
  const hi = w.voteMax;
  if (hi === undefined) {
    const cut = lo === 0 ? 0 : lo * 2;
    return [
      { ...base, voteMin: lo, voteMax: cut },
      { ...base, voteMin: cut + 1 },
    ];
  }
  if (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    return [
      { ...base, voteMin: lo, voteMax: mid },
      { ...base, voteMin: mid + 1, voteMax: hi },
    ];
  }
  return undefined;
}

/**
 * A window's key, usable in plan keys and job ids (no `:`, `#` or `.`):
 * `<from|start>_<to|end>[_v<voteMin>-<voteMax|max>]`, or `undated[_v<voteMin>-<voteMax|max>]`.
 */
export function windowKey(w: Window): string {
  const dates = w.undated ? 'undated' : `${w.from ?? 'start'}_${w.to ?? 'end'}`;
  return w.voteMin === undefined && w.voteMax === undefined
    ? dates
    : `${dates}_v${w.voteMin ?? 0}-${w.voteMax ?? 'max'}`;
}

/**
 * The window a {@link windowKey} names (its inverse).
 * @throws Error when `key` is not a window key.
 */
export function parseWindowKey(key: string): Window {
  const m = /^(?:(undated)|(start|\d{4}-\d{2}-\d{2})_(end|\d{4}-\d{2}-\d{2}))(?:_v(\d+)-(\d+|max))?$/.exec(key);
  if (!m) throw new Error(`not a window key: ${key}`);
  const w: Window = {};
  if (m[1] !== undefined) w.undated = true;
  else {
    if (m[2] !== 'start') w.from = m[2];
    if (m[3] !== 'end') w.to = m[3];
  }
  if (m[4] !== undefined) w.voteMin = Number(m[4]);
  if (m[5] !== undefined && m[5] !== 'max') w.voteMax = Number(m[5]);
  return w;
}

/** The longest range `GET /{kind}/changes` accepts, calendar days (status_code 20 beyond). */
export const CHANGES_MAX_DAYS = 14;

/**
 * The changes feed's windows for `since`..`until` (inclusive, YYYY-MM-DD): consecutive, without
 * overlap, each at most {@link CHANGES_MAX_DAYS} calendar days, the last one ending on `until`.
 */
export function changesWindows(since: string, until: string): Window[] {
  const out: Window[] = [];
  for (let a = toDay(since), b = toDay(until); a <= b; a += CHANGES_MAX_DAYS) {
    out.push({ from: fromDay(a), to: fromDay(Math.min(a + CHANGES_MAX_DAYS - 1, b)) });
  }
  return out;
}

/**
 * Splits a changes window whose pages exceed the page cap in two halves by date.
 * @returns undefined for a single day (nothing left to split by).
 */
export function splitChangesWindow(w: Window): [Window, Window] | undefined {
  return w.from !== undefined && w.to !== undefined && w.from < w.to ? (splitWindow(w) as [Window, Window]) : undefined;
}

/** Query parameters of one page of `GET /{kind}/changes` for a window. */
export function changesQuery(w: Window, page: number): Record<string, string> {
  return { start_date: w.from ?? '', end_date: w.to ?? '', page: String(page) };
}
