/**
 * The titles of a run, as bitmaps indexed by TMDB id: discovered, then exactly one terminal
 * outcome each (fetched — see staging.ts —, not found, or failed for good). Counters move only
 * when a bit flips, so re-delivered jobs never double-count.
 */
import { scripts } from './scripts.js';
import type { RunContext } from './context.js';

/** Title operations of the run store. */
export function titles(ctx: RunContext) {
  return {
    /** The ids among `ids` this run has not discovered yet. */
    async unseen(runId: string, ids: readonly number[]): Promise<number[]> {
      if (ids.length === 0) return [];
      return scripts.unseen.run(ctx.redis, [ctx.keys(runId).discovered], ids);
    },

    /**
     * Marks ids discovered (after their details jobs were enqueued).
     * @param windowKey - the window whose page listed them: ids new to the run count for it.
     */
    async discovered(runId: string, ids: readonly number[], windowKey?: string): Promise<void> {
      if (ids.length === 0) return;
      const k = ctx.keys(runId);
      await scripts.discover.run(ctx.redis, [k.run, k.discovered, k.firstseen], [windowKey ?? '', ...ids]);
    },

    /**
     * Records a title TMDB does not have (404) or whose job failed for good, once.
     * @returns true when the run is complete and still running.
     */
    async terminal(runId: string, id: number, outcome: 'notFound' | 'failed'): Promise<boolean> {
      const k = ctx.keys(runId);
      const bitmap = outcome === 'notFound' ? k.notfound : k.failed;
      return scripts.terminal.run(ctx.redis, [k.run, k.fetched, k.notfound, bitmap], [id, outcome]);
    },

    /** Ids discovered but neither fetched, not found nor failed (read from the bitmaps). */
    async unfinishedIds(runId: string): Promise<number[]> {
      const k = ctx.keys(runId);
      const [discovered, fetched, notFound, failed] = await Promise.all(
        [k.discovered, k.fetched, k.notfound, k.failed].map((key) => ctx.redis.getBuffer(key)),
      );
      const out: number[] = [];
      if (!discovered) return out;
      const byte = (buf: Buffer | null | undefined, i: number) => (buf && i < buf.length ? (buf[i] ?? 0) : 0);
      for (let i = 0; i < discovered.length; i++) {
        const open = (discovered[i] ?? 0) & ~(byte(fetched, i) | byte(notFound, i) | byte(failed, i)) & 0xff;
        if (open === 0) continue;
        for (let bit = 0; bit < 8; bit++) if (open & (0x80 >> bit)) out.push(i * 8 + bit);
      }
      return out;
    },
  };
}
