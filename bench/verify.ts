/**
 * Checks a run's output in the lake object by object, the same way for the fleet and for every
 * script contender: each expected title exactly once, the 404 ids absent, and a completed
 * manifest that lists every object with its record count.
 */
import { readRun } from '../test/support/lake-reader.js';

/** The summary line a run prints (the CLI's `--json`, or a contender's last line). */
export interface RunSummary {
  runId?: string;
  state?: string;
  error?: string;
  discovered?: number;
  fetched?: number;
  notFound?: number;
  failed?: number;
  records?: number;
}

/** What the lake should hold. */
export interface Expected {
  /** Every id the fake's catalog has (404 ids included). */
  catalogIds: number[];
  /** Ids that answer 404 on details: absent from the lake. */
  notFound: number[];
}

/**
 * Reads the run back and compares it with `expected`.
 * @returns `verified (N records in M objects)`, or the problems found, joined by `; `.
 */
export async function verifyRun(env: Record<string, string>, expected: Expected, summary: RunSummary): Promise<string> {
  if (summary.state !== 'completed' || !summary.runId) return `run ${summary.state ?? 'unknown'}${summary.error ? `: ${summary.error}` : ''}`;
  const lake = await readRun(env, 'movie', summary.runId);
  const notFound = new Set(expected.notFound);
  const ids = expected.catalogIds.filter((id) => !notFound.has(id));
  const problems: string[] = [];
  if (lake.records.length !== ids.length) problems.push(`${lake.records.length} records, expected ${ids.length}`);
  const duplicates = [...lake.idCounts.values()].filter((c) => c > 1).length;
  if (duplicates > 0) problems.push(`${duplicates} ids duplicated`);
  const missing = ids.filter((id) => !lake.idCounts.has(id)).length;
  if (missing > 0) problems.push(`${missing} ids missing`);
  const extra = [...lake.idCounts.keys()].filter((id) => notFound.has(id)).length;
  if (extra > 0) problems.push(`${extra} not-found ids present`);
  if (summary.notFound !== notFound.size) problems.push(`summary notFound ${summary.notFound}, expected ${notFound.size}`);
  if (summary.failed !== 0) problems.push(`summary failed ${summary.failed}`);
  if (lake.manifest.state !== 'completed') problems.push(`manifest state ${lake.manifest.state}`);
  const manifestRecords = lake.manifest.objects.reduce((s, o) => s + o.records, 0);
  if (manifestRecords !== lake.records.length) problems.push(`manifest lists ${manifestRecords} records`);
  if (lake.manifest.objects.length !== lake.keys.length) problems.push(`manifest lists ${lake.manifest.objects.length} objects, lake has ${lake.keys.length}`);
  if (problems.length > 0) return problems.join('; ');
  return `verified (${lake.records.length} records in ${lake.keys.length} objects)`;
}
