/**
 * The manifest: a run's completion marker in the lake, `<prefix>/_runs/<runId>/manifest.json`
 * (`keys.ts` manifestKey). It lists the run's parameters, counts, its audit (verdict and
 * shortfalls, `runs/verdict.ts`) and every data object with its record count, plus what each
 * kind of run records per item. A downstream job reads it first.
 */
import { LakeError } from '../errors.js';
import { manifestKey } from './keys.js';
import type { ObjectStore } from './store.js';
import type {
  CopyRecord,
  FinishedState,
  RunObject,
  RunAudit,
  RunParams,
  RunSummary,
  UncoveredWindow,
  UploadedFile,
} from '../runs/types.js';

/** The manifest document. */
export interface Manifest {
  runId: string;
  kind: string;
  state: FinishedState;
  /** Why the run failed or was cancelled. */
  error?: string;
  params: RunParams;
  createdAt: string;
  finishedAt: string;
  summary: ManifestSummary;
  /**
   * The run's own audit: TMDB's totals per window against what the run listed, fetched and
   * wrote, failed pages and ids, and the verdict (`complete` or `partial`). Absent from
   * manifests written before audits existed.
   */
  audit?: RunAudit;
  uncoveredWindows: UncoveredWindow[];
  /** Enrich runs: IMDB ids that TMDB matched to no title. */
  unmatchedImdbIds?: string[];
  /** Sync runs: every source object and what the run did with it (copied, skipped, failed). */
  copies?: CopyRecord[];
  /** Upload runs: every local file with its key, bytes, rows, checksum and status. */
  files?: UploadedFile[];
  objects: { key: string; records: number }[];
}

/** The counts of a run, as the manifest's `summary` lists them. */
export type ManifestSummary = Omit<
  RunSummary,
  'runId' | 'kind' | 'params' | 'createdAt' | 'finishedAt' | 'state' | 'error' | 'verdict' | 'shortfalls'
>;

/** What a manifest is built from. */
export interface ManifestInput {
  summary: RunSummary;
  audit: RunAudit;
  /** How the run ends, and why when it did not complete. */
  end: { state: FinishedState; error?: string };
  objects: RunObject[];
  uncoveredWindows: UncoveredWindow[];
  unmatchedImdbIds: string[];
  copies?: CopyRecord[] | undefined;
  files?: UploadedFile[] | undefined;
  finishedAt: Date;
}

/** Builds the manifest of a run (pure). */
export function buildManifest(input: ManifestInput): Manifest {
  const { summary, end } = input;
  const { runId, kind, params, createdAt, finishedAt: _f, state: _s, error: _e, verdict: _v, shortfalls: _sf, ...counts } = summary;
  return {
    runId,
    kind,
    state: end.state,
    ...(end.error ? { error: end.error } : {}),
    params,
    createdAt,
    finishedAt: input.finishedAt.toISOString(),
    summary: counts,
    audit: input.audit,
    uncoveredWindows: input.uncoveredWindows,
    ...(params.source === 'enrich' ? { unmatchedImdbIds: input.unmatchedImdbIds } : {}),
    ...(input.copies ? { copies: input.copies } : {}),
    ...(input.files ? { files: input.files } : {}),
    objects: input.objects.map(({ key, records }) => ({ key, records })),
  };
}

/** The manifest as stored: pretty-printed JSON. */
export function formatManifest(manifest: Manifest): string {
  return JSON.stringify(manifest, null, 2);
}

/**
 * Parses a stored manifest.
 * @throws Error when the text is not a manifest (no runId, state or objects list).
 */
export function parseManifest(text: string): Manifest {
  const value = JSON.parse(text) as Partial<Manifest> | null;
  if (!value || typeof value.runId !== 'string' || typeof value.state !== 'string' || !Array.isArray(value.objects)) {
    throw new Error('not a tmdb-fleet manifest (runId, state and objects are required)');
  }
  return value as Manifest;
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown; $metadata?: { httpStatusCode?: number } } | null;
  return e?.code === 'ENOENT' || e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/**
 * Reads a run's manifest (S3 GetObject, or the local file).
 * @returns the manifest, or undefined when the run has none (it has not finished, or never ran).
 * @throws LakeError when the manifest exists but cannot be parsed; other store errors as thrown.
 */
export async function readManifest(store: ObjectStore, prefix: string, runId: string): Promise<Manifest | undefined> {
  const key = manifestKey(prefix, runId);
  let bytes: Buffer;
  try {
    bytes = await store.get(key);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  try {
    return parseManifest(bytes.toString('utf8'));
  } catch (err) {
    throw new LakeError(`manifest ${store.location}/${key} is not a run manifest: ${(err as Error).message}`, { cause: err });
  }
}
