/**
 * What a running sandbox holds and counts: its catalogs, fixtures, fault settings and feeds,
 * and the statistics tests and benchmarks read (requests by status, details served per id).
 */
import type { Catalog, Kind } from './catalog.js';
import type { FaultSettings } from './faults.js';
import { emptyFeedStats, type FeedOptions, type FeedStats } from './feeds.js';
import type { Fixtures } from './fixtures.js';

/** What a sandbox served since it started (or since its stats were reset). */
export interface FakeTmdbStats extends FeedStats {
  /** all requests received */
  requests: number;
  /** e.g. {"200": 10, "404": 1, "429": 2, "dropped": 1} */
  byStatus: Record<string, number>;
  discoverRequests: number;
  detailsRequests: number;
  /** Date.now() of each 200 details response (for rate measurement); empty unless `recordRequests` */
  detailsOkTimestamps: number[];
  maxInFlight: number;
  /** "movie:550" -> times a 200 details doc was served */
  detailsIdsServed: Record<string, number>;
  /** "movie:550" -> Date.now() of the last 200 details doc served */
  detailsServedAt: Record<string, number>;
}

/** Zeroed statistics. */
export function emptyStats(): FakeTmdbStats {
  return {
    requests: 0, byStatus: {}, discoverRequests: 0, detailsRequests: 0,
    detailsOkTimestamps: [], maxInFlight: 0, detailsIdsServed: {}, detailsServedAt: {}, ...emptyFeedStats(),
  };
}

/** Everything the API routes read and count (fields replaced while the sandbox runs are read anew each request). */
export interface ApiState {
  fx: Fixtures;
  catalogs: Record<Kind, Catalog>;
  /** Serve the recorded documents for their ids. */
  recorded: boolean;
  faults: FaultSettings;
  feeds: FeedOptions;
  stats: FakeTmdbStats;
  /** Keep a timestamp per details answer (tests and benchmarks measure rates with them). */
  recordRequests: boolean;
  /** Search hits by `kind:query`, at most 64 queries. */
  searchCache: Map<string, Int32Array>;
}

/** Cached filter results kept per catalog or search cache. */
export const MAX_CACHED = 64;

/** `value` under `key` in `cache`, evicting the oldest entry past {@link MAX_CACHED}. */
export function remember<T>(cache: Map<string, T>, key: string, value: T): T {
  cache.set(key, value);
  if (cache.size > MAX_CACHED) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return value;
}
