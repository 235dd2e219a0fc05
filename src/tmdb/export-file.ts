/**
 * TMDB's daily ID exports (https://developer.themoviedb.org/docs/daily-id-exports): one gzip file
 * per kind and day, `<TMDB_FILES_BASE_URL>/p/exports/movie_ids_MM_DD_YYYY.json.gz` (tv:
 * `tv_series_ids_MM_DD_YYYY.json.gz`), published by about 08:00 UTC and kept 3 months, no
 * credential. Each line is one JSON object: movie `{"adult":false,"id":3924,"original_title":…,
 * "popularity":1.723,"video":false}`, tv `{"id":1,"original_name":…,"popularity":3.7982}`.
 *
 * The file is never held whole: the HTTP body (undici) goes through gunzip and is cut into lines
 * as it arrives, a few dozen kilobytes at a time, and the reader can start at a byte offset of
 * the decompressed file (a checkpoint). A gzip stream cannot be entered in the middle without a
 * deflate index, so the bytes before that offset are downloaded and inflated again, but they
 * are discarded unread: no line is cut, parsed or looked up before the offset.
 */
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream';
import { request } from 'undici';
import { TmdbTransientError } from '../errors.js';
import type { Kind } from '../runs/types.js';

/** A line of an export, as far as the fleet reads it. */
export interface ExportLine {
  id: number;
  /** Movie exports only; tv lines have none. */
  adult?: boolean;
  popularity?: number;
}

/** Complete lines read from the decompressed file, and the offset just past the last one. */
export interface ExportChunk {
  /** The lines, without their `\n` (a trailing `\r` removed). */
  lines: string[];
  /** Bytes of the decompressed file up to and including the last line's `\n`. */
  end: number;
}

/** The file is not the one a checkpoint was taken in (or a line is absurdly long): not retried. */
export class ExportFileError extends Error {}

/** The longest line accepted, bytes (export lines are about 100). */
const MAX_LINE_BYTES = 1 << 20;

/** `movie_ids_MM_DD_YYYY.json.gz` or `tv_series_ids_MM_DD_YYYY.json.gz` for a YYYY-MM-DD date. */
export function exportFileName(kind: Kind, date: string): string {
  const [y, m, d] = date.split('-');
  return `${kind === 'movie' ? 'movie_ids' : 'tv_series_ids'}_${m}_${d}_${y}.json.gz`;
}

/** The URL of an export file under TMDB_FILES_BASE_URL (given without a trailing `/`). */
export function exportUrl(filesBaseUrl: string, file: string): string {
  return `${filesBaseUrl}/p/exports/${file}`;
}

/**
 * Whether an export file is published: `HEAD <url>`.
 * @returns true on 200; false on 404 or 403 (what S3 and CloudFront answer for a missing key).
 * @throws TmdbTransientError for any other answer or when the host cannot be reached (naming
 * TMDB_FILES_BASE_URL).
 */
