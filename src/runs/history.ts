/**
 * Run history: every run the fleet knows, newest first, from two places. Redis holds each run
 * for 30 days after it ends (lifecycle.ts FINISHED_RUN_TTL_S) (the run index `<prefix>:runs`, summaries by
 * `fleet.runs.summary`); the lake holds every finished run's manifest for good
 * (`<S3_PREFIX>/_runs/<runId>/manifest.json`). A run whose Redis state expired is read from its
 * manifest. A finished run's audit verdict comes from its manifest (`audit.verdict`, when the
 * manifest has one). Manifests read are cached for {@link MANIFEST_CACHE_TTL_MS}.
 */
import { LRUCache } from 'lru-cache';
import type { Fleet } from '../fleet.js';
import { readManifest, type Manifest } from '../lake/manifest.js';
import { runIndexKey } from './keys.js';
import { parseRunId } from './run-id.js';
import { FINISHED_STATES, type RunCounts, type RunKind, type RunParams, type RunState, type RunSummary } from './types.js';

/** One run as the history lists it. */
export interface RunListing extends RunCounts {
  runId: string;
  kind: RunKind;
  /** discover, search or enrich for TMDB runs; upload or sync for those kinds. */
  source: string;
  state: RunState;
  error: string | undefined;
  params: RunParams;
  createdAt: string;
  finishedAt: string | undefined;
  /** The manifest's audit verdict (`complete`, `partial`), when it has one. */
  verdict: string | undefined;
  /** Where the listing was read: Redis (within 30 days of its end) or only its manifest. */
  origin: 'redis' | 'lake';
}

/** What to list. */
export interface RunFilter {
  /** Only runs of this kind (movie, tv, upload, sync). */
  kind?: RunKind | undefined;
  /** Only runs in this state. */
  state?: RunState | undefined;
  /** At most this many runs. @defaultValue 50 */
  limit?: number | undefined;
}

/** The listing, and what could not be read (a lake that did not answer). */
export interface RunHistory {
  runs: RunListing[];
  warnings: string[];
}

/** How long a manifest read for the history is trusted, ms (an audit may be added later). */
export const MANIFEST_CACHE_TTL_MS = 60_000;
/** Default number of runs listed. */
export const DEFAULT_RUN_LIMIT = 50;

const manifests = new LRUCache<string, Manifest>({ max: 2_000, ttl: MANIFEST_CACHE_TTL_MS });

/** How far a run has come: items done of items to do (titles, files or objects). */
export interface RunProgress {
  done: number;
  total: number;
  unit: 'titles' | 'files' | 'objects';
}

/**
 * Progress of a run from its counts: TMDB runs count titles (fetched, not found or failed, of
 * the larger of discovered and what TMDB reported minus what no window reaches); uploads count
 * files, syncs objects (of the planned ones, the listing guard excluded).
 */
export function runProgress(run: Pick<RunSummary, 'kind'> & RunCounts): RunProgress {
  if (run.kind === 'upload') return { done: run.pagesDone + run.pagesFailed, total: run.pagesPlanned, unit: 'files' };
  if (run.kind === 'sync') {
    const c = run.copies ?? { copied: 0, skipped: 0, failed: 0 };
    const done = c.copied + c.skipped + c.failed + (c.unlisted ?? 0);
    return { done, total: Math.max(done, run.pagesPlanned - 1), unit: 'objects' };
  }
  const done = run.fetched + run.notFound + run.failed;
  return { done, total: Math.max(run.discovered, run.expected - run.uncovered, done), unit: 'titles' };
}

/** The source a run is listed under. */
function sourceOf(kind: RunKind, params: RunParams): string {
  return kind === 'upload' || kind === 'sync' ? kind : (params.source ?? 'discover');
}

/** The audit verdict of a manifest, if the manifest has an audit section. */
export function verdictOf(manifest: Manifest | undefined): string | undefined {
  const verdict = (manifest as { audit?: { verdict?: unknown } } | undefined)?.audit?.verdict;
  return typeof verdict === 'string' ? verdict : undefined;
}

/** A run's manifest, through the cache. */
export async function cachedManifest(fleet: Pick<Fleet, 'store'>, lakePrefix: string, runId: string): Promise<Manifest | undefined> {
  const key = `${lakePrefix}\n${runId}`;
  const hit = manifests.get(key);
  if (hit) return hit;
  // Only a manifest that exists is kept: a run's manifest appears when it ends.
  const manifest = await readManifest(fleet.store, lakePrefix, runId);
  if (manifest) manifests.set(key, manifest);
  return manifest;
}

function fromSummary(s: RunSummary, verdict: string | undefined): RunListing {
  const { params, runId, kind, state, error, createdAt, finishedAt, ...counts } = s;
  return { ...counts, runId, kind, source: sourceOf(kind, params), state, error, params, createdAt, finishedAt, verdict, origin: 'redis' };
}

