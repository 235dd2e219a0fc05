/**
 * The sandbox's listings, as TMDB serves them (src/sandbox/fixtures/tmdb/API-NOTES.md):
 *
 * - `GET /3/discover/{movie,tv}`: 20 results a page, pages 1-500 (else 400, status_code 22),
 *   filtered by `primary_release_date` (movie) or `first_air_date` (tv) `.gte`/`.lte`,
 *   `vote_count.gte`/`.lte` and `with_original_language` (`a|b`), in date then id order;
 *   `total_results` counts every match, past the 500-page cap. A date filter leaves undated
 *   titles out, unless (tv) `include_null_first_air_dates=true`.
 * - `GET /3/search/{movie,tv}?query=`: titles whose title (name) or original title contains
 *   the query, case-insensitive; no query: 422.
 */
import { lowerBound, type Catalog, type Kind } from './catalog.js';
import { NO_DATE, parseDay } from './days.js';
import { synthDiscoverItem } from './documents.js';
import { ERR_5XX, type FailingPage } from './faults.js';
import { remember, type ApiState } from './state.js';

/** An HTTP status and a JSON body. */
export type Answer = [number, string];

const PAGE_SIZE = 20;
/** The last page discover and search serve. */
export const MAX_PAGE = 500;
const ERR_QUERY_MISSING = '{"errors":["query must be provided"]}';

/** True when a request for `page` of `GET /discover/{kind}` with query `q` is the failing page `f`. */
function failingPageMatches(f: FailingPage, kind: Kind, page: number, q: URLSearchParams): boolean {
  return f.kind === kind && f.page === page && Object.entries(f.where ?? {}).every(([k, v]) => q.get(k) === v);
}

function numParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** Indices into the catalog matching vote/language filters (undefined = all). Cached. */
function filterIndex(c: Catalog, vGte: number | undefined, vLte: number | undefined, langs: string | null): Int32Array | undefined {
  const langList = langs ? langs.split('|').map((s) => s.trim()).filter(Boolean) : [];
  if (vGte === undefined && vLte === undefined && langList.length === 0) return undefined;
  const key = `${vGte ?? ''}|${vLte ?? ''}|${langList.join('|')}`;
  const cached = c.filterCache.get(key);
  if (cached) {
    c.filterCache.delete(key);
    c.filterCache.set(key, cached);
    return cached;
  }
  let langOk: Uint8Array | undefined;
  if (langList.length > 0) {
    langOk = new Uint8Array(c.langs.length);
    c.langs.forEach((l, i) => {
      if (langList.includes(l)) langOk![i] = 1;
    });
  }
  const lo = vGte ?? -Infinity;
  const hi = vLte ?? Infinity;
  const tmp = new Int32Array(c.size);
  let n = 0;
  for (let i = 0; i < c.size; i++) {
    const v = c.votes[i]!;
    if (v < lo || v > hi) continue;
    if (langOk && langOk[c.langIdx[i]!] !== 1) continue;
    tmp[n++] = i;
  }
  return remember(c.filterCache, key, tmp.slice(0, n));
}

/** The `page` parameter: 1 when absent, undefined when not a whole number in 1..500. */
function pageParam(q: URLSearchParams, signed: boolean): number | undefined {
  const raw = (q.get('page') ?? '').trim();
  if (raw === '') return 1;
  if (!(signed ? /^[+-]?\d+$/ : /^\d+$/).test(raw)) return undefined;
  const page = Number(raw);
  return page < 1 || page > MAX_PAGE ? undefined : page;
}

/** One page of a listing whose `total` items are `item(k)`. */
function listingPage(page: number, total: number, item: (k: number) => unknown): string {
  const results: unknown[] = [];
  for (let k = (page - 1) * PAGE_SIZE; k < Math.min(total, page * PAGE_SIZE); k++) results.push(item(k));
  return JSON.stringify({ page, results, total_pages: Math.ceil(total / PAGE_SIZE), total_results: total });
}

/** `GET /3/discover/{kind}` with query `q`. */
export function handleDiscover(s: ApiState, kind: Kind, q: URLSearchParams): Answer {
  const page = pageParam(q, true);
  if (page === undefined) return [400, s.fx.err400];
  if (s.faults.failingPages.some((f) => failingPageMatches(f, kind, page, q))) return [500, ERR_5XX];
  const c = s.catalogs[kind];
  const prefix = kind === 'movie' ? 'primary_release_date' : 'first_air_date';
  const gteS = q.get(`${prefix}.gte`);
  const lteS = q.get(`${prefix}.lte`);
  let gte = gteS ? parseDay(gteS.trim()) : undefined;
  const lte = lteS ? parseDay(lteS.trim()) : undefined;
  if (gte === undefined && lte !== undefined) gte = NO_DATE + 1; // exclude blank dates
  const idx = filterIndex(c, numParam(q, 'vote_count.gte'), numParam(q, 'vote_count.lte'), q.get('with_original_language'));
  const n = idx ? idx.length : c.size;
  const lo = gte === undefined ? 0 : lowerBound(c, idx, n, gte);
  const hi = lte === undefined ? n : lowerBound(c, idx, n, lte + 1);
  // tv: include_null_first_air_dates=true adds the undated titles (sorted first) to a date filter.
  const nulls = kind === 'tv' && q.get('include_null_first_air_dates') === 'true' && lo > 0 ? lowerBound(c, idx, n, NO_DATE + 1) : 0;
  const at = (k: number) => (k < nulls ? k : lo + (k - nulls)); // position in the filtered order
  const total = nulls + Math.max(0, hi - lo);
  return [200, listingPage(page, total, (k) => synthDiscoverItem(c, idx ? idx[at(k)]! : at(k), s.fx))];
}

/** Title (movie) or name (tv) and the original one of catalog entry i, as discover and search serve them. */
function titleOf(s: ApiState, c: Catalog, i: number): string {
  const item = synthDiscoverItem(c, i, s.fx);
  return `${String(item.title ?? item.name ?? '')}\u0000${String(item.original_title ?? item.original_name ?? '')}`;
}

/** `GET /3/search/{kind}?query=…&page=…`: titles containing the query, case-insensitive, 20 a page. */
export function handleSearch(s: ApiState, kind: Kind, q: URLSearchParams): Answer {
  const query = (q.get('query') ?? '').trim().toLowerCase();
  if (query === '') return [422, ERR_QUERY_MISSING];
  const page = pageParam(q, false);
  if (page === undefined) return [400, s.fx.err400];
  const c = s.catalogs[kind];
  const key = `${kind}:${query}`;
  let hits = s.searchCache.get(key);
  if (!hits) {
    const found: number[] = [];
    for (let i = 0; i < c.size; i++) if (titleOf(s, c, i).toLowerCase().includes(query)) found.push(i);
    hits = remember(s.searchCache, key, Int32Array.from(found));
  }
  const found = hits;
  return [200, listingPage(page, found.length, (k) => synthDiscoverItem(c, found[k]!, s.fx))];
}
