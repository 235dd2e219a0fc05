/**
 * The sandbox's API routes under `/3` (TMDB API v3), each answering an HTTP status and a JSON
 * body as TMDB does:
 *
 * - `GET /3/discover/{movie,tv}`, `GET /3/search/{movie,tv}` (discover.ts);
 * - `GET /3/{movie,tv}/{id}` with `append_to_response=external_ids`: details, 404 (status_code
 *   34) for an unknown id;
 * - `GET /3/find/{imdb_id}?external_source=imdb_id`: the titles with that IMDB id;
 * - `GET /3/{movie,tv}/changes` (feeds.ts);
 * - `GET /3/configuration`: TMDB's API configuration (what a credential check reads);
 * - anything else: 404.
 */
import type { Kind } from './catalog.js';
import { handleDiscover, handleSearch, type Answer } from './discover.js';
import { synthDetails, synthDiscoverItem, synthExternalIds, imdbId } from './documents.js';
import { ERR_5XX } from './faults.js';
import { CHANGES_RE, handleChanges } from './feeds.js';
import type { JsonObject } from './fixtures.js';
import type { ApiState } from './state.js';

export type { Answer } from './discover.js';

export const DISCOVER_RE = /^\/3\/discover\/(movie|tv)\/?$/;
export const DETAILS_RE = /^\/3\/(movie|tv)\/(\d+)\/?$/;
const SEARCH_RE = /^\/3\/search\/(movie|tv)\/?$/;
const FIND_RE = /^\/3\/find\/([^/]+)\/?$/;
const CONFIGURATION_PATH = '/3/configuration';
const CONFIGURATION_BODY = JSON.stringify({
  images: { secure_base_url: 'https://image.tmdb.org/t/p/', poster_sizes: ['w92', 'original'] },
  change_keys: ['title', 'overview', 'release_dates'],
});
const ERR_FIND_SOURCE = '{"success":false,"status_code":5,"status_message":"Invalid parameters: Your request parameters are incorrect."}';

/** The recorded details of `id` when the sandbox serves recorded documents (with or without external_ids). */
function recordedDetails(s: ApiState, kind: Kind, id: number, withExt: boolean): JsonObject | undefined {
  if (!s.recorded) return undefined;
  const fx = s.fx;
  if (kind === 'movie') {
    const rec = fx.movieDetails.get(id);
    if (!rec) return undefined;
    if (!withExt) return rec;
    return { ...rec, external_ids: id === 550 ? fx.movie550ExternalIds : synthExternalIds('movie', id, rec.imdb_id ?? null) };
  }
  if (id !== (fx.tv1399.id as number)) return undefined;
  if (withExt) return fx.tv1399;
  const { external_ids: _e, ...rest } = fx.tv1399;
  void _e;
  return rest;
}

/** `GET /3/{kind}/{id}?append_to_response=…`. */
function handleDetails(s: ApiState, kind: Kind, id: number, q: URLSearchParams): Answer {
  if (s.faults.notFound.has(id)) return [404, s.fx.err404];
  if (s.faults.failing.has(id)) return [500, ERR_5XX];
  const withExt = (q.get('append_to_response') ?? '').split(',').map((v) => v.trim()).includes('external_ids');
  let doc = recordedDetails(s, kind, id, withExt);
  if (!doc) {
    const c = s.catalogs[kind];
    const i = c.lookup(id);
    if (i < 0) return [404, s.fx.err404];
    doc = synthDetails(c, i, s.fx);
    if (withExt) doc.external_ids = synthExternalIds(kind, id);
  }
  const now = Date.now();
  if (s.recordRequests) s.stats.detailsOkTimestamps.push(now);
  const key = `${kind}:${id}`;
  s.stats.detailsIdsServed[key] = (s.stats.detailsIdsServed[key] ?? 0) + 1;
  s.stats.detailsServedAt[key] = now;
  return [200, JSON.stringify(doc)];
}

/** `GET /3/find/{externalId}?external_source=imdb_id`: the titles with that IMDB id, by kind. */
function handleFind(s: ApiState, externalId: string, q: URLSearchParams): Answer {
  if (q.get('external_source') !== 'imdb_id') return [422, ERR_FIND_SOURCE];
  const fx = s.fx;
  const matches = (kind: Kind): JsonObject[] => {
    const c = s.catalogs[kind];
    const out: JsonObject[] = [];
    for (let i = 0; i < c.size; i++) {
      const id = c.ids[i]!;
      const recordedDoc = kind === 'movie' ? fx.movieDetails.get(id) : id === (fx.tv1399.id as number) ? fx.tv1399 : undefined;
      const imdb = recordedDoc
        ? String(recordedDoc.imdb_id ?? (recordedDoc.external_ids as JsonObject | undefined)?.imdb_id ?? '')
        : imdbId(id);
      if (imdb === externalId) out.push(synthDiscoverItem(c, i, fx));
    }
    return out;
  };
  const body = { movie_results: matches('movie'), person_results: [], tv_results: matches('tv'), tv_episode_results: [], tv_season_results: [] };
  return [200, JSON.stringify(body)];
}

/**
 * Answers an authorized API request (faults and the rate limit already applied).
 * @param pathname - the request path, e.g. `/3/movie/550`
 */
export function routeApi(s: ApiState, method: string, pathname: string, q: URLSearchParams): Answer {
  if (method !== 'GET' && method !== 'HEAD') return [404, s.fx.err404];
  const discover = DISCOVER_RE.exec(pathname);
  if (discover) return handleDiscover(s, discover[1] as Kind, q);
  const changes = CHANGES_RE.exec(pathname);
  if (changes) return handleChanges(changes[1] as Kind, q, s.feeds, s.stats, s.fx.err422DateRange);
  const details = DETAILS_RE.exec(pathname);
  if (details) return handleDetails(s, details[1] as Kind, Number(details[2]), q);
  const search = SEARCH_RE.exec(pathname);
  if (search) return handleSearch(s, search[1] as Kind, q);
  const find = FIND_RE.exec(pathname);
  if (find) return handleFind(s, decodeURIComponent(find[1] ?? ''), q);
  if (pathname === CONFIGURATION_PATH) return [200, CONFIGURATION_BODY];
  return [404, s.fx.err404];
}
