/**
 * TMDB API v3 client over undici: every request passes the fleet-wide limiter, carries the
 * credential (Bearer header or `api_key` query parameter, never logged) and maps answers to
 * typed errors: 401 → {@link TmdbAuthError}, 404 → {@link TmdbNotFoundError}, 429 → fleet-wide
 * pause for Retry-After then the same request again (no attempt spent), 5xx / reset / timeout /
 * unreadable body → {@link TmdbTransientError} (the queue retries with backoff and jitter).
 */
import pRetry from 'p-retry';
import { Agent, request, errors as undiciErrors } from 'undici';
import type { TmdbCredential } from '../config.js';
import {
  ConfigError,
  TmdbAuthError,
  TmdbNotFoundError,
  TmdbRequestError,
  TmdbTransientError,
} from '../errors.js';
import type { ProcessMetrics } from '../metrics/process.js';
import type { RequestGate } from './limiter.js';
import type { TmdbErrorBody } from './types.js';

/** Options of {@link TmdbClient}. */
export interface TmdbClientOptions {
  /** API base, e.g. https://api.themoviedb.org/3 */
  baseUrl: string;
  credential: TmdbCredential;
  /** The fleet's FleetRateLimiter (or, for a single request, SINGLE_REQUEST_GATE). */
  limiter: RequestGate;
  /** `language` query parameter sent with every request, if set. */
  language?: string | undefined;
  /** undici headersTimeout and bodyTimeout, ms. */
  timeoutMs: number;
  /** Most 429s in a row for one request before giving up with a transient error. @defaultValue 20 */
  max429?: number;
  /** Called on every 429 (for metrics and logs). */
  on429?: (retryAfterMs: number) => void;
  /** Where requests, latencies, limiter waits and 429 pauses are counted. */
  metrics?: ProcessMetrics | undefined;
}

/** Query parameters of a TMDB request. */
export type Query = Record<string, string | number | undefined>;

/** Retries of a request made outside a job ({@link TmdbClient.getRetrying}) after a transient failure. */
export const ONE_SHOT_RETRIES = 4;

/** Default pause on a 429 without a usable Retry-After header, ms. */
const DEFAULT_RETRY_AFTER_MS = 1_000;

export class TmdbClient {
  private readonly agent: Agent;
  private readonly options: TmdbClientOptions;

  constructor(options: TmdbClientOptions) {
    this.options = options;
    this.agent = new Agent({
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connectTimeout: Math.min(options.timeoutMs, 10_000),
      keepAliveTimeout: 10_000,
      connections: 128,
    });
  }

