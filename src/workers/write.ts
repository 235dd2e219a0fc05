/**
 * Write worker: one job = one object. A job claims staged documents into a batch under a
 * sequence number (or finds the batch it claimed before a crash), PUTs
 * `<prefix>/<kind>/YYYY/MM/DD/<runId>-<seq>.jsonl.gz` and commits the batch. The final job of
 * a run writes what is left, stores any batch a failed job left open, then the manifest
 * (`<prefix>/_runs/<runId>/manifest.json`) and marks the run completed.
 */
import { Worker, type Job } from 'bullmq';
import type { Fleet } from '../fleet.js';
import type { WriteJobData } from '../queues.js';
import { encodeJsonLines } from '../lake/encode.js';
import { SEQ_DIGITS, dataKeyBase, manifestKey } from '../lake/keys.js';
import type { Batch, CopyRecord, RunSummary } from '../runs.js';
import { runInfo, workerOptions } from './job-support.js';

/** Content type of data objects (gzipped JSON Lines). */
const DATA_CONTENT_TYPE = 'application/gzip';

/** Creates the write worker. */
export function createWriteWorker(fleet: Fleet, concurrency: number): Worker<WriteJobData> {
  return new Worker<WriteJobData>('write', async (job) => processWrite(fleet, job), workerOptions(fleet, concurrency));
}

async function processWrite(fleet: Fleet, job: Job<WriteJobData>): Promise<string> {
  const data = job.data;
  const run = await runInfo(fleet, data.runId);
  if (run.state === 'completed' || run.state === 'failed') return `skipped: run is ${run.state}`;
  if (run.state === 'cancelled' && data.mode !== 'final') return 'skipped: run is cancelled';
  const keyBase = dataKeyBase(run.lakePrefix, run.params.kind, data.runId, new Date());
  const claim = (i: number, flush: boolean, upTo?: number) =>
    fleet.runs.claim(data.runId, `${job.id}#${i}`, {
      maxRecords: fleet.config.batch.maxRecords,
      flush,
      ...(upTo !== undefined ? { upTo } : {}),
      keyBase,
      seqDigits: SEQ_DIGITS,
    });

  let written = 0;
  if (data.mode === 'full') {
    const batch = await claim(0, false);
    if (typeof batch === 'object') written += await store(fleet, data.runId, batch);
    return `${written} objects`;
  }
  for (let i = 0; ; i++) {
    const batch = await claim(i, true, data.mode === 'tail' ? data.upTo : undefined);
    if (batch === undefined) break;
    if (batch !== 'stored') written += await store(fleet, data.runId, batch);
  }
  if (data.mode === 'tail') return `${written} objects`;

  // final: batches left open by failed write jobs, then the manifest.
  for (const batch of await fleet.runs.openBatches(data.runId)) written += await store(fleet, data.runId, batch);
  await fleet.runs.transition(data.runId, 'running', 'finalizing');
  const manifest = await buildManifest(fleet, data.runId);
  await fleet.store.put(manifestKey(run.lakePrefix, data.runId), JSON.stringify(manifest, null, 2), 'application/json');
  await fleet.runs.transition(data.runId, '*', manifest.state, manifest.error, true);
  await fleet.runs.release(data.runId);
  fleet.log.info(
    { runId: data.runId, state: manifest.state, objects: manifest.summary.objects, records: manifest.summary.records },
    `run ${manifest.state}; manifest written`,
  );
  return `${written} objects + manifest`;
}

/**
 * How a run ends: cancelled if it was cancelled; failed when more titles or pages failed for
 * good than RUN_FAILURE_THRESHOLD allows; else completed.
 */
export function finalState(
  current: RunSummary['state'],
  s: Pick<RunSummary, 'discovered' | 'failed' | 'pagesPlanned' | 'pagesFailed'>,
  threshold: number,
): { state: 'completed' | 'failed' | 'cancelled'; error?: string } {
  if (current === 'cancelled') return { state: 'cancelled', error: 'cancelled by the user' };
  const titles = s.discovered > 0 ? s.failed / s.discovered : 0;
  const pages = s.pagesPlanned > 0 ? s.pagesFailed / s.pagesPlanned : 0;
  if ((s.failed > 0 || s.pagesFailed > 0) && (titles > threshold || pages > threshold)) {
    return {
      state: 'failed',
      error: `${s.failed} of ${s.discovered} titles and ${s.pagesFailed} of ${s.pagesPlanned} pages failed for good, over RUN_FAILURE_THRESHOLD=${threshold}`,
    };
  }
  return { state: 'completed' };
}

/** PUTs a batch (same key, same bytes on every try) and commits it. */
async function store(fleet: Fleet, runId: string, batch: Batch): Promise<number> {
  await fleet.store.put(batch.key, encodeJsonLines(batch.body), DATA_CONTENT_TYPE);
  await fleet.runs.commit(runId, batch.seq);
  return 1;
}

/** The manifest of a run: its parameters, counts and every data object with its record count. */
export interface Manifest {
  runId: string;
  kind: string;
  state: 'completed' | 'failed' | 'cancelled';
  /** Why the run failed or was cancelled. */
  error?: string;
  params: RunSummary['params'];
  createdAt: string;
  finishedAt: string;
  summary: Omit<RunSummary, 'runId' | 'kind' | 'params' | 'createdAt' | 'finishedAt' | 'state' | 'error'>;
  uncoveredWindows: { window: string; total: number; reachable: number; missed: number }[];
  /** Enrich runs: IMDB ids that TMDB matched to no title. */
  unmatchedImdbIds?: string[];
  /** Sync runs: every source object and what the run did with it (copied, skipped, failed). */
  copies?: CopyRecord[];
  /** Upload runs: every local file with its key, bytes, rows, checksum and status (uploaded, skipped, failed). */
  files?: unknown[];
  objects: { key: string; records: number }[];
}

async function buildManifest(fleet: Fleet, runId: string): Promise<Manifest> {
  const [summary, objects, uncoveredWindows, unmatched] = await Promise.all([
    fleet.runs.summary(runId),
    fleet.runs.objects(runId),
    fleet.runs.uncoveredWindows(runId),
    fleet.runs.unmatchedIds(runId),
  ]);
  const { runId: _r, kind, params, createdAt, finishedAt: _f, state, error: _e, ...counts } = summary;
  const end = finalState(state, summary, fleet.config.runFailureThreshold);
  const copies = summary.kind === 'sync' ? await fleet.runs.copies(runId) : undefined;
  const files = summary.kind === 'upload' ? Object.values(await fleet.runs.files(runId)) : undefined;
  return {
    runId,
    kind,
    state: end.state,
    ...(end.error ? { error: end.error } : {}),
    params,
    createdAt,
    finishedAt: new Date().toISOString(),
    summary: counts,
    uncoveredWindows,
    ...(summary.params.source === 'enrich' ? { unmatchedImdbIds: unmatched } : {}),
    ...(copies ? { copies } : {}),
    ...(files ? { files } : {}),
    objects: objects.map(({ key, records }) => ({ key, records })),
  };
}
