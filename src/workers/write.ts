/**
 * Write worker: one job = one object. A job claims staged documents into a batch under a
 * sequence number (or finds the batch it claimed before a crash), PUTs
 * `<prefix>/<kind>/YYYY/MM/DD/<runId>-<seq>.jsonl.gz` create-only and commits the batch.
 *
 * - The key already holds the same records: it is this batch's own earlier PUT (a re-delivered
 *   job); commit as usual. Other records: Redis lost claims (a rollback) and the sequence number
 *   was reused; the run is reconciled with the lake (`runs/reconcile.ts`) and the job claims
 *   again, under a sequence number past the lake's.
 * - Each process reconciles a run with the lake before its first claim of that run after it
 *   (re)connected to Redis, so claims lost with Redis are found before their keys are reused.
 * - `tail` jobs flush what was staged when they start, then disarm the tail flush (or arm the
 *   next one for documents staged meanwhile).
 * - The `final` job moves the run to finalizing first (staging stops), reconciles, stores every
 *   staged document and open batch, then writes the manifest (`<prefix>/_runs/<runId>/manifest.json`)
 *   and marks the run completed.
 */
import { gunzipSync } from 'node:zlib';
import type { Job, Worker } from 'bullmq';
import type { Fleet } from '../fleet.js';
import { LakeError } from '../errors.js';
import { enqueueTail, type WriteJobData } from '../jobs/write.js';
import { encodeJsonLines } from '../lake/encode.js';
import { SEQ_DIGITS, dataKeyBase, manifestKey } from '../lake/keys.js';
import { buildManifest, formatManifest, type Manifest } from '../lake/manifest.js';
import { faultPoint } from '../fault-points.js';
import { finalState, type RunInfo } from '../runs/lifecycle.js';
import type { ClaimOptions } from '../runs/staging.js';
import type { ClaimOutcome } from '../runs/scripts.js';
import type { Batch } from '../runs/types.js';
import { createQueueWorker, runInfo } from './job-support.js';

/** Content type of data objects (gzipped JSON Lines). */
const DATA_CONTENT_TYPE = 'application/gzip';

/** Claims in a row whose key the lake already held with other records before the job gives up this attempt. */
const MAX_RECLAIMS = 5;

/** Passes of the final job's drain that may each meet a taken key before it gives up this attempt. */
const MAX_DRAIN_PASSES = 10;

/**
 * The runs this process reconciled with the lake since its Redis connection last became ready
 * (one shared check per run; cleared on every reconnect, when Redis may come back older).
 */
class LakeChecks {
  private readonly done = new Map<string, Promise<void>>();
  constructor(fleet: Fleet) {
    fleet.redis.on('ready', () => this.done.clear());
  }

  /** Runs `check` once per run per connection (again after a failed check). */
  ensure(runId: string, check: () => Promise<void>): Promise<void> {
    let pending = this.done.get(runId);
    if (!pending) {
      pending = check();
      this.done.set(runId, pending);
      pending.catch(() => this.done.delete(runId));
    }
    return pending;
  }
}

/** Creates the write worker. */
export function createWriteWorker(fleet: Fleet, concurrency: number): Worker<WriteJobData> {
  const checks = new LakeChecks(fleet);
  return createQueueWorker(fleet, 'write', concurrency, (job) => processWrite(fleet, checks, job));
}

/** What one write job works with. */
interface Writer {
  fleet: Fleet;
  runId: string;
  jobId: string;
  run: RunInfo;
  keyBase: string;
}

async function processWrite(fleet: Fleet, checks: LakeChecks, job: Job<WriteJobData>): Promise<string> {
  const data = job.data;
  const run = await runInfo(fleet, data.runId);
  if (run.state === 'completed' || run.state === 'failed') return `skipped: run is ${run.state}`;
  if (run.state === 'cancelled' && data.mode !== 'final') return 'skipped: run is cancelled';
  const w: Writer = {
    fleet,
    runId: data.runId,
    jobId: job.id ?? '',
    run,
    keyBase: dataKeyBase(run.lakePrefix, run.params.kind, data.runId, new Date()),
  };
  await checks.ensure(data.runId, () => reconcile(w, 'first write of the run since connecting to Redis'));
  if (data.mode === 'full') return `${(await claimAndStore(w, `${w.jobId}#0`, { flush: false })).written} objects`;
  if (data.mode === 'tail') return `${await tail(w)} objects`;
  return final(w);
}