function fromManifest(m: Manifest): RunListing {
  const kind = m.kind as RunKind;
  const zero: RunCounts = {
    expected: 0, discovered: 0, fetched: 0, notFound: 0, failed: 0, pagesPlanned: 0, pagesDone: 0, pagesFailed: 0,
    objects: 0, records: 0, uncovered: 0, unmatched: 0,
  };
  return {
    ...zero,
    ...m.summary,
    runId: m.runId,
    kind,
    source: sourceOf(kind, m.params),
    state: m.state,
    error: m.error,
    params: m.params,
    createdAt: m.createdAt,
    finishedAt: m.finishedAt,
    verdict: verdictOf(m),
    origin: 'lake',
  };
}

interface Candidate {
  runId: string;
  /** Start, ms since the epoch (index score, or the second in the run id). */
  at: number;
  origin: 'redis' | 'lake';
}

/** Run ids whose manifest is in the lake under `lakePrefix`. */
async function lakeRunIds(fleet: Pick<Fleet, 'store'>, lakePrefix: string): Promise<string[]> {
  const base = `${lakePrefix}/_runs/`;
  const ids: string[] = [];
  for (const key of await fleet.store.list(base)) {
    const m = /^([^/]+)\/manifest\.json$/.exec(key.slice(base.length));
    if (m?.[1]) ids.push(m[1]);
  }
  return ids;
}

/** Start time and kind from a run id, or undefined for a name that is not one. */
function idFacts(runId: string): { kind: RunKind; at: number } | undefined {
  try {
    const { kind, startedAt } = parseRunId(runId);
    return { kind, at: startedAt.getTime() };
  } catch {
    return undefined;
  }
}

/** Reads one candidate; undefined when it is gone from both places. */
async function readCandidate(fleet: Pick<Fleet, 'runs' | 'store' | 'config'>, c: Candidate): Promise<RunListing | undefined> {
  if (c.origin === 'redis') {
    const summary = await fleet.runs.summary(c.runId).catch(() => undefined);
    if (summary) {
      const finished = (FINISHED_STATES as readonly string[]).includes(summary.state);
      const lakePrefix = finished ? (await fleet.runs.describe(c.runId)).lakePrefix : undefined;
      const manifest = lakePrefix === undefined ? undefined : await cachedManifest(fleet, lakePrefix, c.runId).catch(() => undefined);
      return fromSummary(summary, verdictOf(manifest));
    }
  }
  const manifest = await cachedManifest(fleet, fleet.config.lake.prefix, c.runId);
  return manifest ? fromManifest(manifest) : undefined;
}

/**
 * Lists runs newest first: those in the Redis run index, then (merged by start time) those only
 * the lake's manifests know. Kind filters by run id before anything is read; state after.
 */
export async function listRuns(fleet: Pick<Fleet, 'redis' | 'runs' | 'store' | 'config'>, filter: RunFilter = {}): Promise<RunHistory> {
  const limit = filter.limit ?? DEFAULT_RUN_LIMIT;
  const warnings: string[] = [];
  const indexed = await fleet.redis.zrevrange(runIndexKey(fleet.config.redis.prefix), 0, -1, 'WITHSCORES');
  const candidates: Candidate[] = [];
  const inRedis = new Set<string>();
  for (let i = 0; i + 1 < indexed.length; i += 2) {
    const runId = indexed[i] as string;
    inRedis.add(runId);
    candidates.push({ runId, at: Number(indexed[i + 1]), origin: 'redis' });
  }
  try {
    for (const runId of await lakeRunIds(fleet, fleet.config.lake.prefix)) {
      const facts = idFacts(runId);
      if (facts && !inRedis.has(runId)) candidates.push({ runId, at: facts.at, origin: 'lake' });
    }
  } catch (err) {
    warnings.push(`the lake (${fleet.store.location}) could not be listed: ${err instanceof Error ? err.message : String(err)}`);
  }
  candidates.sort((a, b) => b.at - a.at || (a.runId < b.runId ? 1 : -1));
  const wanted = candidates.filter((c) => !filter.kind || idFacts(c.runId)?.kind === filter.kind);

  const runs: RunListing[] = [];
  const BATCH = 8;
  for (let i = 0; i < wanted.length && runs.length < limit; i += BATCH) {
    const read = await Promise.all(
      wanted.slice(i, i + BATCH).map((c) =>
        readCandidate(fleet, c).catch((err: unknown) => {
          warnings.push(`run ${c.runId} could not be read: ${err instanceof Error ? err.message : String(err)}`);
          return undefined;
        }),
      ),
    );
    for (const run of read) {
      if (run && (!filter.state || run.state === filter.state) && runs.length < limit) runs.push(run);
    }
  }
  return { runs, warnings };
}

/**
 * One run as the history lists it: from Redis while Redis holds it, else from its manifest.
 * @returns undefined when neither knows the run.
 */
export async function readRun(fleet: Pick<Fleet, 'runs' | 'store' | 'config'>, runId: string): Promise<RunListing | undefined> {
  return readCandidate(fleet, { runId, at: 0, origin: 'redis' });
}
