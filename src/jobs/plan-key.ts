/**
 * Plan keys: the items of a run's `:pages` hash, each planned once and then done or failed, so
 * the run knows when all its work is over. Formatted and parsed here only.
 *
 * | item   | key                      | planned by                                   |
 * |--------|--------------------------|----------------------------------------------|
 * | page   | `<windowKey>#<page>`     | a discover page (backfill, search)           |
 * | find   | `find#<imdbId>`          | a `GET /find` lookup (enrich)                |
 * | file   | `file#<name>`            | a local file (upload)                        |
 * | copy   | `copy#<source key>`      | an S3 object to copy (sync)                  |
 * | guard  | `guard#<list|watch|csv|export>` | a producer still adding work (open until it stops) |
 */
import { parseWindowKey, windowKey, type Window } from '../tmdb/windows.js';

/** Guards: open while a producer may still add work to the run. */
export type Guard = 'list' | 'watch' | 'csv' | 'export';

/** What a plan key names. */
export type PlanItem =
  | { type: 'page'; window: Window; page: number }
  | { type: 'find'; imdbId: string }
  | { type: 'file'; name: string }
  | { type: 'copy'; srcKey: string }
  | { type: 'guard'; guard: Guard };

const GUARDS: readonly Guard[] = ['list', 'watch', 'csv', 'export'];

/** The plan key of `item`. */
export function formatPlanKey(item: PlanItem): string {
  switch (item.type) {
    case 'page':
      return `${windowKey(item.window)}#${item.page}`;
    case 'find':
      return `find#${item.imdbId}`;
    case 'file':
      return `file#${item.name}`;
    case 'copy':
      return `copy#${item.srcKey}`;
    case 'guard':
      return `guard#${item.guard}`;
  }
}

/**
 * What a plan key names (the inverse of {@link formatPlanKey}).
 * @throws Error when `key` is not a plan key.
 */
export function parsePlanKey(key: string): PlanItem {
  const at = key.indexOf('#');
  const bad = () => new Error(`not a plan key: ${key}`);
  if (at <= 0) throw bad();
  const head = key.slice(0, at);
  const rest = key.slice(at + 1);
  switch (head) {
    case 'find':
      return { type: 'find', imdbId: rest };
    case 'file':
      return { type: 'file', name: rest };
    case 'copy':
      return { type: 'copy', srcKey: rest };
    case 'guard':
      if (!(GUARDS as readonly string[]).includes(rest)) throw bad();
      return { type: 'guard', guard: rest as Guard };
    default:
      if (!/^[1-9]\d*$/.test(rest)) throw bad();
      return { type: 'page', window: parseWindowKey(head), page: Number(rest) };
  }
}