/**
 * Reconciles the run with the lake (`runs/reconcile.ts`), logging what Redis had lost. Upload
 * and sync runs have no data objects: nothing to do.
 */
async function reconcile(w: Writer, why: string): Promise<void> {
  if (w.run.params.kind !== 'movie' && w.run.params.kind !== 'tv') return;
  const lake = { store: w.fleet.store, prefix: w.run.lakePrefix, kind: w.run.params.kind };
  const r = await w.fleet.runs.reconcile(w.runId, lake);
  if (r.registered + r.fetched + r.removed + r.restaged > 0) {
    w.fleet.log.warn({ runId: w.runId, why, ...r }, 'run reconciled with the lake: Redis had lost acknowledged state');
  }
  if (r.tailArm > 0) await enqueueTail(w.fleet, w.runId, r.tailArm);
}

/** True when the object's records are exactly the batch's (whatever the gzip bytes). */
async function holdsBatch(fleet: Fleet, batch: Batch): Promise<boolean> {
  return gunzipSync(await fleet.store.get(batch.key)).toString('utf8') === batch.body;
}

/**
 * PUTs a batch create-only and commits it.
 * @returns `stored`; `reclaim` when its key already held other records (the run was reconciled:
 * claim again).
 */
async function store(w: Writer, batch: Batch): Promise<'stored' | 'reclaim'> {
  faultPoint('write:after-claim');
  const outcome = await w.fleet.store.putIfAbsent(batch.key, encodeJsonLines(batch.body), DATA_CONTENT_TYPE);
  if (outcome === 'exists' && !(await holdsBatch(w.fleet, batch))) {
    await reconcile(w, `object ${batch.key} already holds other records`);
    return 'reclaim';
  }
  faultPoint('write:after-put');
  const committed = await w.fleet.runs.commit(w.runId, batch);
  if (committed === 'unknown') await reconcile(w, `Redis does not know the stored batch ${batch.seq}`);
  else if (committed === 'committed') w.fleet.metrics.recordsWritten(batch.count);
  return 'stored';
}

/**
 * Claims under one claim key and stores the batch, claiming again (same key) when the batch's
 * key was taken in the lake.
 * @throws LakeError after {@link MAX_RECLAIMS} taken keys in a row (the job is retried).
 */
async function claimAndStore(
  w: Writer,
  claimKey: string,
  options: Pick<ClaimOptions, 'flush' | 'upTo' | 'final'>,
): Promise<{ outcome: ClaimOutcome; written: number }> {
  const claimOptions = { maxRecords: w.fleet.config.batch.maxRecords, keyBase: w.keyBase, seqDigits: SEQ_DIGITS, ...options };
  for (let tries = 1; ; tries++) {
    const outcome = await w.fleet.runs.claimNext(w.runId, claimKey, claimOptions);
    if (outcome.kind !== 'batch') return { outcome, written: 0 };
    if ((await store(w, outcome.batch)) === 'stored') return { outcome, written: 1 };
    if (tries >= MAX_RECLAIMS) {
      throw new LakeError(`claim ${claimKey} met ${tries} object keys already taken in the lake; will retry`);
    }
  }
}

/**
 * A tail flush: objects for what was staged when it started; then the claim that finds nothing
 * left disarms the tail flush, or, when documents were staged meanwhile, the next tail flush is
 * enqueued to run BATCH_MAX_WAIT_MS after this one started (they came later than that).
 */