  /**
   * GET `<baseUrl><path>?<query>` and parse the JSON body.
   * @param path - e.g. `/discover/movie`, `/movie/550`
   * @throws TmdbAuthError, TmdbNotFoundError, TmdbRequestError, TmdbTransientError
   */
  async get(path: string, query: Query = {}): Promise<unknown> {
    const url = new URL(this.options.baseUrl + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    if (this.options.language) url.searchParams.set('language', this.options.language);
    const headers: Record<string, string> = { accept: 'application/json' };
    const credential = this.options.credential;
    if (credential.kind === 'bearer') headers.authorization = `Bearer ${credential.token}`;
    else url.searchParams.set('api_key', credential.key);

    const max429 = this.options.max429 ?? 20;
    const metrics = this.options.metrics;
    const endpoint = endpointTemplate(path);
    for (let hit = 0; ; hit++) {
      const asked = performance.now();
      const answer = await this.options.limiter.schedule(() => {
        metrics?.limiterWait((performance.now() - asked) / 1_000);
        return this.send(url, headers, path, endpoint);
      });
      if (answer.status !== 429) return this.interpret(answer, path);
      const retryAfterMs = parseRetryAfter(answer.retryAfter);
      this.options.on429?.(retryAfterMs);
      metrics?.fleetPaused(retryAfterMs / 1_000);
      if (hit + 1 >= max429) {
        throw new TmdbTransientError(`TMDB answered 429 ${max429} times in a row for ${path}`, 429);
      }
      await this.options.limiter.pauseFleet(retryAfterMs);
    }
  }

  /**
   * {@link get} for a request made outside a job (a command's pre-flight or plan), which has no
   * queue to retry it: a transient failure (5xx, reset, timeout, unreadable body) is retried by
   * p-retry, {@link ONE_SHOT_RETRIES} times, 0.5 s doubling; every attempt goes through the
   * limiter. Jobs call {@link get}: their queue retries them.
   * @throws as {@link get}; TmdbTransientError once the retries are spent.
   */
  getRetrying(path: string, query: Query = {}): Promise<unknown> {
    return pRetry(() => this.get(path, query), {
      retries: ONE_SHOT_RETRIES,
      minTimeout: 500,
      shouldRetry: ({ error }) => error instanceof TmdbTransientError,
    });
  }

  /**
   * Checks the base URL and the credential with one request ({@link getRetrying}) and returns
   * its answer: `GET /configuration` (TMDB's API configuration; it needs a valid credential and
   * nothing else) by default, or the first request a command needs anyway (a backfill's page 1),
   * so the check costs no request of its own.
   * @throws ConfigError naming TMDB_API_BASE_URL when it serves no TMDB API v3 there (404);
   * TmdbAuthError (401); TmdbTransientError when TMDB cannot be reached.
   */
  async checkCredential(path = '/configuration', query: Query = {}): Promise<unknown> {
    try {
      return await this.getRetrying(path, query);
    } catch (err) {
      if (!(err instanceof TmdbNotFoundError)) throw err;
      throw new ConfigError(
        `invalid configuration:\n  TMDB_API_BASE_URL=${JSON.stringify(this.options.baseUrl)} has no TMDB API v3 (GET ${path} answered 404): expected the API base, e.g. https://api.themoviedb.org/3`,
      );
    }
  }

  /** Closes pooled connections. */
  async close(): Promise<void> {
    await this.agent.close();
  }

  private async send(
    url: URL,
    headers: Record<string, string>,
    path: string,
    endpoint: string,
  ): Promise<{ status: number; text: string; retryAfter: string | undefined }> {
    const started = performance.now();
    try {
      const res = await request(url, { method: 'GET', headers, dispatcher: this.agent });
      const text = await res.body.text();
      this.options.metrics?.tmdbRequest(endpoint, res.statusCode, (performance.now() - started) / 1_000);
      const ra = res.headers['retry-after'];
      return { status: res.statusCode, text, retryAfter: Array.isArray(ra) ? ra[0] : ra };
    } catch (err) {
      this.options.metrics?.tmdbRequest(endpoint, 'error', (performance.now() - started) / 1_000);
      const code = err instanceof undiciErrors.UndiciError ? err.code : (err as { code?: string }).code;
      throw new TmdbTransientError(`TMDB request for ${path} failed: ${code ?? String(err)}`, undefined, {
        cause: err,
      });
    }
  }

  private interpret(answer: { status: number; text: string }, path: string): unknown {
    const { status, text } = answer;
    if (status >= 200 && status < 300) {
      try {
        return JSON.parse(text);
      } catch {
        throw new TmdbTransientError(`TMDB sent an unreadable body for ${path} (${text.length} bytes)`, status);
      }
    }
    const body = parseErrorBody(text);
    const detail = body.status_message ? `: ${body.status_message}` : '';
    if (status === 401) {
      const variable = this.options.credential.kind === 'bearer' ? 'TMDB_ACCESS_TOKEN' : 'TMDB_API_KEY';
      throw new TmdbAuthError(
        `TMDB refused the credential in ${variable} (HTTP 401, status_code ${body.status_code ?? '?'}${detail}); set a valid ${variable}`,
      );
    }
    if (status === 404) throw new TmdbNotFoundError(path);
    if (status >= 500 || status === 408) {
      throw new TmdbTransientError(`TMDB answered ${status} for ${path}${detail}`, status);
    }
    throw new TmdbRequestError(status, `TMDB refused ${path} with HTTP ${status}${detail}`);
  }
}

function parseErrorBody(text: string): TmdbErrorBody {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as TmdbErrorBody) : {};
  } catch {
    return {};
  }
}

/**
 * The endpoint of a request path as a template with bounded values, for metric labels:
 * numeric segments become `{id}` and a find's external id `{external_id}`, e.g.
 * `/movie/550` → `/movie/{id}`, `/find/tt0137523` → `/find/{external_id}`; `/discover/movie`
 * stays as it is.
 */
export function endpointTemplate(path: string): string {
  const segments = path.split('?', 1)[0]?.split('/') ?? [];
  return segments
    .map((segment, i) => (segments[i - 1] === 'find' ? '{external_id}' : /\d/.test(segment) ? '{id}' : segment))
    .join('/');
}

/** Retry-After in seconds (TMDB) or an HTTP date → ms; a default when missing or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number {
  if (value === undefined) return DEFAULT_RETRY_AFTER_MS;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, 600_000);
  const date = Date.parse(value);
  if (Number.isFinite(date)) return Math.min(Math.max(date - now, 0), 600_000);
  return DEFAULT_RETRY_AFTER_MS;
}
