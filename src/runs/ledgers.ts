/**
 * What runs other than title backfills record per item, listed in their manifests: a sync
 * run's copies, an upload run's files (and bytes read, for progress), an enrich run's IMDB ids
 * without a TMDB match. Each is idempotent per item.
 */
import { scripts } from './scripts.js';
import type { RunContext } from './context.js';
import type { CopyRecord, UploadedFile } from './types.js';

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Most copies a sync run lists (a watch run copies without end; past this they are only counted). */
export const COPY_LEDGER_MAX = 50_000;

/** Ledger operations of the run store. */
export function ledgers(ctx: RunContext) {
  return {
    /**
     * Sync: records what a copy job did with a source object (idempotent per source key). The
     * ledger lists at most `maxListed` objects ({@link COPY_LEDGER_MAX}); the counts stay whole.
     */
    async recordCopy(runId: string, record: CopyRecord, maxListed = COPY_LEDGER_MAX): Promise<void> {
      const k = ctx.keys(runId);
      const { source, ...rest } = record;
      await scripts.recordCopy.run(ctx.redis, [k.run, k.copies], [source, JSON.stringify(rest), record.status, maxListed]);
    },

    /** Sync: every copy outcome, by source key. */
    async copies(runId: string): Promise<CopyRecord[]> {
      const all = await ctx.redis.hgetall(ctx.keys(runId).copies);
      return Object.entries(all)
        .map(([source, v]) => ({ source, ...(JSON.parse(v) as Omit<CopyRecord, 'source'>) }))
        .sort((a, b) => byName(a.source, b.source));
    },

    /** Enrich: records an IMDB id `GET /find` matched to no title of the run's kind. */
    async unmatched(runId: string, imdbId: string): Promise<void> {
      await ctx.redis.hset(ctx.keys(runId).unmatched, imdbId, 1);
    },

    /** Enrich: IMDB ids without a TMDB match, sorted. */
    async unmatchedIds(runId: string): Promise<string[]> {
      return (await ctx.redis.hkeys(ctx.keys(runId).unmatched)).sort();
    },

    /** Upload: records the outcome of one file, by file name. */
    async recordFile(runId: string, file: UploadedFile): Promise<void> {
      await ctx.redis.hset(ctx.keys(runId).files, file.name, JSON.stringify(file));
    },

    /** Upload: every recorded file outcome, by file name. */
    async files(runId: string): Promise<UploadedFile[]> {
      const all = await ctx.redis.hgetall(ctx.keys(runId).files);
      return Object.entries(all)
        .sort(([a], [b]) => byName(a, b))
        .map(([, v]) => JSON.parse(v) as UploadedFile);
    },

    /** Upload: bytes of a file read so far (set, not added: a retried upload never counts twice). */
    async fileBytes(runId: string, name: string, bytes: number): Promise<void> {
      await ctx.redis.hset(ctx.keys(runId).bytes, name, bytes);
    },

    /** Upload: bytes read so far over every file of the run. */
    async bytesDone(runId: string): Promise<number> {
      const all = await ctx.redis.hvals(ctx.keys(runId).bytes);
      return all.reduce((sum, v) => sum + Number(v), 0);
    },
  };
}
