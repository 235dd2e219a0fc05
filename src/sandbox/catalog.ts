/**
 * The sandbox's catalog per kind: which titles exist, their dates, vote counts and original
 * languages, sorted as TMDB's discover serves them with the fleet's date filter (date, then id;
 * undated titles first). Generated deterministically from a seed (typed arrays, so a million
 * titles is a few MB), given explicitly, or taken from the recorded discover pages.
 */
import type { Fixtures, JsonObject } from './fixtures.js';
import { NO_DATE, formatDay, parseDay } from './days.js';
import { mulberry32 } from './prng.js';

/** A title kind, as TMDB's paths name it. */
export type Kind = 'movie' | 'tv';

/** One title of a catalog. */
export interface FakeTitle {
  /** TMDB id */
  id: number;
  /** YYYY-MM-DD release / first air date */
  date: string;
  /** vote_count, what discover's vote filters read */
  voteCount: number;
  /** original_language, ISO 639-1 */
  originalLanguage: string;
}

/** A generated catalog: `count` dated titles in [from, to], plus `undated` without a date (default 0). */
export interface GeneratedCatalog {
  count: number;
  /** YYYY-MM-DD, inclusive */
  from: string;
  /** YYYY-MM-DD, inclusive */
  to: string;
  /** PRNG seed. @defaultValue 1 (movie), 2 (tv) */
  seed?: number;
  undated?: number;
}

/** How a kind's catalog is made: generated, or these titles. */
export type CatalogOption = GeneratedCatalog | { titles: FakeTitle[] };

/** sort key of a generated title = (day - first day) * ID_SHIFT + id */
const ID_SHIFT = 2 ** 25;

const LANGS = ['en', 'fr', 'es', 'de', 'ja', 'it', 'ko', 'zh', 'pt', 'ru', 'hi', 'sv'];
const LANG_WEIGHTS = [0.5, 0.07, 0.07, 0.06, 0.06, 0.04, 0.04, 0.04, 0.04, 0.03, 0.03, 0.02];

/** A kind's titles as parallel typed arrays, sorted by day then id (undated first). */
export interface Catalog {
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
  /** Vote and language filters already computed (see discover.ts), at most 64. */
  filterCache: Map<string, Int32Array>;
  titlesCache?: FakeTitle[];
}

/** id → index in the catalog (-1: none): a dense array when ids are dense, else a Map. */
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

/**
 * `count` titles with ids a seeded permutation of 1..count (unrelated to dates), days uniform in
 * [from, to], vote counts long-tailed (85 % under 51) and languages weighted like TMDB's.
 * @throws Error naming the kind and the bad range or count.
 */
function generateCatalog(kind: Kind, count: number, from: string, to: string, seed: number): Catalog {
  const fromDay = parseDay(from);
  const toDay = parseDay(to);
  if (fromDay === undefined || toDay === undefined || toDay < fromDay) {
    throw new Error(`sandbox: invalid ${kind} date range ${from}..${to}`);
  }
  if (!Number.isInteger(count) || count < 0 || count >= ID_SHIFT) {
    throw new Error(`sandbox: invalid ${kind} count ${count}`);
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

/** A catalog of exactly these titles (first of each id kept); `recordedItems` are served as they are. */
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

/** The titles of the recorded discover pages and recorded details (their own discover items). */
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

/**
 * A kind's catalog: `opt`'s titles or generated ones; without `opt`, the recorded titles when
 * `recorded`, else none.
 */
export function buildCatalog(kind: Kind, opt: CatalogOption | undefined, recorded: boolean, fx: Fixtures): Catalog {
  if (opt && 'titles' in opt) return catalogFromTitles(kind, opt.titles);
  if (opt) return withUndated(generateCatalog(kind, opt.count, opt.from, opt.to, opt.seed ?? (kind === 'movie' ? 1 : 2)), opt.undated ?? 0);
  if (recorded) return recordedCatalog(kind, fx);
  return catalogFromTitles(kind, []);
}

/** Adds `n` undated titles (ids after the catalog's, votes 0-50) in front, where a date sort puts them. */
function withUndated(c: Catalog, n: number): Catalog {
  if (n === 0) return c;
  const rand = mulberry32(c.size + n);
  const prepend = <T extends Int32Array | Uint16Array>(arr: T, head: (i: number) => number): T => {
    const out = new (arr.constructor as new (n: number) => T)(arr.length + n);
    for (let i = 0; i < n; i++) out[i] = head(i);
    out.set(arr, n);
    return out;
  };
  const ids = prepend(c.ids, (i) => c.size + 1 + i);
  return {
    ...c,
    size: c.size + n,
    ids,
    days: prepend(c.days, () => NO_DATE),
    votes: prepend(c.votes, () => Math.floor(rand() * 51)),
    langIdx: prepend(c.langIdx, () => 0),
    lookup: makeLookup(ids),
    filterCache: new Map(),
  };
}

/** YYYY-MM-DD of entry `i` (`''` when undated; an explicit title's date verbatim). */
export function dateOf(c: Catalog, i: number): string {
  return c.dateStrings ? c.dateStrings[i]! : formatDay(c.days[i]!);
}

/** The catalog as titles, in discover's order (copies). */
export function materializeTitles(c: Catalog): FakeTitle[] {
  if (!c.titlesCache) {
    const out: FakeTitle[] = new Array<FakeTitle>(c.size);
    for (let i = 0; i < c.size; i++) {
      out[i] = { id: c.ids[i]!, date: dateOf(c, i), voteCount: c.votes[i]!, originalLanguage: c.langs[c.langIdx[i]!]! };
    }
    c.titlesCache = out;
  }
  return c.titlesCache.map((t) => ({ ...t }));
}

/** First position (of `idx`, or of the catalog) whose day is ≥ `day`. */
export function lowerBound(c: Catalog, idx: Int32Array | undefined, n: number, day: number): number {
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

