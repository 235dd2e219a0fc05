/**
 * A TMDB-shaped API v3 server over real HTTP: the `tmdb-fleet sandbox` command, the tests' and
 * the benchmarks' TMDB. It serves discover, details with `append_to_response=external_ids`,
 * search, find, changes and configuration under `/3` (routes.ts) and the daily ID exports
 * under `/p/exports/` (feeds.ts; no credential, no rate limit, no faults), with documents shaped
 * exactly like the recorded ones (fixtures.ts). Faults (rate limit, latency, dropped sockets,
 * 5xx, garbage bodies, hanging requests) come from a seeded PRNG so runs are reproducible
 * (faults.ts). It imports nothing from the fleet: it is TMDB's side of the wire.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildCatalog, materializeTitles, type CatalogOption, type FakeTitle } from './catalog.js';
import { ERR_5XX, RateWindow, faultSettings, latencyOf, patchFaults, pickFault, type FaultOptions } from './faults.js';
import { EXPORT_RE, serveExport, type FeedOptions } from './feeds.js';
import { loadFixtures } from './fixtures.js';
import { mulberry32 } from './prng.js';
import { DETAILS_RE, DISCOVER_RE, routeApi } from './routes.js';
import { emptyStats, type ApiState, type FakeTmdbStats } from './state.js';

export type { FakeTmdbStats } from './state.js';

/** Options of {@link startFakeTmdb}. */
export interface FakeTmdbOptions extends FaultOptions, FeedOptions {
  /**
   * Synthetic catalog per kind. Generated deterministically (seeded PRNG) unless `titles` given:
   * `count` dated titles between `from` and `to`, plus `undated` titles with an empty release
   * (first-air) date, ids `count + 1 …`. Undated titles count in a discover query without a date
   * filter and are excluded by any date filter, unless (tv) `include_null_first_air_dates=true`.
   */
  movie?: CatalogOption;
  tv?: CatalogOption;
  /** Serve the real recorded fixtures: discover page 1 documents (their ids become the catalog's titles when `recorded` is true and no movie/tv option is given) and details for 550, 348, 2501 (movie) and 1399 (tv). Default false. */
  recorded?: boolean;
  /** Seed for the fault PRNG (errorRate/dropRate/latency). Default 1. */
  seed?: number;
  /** TCP port on 127.0.0.1 (0: any free port). Default 0. */
  port?: number;
  /** Keep a timestamp per details answer in the stats (false for a long-running sandbox). Default true. */
  recordRequests?: boolean;
}

/** A running sandbox. */
export interface FakeTmdb {
  /** Base URL including /3, e.g. http://127.0.0.1:43123/3 */
  url: string;
  /** Base URL of the export files (TMDB_FILES_BASE_URL), e.g. http://127.0.0.1:43123 */
  filesUrl: string;
  /** The catalog, per kind, sorted as discover serves it. */
  titles(kind: 'movie' | 'tv'): FakeTitle[];
  stats(): FakeTmdbStats;
  resetStats(): void;
  /** Requests received and not yet answered (or dropped) right now. */
  inFlight(): number;
  /** Change fault settings and feeds on the fly (keys present with `undefined` reset to the default). */
  configure(patch: FaultOptions & FeedOptions): void;
  close(): Promise<void>;
}

const JSON_HEADERS = { 'Content-Type': 'application/json;charset=utf-8' } as const;
/** How long a hanging request holds its socket before it is destroyed, ms. */
const STALL_MS = 60_000;

/** What one server's request handler shares with its controls. */
interface Live {
  api: ApiState;
  rate: RateWindow;
  rand: () => number;
  timers: Set<NodeJS.Timeout>;
  inFlight: number;
}

function count(live: Live, key: string): void {
  live.api.stats.byStatus[key] = (live.api.stats.byStatus[key] ?? 0) + 1;
}

