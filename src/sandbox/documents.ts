/**
 * The documents the sandbox serves for a catalog entry, shaped exactly like the recorded ones
 * (same keys, order and value types): a discover (search, find) result item, a details
 * document and its `external_ids`. Values derive from the id (a hash), so every request for a
 * title gets the same document: `imdb_id` is `tt` + the id padded to 7 digits.
 */
import { dateOf, type Catalog, type FakeTitle, type Kind } from './catalog.js';
import type { Fixtures, Json, JsonObject } from './fixtures.js';

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

/** The title (movie) or name (tv) of a synthetic title: `Synthetic Movie 12`, `Synthetic Show 7`. */
export function synthTitle(kind: Kind, id: number): string {
  return `${kind === 'movie' ? 'Synthetic Movie' : 'Synthetic Show'} ${id}`;
}

/** The IMDB id of a synthetic title: `tt` and the TMDB id, 7 digits at least. */
export function imdbId(id: number): string {
  return `tt${String(id).padStart(7, '0')}`;
}

function synthPopularity(id: number, votes: number): number {
  return floatish(0.6 + Math.log1p(votes) * 3 + hash01(id, 1) * 20, 3);
}

function synthVoteAverage(id: number, votes: number): number {
  return votes === 0 ? 0 : floatish(3 + hash01(id, 2) * 6, 3);
}

/** Discover (search, find) result item of entry `i`: a recorded item as recorded, else the recorded shape with this title's values. */
export function synthDiscoverItem(c: Catalog, i: number, fx: Fixtures): JsonObject {
  const id = c.ids[i]!;
  const recorded = c.recordedItems.get(id);
  if (recorded) return recorded;
  const votes = c.votes[i]!;
  const lang = c.langs[c.langIdx[i]!]!;
  const date = dateOf(c, i);
  if (c.kind === 'movie') {
    const tpl = fx.discoverMovie[0] ?? {};
    const title = synthTitle('movie', id);
    return {
      ...tpl, id, original_language: lang, original_title: title, popularity: synthPopularity(id, votes),
      release_date: date, title, vote_average: synthVoteAverage(id, votes), vote_count: votes,
    };
  }
  const tpl = fx.discoverTv[0] ?? {};
  const name = synthTitle('tv', id);
  return {
    ...tpl, first_air_date: date, id, name, original_language: lang, original_name: name,
    popularity: synthPopularity(id, votes), vote_average: synthVoteAverage(id, votes), vote_count: votes,
  };
}

/** `genre_ids` as details' `genres` ({id, name}). */
function genresFrom(ids: Json | undefined, table: Record<number, string>): Json[] {
  if (!Array.isArray(ids)) return [];
  return ids.map((g) => ({ id: g, name: typeof g === 'number' ? (table[g] ?? 'Unknown') : 'Unknown' }));
}

/** Details document of entry `i` (`GET /{kind}/{id}` without append_to_response). */
export function synthDetails(c: Catalog, i: number, fx: Fixtures): JsonObject {
  const id = c.ids[i]!;
  const votes = c.votes[i]!;
  const lang = c.langs[c.langIdx[i]!]!;
  const date = dateOf(c, i);
  const rec = c.recordedItems.get(id);
  if (c.kind === 'movie') {
    const budget = hash01(id, 3) < 0.4 ? 0 : Math.round(hash01(id, 4) * 200) * 500_000;
    const revenue = budget === 0 ? 0 : Math.round(budget * (0.2 + hash01(id, 5) * 4));
    const title = synthTitle('movie', id);
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
  const name = synthTitle('tv', id);
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

/** The `external_ids` appended to details (no `id` key, as TMDB nests it). */
export function synthExternalIds(kind: Kind, id: number, imdb: Json = imdbId(id)): JsonObject {
  if (kind === 'movie') {
    return { imdb_id: imdb, wikidata_id: null, facebook_id: null, instagram_id: null, twitter_id: null };
  }
  return {
    imdb_id: imdb, freebase_mid: null, freebase_id: null, tvdb_id: 100_000 + id, tvrage_id: null,
    wikidata_id: null, facebook_id: null, instagram_id: null, twitter_id: null,
  };
}

/**
 * A synthetic title as a line of TMDB's daily ID export, with the values its documents carry:
 * movie `{"adult":false,"id":…,"original_title":…,"popularity":…,"video":false}`, tv
 * `{"id":…,"original_name":…,"popularity":…}` (src/sandbox/fixtures/tmdb/API-NOTES.md §8).
 */
export function exportLine(kind: Kind, t: FakeTitle): string {
  const popularity = synthPopularity(t.id, t.voteCount);
  const name = synthTitle(kind, t.id);
  return kind === 'movie'
    ? JSON.stringify({ adult: false, id: t.id, original_title: name, popularity, video: false })
    : JSON.stringify({ id: t.id, original_name: name, popularity });
}
