/**
 * The sandbox `tmdb-fleet sandbox` serves: a deterministic synthetic catalog (the same flags give
 * the same titles, documents and feeds on every machine), TMDB's daily ID exports of it for the
 * last {@link EXPORT_DAYS} days, and a changes feed over the last {@link CHANGES_DAYS} days, with
 * TMDB's own rate limit and latency if asked; the credential is {@link SANDBOX_TOKEN}.
 */
import type { FakeTitle, Kind } from './catalog.js';
import { dayOf, formatDay } from './days.js';
import { exportLine } from './documents.js';
import { exportFileName, type ExportLines, type FakeChange } from './feeds.js';
import { mulberry32 } from './prng.js';
import { startFakeTmdb, type FakeTmdb } from './server.js';

/** The credential the sandbox accepts (Bearer token or `api_key`). */
export const SANDBOX_TOKEN = 'sandbox';
/** The release (first-air) dates of the sandbox's titles, inclusive. */
export const SANDBOX_DATES = { from: '2020-01-01', to: '2024-12-31' } as const;
/** Exports are published for today (UTC) and the days before it, this many in all. */
export const EXPORT_DAYS = 3;
/** The changes feed covers this many days up to today (UTC). */
export const CHANGES_DAYS = 30;
/** Share of a kind's titles changed each day. */
const CHANGED_SHARE = 0.01;

/** What `tmdb-fleet sandbox` asks for. */
export interface SandboxOptions {
  /** TCP port on 127.0.0.1 (0: any free port). */
  port: number;
  /** Titles per kind. */
  movies: number;
  tv: number;
  /** TMDB's own limit, requests/s: above it, 429 with `Retry-After: 1`. Undefined: none. */
  rateLimitRps?: number | undefined;
  /** Latency added to every API request, ms. */
  latencyMs: number;
  /** Today, ms since the epoch (tests). @defaultValue Date.now() */
  now?: number;
}

/** Every export file of `titles` for the {@link EXPORT_DAYS} days up to `today`: lines generated on each request. */
function exportFiles(kind: Kind, titles: FakeTitle[], today: number): Record<string, ExportLines> {
  const files: Record<string, ExportLines> = {};
  const lines = function* (): Generator<string> {
    for (const t of titles) yield exportLine(kind, t);
  };
  for (let d = 0; d < EXPORT_DAYS; d++) files[exportFileName(kind, formatDay(today - d))] = lines;
  return files;
}

/** About {@link CHANGED_SHARE} of `titles` changed on each of the {@link CHANGES_DAYS} days up to `today`, drawn from the day. */
function changesFeed(titles: FakeTitle[], today: number): FakeChange[] {
  const changes: FakeChange[] = [];
  if (titles.length === 0) return changes;
  const perDay = Math.max(1, Math.round(titles.length * CHANGED_SHARE));
  for (let day = today - CHANGES_DAYS + 1; day <= today; day++) {
    const rand = mulberry32(day);
    const date = formatDay(day);
    for (let k = 0; k < perDay; k++) changes.push({ id: titles[Math.floor(rand() * titles.length)]!.id, date });
  }
  return changes;
}

/**
 * Starts the sandbox on 127.0.0.1:`port`.
 * @throws Error from listen (EADDRINUSE, EACCES) or a count the catalog refuses.
 */
export async function startSandbox(o: SandboxOptions): Promise<FakeTmdb> {
  const catalog = (count: number) => ({ count, ...SANDBOX_DATES });
  const sandbox = await startFakeTmdb({
    port: o.port,
    token: SANDBOX_TOKEN,
    movie: catalog(o.movies),
    tv: catalog(o.tv),
    latencyMs: o.latencyMs,
    rateLimit: o.rateLimitRps === undefined ? undefined : { rps: o.rateLimitRps, retryAfterSec: 1 },
    recordRequests: false,
  });
  const today = dayOf(o.now ?? Date.now());
  const movies = sandbox.titles('movie');
  const shows = sandbox.titles('tv');
  sandbox.configure({
    exports: { ...exportFiles('movie', movies, today), ...exportFiles('tv', shows, today) },
    changes: { movie: changesFeed(movies, today), tv: changesFeed(shows, today) },
  });
  return sandbox;
}
