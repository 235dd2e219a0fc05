/**
 * A fake TMDB API v3 server over real HTTP, for integration tests and benchmarks.
 *
 * Serves `/3/discover/{movie,tv}` and `/3/{movie,tv}/{id}` (with
 * `append_to_response=external_ids`) with documents shaped exactly like the recorded
 * fixtures in `<projectRoot>/../shared/fixtures/tmdb`. Faults (rate limit, dropped
 * sockets, 5xx, latency) are driven by a seeded PRNG so runs are reproducible.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from './prng.js';

export interface FakeTitle {
  id: number;
  /** YYYY-MM-DD release / first air date */
  date: string;
  voteCount: number;
  originalLanguage: string;
}

export interface FakeTmdbOptions {
  /** Bearer token accepted (Authorization: Bearer <token>); also accepted as ?api_key=<token>. Default 'test-token'. */
  token?: string;
  /** Synthetic catalog per kind. Generated deterministically (seeded PRNG) unless `titles` given. */
  movie?: { count: number; from: string; to: string; seed?: number } | { titles: FakeTitle[] };
  tv?: { count: number; from: string; to: string; seed?: number } | { titles: FakeTitle[] };
  /** Serve the real recorded fixtures: discover page 1 documents (their ids become the catalog's titles when `recorded` is true and no movie/tv option is given) and details for 550, 348, 2501 (movie) and 1399 (tv). Default false. */
  recorded?: boolean;
  /** Ids that appear in discover results but answer 404 (status_code 34) on details. */
  notFoundIds?: number[];
  /** Ids whose details always answer 500 (status_code 11): jobs that keep failing. */
  failingIds?: number[];
  /** Added latency per request, ms (a fixed value, or [min,max] uniform). Default 0. */
  latencyMs?: number | [number, number];
  /** Fraction (0..1) of requests answered 500/502/503 with a TMDB-like error body. Default 0. */
  errorRate?: number;
  /** Fraction (0..1) of requests answered 200 with a truncated or non-JSON body. Default 0. */
  garbageRate?: number;
  /** Fraction (0..1) of requests that never get an answer (the connection hangs). Default 0. */
  stallRate?: number;
  /** Fraction (0..1) of requests whose socket is destroyed without a response. Default 0. */
  dropRate?: number;
  /** TMDB's own limit: requests in any sliding 1 s window above this get 429 + Retry-After. Default: none. */
  rateLimit?: { rps: number; retryAfterSec?: number /* default 1 */ };
  /** Seed for the fault PRNG (errorRate/dropRate/latency). Default 1. */
  seed?: number;
}

export interface FakeTmdbStats {
  /** all requests received */
  requests: number;
  /** e.g. {"200": 10, "404": 1, "429": 2, "dropped": 1} */
  byStatus: Record<string, number>;
  discoverRequests: number;
  detailsRequests: number;
  /** Date.now() of each 200 details response (for rate measurement) */
  detailsOkTimestamps: number[];
  maxInFlight: number;
  /** "movie:550" -> times a 200 details doc was served */
  detailsIdsServed: Record<string, number>;
}

export interface FakeTmdb {
  /** Base URL including /3, e.g. http://127.0.0.1:43123/3 */
  url: string;
  /** The catalog, per kind, sorted as discover serves it. */
  titles(kind: 'movie' | 'tv'): FakeTitle[];
  stats(): FakeTmdbStats;
  resetStats(): void;
  /** Change fault settings on the fly (latencyMs, errorRate, dropRate, rateLimit, notFoundIds, token). */
  configure(
    patch: Partial<
      Pick<FakeTmdbOptions, 'latencyMs' | 'errorRate' | 'garbageRate' | 'stallRate' | 'dropRate' | 'rateLimit' | 'notFoundIds' | 'failingIds' | 'token'>
    >,
  ): void;
  close(): Promise<void>;
}

type Kind = 'movie' | 'tv';
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const PAGE_SIZE = 20;
const MAX_PAGE = 500;
const DAY_MS = 86_400_000;
const NO_DATE = -2_147_483_648; // Int32 min: titles with a blank date sort first
const ID_SHIFT = 2 ** 25; // sort key = (day - minDay) * ID_SHIFT + id

// ---------------------------------------------------------------------------------------
// PRNG and deterministic hashing
// ---------------------------------------------------------------------------------------


