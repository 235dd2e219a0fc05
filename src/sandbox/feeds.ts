/**
 * The sandbox's two catalog-wide feeds, shaped like TMDB's (src/sandbox/fixtures/tmdb/API-NOTES.md
 * §4, §8):
 *
 * - daily ID exports, `GET /p/exports/<file>` on the files host (no credential): gzip JSON Lines,
 *   generated line by line and streamed through zlib with backpressure, so a 1,000,000-line file
 *   never exists whole in memory; a file not configured answers 404 (a missing date);
 * - the changes feed, `GET /3/{movie,tv}/changes?start_date&end_date&page`: distinct ids changed
 *   in the range, 100 a page, `{id, adult}` each; a range over 14 days answers HTTP 422 with
 *   status_code 20 (the recorded body), a bad date 400 with status_code 23.
 */
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { dayOf, parseDay } from './days.js';

/** One line of an export file, without its newline. */
export type ExportLines = () => Iterable<string>;

/** A change in the feed: `id` changed on `date` (YYYY-MM-DD). */
export interface FakeChange {
  id: number;
  date: string;
  /** As TMDB lists it: true, false or null. @defaultValue false */
  adult?: boolean | null;
}

/** The feeds a sandbox serves. */
export interface FeedOptions {
  /** Export files by name (`movie_ids_11_21_2026.json.gz`): their lines, generated on each request. */
  exports?: Record<string, ExportLines>;
  /** The changes feed per kind. */
  changes?: Partial<Record<'movie' | 'tv', FakeChange[]>>;
}

/** What the feeds served. */
export interface FeedStats {
  /** Every export request: method, file name and HTTP status. */
  exportRequests: { method: string; file: string; status: number }[];
  /** Gzip bytes written to export responses (all requests). */
  exportBytesServed: number;
  /** Lines generated into export responses (all requests). */
  exportLinesServed: number;
  /** Every changes request with its query and status. */
  changesRequests: { kind: string; startDate: string; endDate: string; page: number; status: number }[];
}

/** `/p/exports/<file>` on the files host. */
export const EXPORT_RE = /^\/p\/exports\/([A-Za-z0-9_.-]+)$/;
/** `/3/{movie,tv}/changes`. */
export const CHANGES_RE = /^\/3\/(movie|tv)\/changes\/?$/;

const CHANGES_PAGE_SIZE = 100;
const MAX_PAGE = 500;
const MAX_RANGE_DAYS = 14;
/** Lines joined per chunk pushed into gzip (about 64 KiB of text). */
const LINES_PER_CHUNK = 700;

/** An empty stats object. */
export function emptyFeedStats(): FeedStats {
  return { exportRequests: [], exportBytesServed: 0, exportLinesServed: 0, changesRequests: [] };
}

/** `movie_ids_MM_DD_YYYY.json.gz` (or `tv_series_ids_…`) for a YYYY-MM-DD date. */
export function exportFileName(kind: 'movie' | 'tv', date: string): string {
  const [y, m, d] = date.split('-');
  return `${kind === 'movie' ? 'movie_ids' : 'tv_series_ids'}_${m}_${d}_${y}.json.gz`;
}

/** Streams one export file (gzip, with backpressure), answers a HEAD, or answers 404. */
export async function serveExport(res: ServerResponse, method: string, file: string, feeds: FeedOptions, stats: FeedStats): Promise<void> {
  const lines = feeds.exports?.[file];
  stats.exportRequests.push({ method, file, status: lines ? 200 : 404 });
  if (!lines) {
    res.writeHead(404, { 'Content-Type': 'application/xml' }).end(method === 'HEAD' ? undefined : '<Error><Code>NoSuchKey</Code></Error>');
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
  if (method === 'HEAD') {
    res.end();
    return;
  }
  async function* chunks(): AsyncGenerator<string> {
    let batch: string[] = [];
    for (const line of lines!()) {
      batch.push(line);
      stats.exportLinesServed++;
      if (batch.length >= LINES_PER_CHUNK) {
        yield `${batch.join('\n')}\n`;
        batch = [];
      }
    }
    if (batch.length > 0) yield `${batch.join('\n')}\n`;
  }
  const gzip = createGzip();
  gzip.on('data', (b: Buffer) => (stats.exportBytesServed += b.length));
  await pipeline(Readable.from(chunks()), gzip, res).catch(() => undefined);
}

const ERR_DATE = '{"success":false,"status_code":23,"status_message":"Invalid date: Format needs to be YYYY-MM-DD."}';
const ERR_PAGE = '{"success":false,"status_code":22,"status_message":"Invalid page: Pages start at 1 and max at 500. They are expected to be an integer."}';

/**
 * `GET /3/{kind}/changes`: without dates, the last 24 hours (end today, start yesterday).
 * @param invalidRangeBody - TMDB's 422 body (status_code 20) for a range over 14 days
 * @returns HTTP status and body.
 */
export function handleChanges(
  kind: 'movie' | 'tv',
  q: URLSearchParams,
  feeds: FeedOptions,
  stats: FeedStats,
  invalidRangeBody: string,
): [number, string] {
  const today = dayOf(Date.now());
  const endRaw = q.get('end_date');
  const startRaw = q.get('start_date');
  const end = endRaw === null ? today : parseDay(endRaw);
  const start = startRaw === null ? (end ?? today) - 1 : parseDay(startRaw);
  const page = Number(q.get('page') ?? '1');
  const record = (status: number): void => {
    stats.changesRequests.push({ kind, startDate: startRaw ?? '', endDate: endRaw ?? '', page, status });
  };
  if (start === undefined || end === undefined) {
    record(400);
    return [400, ERR_DATE];
  }
  if (end < start || end - start > MAX_RANGE_DAYS) {
    record(422);
    return [422, invalidRangeBody];
  }
  if (!Number.isInteger(page) || page < 1 || page > MAX_PAGE) {
    record(400);
    return [400, ERR_PAGE];
  }
  const seen = new Map<number, boolean | null>();
  for (const c of feeds.changes?.[kind] ?? []) {
    const day = parseDay(c.date);
    if (day !== undefined && day >= start && day <= end && !seen.has(c.id)) seen.set(c.id, c.adult ?? false);
  }
  const all = [...seen.entries()].sort((a, b) => a[0] - b[0]);
  const results = all.slice((page - 1) * CHANGES_PAGE_SIZE, page * CHANGES_PAGE_SIZE).map(([id, adult]) => ({ id, adult }));
  record(200);
  return [
    200,
    JSON.stringify({ results, page, total_pages: Math.ceil(all.length / CHANGES_PAGE_SIZE), total_results: all.length }),
  ];
}