function send(live: Live, res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  count(live, String(status));
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, { ...JSON_HEADERS, ...extra, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function authorized(live: Live, req: IncomingMessage, q: URLSearchParams): boolean {
  const token = live.api.faults.token;
  const h = req.headers.authorization;
  if (h && h.startsWith('Bearer ') && h.slice(7).trim() === token) return true;
  return q.get('api_key') === token;
}

/** Runs `fn` after `ms` (tracked, so close() can cancel it). */
function later(live: Live, ms: number, fn: () => void): void {
  const t = setTimeout(() => {
    live.timers.delete(t);
    fn();
  }, ms);
  live.timers.add(t);
}

/** Applies an injected fault to the request, if one hits it. @returns true when the request is taken care of. */
function injectFault(live: Live, req: IncomingMessage, res: ServerResponse): boolean {
  const fault = pickFault(live.api.faults, live.rand);
  if (!fault) return false;
  if (fault.kind === 'drop') {
    count(live, 'dropped');
    req.socket.destroy();
  } else if (fault.kind === 'error') {
    send(live, res, fault.status, ERR_5XX);
  } else if (fault.kind === 'stall') {
    // Headers never come (until the socket closes): the client's headers timeout must fire.
    count(live, 'stalled');
    later(live, STALL_MS, () => req.socket.destroy());
  } else {
    count(live, 'garbage');
    send(live, res, 200, fault.body);
  }
  return true;
}

/** Handles one request: export files, then credential, rate limit, faults, latency, the API. */
function handle(live: Live, req: IncomingMessage, res: ServerResponse): void {
  const { api } = live;
  api.stats.requests++;
  live.inFlight++;
  if (live.inFlight > api.stats.maxInFlight) api.stats.maxInFlight = live.inFlight;
  res.once('close', () => live.inFlight--);
  req.resume();
  const rawUrl = req.url ?? '/';
  const qi = rawUrl.indexOf('?');
  const pathname = qi < 0 ? rawUrl : rawUrl.slice(0, qi);
  const q = new URLSearchParams(qi < 0 ? '' : rawUrl.slice(qi + 1));
  const exportFile = EXPORT_RE.exec(pathname);
  if (exportFile) {
    void serveExport(res, req.method ?? 'GET', exportFile[1] ?? '', api.feeds, api.stats);
    return;
  }
  if (DISCOVER_RE.test(pathname)) api.stats.discoverRequests++;
  else if (DETAILS_RE.test(pathname)) api.stats.detailsRequests++;
  if (!authorized(live, req, q)) return send(live, res, 401, api.fx.err401);
  const limit = api.faults.rateLimit;
  const over = live.rate.admit(Date.now(), limit);
  if (over) return send(live, res, 429, over, { 'Retry-After': String(limit?.retryAfterSec ?? 1) });
  if (injectFault(live, req, res)) return;
  const answer = (): void => {
    if (res.destroyed) return count(live, 'aborted');
    const [status, body] = routeApi(api, req.method ?? 'GET', pathname, q);
    send(live, res, status, body);
  };
  const delay = latencyOf(api.faults, live.rand);
  if (delay > 0) later(live, delay, answer);
  else answer();
}

async function listen(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/**
 * Starts a sandbox on 127.0.0.1.
 * @throws Error for a bad catalog option (naming the kind), or the listen error (e.g. EADDRINUSE).
 */
export async function startFakeTmdb(options: FakeTmdbOptions = {}): Promise<FakeTmdb> {
  const fx = loadFixtures();
  const recorded = options.recorded ?? false;
  const api: ApiState = {
    fx,
    catalogs: { movie: buildCatalog('movie', options.movie, recorded, fx), tv: buildCatalog('tv', options.tv, recorded, fx) },
    recorded,
    faults: faultSettings(options),
    feeds: { exports: options.exports, changes: options.changes },
    stats: emptyStats(),
    recordRequests: options.recordRequests ?? true,
    searchCache: new Map(),
  };
  const live: Live = { api, rate: new RateWindow(), rand: mulberry32(options.seed ?? 1), timers: new Set(), inFlight: 0 };
  const server = createServer((req, res) => handle(live, req, res));
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  const port = await listen(server, options.port ?? 0);
  return {
    url: `http://127.0.0.1:${port}/3`,
    filesUrl: `http://127.0.0.1:${port}`,
    titles: (kind) => materializeTitles(api.catalogs[kind]),
    stats: () => structuredClone(api.stats),
    inFlight: () => live.inFlight,
    resetStats: () => {
      api.stats = emptyStats();
      api.stats.maxInFlight = live.inFlight;
    },
    configure: (patch) => {
      if (patchFaults(api.faults, patch)) live.rate.clear();
      if ('exports' in patch) api.feeds.exports = patch.exports;
      if ('changes' in patch) api.feeds.changes = patch.changes;
    },
    close: async () => {
      for (const t of live.timers) clearTimeout(t);
      live.timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