/** Deterministic value in [0, 1) from an id and a salt. */
function hash01(id: number, salt: number): number {
  let h = (Math.imul(id | 0, 0x9e3779b1) ^ Math.imul(salt + 1, 0x85ebca6b)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** A float that stays a float in JSON (never an integral value). */
function floatish(x: number, decimals: number): number {
  const f = 10 ** decimals;
  let v = Math.round(x * f) / f;
  if (Number.isInteger(v)) v += 1 / f;
  return Math.round(v * f) / f;
}

// ---------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseDay(s: string): number | undefined {
  const m = DATE_RE.exec(s);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isFinite(ms) ? Math.floor(ms / DAY_MS) : undefined;
}

const dayStringCache = new Map<number, string>();
function formatDay(day: number): string {
  if (day === NO_DATE) return '';
  let s = dayStringCache.get(day);
  if (s === undefined) {
    s = new Date(day * DAY_MS).toISOString().slice(0, 10);
    dayStringCache.set(day, s);
  }
  return s;
}

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

function findFixturesDir(): string {
  const env = process.env.TMDB_FIXTURES_DIR;
  if (env) return path.resolve(env);
  const here = path.dirname(fileURLToPath(import.meta.url));
  let dir = here;
  for (;;) {
    for (const candidate of [
      path.join(path.dirname(dir), 'shared', 'fixtures', 'tmdb'),
      path.join(dir, 'shared', 'fixtures', 'tmdb'),
    ]) {
      if (existsSync(path.join(candidate, 'discover-movie-page1.json'))) return candidate;
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return path.resolve(here, '../../../shared/fixtures/tmdb');
}

interface Fixtures {
  discoverMovie: JsonObject[];
  discoverTv: JsonObject[];
  movieDetails: Map<number, JsonObject>; // 550, 348, 2501 recorded; 2502, 2503, 49040, 324668 constructed
  movie550ExternalIds: JsonObject; // without id
  tv1399: JsonObject; // with external_ids as recorded
  movieTemplate: JsonObject; // movie-550 + origin_country, TMDB key order
  tvTemplate: JsonObject; // tv-1399 without external_ids
  err400: string;
  err401: string;
  err404: string;
}

let fixturesCache: Fixtures | undefined;

function loadFixtures(): Fixtures {
  if (fixturesCache) return fixturesCache;
  const dir = findFixturesDir();
  const read = (name: string): JsonObject => JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as JsonObject;
  const resultsOf = (doc: JsonObject): JsonObject[] => (doc.results as JsonObject[] | undefined) ?? [];

  const m550 = read('movie-550.json');
  const movieDetails = new Map<number, JsonObject>([
    [550, m550],
    [348, read('movie-348.json')],
    [2501, read('movie-2501.json')],
  ]);
  // The rest of the Bourne saga, constructed in 2501's shape (test/fixtures/bourne/README.md).
  const bourneDir = findBourneDir();
  for (const id of [2502, 2503, 49040, 324668]) {
    movieDetails.set(id, JSON.parse(readFileSync(path.join(bourneDir, `movie-${id}.json`), 'utf8')) as JsonObject);
  }
  const { id: _id, ...ext550 } = read('movie-550-external_ids.json');
  void _id;

  // movie-550.json predates origin_country; insert it after imdb_id as TMDB orders it.
  const movieTemplate: JsonObject = {};
  for (const [k, v] of Object.entries(m550)) {
    movieTemplate[k] = v;
    if (k === 'imdb_id') movieTemplate.origin_country = ['US'];
  }
  const tv1399 = read('tv-1399-append-external_ids.json');
  const { external_ids: _ext, ...tvTemplate } = read('tv-1399.json');
  void _ext;

  fixturesCache = {
    discoverMovie: resultsOf(read('discover-movie-page1.json')),
    discoverTv: resultsOf(read('discover-tv-page1.json')),
    movieDetails,
    movie550ExternalIds: ext550,
    tv1399,
    movieTemplate,
    tvTemplate,
    err400: JSON.stringify(read('error-400-invalid-page.json')),
    err401: JSON.stringify(read('error-401-invalid-api-key.json')),
    err404: JSON.stringify(read('error-404-resource-not-found.json')),
  };
  return fixturesCache;
}

const MOVIE_GENRES: Record<number, string> = {
  28: 'Action', 12: 'Adventure', 16: 'Animation', 35: 'Comedy', 80: 'Crime', 99: 'Documentary',
  18: 'Drama', 10751: 'Family', 14: 'Fantasy', 36: 'History', 27: 'Horror', 10402: 'Music',
  9648: 'Mystery', 10749: 'Romance', 878: 'Science Fiction', 10770: 'TV Movie', 53: 'Thriller',
  10752: 'War', 37: 'Western',
};
const TV_GENRES: Record<number, string> = {
  10759: 'Action & Adventure', 16: 'Animation', 35: 'Comedy', 80: 'Crime', 99: 'Documentary',
  18: 'Drama', 10751: 'Family', 10762: 'Kids', 9648: 'Mystery', 10763: 'News', 10764: 'Reality',
  10765: 'Sci-Fi & Fantasy', 10766: 'Soap', 10767: 'Talk', 10768: 'War & Politics', 37: 'Western',
};

// ---------------------------------------------------------------------------------------
// Catalog (typed arrays, sorted by date asc then id asc)
// ---------------------------------------------------------------------------------------

const LANGS = ['en', 'fr', 'es', 'de', 'ja', 'it', 'ko', 'zh', 'pt', 'ru', 'hi', 'sv'];
const LANG_WEIGHTS = [0.5, 0.07, 0.07, 0.06, 0.06, 0.04, 0.04, 0.04, 0.04, 0.03, 0.03, 0.02];

interface Catalog {
  kind: Kind;
  size: number;
  ids: Int32Array;
  days: Int32Array;
  votes: Int32Array;
  langIdx: Uint16Array;
  langs: string[];
  /** Original date strings when given explicitly (kept verbatim). */
  dateStrings?: string[];
  /** id -> index */
  lookup: (id: number) => number;
  /** Recorded discover items by id (recorded catalogs only). */
  recordedItems: Map<number, JsonObject>;
  filterCache: Map<string, Int32Array>;
  titlesCache?: FakeTitle[];
}

function makeLookup(ids: Int32Array): (id: number) => number {
  let maxId = 0;
  for (let i = 0; i < ids.length; i++) if (ids[i]! > maxId) maxId = ids[i]!;
  if (maxId <= ids.length * 4 + 1024) {
    const inv = new Int32Array(maxId + 1).fill(-1);
    for (let i = 0; i < ids.length; i++) inv[ids[i]!] = i;
    return (id) => (Number.isInteger(id) && id >= 0 && id <= maxId ? inv[id]! : -1);
  }
  const map = new Map<number, number>();
  for (let i = 0; i < ids.length; i++) map.set(ids[i]!, i);
  return (id) => map.get(id) ?? -1;
}

function generateCatalog(kind: Kind, count: number, from: string, to: string, seed: number): Catalog {
  const fromDay = parseDay(from);
  const toDay = parseDay(to);
  if (fromDay === undefined || toDay === undefined || toDay < fromDay) {
    throw new Error(`fake-tmdb: invalid ${kind} date range ${from}..${to}`);
  }
  if (!Number.isInteger(count) || count < 0 || count >= ID_SHIFT) {
    throw new Error(`fake-tmdb: invalid ${kind} count ${count}`);
  }
  const rand = mulberry32(seed);
  const span = toDay - fromDay + 1;
  // ids: a seeded permutation of 1..count, so ids are unrelated to dates.
  const perm = new Int32Array(count);
  for (let i = 0; i < count; i++) perm[i] = i + 1;
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  const keys = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const dayOff = Math.floor(rand() * span);
    keys[i] = dayOff * ID_SHIFT + perm[i]!;
  }
  keys.sort();
  const ids = perm; // reuse buffer
  const days = new Int32Array(count);
  const votes = new Int32Array(count);
  const langIdx = new Uint16Array(count);
  const cum: number[] = [];
  let acc = 0;
  for (const w of LANG_WEIGHTS) cum.push((acc += w));
  for (let i = 0; i < count; i++) {
    const k = keys[i]!;
    const dayOff = Math.floor(k / ID_SHIFT);
    ids[i] = k - dayOff * ID_SHIFT;
    days[i] = fromDay + dayOff;
    const r = rand();
    const u = rand();
    votes[i] = r < 0.85 ? Math.floor(51 * u * u * u) : 51 + Math.floor(30000 * u ** 5);
    const l = rand() * acc;
    let li = 0;
    while (li < cum.length - 1 && l >= cum[li]!) li++;
    langIdx[i] = li;
  }
  return {
    kind, size: count, ids, days, votes, langIdx, langs: LANGS.slice(),
    lookup: makeLookup(ids), recordedItems: new Map(), filterCache: new Map(),
  };
}

function catalogFromTitles(kind: Kind, input: FakeTitle[], recordedItems = new Map<number, JsonObject>()): Catalog {
  const seen = new Set<number>();
  const list: { t: FakeTitle; day: number }[] = [];
  for (const t of input) {
    if (seen.has(t.id)) continue;
    seen.add(t.id);
    list.push({ t, day: parseDay(t.date) ?? NO_DATE });
  }
  list.sort((a, b) => a.day - b.day || a.t.id - b.t.id);
  const n = list.length;
  const ids = new Int32Array(n);
  const days = new Int32Array(n);
  const votes = new Int32Array(n);
  const langIdx = new Uint16Array(n);
  const langs: string[] = [];
  const langMap = new Map<string, number>();
  const dateStrings: string[] = [];
  list.forEach(({ t, day }, i) => {
    ids[i] = t.id;
    days[i] = day;
    votes[i] = t.voteCount;
    let li = langMap.get(t.originalLanguage);
    if (li === undefined) {
      li = langs.length;
      langs.push(t.originalLanguage);
      langMap.set(t.originalLanguage, li);
    }
    langIdx[i] = li;
    dateStrings.push(t.date);
  });
  return {
    kind, size: n, ids, days, votes, langIdx, langs, dateStrings,
    lookup: makeLookup(ids), recordedItems, filterCache: new Map(),
  };
}

function recordedCatalog(kind: Kind, fx: Fixtures): Catalog {
  const items = new Map<number, JsonObject>();
  const titles: FakeTitle[] = [];
  const dateKey = kind === 'movie' ? 'release_date' : 'first_air_date';
  const add = (item: JsonObject): void => {
    const id = item.id as number;
    if (items.has(id)) return;
    items.set(id, item);
    titles.push({
      id,
      date: String(item[dateKey] ?? ''),
      voteCount: Number(item.vote_count ?? 0),
      originalLanguage: String(item.original_language ?? ''),
    });
  };
  if (kind === 'movie') {
    fx.discoverMovie.forEach(add);
    const tpl = fx.discoverMovie[0] ?? {};
    for (const doc of fx.movieDetails.values()) {
      const genres = (doc.genres as JsonObject[] | undefined) ?? [];
      const item: JsonObject = {};
      for (const k of Object.keys(tpl)) item[k] = k === 'genre_ids' ? genres.map((g) => g.id ?? 0) : (doc[k] ?? null);
      add(item);
    }
  } else {
    fx.discoverTv.forEach(add);
    const doc = fx.tv1399;
    if (!items.has(doc.id as number)) {
      const tpl = fx.discoverTv[0] ?? {};
      const genres = (doc.genres as JsonObject[] | undefined) ?? [];
      const item: JsonObject = {};
      for (const k of Object.keys(tpl)) item[k] = k === 'genre_ids' ? genres.map((g) => g.id ?? 0) : (doc[k] ?? null);
      add(item);
    }
  }
  return catalogFromTitles(kind, titles, items);
}

function buildCatalog(kind: Kind, opt: FakeTmdbOptions['movie'], recorded: boolean, fx: Fixtures): Catalog {
  if (opt && 'titles' in opt) return catalogFromTitles(kind, opt.titles);
  if (opt) return generateCatalog(kind, opt.count, opt.from, opt.to, opt.seed ?? (kind === 'movie' ? 1 : 2));
  if (recorded) return recordedCatalog(kind, fx);
  return catalogFromTitles(kind, []);
}

function dateOf(c: Catalog, i: number): string {
  return c.dateStrings ? c.dateStrings[i]! : formatDay(c.days[i]!);
}

function materializeTitles(c: Catalog): FakeTitle[] {
  if (!c.titlesCache) {
    const out: FakeTitle[] = new Array<FakeTitle>(c.size);
    for (let i = 0; i < c.size; i++) {
      out[i] = { id: c.ids[i]!, date: dateOf(c, i), voteCount: c.votes[i]!, originalLanguage: c.langs[c.langIdx[i]!]! };
    }
    c.titlesCache = out;
  }
  return c.titlesCache.map((t) => ({ ...t }));
}

// ---------------------------------------------------------------------------------------
// Documents
// ---------------------------------------------------------------------------------------

function imdbId(id: number): string {
  return `tt${String(id).padStart(7, '0')}`;
}

function synthPopularity(id: number, votes: number): number {
  return floatish(0.6 + Math.log1p(votes) * 3 + hash01(id, 1) * 20, 3);
}

function synthVoteAverage(id: number, votes: number): number {
  return votes === 0 ? 0 : floatish(3 + hash01(id, 2) * 6, 3);
}

function synthDiscoverItem(c: Catalog, i: number, fx: Fixtures): JsonObject {
  const id = c.ids[i]!;
  const recorded = c.recordedItems.get(id);
  if (recorded) return recorded;
  const votes = c.votes[i]!;
  const lang = c.langs[c.langIdx[i]!]!;
  const date = dateOf(c, i);
  if (c.kind === 'movie') {
    const tpl = fx.discoverMovie[0] ?? {};
    const title = `Synthetic Movie ${id}`;
    return {
      ...tpl, id, original_language: lang, original_title: title, popularity: synthPopularity(id, votes),
      release_date: date, title, vote_average: synthVoteAverage(id, votes), vote_count: votes,
    };
  }
  const tpl = fx.discoverTv[0] ?? {};
  const name = `Synthetic Show ${id}`;
  return {
    ...tpl, first_air_date: date, id, name, original_language: lang, original_name: name,
    popularity: synthPopularity(id, votes), vote_average: synthVoteAverage(id, votes), vote_count: votes,
  };
}

function genresFrom(ids: Json | undefined, table: Record<number, string>): Json[] {
  if (!Array.isArray(ids)) return [];
  return ids.map((g) => ({ id: g, name: typeof g === 'number' ? (table[g] ?? 'Unknown') : 'Unknown' }));
}

function synthDetails(c: Catalog, i: number, fx: Fixtures): JsonObject {
  const id = c.ids[i]!;
  const votes = c.votes[i]!;
  const lang = c.langs[c.langIdx[i]!]!;
  const date = dateOf(c, i);
  const rec = c.recordedItems.get(id);
  if (c.kind === 'movie') {
    const budget = hash01(id, 3) < 0.4 ? 0 : Math.round(hash01(id, 4) * 200) * 500_000;
    const revenue = budget === 0 ? 0 : Math.round(budget * (0.2 + hash01(id, 5) * 4));
    const title = `Synthetic Movie ${id}`;
    const doc: JsonObject = {
      ...fx.movieTemplate, budget, id, imdb_id: imdbId(id), original_language: lang, original_title: title,
      popularity: synthPopularity(id, votes), release_date: date, revenue, runtime: 80 + Math.floor(hash01(id, 6) * 80),
      title, vote_average: synthVoteAverage(id, votes), vote_count: votes,
    };
    if (rec) {
      for (const k of ['adult', 'backdrop_path', 'original_title', 'overview', 'popularity', 'poster_path', 'title', 'video', 'vote_average']) {
        if (k in rec) doc[k] = rec[k] ?? null;
      }
      doc.genres = genresFrom(rec.genre_ids, MOVIE_GENRES);
    }
    return doc;
  }
  const name = `Synthetic Show ${id}`;
  const doc: JsonObject = {
    ...fx.tvTemplate, first_air_date: date, id, name, original_language: lang, original_name: name,
    popularity: synthPopularity(id, votes), vote_average: synthVoteAverage(id, votes), vote_count: votes,
  };
  if (rec) {
    for (const k of ['backdrop_path', 'name', 'origin_country', 'original_name', 'overview', 'popularity', 'poster_path', 'vote_average']) {
      if (k in rec) doc[k] = rec[k] ?? null;
    }
    doc.genres = genresFrom(rec.genre_ids, TV_GENRES);
  }
  return doc;
}

function synthExternalIds(kind: Kind, id: number, imdb: Json = imdbId(id)): JsonObject {
  if (kind === 'movie') {
    return { imdb_id: imdb, wikidata_id: null, facebook_id: null, instagram_id: null, twitter_id: null };
  }
  return {
    imdb_id: imdb, freebase_mid: null, freebase_id: null, tvdb_id: 100_000 + id, tvrage_id: null,
    wikidata_id: null, facebook_id: null, instagram_id: null, twitter_id: null,
  };
}

// ---------------------------------------------------------------------------------------
// Discover filtering
// ---------------------------------------------------------------------------------------

function lowerBound(c: Catalog, idx: Int32Array | undefined, n: number, day: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const d = c.days[idx ? idx[mid]! : mid]!;
    if (d < day) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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
  const result = tmp.slice(0, n);
  c.filterCache.set(key, result);
  if (c.filterCache.size > 64) {
    const oldest = c.filterCache.keys().next().value;
    if (oldest !== undefined) c.filterCache.delete(oldest);
  }
  return result;
}

// ---------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------

interface FaultState {
  token: string;
  latencyMs: number | [number, number];
  errorRate: number;
  garbageRate: number;
  stallRate: number;
  dropRate: number;
  rateLimit: { rps: number; retryAfterSec?: number } | undefined;
  notFound: Set<number>;
  failing: Set<number>;
}

function emptyStats(): FakeTmdbStats {
  return {
    requests: 0, byStatus: {}, discoverRequests: 0, detailsRequests: 0,
    detailsOkTimestamps: [], maxInFlight: 0, detailsIdsServed: {},
  };
}

const JSON_HEADERS = { 'Content-Type': 'application/json;charset=utf-8' } as const;
const ERR_5XX = '{"success":false,"status_code":11,"status_message":"Internal error: Something went wrong, contact TMDB."}';
const DISCOVER_RE = /^\/3\/discover\/(movie|tv)\/?$/;
const DETAILS_RE = /^\/3\/(movie|tv)\/(\d+)\/?$/;

/** test/fixtures/bourne, found from this module whether it runs from test/ or dist/test/. */
function findBourneDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'test', 'fixtures', 'bourne');
    if (existsSync(path.join(candidate, 'movie-2502.json'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('test/fixtures/bourne not found above the fake TMDB module');
    dir = parent;
  }
}

const SEARCH_RE = /^\/3\/search\/(movie|tv)\/?$/;
const FIND_RE = /^\/3\/find\/([^/]+)\/?$/;
const ERR_QUERY_MISSING = '{"errors":["query must be provided"]}';

export async function startFakeTmdb(options: FakeTmdbOptions = {}): Promise<FakeTmdb> {
  const fx = loadFixtures();
  const recorded = options.recorded ?? false;
  const catalogs: Record<Kind, Catalog> = {
    movie: buildCatalog('movie', options.movie, recorded, fx),
    tv: buildCatalog('tv', options.tv, recorded, fx),
  };
  const faults: FaultState = {
    token: options.token ?? 'test-token',
    latencyMs: options.latencyMs ?? 0,
    errorRate: options.errorRate ?? 0,
    garbageRate: options.garbageRate ?? 0,
    stallRate: options.stallRate ?? 0,
    dropRate: options.dropRate ?? 0,
    rateLimit: options.rateLimit,
    notFound: new Set(options.notFoundIds ?? []),
    failing: new Set(options.failingIds ?? []),
  };
  const rand = mulberry32(options.seed ?? 1);
  let stats = emptyStats();
  let inFlight = 0;
  const timers = new Set<NodeJS.Timeout>();
  // Sliding-window timestamps of requests that passed auth (ring via head index).
  let window: number[] = [];
  let windowHead = 0;

  const count = (key: string): void => {
    stats.byStatus[key] = (stats.byStatus[key] ?? 0) + 1;
  };

  const send = (res: ServerResponse, status: number, body: string, extra?: Record<string, string>): void => {
    count(String(status));
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(status, extra ? { ...JSON_HEADERS, ...extra, 'Content-Length': Buffer.byteLength(body) } : { ...JSON_HEADERS, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };

  const authorized = (req: IncomingMessage, q: URLSearchParams): boolean => {
    const h = req.headers.authorization;
    if (h && h.startsWith('Bearer ') && h.slice(7).trim() === faults.token) return true;
    return q.get('api_key') === faults.token;
  };

  const handleDiscover = (kind: Kind, q: URLSearchParams): [number, string] => {
    const pageRaw = q.get('page');
    let page = 1;
    if (pageRaw !== null && pageRaw !== '') {
      if (!/^[+-]?\d+$/.test(pageRaw.trim())) return [400, fx.err400];
      page = Number(pageRaw.trim());
      if (page < 1 || page > MAX_PAGE) return [400, fx.err400];
    }
    const c = catalogs[kind];
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
    const total = Math.max(0, hi - lo);
    const start = lo + (page - 1) * PAGE_SIZE;
    const end = Math.min(hi, start + PAGE_SIZE);
    const results: JsonObject[] = [];
    for (let k = start; k < end; k++) results.push(synthDiscoverItem(c, idx ? idx[k]! : k, fx));
    return [200, JSON.stringify({ page, results, total_pages: Math.ceil(total / PAGE_SIZE), total_results: total })];
  };

  /** Title (movie) or name (tv) of catalog entry i, as discover and search serve it. */
  const titleOf = (c: Catalog, i: number): string => {
    const item = synthDiscoverItem(c, i, fx);
    return `${String(item.title ?? item.name ?? '')}\u0000${String(item.original_title ?? item.original_name ?? '')}`;
  };
  const searchCache = new Map<string, Int32Array>();

  /** GET /search/{kind}?query=…&page=…: titles containing the query, case-insensitive, 20 a page. */
  const handleSearch = (kind: Kind, q: URLSearchParams): [number, string] => {
    const query = (q.get('query') ?? '').trim().toLowerCase();
    if (query === '') return [422, ERR_QUERY_MISSING];
    const pageRaw = (q.get('page') ?? '1').trim() || '1';
    if (!/^\d+$/.test(pageRaw)) return [400, fx.err400];
    const page = Number(pageRaw);
    if (page < 1 || page > MAX_PAGE) return [400, fx.err400];
    const c = catalogs[kind];
    const key = `${kind}:${query}`;
    let hits = searchCache.get(key);
    if (!hits) {
      const found: number[] = [];
      for (let i = 0; i < c.size; i++) if (titleOf(c, i).toLowerCase().includes(query)) found.push(i);
      hits = Int32Array.from(found);
      searchCache.set(key, hits);
    }
    const results: JsonObject[] = [];
    for (let k = (page - 1) * PAGE_SIZE; k < Math.min(hits.length, page * PAGE_SIZE); k++) {
      results.push(synthDiscoverItem(c, hits[k]!, fx));
    }
    return [200, JSON.stringify({ page, results, total_pages: Math.ceil(hits.length / PAGE_SIZE), total_results: hits.length })];
  };

  /** GET /find/{imdb_id}?external_source=imdb_id: the titles with that IMDB id, by kind. */
  const handleFind = (externalId: string, q: URLSearchParams): [number, string] => {
    if (q.get('external_source') !== 'imdb_id') {
      return [422, '{"success":false,"status_code":5,"status_message":"Invalid parameters: Your request parameters are incorrect."}'];
    }
    const matches = (kind: Kind): JsonObject[] => {
      const c = catalogs[kind];
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
    return [
      200,
      JSON.stringify({
        movie_results: matches('movie'),
        person_results: [],
        tv_results: matches('tv'),
        tv_episode_results: [],
        tv_season_results: [],
      }),
    ];
  };

  const handleDetails = (kind: Kind, id: number, q: URLSearchParams): [number, string] => {
    if (faults.notFound.has(id)) return [404, fx.err404];
    if (faults.failing.has(id)) {
      return [500, '{"success":false,"status_code":11,"status_message":"Internal error: Something went wrong, contact TMDB."}'];
    }
    const append = (q.get('append_to_response') ?? '').split(',').map((s) => s.trim());
    const withExt = append.includes('external_ids');
    let doc: JsonObject | undefined;
    if (recorded && kind === 'movie' && fx.movieDetails.has(id)) {
      const rec = fx.movieDetails.get(id)!;
      doc = withExt
        ? { ...rec, external_ids: id === 550 ? fx.movie550ExternalIds : synthExternalIds('movie', id, rec.imdb_id ?? null) }
        : rec;
    } else if (recorded && kind === 'tv' && id === (fx.tv1399.id as number)) {
      if (withExt) doc = fx.tv1399;
      else {
        const { external_ids: _e, ...rest } = fx.tv1399;
        void _e;
        doc = rest;
      }
    } else {
      const c = catalogs[kind];
      const i = c.lookup(id);
      if (i < 0) return [404, fx.err404];
      doc = synthDetails(c, i, fx);
      if (withExt) doc.external_ids = synthExternalIds(kind, id);
    }
    stats.detailsOkTimestamps.push(Date.now());
    const key = `${kind}:${id}`;
    stats.detailsIdsServed[key] = (stats.detailsIdsServed[key] ?? 0) + 1;
    return [200, JSON.stringify(doc)];
  };

  const server = createServer((req, res) => {
    stats.requests++;
    inFlight++;
    if (inFlight > stats.maxInFlight) stats.maxInFlight = inFlight;
    res.once('close', () => {
      inFlight--;
    });
    req.resume();

    const rawUrl = req.url ?? '/';
    const qi = rawUrl.indexOf('?');
    const pathname = qi < 0 ? rawUrl : rawUrl.slice(0, qi);
    const q = new URLSearchParams(qi < 0 ? '' : rawUrl.slice(qi + 1));

    const discover = DISCOVER_RE.exec(pathname);
    const details = discover ? null : DETAILS_RE.exec(pathname);
    const search = SEARCH_RE.exec(pathname);
    const find = FIND_RE.exec(pathname);
    if (discover) stats.discoverRequests++;
    if (details) stats.detailsRequests++;

    if (!authorized(req, q)) {
      send(res, 401, fx.err401);
      return;
    }

    // Rate limit: sliding 1 s window over all authorized requests.
    const now = Date.now();
    window.push(now);
    while (windowHead < window.length && window[windowHead]! <= now - 1000) windowHead++;
    if (windowHead > 4096 && windowHead * 2 > window.length) {
      window = window.slice(windowHead);
      windowHead = 0;
    }
    const rl = faults.rateLimit;
    if (rl) {
      const inWindow = window.length - windowHead;
      if (inWindow > rl.rps) {
        const body = JSON.stringify({
          success: false,
          status_code: 25,
          status_message: `Your request count (${inWindow}) is over the allowed limit of ${rl.rps}.`,
        });
        send(res, 429, body, { 'Retry-After': String(rl.retryAfterSec ?? 1) });
        return;
      }
    }

    if (faults.dropRate > 0 && rand() < faults.dropRate) {
      count('dropped');
      req.socket.destroy();
      return;
    }
    if (faults.errorRate > 0 && rand() < faults.errorRate) {
      const status = [500, 502, 503][Math.floor(rand() * 3)] ?? 500;
      send(res, status, ERR_5XX);
      return;
    }
    if (faults.stallRate > 0 && rand() < faults.stallRate) {
      // Headers never come (until the socket closes): the client's headers timeout must fire.
      count('stalled');
      const t = setTimeout(() => {
        timers.delete(t);
        req.socket.destroy();
      }, 60_000);
      timers.add(t);
      return;
    }
    if (faults.garbageRate > 0 && rand() < faults.garbageRate) {
      // A 200 whose body is cut short or is not JSON at all (a proxy's HTML error page).
      count('garbage');
      send(res, 200, rand() < 0.5 ? '{"adult":false,"backdrop_path":"/kJaRWmy1B' : '<html><body>Bad gateway</body></html>');
      return;
    }

    const answer = (): void => {
      if (res.destroyed) {
        count('aborted');
        return;
      }
      let result: [number, string];
      if (req.method !== 'GET' && req.method !== 'HEAD') result = [404, fx.err404];
      else if (discover) result = handleDiscover(discover[1] as Kind, q);
      else if (details) result = handleDetails(details[1] as Kind, Number(details[2]), q);
      else if (search) result = handleSearch(search[1] as Kind, q);
      else if (find) result = handleFind(decodeURIComponent(find[1] ?? ''), q);
      else result = [404, fx.err404];
      send(res, result[0], result[1]);
    };

    const lat = faults.latencyMs;
    const delay = Array.isArray(lat) ? lat[0] + rand() * (lat[1] - lat[0]) : lat;
    if (delay > 0) {
      const t = setTimeout(() => {
        timers.delete(t);
        answer();
      }, delay);
      timers.add(t);
    } else {
      answer();
    }
  });
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/3`,
    titles: (kind) => materializeTitles(catalogs[kind]),
    stats: () => ({
      ...stats,
      byStatus: { ...stats.byStatus },
      detailsOkTimestamps: stats.detailsOkTimestamps.slice(),
      detailsIdsServed: { ...stats.detailsIdsServed },
    }),
    resetStats: () => {
      stats = emptyStats();
      stats.maxInFlight = inFlight;
    },
    configure: (patch) => {
      if ('token' in patch && patch.token !== undefined) faults.token = patch.token;
      if ('latencyMs' in patch) faults.latencyMs = patch.latencyMs ?? 0;
      if ('errorRate' in patch) faults.errorRate = patch.errorRate ?? 0;
      if ('garbageRate' in patch) faults.garbageRate = patch.garbageRate ?? 0;
      if ('stallRate' in patch) faults.stallRate = patch.stallRate ?? 0;
      if ('dropRate' in patch) faults.dropRate = patch.dropRate ?? 0;
      if ('rateLimit' in patch) {
        faults.rateLimit = patch.rateLimit;
        window = [];
        windowHead = 0;
      }
      if ('notFoundIds' in patch) faults.notFound = new Set(patch.notFoundIds ?? []);
      if ('failingIds' in patch) faults.failing = new Set(patch.failingIds ?? []);
    },
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
