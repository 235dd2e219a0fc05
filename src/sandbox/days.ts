/**
 * Days as the sandbox counts them: whole UTC days since 1970-01-01, written YYYY-MM-DD as TMDB
 * writes dates. The sandbox keeps its own date handling (it plays TMDB's side of the wire, so
 * it shares no code with the client it is there to test).
 */

/** Milliseconds in a day. */
export const DAY_MS = 86_400_000;
/** The day of a blank date (Int32 min): undated titles sort first. */
export const NO_DATE = -2_147_483_648;

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** The day of a `YYYY-MM-DD` date; undefined for anything else (or a date that does not exist). */
export function parseDay(s: string | null): number | undefined {
  if (s === null || !DATE_RE.test(s)) return undefined;
  const ms = Date.parse(`${s}T00:00:00Z`);
  return Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== s ? undefined : ms / DAY_MS;
}

const formatted = new Map<number, string>();

/** `YYYY-MM-DD` of a day; `''` for {@link NO_DATE}. */
export function formatDay(day: number): string {
  if (day === NO_DATE) return '';
  let s = formatted.get(day);
  if (s === undefined) {
    s = new Date(day * DAY_MS).toISOString().slice(0, 10);
    if (formatted.size < 100_000) formatted.set(day, s);
  }
  return s;
}

/** The day of `now` (ms since the epoch), UTC. */
export function dayOf(now: number): number {
  return Math.floor(now / DAY_MS);
}

/** The UTC date `days` days before today (negative: after), YYYY-MM-DD. */
export function daysAgo(days: number, now = Date.now()): string {
  return formatDay(dayOf(now) - days);
}
