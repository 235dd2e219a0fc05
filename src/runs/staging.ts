/**
 * Exactly-once staging and batching — what this project exists for, so it is our own code:
 * a document is staged only when its `fetched` bit flips and the run is running (atomic); a
 * claim moves staged documents into one batch under one sequence number (atomic); a batch
 * always goes to the same object key with the same bytes; only a stored batch is committed. A
 * crash anywhere leaves either staged documents (claimed later) or an open batch (stored again,
 * same bytes). Object keys are create-only in the lake; when Redis lost claims (a rollback),
 * reconcile.ts brings the run back in line with the lake.
 *
 * Tail flushes: the first document staged while none is armed arms one (`tailArm`); its write
 * job, BATCH_MAX_WAIT_MS later, flushes what was staged when it started and disarms in the claim
 * that finds nothing left (or arms the next one when documents arrived meanwhile), so no
 * document waits much longer than BATCH_MAX_WAIT_MS for its object.
 */
import { scripts, type ClaimOutcome, type CommitOutcome, type StageResult } from './scripts.js';
import type { RunContext } from './context.js';
import type { Batch, RunObject } from './types.js';

/** Options of a claim. */
export interface ClaimOptions {
  /** Most records in the batch. */
  maxRecords: number;
  /** Claim even when fewer than `maxRecords` are staged. */
  flush: boolean;
  /**
   * With flush: only while fewer documents than this were ever claimed (so a tail flush writes
   * the documents staged before it started, not newer ones).
   */
  upTo?: number;
  /** The object key before its sequence number (`lake/keys.ts` dataKeyBase). */
  keyBase: string;
  /** Digits of the zero-padded sequence number. */
  seqDigits: number;
  /** The run's final write job: claims also once the run is no longer running. */
  final?: boolean;
}

/** One claim (see `claim`), with why nothing was claimed. */
async function claimNext(ctx: RunContext, runId: string, claimKey: string, options: ClaimOptions): Promise<ClaimOutcome> {
  const k = ctx.keys(runId);
  return scripts.claim.run(
    ctx.redis,
    [k.run, k.claims, k.open, k.staged, k.batches, k.tail],
    [
      claimKey,
      options.maxRecords,
      options.flush ? 1 : 0,
      options.upTo ?? 0,
      options.keyBase,
      options.seqDigits,
      options.final ? 1 : 0,
      ctx.tailArmTtlMs,
    ],
  );
}

/** Staging operations of the run store. */
export function staging(ctx: RunContext) {
  const claimNextOf = (runId: string, claimKey: string, options: ClaimOptions) => claimNext(ctx, runId, claimKey, options);

  return {
    /** Stages a fetched document once per (run, id), while the run is running. */
    async stage(runId: string, id: number, document: string): Promise<StageResult> {
      const k = ctx.keys(runId);
      return scripts.stage.run(
        ctx.redis,
        [k.run, k.notfound, k.fetched, k.failed, k.staged, k.tail],
        [id, document, ctx.tailArmTtlMs],
      );
    },

    /**
     * Claims staged documents into a batch, or returns the batch this claim already holds.
     * @param claimKey - stable per write job (and per iteration of a flush).
     * @returns the batch; `'stored'` when this claim was already committed; undefined when
     * there is nothing to write.
     */
    async claim(runId: string, claimKey: string, options: ClaimOptions): Promise<Batch | 'stored' | undefined> {
      const outcome = await claimNextOf(runId, claimKey, options);
      if (outcome.kind === 'batch') return outcome.batch;
      return outcome.kind === 'stored' ? 'stored' : undefined;
    },

    /** {@link claim}, saying why nothing was claimed (what a tail flush does next depends on it). */
    claimNext: claimNextOf,

    /** Batches claimed but not yet stored (left by a crash or a failed write job), by seq. */
    async openBatches(runId: string): Promise<Batch[]> {
      const k = ctx.keys(runId);
      const seqs = (await ctx.redis.smembers(k.open)).map(Number).sort((a, b) => a - b);
      const out: Batch[] = [];
      for (const seq of seqs) {
        const [key, body, count] = await ctx.redis.hmget(k.batches, `${seq}:key`, `${seq}:body`, `${seq}:count`);
        if (key && body !== null && body !== undefined && count) out.push({ seq, key, body, count: Number(count) });
      }
      return out;
    },

    /**
     * Commits a stored batch (idempotent).
     * @returns `committed`; `before` for a batch committed earlier; `unknown` when Redis does not
     * know the batch as stored (its claim was lost in a rollback, or reconciled meanwhile): the
     * caller reconciles the run with the lake.
     */
    async commit(runId: string, batch: Pick<Batch, 'seq' | 'key' | 'count'>): Promise<CommitOutcome> {
      const k = ctx.keys(runId);
      return scripts.commit.run(ctx.redis, [k.run, k.open, k.batches, k.objects], [batch.seq, batch.key, batch.count]);
    },

    /** Number of documents staged and not yet in a batch. */
    async stagedLength(runId: string): Promise<number> {
      return ctx.redis.llen(ctx.keys(runId).staged);
    },

    /** Documents ever staged (the `upTo` bound of a flush that writes all of them). */
    async stagedTotal(runId: string): Promise<number> {
      return Number((await ctx.redis.hget(ctx.keys(runId).run, 'stagedTotal')) ?? 0);
    },

    /** Documents staged and not yet in a stored object (staged or in open batches). */
    async pending(runId: string): Promise<number> {
      return Number((await ctx.redis.hget(ctx.keys(runId).run, 'pending')) ?? 0);
    },

    /** Data objects of a run, by sequence number. */
    async objects(runId: string): Promise<RunObject[]> {
      const all = await ctx.redis.hgetall(ctx.keys(runId).objects);
      return Object.entries(all)
        .map(([field, v]) => ({ seq: Number.parseInt(field, 10), ...(JSON.parse(v) as Omit<RunObject, 'seq'>) }))
        .sort((a, b) => a.seq - b.seq || a.key.localeCompare(b.key));
    },
  };
}