async function tail(w: Writer): Promise<number> {
  const started = Date.now();
  const upTo = await w.fleet.runs.stagedTotal(w.runId);
  let written = 0;
  for (let i = 0; ; i++) {
    const { outcome, written: n } = await claimAndStore(w, `${w.jobId}#${i}`, { flush: true, upTo });
    written += n;
    if (outcome.kind === 'more') {
      const delay = Math.max(0, started + w.fleet.config.batch.maxWaitMs - Date.now());
      await enqueueTail(w.fleet, w.runId, outcome.arm, delay);
    }
    if (outcome.kind !== 'batch' && outcome.kind !== 'stored') return written;
  }
}

/**
 * Stores everything staged and every open batch, until a pass meets no taken key.
 * @throws LakeError after {@link MAX_DRAIN_PASSES} passes (the job is retried).
 */
async function drain(w: Writer): Promise<number> {
  let written = 0;
  let i = 0;
  for (let pass = 1; pass <= MAX_DRAIN_PASSES; pass++) {
    for (;;) {
      const { outcome, written: n } = await claimAndStore(w, `${w.jobId}#${i}`, { flush: true, final: true });
      written += n;
      if (outcome.kind !== 'batch' && outcome.kind !== 'stored') break;
      i++;
    }
    let clean = true;
    for (const batch of await w.fleet.runs.openBatches(w.runId)) {
      if ((await store(w, batch)) === 'reclaim') {
        clean = false;
        break; // the reconcile changed the staged list and open batches: read them again
      }
      written++;
    }
    if (clean) return written;
  }
  throw new LakeError(`final write of ${w.runId} met object keys already taken in the lake ${MAX_DRAIN_PASSES} times; will retry`);
}

/**
 * The final job: the run leaves `running` first, so no document is staged after the drain
 * (staging refuses any run not running, and counts nothing); then objects Redis lost are
 * registered, everything staged and every open batch is stored, and the manifest is written.
 * When that fails, the run is `running` again until the job's retry.
 */
async function final(w: Writer): Promise<string> {
  const { fleet, runId } = w;
  await fleet.runs.transition(runId, { from: 'running', to: 'finalizing' });
  let written: number;
  let manifest: Manifest;
  try {
    await reconcile(w, 'final write, before the drain');
    written = await drain(w);
    faultPoint('final:drained');
    manifest = await manifestOf(fleet, runId);
    faultPoint('final:before-manifest');
    await fleet.store.put(manifestKey(w.run.lakePrefix, runId), formatManifest(manifest), 'application/json');
  } catch (err) {
    // Not finished after all (S3 down, ...): the run goes on running until this job's retry
    // (or `backfill --resume`) finalizes it again.
    await fleet.runs.transition(runId, { from: 'finalizing', to: 'running' });
    throw err;
  }
  faultPoint('final:after-manifest');
  await fleet.runs.transition(runId, { from: '*', to: manifest.state, error: manifest.error, finish: true });
  await fleet.runs.release(runId);
  fleet.log.info(
    { runId, state: manifest.state, objects: manifest.summary.objects, records: manifest.summary.records },
    `run ${manifest.state}; manifest written`,
  );
  return `${written} objects + manifest`;
}

/** Reads what the manifest lists from the run store. */
async function manifestOf(fleet: Fleet, runId: string): Promise<Manifest> {
  const runs = fleet.runs;
  const audit = await runs.audit(runId);
  const [summary, objects, uncoveredWindows, unmatchedImdbIds] = await Promise.all([
    runs.summary(runId),
    runs.objects(runId),
    runs.uncoveredWindows(runId),
    runs.unmatchedIds(runId),
  ]);
  return buildManifest({
    summary,
    audit,
    end: finalState(summary.state, summary, fleet.config.runFailureThreshold),
    objects,
    uncoveredWindows,
    unmatchedImdbIds,
    copies: summary.kind === 'sync' ? await runs.copies(runId) : undefined,
    files: summary.kind === 'upload' ? await runs.files(runId) : undefined,
    finishedAt: new Date(),
  });
}
