/**
 * Shapes of the TMDB API v3 responses the fleet reads (see src/sandbox/fixtures/tmdb). Only the
 * fields we act on are typed; documents are stored as TMDB sent them.
 */

/** `GET /discover/movie` and `GET /discover/tv`: one page of at most 20 results. */
export interface DiscoverPage {
  page: number;
  results: { id: number }[];
  total_pages: number;
  total_results: number;
}

/** A details document (`GET /movie/{id}` or `/tv/{id}` with `append_to_response=external_ids`). */
export interface DetailsDocument {
  id: number;
  [field: string]: unknown;
}

/** TMDB error envelope: `{status_code, status_message, success}` (API v3 docs, "Errors"). */
export interface TmdbErrorBody {
  status_code?: number;
  status_message?: string;
}

/** TMDB serves at most this many pages of a query (status_code 22 beyond). */
export const MAX_PAGES = 500;
/** Results per discover page. */
export const PAGE_SIZE = 20;
/** The most results one discover query can reach: 500 pages × 20. */
export const MAX_RESULTS = MAX_PAGES * PAGE_SIZE;
/** Results per page of `GET /movie/changes` and `GET /tv/changes`. */
export const CHANGES_PAGE_SIZE = 100;

/** Results per page of a run's listing: 100 for the changes feed, else 20 (discover, search). */
export function pageSizeOf(source: string | undefined): number {
  return source === 'changes' ? CHANGES_PAGE_SIZE : PAGE_SIZE;
}

/** Checks the shape of a discover page. */
export function isDiscoverPage(value: unknown): value is DiscoverPage {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.page === 'number' &&
    typeof v.total_pages === 'number' &&
    typeof v.total_results === 'number' &&
    Array.isArray(v.results) &&
    v.results.every(
      (r) => typeof r === 'object' && r !== null && typeof (r as { id?: unknown }).id === 'number',
    )
  );
}

/** Checks the shape of a details document. */
export function isDetailsDocument(value: unknown): value is DetailsDocument {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { id?: unknown }).id === 'number'
  );
}
