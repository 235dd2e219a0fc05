/**
 * Planned work of a run, for completeness accounting: every discover page, find lookup, file,
 * copy or guard is a plan key (formatted by `jobs/plan-key.ts`) planned once and then done or
 * failed; plus TMDB's totals (the whole query, each split and each leaf window, which window a
 * split came from), what each leaf's pages returned (for the audit) and the windows no split
 * could bring under the page cap.
 */
import { scripts } from './scripts.js';
import type { RunContext } from './context.js';
import type { UncoveredWindow } from './types.js';

/** Planning operations of the run store. */
export function planning(ctx: RunContext) {
  return {
    /** Marks plan keys planned (idempotent); returns how many were new. */
    async plan(runId: string, planKeys: readonly string[]): Promise<number> {
      if (planKeys.length === 0) return 0;
      const k = ctx.keys(runId);
      return scripts.plan.run(ctx.redis, [k.run, k.pages], planKeys);
    },

    /**
     * Marks a plan key done (or failed, idempotently).
     * @param returned - a page of a leaf window: its window key and how many results it
     *   returned, added to the window's count when the page turns done (once).
     * @returns true when the run is complete and still running — also on a re-delivered job, so
     * the final write job is enqueued even if the process that completed the run died first.
     */
    async pageDone(
      runId: string,
      planKey: string,
      outcome: 'done' | 'failed' = 'done',
      returned?: { window: string; results: number },
    ): Promise<boolean> {
      const k = ctx.keys(runId);
      return scripts.pageDone.run(
        ctx.redis,
        [k.run, k.pages, k.returned],
        [planKey, outcome === 'failed' ? 2 : 1, returned?.window ?? '', returned?.results ?? 0],
      );
    },

    /** Plan keys planned and not yet done (or failed). */
    async unfinishedPages(runId: string): Promise<string[]> {
      const all = await ctx.redis.hgetall(ctx.keys(runId).pages);
      return Object.entries(all)
        .filter(([, v]) => v !== '1')
        .map(([k]) => k);
    },
  };
}

/** TMDB's totals: the whole query, each window (leaf, split, uncovered), for the audit. */
export function windowTotals(ctx: RunContext) {
  return {
    /** Records total_results of the whole query (idempotent: the first value stays). */
    async setExpected(runId: string, total: number): Promise<void> {
      await ctx.redis.hsetnx(ctx.keys(runId).run, 'expected', total);
    },

    /** Records a leaf window (one that fits the page cap) and its total_results. */
    async leaf(runId: string, windowKey: string, total: number): Promise<void> {
      await ctx.redis.hset(ctx.keys(runId).leaves, windowKey, total);
    },

    /**
     * Records a leaf window once and adds its total_results to the run's `expected` (changes
     * runs, whose expected is the sum of their windows' totals). @returns true the first time.
     */
    async countLeaf(runId: string, windowKey: string, total: number): Promise<boolean> {
      const k = ctx.keys(runId);
      return scripts.countLeaf.run(ctx.redis, [k.run, k.leaves], [windowKey, total]);
    },

    /**
     * Records a window that was split (page 1 said it exceeds the page cap) with its
     * total_results, and the windows it was split into.
     */
    async split(runId: string, windowKey: string, total: number, children: readonly string[]): Promise<void> {
      const k = ctx.keys(runId);
      const tx = ctx.redis.multi().hset(k.splits, windowKey, total);
      for (const child of children) tx.hset(k.parents, child, windowKey);
      await tx.exec();
    },

    /** total_results of a leaf window, if known. */
    async leafTotal(runId: string, windowKey: string): Promise<number | undefined> {
      const v = await ctx.redis.hget(ctx.keys(runId).leaves, windowKey);
      return v === null ? undefined : Number(v);
    },

    /** Records a window that still exceeds the page cap and cannot be split further. */
    async uncovered(runId: string, windowKey: string, total: number, reachable: number): Promise<void> {
      const value: Omit<UncoveredWindow, 'window'> = { total, reachable, missed: total - reachable };
      await ctx.redis.hset(ctx.keys(runId).uncovered, windowKey, JSON.stringify(value));
    },

    /** Windows that exceed the page cap and could not be split further. */
    async uncoveredWindows(runId: string): Promise<UncoveredWindow[]> {
      const all = await ctx.redis.hgetall(ctx.keys(runId).uncovered);
      return Object.entries(all).map(([window, v]) => ({ window, ...(JSON.parse(v) as Omit<UncoveredWindow, 'window'>) }));
    },
  };
}