export async function exportExists(url: string, timeoutMs: number): Promise<boolean> {
  let status: number;
  try {
    const res = await request(url, { method: 'HEAD', headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    await res.body.dump();
    status = res.statusCode;
  } catch (err) {
    const code = (err as { code?: string }).code ?? String(err);
    throw new TmdbTransientError(`cannot reach ${url} (TMDB_FILES_BASE_URL): ${code}`, undefined, { cause: err });
  }
  if (status === 200) return true;
  if (status === 404 || status === 403) return false;
  throw new TmdbTransientError(`${url} (TMDB_FILES_BASE_URL) answered HTTP ${status}`, status);
}

/** The dates the newest export may carry: today (UTC), then yesterday (TMDB publishes by about 08:00 UTC). */
export function newestExportDates(now: Date): string[] {
  return [0, 1].map((days) => new Date(now.getTime() - days * 86_400_000).toISOString().slice(0, 10));
}

/**
 * The newest published export of `kind` under TMDB_FILES_BASE_URL: `HEAD` of today's file, then
 * yesterday's ({@link newestExportDates}).
 * @returns its name and date, or undefined when neither is published.
 * @throws TmdbTransientError naming TMDB_FILES_BASE_URL when the host cannot be reached or
 * answers anything but 200, 403 or 404.
 */
export async function findNewestExport(
  filesBaseUrl: string,
  kind: Kind,
  timeoutMs: number,
  now = new Date(),
): Promise<{ file: string; date: string } | undefined> {
  for (const date of newestExportDates(now)) {
    const file = exportFileName(kind, date);
    if (await exportExists(exportUrl(filesBaseUrl, file), timeoutMs)) return { file, date };
  }
  return undefined;
}

/**
 * Parses one export line.
 * @returns the line's id, adult flag and popularity, or undefined when the line is not a JSON
 * object with a positive integer `id`.
 */
export function parseExportLine(line: string): ExportLine | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.id !== 'number' || !Number.isInteger(v.id) || v.id <= 0) return undefined;
  return {
    id: v.id,
    ...(typeof v.adult === 'boolean' ? { adult: v.adult } : {}),
    ...(typeof v.popularity === 'number' ? { popularity: v.popularity } : {}),
  };
}

/**
 * Streams an export file's lines from byte `fromByte` of the decompressed file (which must be
 * 0 or an offset a previous read reported as a chunk's `end`), a chunk of complete lines at a
 * time. Empty lines are dropped (they still count in `end`).
 * @param url - from {@link exportUrl}
 * @throws TmdbTransientError when the file cannot be fetched or the connection fails (read again
 * from the last checkpoint); ExportFileError when `fromByte` is not a line start of this file (the file
 * changed) or a line exceeds 1 MiB: an ExportFileError.
 */
export async function* readExportFile(url: string, options: { fromByte: number; timeoutMs: number }): AsyncGenerator<ExportChunk> {
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url, { method: 'GET', headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
  } catch (err) {
    throw new TmdbTransientError(`cannot fetch ${url} (TMDB_FILES_BASE_URL): ${(err as { code?: string }).code ?? String(err)}`, undefined, { cause: err });
  }
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new TmdbTransientError(`${url} (TMDB_FILES_BASE_URL) answered HTTP ${res.statusCode}`, res.statusCode);
  }
  const gunzip = pipeline(res.body, createGunzip(), () => undefined);
  let skip = options.fromByte;
  let start = 0;
  let rest: Buffer = Buffer.alloc(0);
  try {
    for await (const piece of gunzip as AsyncIterable<Buffer>) {
      let buf = piece;
      if (skip > 0) {
        if (buf.length < skip) {
          skip -= buf.length;
          continue;
        }
        if (buf[skip - 1] !== 0x0a) throw new ExportFileError(`${url}: byte ${options.fromByte} is not the start of a line; the file changed since it was checkpointed`);
        buf = buf.subarray(skip);
        start = options.fromByte;
        skip = 0;
      }
      const data = rest.length > 0 ? Buffer.concat([rest, buf]) : buf;
      const nl = data.lastIndexOf(0x0a);
      if (nl < 0) {
        if (data.length > MAX_LINE_BYTES) throw new ExportFileError(`${url}: a line longer than ${MAX_LINE_BYTES} bytes at byte ${start}`);
        rest = data;
        continue;
      }
      const lines = data.toString('utf8', 0, nl).split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l !== '');
      rest = Buffer.from(data.subarray(nl + 1));
      start += nl + 1;
      yield { lines, end: start };
    }
  } catch (err) {
    if (err instanceof ExportFileError) throw err;
    throw new TmdbTransientError(`reading ${url} (TMDB_FILES_BASE_URL) failed: ${(err as Error).message}`, undefined, { cause: err });
  } finally {
    gunzip.destroy();
  }
  if (skip > 0) throw new ExportFileError(`${url}: the file is shorter than byte ${options.fromByte}; it changed since it was checkpointed`);
  if (rest.length > 0) yield { lines: [rest.toString('utf8').replace(/\r$/, '')], end: start + rest.length };
}
