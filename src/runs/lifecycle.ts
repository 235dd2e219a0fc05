/**
 * The lifecycle of a run: created `running`, then `finalizing` while its final write job writes
 * the manifest, then `completed`, `failed` or `cancelled`; its summary; and what is kept of it
 * once it ends (see keys.ts: working state dropped, the summary and object listing kept for
 * {@link FINISHED_RUN_TTL_S}).
 */
import { createHash } from 'node:crypto';
import { RunNotFoundError, UsageError } from '../errors.js';
import { scripts } from './scripts.js';
import { exportCounts, moveWatermark } from './feeds.js';
import { activeRunKey, allRunKeys, keysAtEnd, runIndexKey, runStateChannel } from './keys.js';
import type { RunContext } from './context.js';
import type { FileCounts, FinishedState, RunKind, RunParams, RunState, RunSummary, UploadedFile, Verdict } from './types.js';

/** How long a finished run's summary and manifest listing stay in Redis, s. */
export const FINISHED_RUN_TTL_S = 30 * 24 * 3600;

/** Options of {@link lifecycle}'s `create`. */
export interface CreateRunOptions {
  /** The lake prefix the run writes under (S3_PREFIX when it started). */
  lakePrefix: string;
  /** Start even when a run with the same parameters is running. */
  force?: boolean;
}

/** Options of {@link lifecycle}'s `transition`. */
export interface TransitionOptions {
  /** Only from this state; '*' for any unfinished state. */
  from: RunState | '*';
  to: RunState;
  /** Why (a failure or cancellation). */
  error?: string | undefined;
  /**
   * Stamp finishedAt. @defaultValue true for completed and failed (a cancelled run is finished
   * by its final write job, once its manifest is written)
   */
  finish?: boolean;
}

/** The stored parameters, state and lake prefix of a run. */
export interface RunInfo {
  params: RunParams;
  state: RunState;
  lakePrefix: string;
}

