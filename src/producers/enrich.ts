/**
 * Enrich producer: TMDB details for every IMDB id in a team's CSV. Reads the CSV as a stream
 * (csv-parse; `|` or `,` delimited, `\N` for null), keeps the rows matching `--filter`, and
 * enqueues one find job per distinct IMDB id (`GET /find/{imdb_id}?external_source=imdb_id`);
 * matches go through the same details and write queues as a backfill. IMDB ids without a TMDB
 * match (or not shaped like one) are counted and listed in the manifest.
 *
 * The CSV is read by this process, so the command runs where the file is. Enqueueing waits while
 * the discover queue is deeper than DETAILS_QUEUE_MAX_DEPTH, so Redis stays bounded for any size
 * of file; the run cannot complete before the whole file was read (its `guard#csv` plan key).
 */
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { parse, type Options as CsvOptions } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import type { Fleet } from '../fleet.js';
import { RunRunningError, UsageError } from '../errors.js';
import { enqueueFinds } from '../jobs/discover.js';
import { formatPlanKey } from '../jobs/plan-key.js';
import { enqueueFinal } from '../jobs/write.js';
import { newRunId } from '../runs/run-id.js';
import type { Kind, RunParams } from '../runs/types.js';

/** The plan key that keeps an enrich run open until its CSV was read to the end. */
const CSV_GUARD = formatPlanKey({ type: 'guard', guard: 'csv' });
/** IMDB title ids: `tt` and at least 7 digits. */
const IMDB_ID = /^tt\d{7,}$/;
/** Find jobs enqueued per round trip. */
const CHUNK = 500;

/** Raw `enrich` arguments. */
export interface EnrichArgs {
  csv: string;
  idColumn: string;
  /** `column=value` strings (all must match). */
  filter?: string[];
  kind?: string;
}

/**
 * Validates `enrich` arguments (the file's columns are checked when the run starts).
 * @throws UsageError naming the bad value and what was expected.
 */
export function parseEnrichArgs(args: EnrichArgs): RunParams {
  const kind = args.kind ?? 'movie';
  if (kind !== 'movie' && kind !== 'tv') throw new UsageError(`--kind "${kind}" is not supported: expected movie or tv`);
  if (args.idColumn.trim() === '') throw new UsageError('--id-column is empty: expected the name of the column holding IMDB ids');
  const filters: string[] = [];
  for (const f of args.filter ?? []) {
    const eq = f.indexOf('=');
    if (eq <= 0 || eq === f.length - 1) throw new UsageError(`--filter "${f}" is not column=value, e.g. genero=Action`);
    filters.push(f);
  }
  return {
    kind: kind as Kind,
    source: 'enrich',
    params: { csv: path.resolve(args.csv), id_column: args.idColumn.trim(), filter: filters.join('&') },
  };
}

/** The delimiter of a header line: `|` for IMDB extracts, else `,`. */
function delimiterOf(header: string): string {
  return header.includes('|') ? '|' : header.includes('\t') ? '\t' : ',';
}

/** How csv-parse reads the file: header and rows alike. */
function csvOptions(delimiter: string): CsvOptions {
  return { delimiter, relax_quotes: true, relax_column_count: true, trim: true };
}

/**
 * The column names of a header line as csv-parse reads them (quotes removed, names trimmed),
 * i.e. exactly the keys the row records will have.
 * @throws UsageError when the line is not valid delimited text.
 */
function headerColumns(file: string, header: string, delimiter: string): string[] {
  try {
    return parseSync(header, { ...csvOptions(delimiter), to_line: 1 })[0] ?? [];
  } catch (err) {
    throw new UsageError(`--csv ${path.basename(file)}: the header cannot be read as delimited text: ${(err as Error).message}`);
  }
}

/** True when `value` equals `wanted` or is a comma-separated list holding it (case-insensitive). */
function matches(value: string | undefined, wanted: string): boolean {
  if (value === undefined) return false;
  const w = wanted.toLowerCase();
  return value.toLowerCase() === w || value.split(',').some((v) => v.trim().toLowerCase() === w);
}

/** Reads the first line of a file (the header), streaming. */
async function firstLine(file: string): Promise<string> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 64 * 1024 });
  let buf = '';
  for await (const chunk of stream) {
    buf += chunk as string;
    const nl = buf.indexOf('\n');
    if (nl >= 0) {
      stream.destroy();
      return buf.slice(0, nl).replace(/\r$/, '');
    }
  }
  return buf;
}

/**
 * Starts an enrich run and enqueues its find jobs while reading the CSV.
 * @returns the run id and counts of the CSV: rows read, rows kept by the filter, distinct ids.
 * @throws UsageError for a missing file or missing columns; LakeError, TmdbAuthError before
 * anything is enqueued.
 */
export async function startEnrich(
  fleet: Fleet,
  params: RunParams,
  options: { force?: boolean } = {},
): Promise<{ runId: string; rows: number; kept: number; ids: number }> {
  const file = params.params.csv ?? '';
  const idColumn = params.params.id_column ?? '';
  const filters = (params.params.filter ?? '').split('&').filter(Boolean).map((f) => {
    const eq = f.indexOf('=');
    return { column: f.slice(0, eq), value: f.slice(eq + 1) };
  });
  try {
    await access(file);
  } catch {
    throw new UsageError(`--csv ${file}: no such readable file`);
  }
  const header = await firstLine(file);
  const delimiter = delimiterOf(header);
  const columns = headerColumns(file, header, delimiter);
  for (const name of [idColumn, ...filters.map((f) => f.column)]) {
    if (!columns.includes(name)) {
      throw new UsageError(`--csv ${path.basename(file)} has no column "${name}": its columns are ${columns.join(', ')}`);
    }
  }

  await fleet.store.check();
  await fleet.tmdb().checkCredential();
  const runId = newRunId(params.kind);
  const running = await fleet.runs.create(runId, params, { lakePrefix: fleet.config.lake.prefix, force: options.force ?? false });
  if (running) {
    throw new RunRunningError(running, `run ${running} with the same parameters is still running: follow it with "tmdb-fleet status ${running}" or pass --force`);
  }
  await fleet.runs.plan(runId, [CSV_GUARD]);

  const seen = new Set<string>();
  let rows = 0;
  let kept = 0;
  let chunk: string[] = [];
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    while ((await fleet.queues.discover.getJobCountByTypes('wait', 'prioritized', 'delayed')) > fleet.config.jobs.detailsMaxDepth) {
      await new Promise((r) => setTimeout(r, 500));
    }
    await enqueueFinds(fleet, runId, chunk);
    chunk = [];
  };
  const parser = createReadStream(file).pipe(
    parse({ ...csvOptions(delimiter), columns: true, skip_empty_lines: true }),
  );
  for await (const record of parser as AsyncIterable<Record<string, string>>) {
    rows++;
    if (!filters.every((f) => matches(record[f.column], f.value))) continue;
    kept++;
    const id = (record[idColumn] ?? '').trim();
    if (id === '' || id === '\\N' || seen.has(id)) continue;
    seen.add(id);
    if (!IMDB_ID.test(id)) {
      await fleet.runs.unmatched(runId, id);
      continue;
    }
    chunk.push(id);
    if (chunk.length >= CHUNK) await flush();
  }
  await flush();
  await fleet.runs.setExpected(runId, seen.size);
  if (await fleet.runs.pageDone(runId, CSV_GUARD)) await enqueueFinal(fleet, runId);
  fleet.log.info({ runId, rows, kept, ids: seen.size }, 'enrich run enqueued');
  return { runId, rows, kept, ids: seen.size };
}
