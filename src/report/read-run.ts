/**
 * Reads a finished run back from the lake for `tmdb-fleet report`: given its manifest
 * (`lake/manifest.ts` readManifest), every object it lists as a stream
 * (gunzip, one JSON document per line via node:readline). Only a few numbers per title are
 * kept ({@link ReportRow}); documents are dropped as soon as they are read.
 */
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { FleetError, LakeError } from '../errors.js';
import type { Manifest } from '../lake/manifest.js';
import type { ObjectStore } from '../lake/store.js';
import type { ReportRow } from './stats.js';

/** A run that cannot be reported on: no manifest yet (not finished) or unknown. */
export class RunNotReportableError extends FleetError {
  constructor(message: string) {
    super('RUN_NOT_REPORTABLE', message);
  }
}

/** A title's compact row plus its display title (dropped by {@link collectRunRows} unless a leader). */
export interface TitleFacts extends ReportRow {
  title: string | undefined;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The year of a `YYYY-MM-DD` date, or null for an empty, missing or malformed date. */
export function yearOf(date: unknown): number | null {
  if (typeof date !== 'string') return null;
  const m = /^(\d{4})-\d{2}-\d{2}/.exec(date);
  return m ? Number(m[1]) : null;
}

/**
 * The facts the report needs from one TMDB details document: id, release year (`release_date`
 * for movies, `first_air_date` for tv), budget and revenue in USD (0 as TMDB sent it = unknown;
 * null when the document has no such field, as tv documents), popularity, and the title.
 * @throws LakeError when the document has no numeric `id`.
 */
export function factsOf(doc: unknown, kind: string): TitleFacts {
  const d = (doc !== null && typeof doc === 'object' ? doc : {}) as Record<string, unknown>;
  const id = num(d.id);
  if (id === null) throw new LakeError('a document has no numeric "id"');
  const name = kind === 'tv' ? (d.name ?? d.original_name) : (d.title ?? d.original_title);
  return {
    id,
    year: yearOf(kind === 'tv' ? d.first_air_date : d.release_date),
    budget: num(d.budget),
    revenue: num(d.revenue),
    popularity: num(d.popularity),
    title: typeof name === 'string' ? name : undefined,
  };
}

/**
 * Streams the non-empty lines of one gzipped JSON Lines data object (S3 GetObject body or a
 * file stream, gunzip, node:readline), holding no more than a line at a time.
 * @param runId - the run whose manifest lists the object (named in errors).
 * @throws LakeError naming the object when it cannot be read or is not gzip.
 */
export async function* objectLines(store: ObjectStore, key: string, runId: string): AsyncGenerator<string> {
  const where = `${store.location}/${key}`;
  let source;
  try {
    source = await store.getStream(key);
  } catch (err) {
    throw new LakeError(`cannot read ${where} (listed in the manifest of ${runId}): ${(err as Error).message}`, { cause: err });
  }
  const gunzip = createGunzip();
  let failure: Error | undefined;
  const fail = (err: Error) => {
    failure ??= err;
    gunzip.destroy();
  };
  source.on('error', fail);
  gunzip.on('error', (err) => (failure ??= err));
  source.pipe(gunzip);
  const lines = createInterface({ input: gunzip, crlfDelay: Infinity });
  try {
    for await (const line of lines) if (line.length > 0) yield line;
  } catch (err) {
    // readline passes on the gunzip's error (not gzip, truncated): name the object.
    if (err instanceof LakeError) throw err;
    throw new LakeError(`cannot read ${where}: ${(err as Error).message}`, { cause: err });
  } finally {
    lines.close();
    source.destroy();
    gunzip.destroy();
  }
  if (failure) throw new LakeError(`cannot read ${where}: ${failure.message}`, { cause: failure });
}

/**
 * Streams the facts of every document of every object the manifest lists, one object at a
 * time, without holding any document longer than its own line.
 * @throws LakeError naming the object when it cannot be read, is not gzip, holds a line that is
 *   not JSON, or holds a different number of records than its manifest says.
 */
export async function* streamRunTitles(store: ObjectStore, manifest: Manifest): AsyncGenerator<TitleFacts> {
  for (const object of manifest.objects) {
    const where = `${store.location}/${object.key}`;
    let count = 0;
    for await (const line of objectLines(store, object.key, manifest.runId)) {
      count++;
      let doc: unknown;
      try {
        doc = JSON.parse(line);
      } catch (err) {
        throw new LakeError(`${where} line ${count} is not JSON`, { cause: err });
      }
      yield factsOf(doc, manifest.kind);
    }
    if (count !== object.records) {
      throw new LakeError(`${where} holds ${count} records, its manifest says ${object.records}`);
    }
  }
}

/** The compact rows of a run, and the titles of the top-grossing and biggest-budget titles. */
export interface RunRows {
  rows: ReportRow[];
  /** Titles by id, only for the revenue and budget leaders (ties: lowest id). */
  names: Map<number, string>;
}

/**
 * Reads every title of a run into compact rows (id, year, budget, revenue, popularity: five
 * numbers per title), keeping display titles only for the two leaders.
 * @throws LakeError as {@link streamRunTitles}.
 */
export async function collectRunRows(store: ObjectStore, manifest: Manifest): Promise<RunRows> {
  const rows: ReportRow[] = [];
  let topRevenue: TitleFacts | undefined;
  let topBudget: TitleFacts | undefined;
  const beats = (v: number | null, id: number, leader: TitleFacts | undefined, lead: number | null | undefined) =>
    v !== null && v > 0 && (leader === undefined || v > (lead ?? 0) || (v === lead && id < leader.id));
  for await (const facts of streamRunTitles(store, manifest)) {
    const { title: _title, ...row } = facts;
    rows.push(row);
    if (beats(facts.revenue, facts.id, topRevenue, topRevenue?.revenue)) topRevenue = facts;
    if (beats(facts.budget, facts.id, topBudget, topBudget?.budget)) topBudget = facts;
  }
  const names = new Map<number, string>();
  for (const leader of [topRevenue, topBudget]) if (leader?.title !== undefined) names.set(leader.id, leader.title);
  return { rows, names };
}