/** A fingerprint of a parameter set (source, kind, dates, filters in key order). */
function fingerprint(params: RunParams): string {
  const sorted = Object.fromEntries(Object.entries(params.params).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha1')
    .update(JSON.stringify([params.source ?? 'discover', params.kind, params.from ?? null, params.to ?? null, sorted]))
    .digest('hex');
}

/**
 * How a run ends: cancelled if it was cancelled; failed when more titles or pages failed for
 * good than RUN_FAILURE_THRESHOLD (`threshold`, 0..1) allows; else completed.
 */
export function finalState(
  current: RunState,
  s: Pick<RunSummary, 'discovered' | 'failed' | 'pagesPlanned' | 'pagesFailed'>,
  threshold: number,
): { state: FinishedState; error?: string } {
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

const activeKey = (ctx: RunContext, params: RunParams) => activeRunKey(ctx.prefix, fingerprint(params));

/** Forgets that a run is the running one for its parameters (when it ends). */
async function clearActive(ctx: RunContext, runId: string): Promise<void> {
  const raw = await ctx.redis.hget(ctx.keys(runId).run, 'params');
  if (!raw) return;
  const key = activeKey(ctx, JSON.parse(raw) as RunParams);
  if ((await ctx.redis.get(key)) === runId) await ctx.redis.del(key);
}

async function readState(ctx: RunContext, runId: string): Promise<RunState | undefined> {
  return ((await ctx.redis.hget(ctx.keys(runId).run, 'state')) ?? undefined) as RunState | undefined;
}

async function transition(ctx: RunContext, runId: string, options: TransitionOptions): Promise<boolean> {
  const finish = options.finish ?? (options.to === 'completed' || options.to === 'failed');
  const finishedAt = finish ? new Date().toISOString() : '';
  return scripts.transition.run(ctx.redis, [ctx.keys(runId).run], [
    options.from,
    options.to,
    options.error ?? '',
    finishedAt,
    runStateChannel(ctx.prefix, runId),
  ]);
}

/** See `lifecycle().create`. */
async function createRun(ctx: RunContext, runId: string, params: RunParams, options: CreateRunOptions): Promise<string | undefined> {
  const key = activeKey(ctx, params);
  const holder = await ctx.redis.get(key);
  if (holder && !options.force && (await readState(ctx, holder)) === 'running') return holder;
  const run = ctx.keys(runId).run;
  if ((await ctx.redis.hsetnx(run, 'createdAt', new Date().toISOString())) === 0) {
    throw new Error(`run id ${runId} is taken: start the run again for a new id`);
  }
  await ctx.redis
    .multi()
    .hset(run, {
      kind: params.kind,
      params: JSON.stringify(params),
      state: 'running',
      lakePrefix: options.lakePrefix,
    })
    .zadd(runIndexKey(ctx.prefix), Date.now(), runId)
    .set(key, runId)
    .exec();
  return undefined;
}

/** Lifecycle operations of the run store. */
export function lifecycle(ctx: RunContext) {
  return {
    /**
     * Records a new run in state `running`, unless a run with the same parameters is running
     * (and `force` is not set).
     * @returns undefined when created, else the id of the running run with these parameters.
     * @throws Error when a run with this id exists (ids are never reused: two runs never merge).
     */
    create: (runId: string, params: RunParams, options: CreateRunOptions) => createRun(ctx, runId, params, options),

    /** The stored parameters, state and lake prefix of a run. @throws RunNotFoundError */
    async describe(runId: string): Promise<RunInfo> {
      const [params, s, lakePrefix] = await ctx.redis.hmget(ctx.keys(runId).run, 'params', 'state', 'lakePrefix');
      if (!params || !s || !lakePrefix) throw new RunNotFoundError(runId);
      return { params: JSON.parse(params) as RunParams, state: s as RunState, lakePrefix };
    },

    /** The state of a run, or undefined when unknown. */
    state: (runId: string) => readState(ctx, runId),

    /** True when the run is complete (every page done, every id terminal) and still running. */
    async isComplete(runId: string): Promise<boolean> {
      return scripts.isComplete.run(ctx.redis, [ctx.keys(runId).run], []);
    },

    /** Compare-and-set of a run's state (published to its watchers). @returns true when the state changed. */
    transition: (runId: string, options: TransitionOptions) => transition(ctx, runId, options),

    /**
     * Calls `listener` with the new state each time the run's state changes (SUBSCRIBE on the
     * run's state channel, over a connection of its own). A change made while the connection
     * was down is not heard: callers also read the state now and then.
     * @returns once Redis acknowledged the subscription: a function that ends it.
     */
    async onStateChange(runId: string, listener: (state: RunState) => void): Promise<() => void> {
      const sub = ctx.redis.duplicate();
      sub.on('error', () => undefined); // the caller's own connection reports Redis outages
      sub.on('message', (_channel: string, state: string) => listener(state as RunState));
      try {
        await sub.subscribe(runStateChannel(ctx.prefix, runId));
      } catch (err) {
        sub.disconnect();
        throw err;
      }
      return () => sub.disconnect();
    },

    /**
     * Fails a running run (e.g. TMDB refused the credential); its keys are kept for a resume
     * and expire after {@link FINISHED_RUN_TTL_S}. @returns true when it changed.
     */
    async fail(runId: string, error: string): Promise<boolean> {
      const changed = await transition(ctx, runId, { from: '*', to: 'failed', error });
      if (changed) await endRun(ctx, runId, { resumable: true });
      return changed;
    },

    /**
     * Puts a failed run back to `running` (resume): its keys no longer expire, its error is
     * cleared, and every title and page that failed for good is open again.
     * @returns how many titles and pages were reopened.
     * @throws UsageError when the run is not failed, or its working state was released.
     */
    async reopen(runId: string): Promise<{ titles: number; pages: number }> {
      const k = ctx.keys(runId);
      const [raw, released] = await ctx.redis.hmget(k.run, 'params', 'released');
      if (released) throw new UsageError(`run ${runId} has ended and its working state is gone; start a new run`);
      const tx = ctx.redis.multi();
      for (const key of allRunKeys(k)) tx.persist(key);
      await tx.exec();
      const [titles = -1, pages = 0] = await scripts.reopen.run(ctx.redis, [k.run, k.failed, k.pages], []);
      if (titles < 0) throw new UsageError(`run ${runId} is not failed; only a failed or stopped run can be resumed`);
      await ctx.redis.hdel(k.run, 'verdict', 'shortfalls');
      if (raw) await ctx.redis.set(activeKey(ctx, JSON.parse(raw) as RunParams), runId);
      return { titles, pages };
    },

    /**
     * Ends a finished run's bookkeeping: a completed or cancelled run drops its working keys; a
     * failed one keeps them for a resume. Whatever is kept expires after
     * {@link FINISHED_RUN_TTL_S}; runs older than that leave the run index. A completed changes
     * run moves its kind's changes watermark to its last day; a completed export run to its
     * file's date (the changes after it are what the next changes run must read).
     */
    async release(runId: string): Promise<void> {
      const state = await readState(ctx, runId);
      if (state === 'completed') await advanceWatermark(ctx, runId);
      await endRun(ctx, runId, { resumable: state === 'failed' });
    },

    /** The summary of a run. @throws RunNotFoundError */
    summary: (runId: string): Promise<RunSummary> => readSummary(ctx, runId),
  };
}

/** The day a completed run moves its kind's changes watermark to, if any (see `release`). */
export function watermarkOf(params: RunParams): string | undefined {
  if (params.source === 'changes') return params.to;
  if (params.source === 'export') return params.params.export_date;
  return undefined;
}

async function advanceWatermark(ctx: RunContext, runId: string): Promise<void> {
  const raw = await ctx.redis.hget(ctx.keys(runId).run, 'params');
  const params = raw ? (JSON.parse(raw) as RunParams) : undefined;
  const day = params ? watermarkOf(params) : undefined;
  if (params && day) await moveWatermark(ctx, params.kind, day);
}

/** Releases a run that ended: see `release`. */
async function endRun(ctx: RunContext, runId: string, options: { resumable: boolean }): Promise<void> {
  await clearActive(ctx, runId);
  const k = ctx.keys(runId);
  const { drop, keep } = keysAtEnd(k, options);
  const tx = ctx.redis.multi();
  if (drop.length > 0) tx.del(...drop).hset(k.run, 'released', 1);
  for (const key of keep) tx.expire(key, FINISHED_RUN_TTL_S);
  tx.zremrangebyscore(runIndexKey(ctx.prefix), '-inf', Date.now() - FINISHED_RUN_TTL_S * 1_000);
  await tx.exec();
}

/** The summary of a run, from its hash and ledgers. @throws RunNotFoundError */
async function readSummary(ctx: RunContext, runId: string): Promise<RunSummary> {
  const k = ctx.keys(runId);
  const [h, uncovered, unmatched, files] = await Promise.all([
    ctx.redis.hgetall(k.run),
    ctx.redis.hvals(k.uncovered),
    ctx.redis.hlen(k.unmatched),
    ctx.redis.hvals(k.files),
  ]);
  if (!h.state || !h.params) throw new RunNotFoundError(runId);
  const n = (v: string | undefined) => Number(v ?? 0);
  const exported = exportCounts(h);
  return {
    runId,
    kind: h.kind as RunKind,
    state: h.state as RunState,
    error: h.error,
    params: JSON.parse(h.params) as RunParams,
    createdAt: h.createdAt ?? '',
    finishedAt: h.finishedAt,
    expected: n(h.expected),
    discovered: n(h.discovered),
    fetched: n(h.fetched),
    notFound: n(h.notFound),
    failed: n(h.failed),
    pagesPlanned: n(h.pagesPlanned),
    pagesDone: n(h.pagesDone),
    pagesFailed: n(h.pagesFailed),
    objects: n(h.objects),
    records: n(h.records),
    uncovered: uncovered.reduce((sum, v) => sum + (JSON.parse(v) as { missed: number }).missed, 0),
    unmatched,
    verdict: h.verdict as Verdict | undefined,
    shortfalls: h.shortfalls ? (JSON.parse(h.shortfalls) as string[]) : [],
    ...(h.kind === 'sync'
      ? {
          copies: {
            copied: n(h['copies.copied']),
            skipped: n(h['copies.skipped']),
            failed: n(h['copies.failed']),
            ...(h['copies.unlisted'] ? { unlisted: n(h['copies.unlisted']) } : {}),
          },
        }
      : {}),
    ...(exported ? { export: exported } : {}),
    ...(h.kind === 'upload' ? { files: fileCounts(files) } : {}),
  };
}

/** An upload run's file outcomes (the `:files` ledger's values) counted, with the bytes uploaded. */
function fileCounts(ledger: string[]): FileCounts {
  const counts: FileCounts = { uploaded: 0, skipped: 0, failed: 0, bytes: 0 };
  for (const value of ledger) {
    const file = JSON.parse(value) as UploadedFile;
    counts[file.status]++;
    if (file.status === 'uploaded') counts.bytes += file.bytes;
  }
  return counts;
}
