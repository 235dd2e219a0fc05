/**
 * Run state of the catalog-wide feeds: the checkpoint and lease of an export run's reader (the
 * process that streams TMDB's daily ID export into the run), and the changes watermark of each
 * kind (the last day a completed changes run covered: where the next one starts).
 *
 * Checkpoint fields in the run hash: `export.line`, `export.byte`, `export.kept`,
 * `export.adult`, `export.belowPopularity`, `export.malformed`, `export.done` (see
 * {@link ExportCounts}), saved together by one script, only while the reader holds the run's
 * lease (`<run>:lease`).
 */
import { scripts } from './scripts.js';
import type { RunContext } from './context.js';
import { watermarkKey } from './keys.js';
import type { ExportCounts } from './types.js';

/** A checkpoint before the first line of an export. */
export const EXPORT_START: ExportCounts = { line: 0, byte: 0, kept: 0, adult: 0, belowPopularity: 0, malformed: 0, done: false };

const FIELDS: (keyof ExportCounts)[] = ['line', 'byte', 'kept', 'adult', 'belowPopularity', 'malformed', 'done'];

/** The export checkpoint of a run hash's fields, or undefined when it has none. */
export function exportCounts(h: Record<string, string>): ExportCounts | undefined {
  if (h['export.line'] === undefined) return undefined;
  const n = (f: keyof ExportCounts) => Number(h[`export.${f}`] ?? 0);
  return {
    line: n('line'),
    byte: n('byte'),
    kept: n('kept'),
    adult: n('adult'),
    belowPopularity: n('belowPopularity'),
    malformed: n('malformed'),
    done: h['export.done'] === '1',
  };
}

/** Moves a kind's changes watermark forward to `day` (YYYY-MM-DD), never back. */
export function moveWatermark(ctx: RunContext, kind: string, day: string): Promise<boolean> {
  return scripts.watermark.run(ctx.redis, [watermarkKey(ctx.prefix, kind)], [day]);
}

/** Feed operations of the run store. */
export function feeds(ctx: RunContext) {
  const lease = (runId: string, holder: string, ms: number, fields: (string | number)[] = []) => {
    const k = ctx.keys(runId);
    return scripts.checkpoint.run(ctx.redis, [k.run, k.lease], [holder, ms, ...fields]);
  };
  return {
    /**
     * Takes or renews a run's lease for `ms` (0 gives it back).
     * @returns false when another holder has it.
     */
    lease: (runId: string, holder: string, ms: number): Promise<boolean> => lease(runId, holder, ms),

    /** Who holds a run's lease (`host:pid:…`), if anyone. */
    async leaseHolder(runId: string): Promise<string | undefined> {
      return (await ctx.redis.get(ctx.keys(runId).lease)) ?? undefined;
    },

    /**
     * Saves an export checkpoint and renews the lease, atomically; once `done`, the run's
     * `expected` becomes the lines kept.
     * @returns false (nothing saved) when the lease is another holder's.
     */
    saveExport(runId: string, holder: string, leaseMs: number, cp: ExportCounts): Promise<boolean> {
      const fields: (string | number)[] = [];
      for (const f of FIELDS) fields.push(`export.${f}`, f === 'done' ? (cp.done ? 1 : 0) : cp[f]);
      if (cp.done) fields.push('expected', cp.kept);
      return lease(runId, holder, leaseMs, fields);
    },

    /** A run's export checkpoint (the start of the file when none was saved). */
    async exportCheckpoint(runId: string): Promise<ExportCounts> {
      return exportCounts(await ctx.redis.hgetall(ctx.keys(runId).run)) ?? { ...EXPORT_START };
    },

    /** A kind's changes watermark (YYYY-MM-DD), if Redis has one. */
    async watermark(kind: string): Promise<string | undefined> {
      return (await ctx.redis.get(watermarkKey(ctx.prefix, kind))) ?? undefined;
    },
  };
}
