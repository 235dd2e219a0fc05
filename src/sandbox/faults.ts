/**
 * What the sandbox does to a request besides answering it: the credential it accepts, TMDB's
 * own rate limit (429 with `Retry-After`, status_code 25), latency, and the faults tests inject
 * (5xx, dropped sockets, hanging requests, garbage bodies, ids and pages that fail for good),
 * drawn from a seeded PRNG so a run is reproducible.
 */

/**
 * A discover page that always answers 500: page `page` of `GET /discover/{kind}` whenever the
 * request carries every query parameter of `where` with that value (no `where`: any query).
 */
export interface FailingPage {
  kind: 'movie' | 'tv';
  page: number;
  where?: Record<string, string>;
}

/** TMDB's own limit: more than `rps` requests in any sliding 1 s window get 429 + `Retry-After: retryAfterSec` (default 1). */
export interface RateLimit {
  rps: number;
  retryAfterSec?: number;
}

/** Fault options of a sandbox (all can be changed while it runs). */
export interface FaultOptions {
  /** Bearer token accepted (Authorization: Bearer <token>); also accepted as ?api_key=<token>. Default 'test-token'. */
  token?: string;
  /** Ids that appear in discover results but answer 404 (status_code 34) on details. */
  notFoundIds?: number[];
  /** Ids whose details always answer 500 (status_code 11): jobs that keep failing. */
  failingIds?: number[];
  /** Discover pages that always answer 500 (status_code 11): pages that fail for good. */
  failingPages?: FailingPage[];
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
  /** TMDB's own limit. Default: none. */
  rateLimit?: RateLimit;
}

/** The fault settings in force. */
export interface FaultSettings {
  token: string;
  latencyMs: number | [number, number];
  errorRate: number;
  garbageRate: number;
  stallRate: number;
  dropRate: number;
  rateLimit: RateLimit | undefined;
  notFound: Set<number>;
  failing: Set<number>;
  failingPages: FailingPage[];
}

/** TMDB's body for a 5xx (status_code 11). */
export const ERR_5XX = '{"success":false,"status_code":11,"status_message":"Internal error: Something went wrong, contact TMDB."}';

/** The settings of `options`, defaults filled in. */
export function faultSettings(options: FaultOptions): FaultSettings {
  return {
    token: options.token ?? 'test-token',
    latencyMs: options.latencyMs ?? 0,
    errorRate: options.errorRate ?? 0,
    garbageRate: options.garbageRate ?? 0,
    stallRate: options.stallRate ?? 0,
    dropRate: options.dropRate ?? 0,
    rateLimit: options.rateLimit,
    notFound: new Set(options.notFoundIds ?? []),
    failing: new Set(options.failingIds ?? []),
    failingPages: options.failingPages ?? [],
  };
}

/**
 * Applies the options present in `patch` (a key present with `undefined` resets it to its
 * default).
 * @returns true when the rate limit changed (its window starts afresh).
 */
export function patchFaults(settings: FaultSettings, patch: FaultOptions): boolean {
  if (patch.token !== undefined) settings.token = patch.token;
  if ('latencyMs' in patch) settings.latencyMs = patch.latencyMs ?? 0;
  if ('errorRate' in patch) settings.errorRate = patch.errorRate ?? 0;
  if ('garbageRate' in patch) settings.garbageRate = patch.garbageRate ?? 0;
  if ('stallRate' in patch) settings.stallRate = patch.stallRate ?? 0;
  if ('dropRate' in patch) settings.dropRate = patch.dropRate ?? 0;
  if ('notFoundIds' in patch) settings.notFound = new Set(patch.notFoundIds ?? []);
  if ('failingIds' in patch) settings.failing = new Set(patch.failingIds ?? []);
  if ('failingPages' in patch) settings.failingPages = patch.failingPages ?? [];
  if (!('rateLimit' in patch)) return false;
  settings.rateLimit = patch.rateLimit;
  return true;
}

/** Times of the authorized requests of the last second (a ring trimmed as it goes). */
export class RateWindow {
  private times: number[] = [];
  private head = 0;

  /**
   * Counts a request at `now` (ms).
   * @returns the 429 body when the requests of the last second exceed `limit`, else undefined.
   */
  admit(now: number, limit: RateLimit | undefined): string | undefined {
    this.times.push(now);
    while (this.head < this.times.length && this.times[this.head]! <= now - 1000) this.head++;
    if (this.head > 4096 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    const inWindow = this.times.length - this.head;
    if (!limit || inWindow <= limit.rps) return undefined;
    return JSON.stringify({
      success: false,
      status_code: 25,
      status_message: `Your request count (${inWindow}) is over the allowed limit of ${limit.rps}.`,
    });
  }

  /** Forgets every request (a new limit). */
  clear(): void {
    this.times = [];
    this.head = 0;
  }
}

/** An injected fault: a dropped socket, a 5xx status, a request that hangs, a garbage body. */
export type Fault = { kind: 'drop' } | { kind: 'error'; status: number } | { kind: 'stall' } | { kind: 'garbage'; body: string };

/** The fault (if any) that hits the next request, drawn from `rand` in a fixed order. */
export function pickFault(settings: FaultSettings, rand: () => number): Fault | undefined {
  if (settings.dropRate > 0 && rand() < settings.dropRate) return { kind: 'drop' };
  if (settings.errorRate > 0 && rand() < settings.errorRate) {
    return { kind: 'error', status: [500, 502, 503][Math.floor(rand() * 3)] ?? 500 };
  }
  if (settings.stallRate > 0 && rand() < settings.stallRate) return { kind: 'stall' };
  if (settings.garbageRate > 0 && rand() < settings.garbageRate) {
    // A 200 whose body is cut short or is not JSON at all (a proxy's HTML error page).
    return { kind: 'garbage', body: rand() < 0.5 ? '{"adult":false,"backdrop_path":"/kJaRWmy1B' : '<html><body>Bad gateway</body></html>' };
  }
  return undefined;
}

/** The latency of the next request, ms. */
export function latencyOf(settings: FaultSettings, rand: () => number): number {
  const lat = settings.latencyMs;
  return Array.isArray(lat) ? lat[0] + rand() * (lat[1] - lat[0]) : lat;
}
