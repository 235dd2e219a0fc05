/**
 * The recorded TMDB documents the sandbox serves and shapes its synthetic ones after: real
 * TMDB v3 response bodies in `src/sandbox/fixtures/tmdb` (their sources in its `README.md`,
 * TMDB's documented behaviour in its `API-NOTES.md`) and the constructed Bourne details in
 * `src/sandbox/fixtures/bourne`. The build copies both folders next to the compiled module
 * (`dist/src/sandbox/fixtures`), so the shipped CLI finds them where the sources do.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The recorded TMDB bodies (one response body a file). */
export const RECORDED_DIR = fileURLToPath(new URL('./fixtures/tmdb/', import.meta.url));
/** The constructed Bourne saga details (2502, 2503, 49040, 324668) in 2501's shape. */
export const BOURNE_DIR = fileURLToPath(new URL('./fixtures/bourne/', import.meta.url));

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A JSON object. */
export type JsonObject = { [key: string]: Json };

/** What the sandbox reads from the fixtures, parsed once per process. */
export interface Fixtures {
  /** `GET /discover/movie` page 1 results (recorded). */
  discoverMovie: JsonObject[];
  /** `GET /discover/tv` page 1 results (recorded). */
  discoverTv: JsonObject[];
  /** Movie details by id: 550, 348, 2501 recorded; 2502, 2503, 49040, 324668 constructed. */
  movieDetails: Map<number, JsonObject>;
  /** `GET /movie/550/external_ids` without its `id`, as `append_to_response` nests it. */
  movie550ExternalIds: JsonObject;
  /** `GET /tv/1399?append_to_response=external_ids` (recorded). */
  tv1399: JsonObject;
  /** movie-550 with `origin_country` after `imdb_id` (TMDB's key order): synthetic movies' shape. */
  movieTemplate: JsonObject;
  /** tv-1399 without external_ids: synthetic shows' shape. */
  tvTemplate: JsonObject;
  /** Error bodies as TMDB sends them: 400 invalid page, 401 invalid key, 404, 422 invalid date range. */
  err400: string;
  err401: string;
  err404: string;
  err422DateRange: string;
}

let cache: Fixtures | undefined;

const readJson = (dir: string, name: string): JsonObject => JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as JsonObject;

/**
 * The fixtures, read from {@link RECORDED_DIR} and {@link BOURNE_DIR} on first use.
 * @throws the file system's error when a fixture is missing (a broken install).
 */
export function loadFixtures(): Fixtures {
  if (cache) return cache;
  const read = (name: string): JsonObject => readJson(RECORDED_DIR, name);
  const resultsOf = (doc: JsonObject): JsonObject[] => (doc.results as JsonObject[] | undefined) ?? [];
  const m550 = read('movie-550.json');
  const movieDetails = new Map<number, JsonObject>([
    [550, m550],
    [348, read('movie-348.json')],
    [2501, read('movie-2501.json')],
  ]);
  for (const id of [2502, 2503, 49040, 324668]) movieDetails.set(id, readJson(BOURNE_DIR, `movie-${id}.json`));
  const { id: _id, ...ext550 } = read('movie-550-external_ids.json');
  void _id;
  // movie-550.json predates origin_country; insert it after imdb_id as TMDB orders it.
  const movieTemplate: JsonObject = {};
  for (const [k, v] of Object.entries(m550)) {
    movieTemplate[k] = v;
    if (k === 'imdb_id') movieTemplate.origin_country = ['US'];
  }
  const { external_ids: _ext, ...tvTemplate } = read('tv-1399.json');
  void _ext;
  cache = {
    discoverMovie: resultsOf(read('discover-movie-page1.json')),
    discoverTv: resultsOf(read('discover-tv-page1.json')),
    movieDetails,
    movie550ExternalIds: ext550,
    tv1399: read('tv-1399-append-external_ids.json'),
    movieTemplate,
    tvTemplate,
    err400: JSON.stringify(read('error-400-invalid-page.json')),
    err401: JSON.stringify(read('error-401-invalid-api-key.json')),
    err404: JSON.stringify(read('error-404-resource-not-found.json')),
    err422DateRange: JSON.stringify(read('error-422-invalid-date-range.json')),
  };
  return cache;
}
