/**
 * A run audits itself when its final write job writes the manifest: this module reads what the
 * run's bookkeeping counted (TMDB's totals per window, what each leaf's pages returned and
 * discovered, failed pages and ids, files and copies) and hands it to `verdict.ts`; the verdict
 * and shortfall lines are kept on the run's hash, so `status` shows them after the working keys
 * are gone. Lists are capped ({@link AUDIT_LIST_CAP}); counts come from the exact counters.
 */
import { parsePlanKey } from '../jobs/plan-key.js';
import { MAX_PAGES, pageSizeOf } from '../tmdb/types.js';
import { rootWindow, windowKey } from '../tmdb/windows.js';
import type { RunContext } from './context.js';
import { ledgers } from './ledgers.js';
import { lifecycle } from './lifecycle.js';
import { windowTotals } from './planning.js';
import { AUDIT_LIST_CAP, type LeafAudit, type LostWindow, type RunAudit, type RunSummary } from './types.js';
import { buildAudit, type AuditInput } from './verdict.js';

/** Plan keys read per HSCAN round trip. */
const SCAN_COUNT = 1_000;

/** The failed plan keys of a run, by kind of item (page lists capped, page-1 failures all kept). */
interface FailedItems {
  pages: { window: string; page: number }[];
  /** Windows whose page 1 failed (at most one per window, so bounded by the windows planned). */
  firstPages: string[];
  lookups: string[];
}

/** Reads every failed item of a run's `:pages` hash (HSCAN, so a big run is read in slices). */
async function failedItems(ctx: RunContext, runId: string): Promise<FailedItems> {
  const out: FailedItems = { pages: [], firstPages: [], lookups: [] };
  const key = ctx.keys(runId).pages;
  let cursor = '0';
  do {
    const [next, flat] = await ctx.redis.hscan(key, cursor, 'COUNT', SCAN_COUNT);
    cursor = next;
    for (let i = 0; i + 1 < flat.length; i += 2) {
      if (flat[i + 1] !== '2') continue;
      const item = parsePlanKey(flat[i] as string);
      if (item.type === 'page') {
        const window = windowKey(item.window);
        if (out.pages.length < AUDIT_LIST_CAP) out.pages.push({ window, page: item.page });
        if (item.page === 1) out.firstPages.push(window);
      } else if (item.type === 'find' && out.lookups.length < AUDIT_LIST_CAP) out.lookups.push(item.imdbId);
    }
  } while (cursor !== '0');
  const byPage = (a: { window: string; page: number }, b: { window: string; page: number }) =>
    a.window < b.window ? -1 : a.window > b.window ? 1 : a.page - b.page;
  out.pages.sort(byPage);
  out.firstPages.sort();
  out.lookups.sort();
  return out;
}

/** The first `limit` ids whose bit is set in a bitmap, ascending. */
async function bitmapIds(ctx: RunContext, key: string, limit: number): Promise<number[]> {
  const buf = await ctx.redis.getBuffer(key);
  const out: number[] = [];
  if (!buf) return out;
  for (let i = 0; i < buf.length && out.length < limit; i++) {
    const byte = buf[i] ?? 0;
    if (byte === 0) continue;
    for (let bit = 0; bit < 8 && out.length < limit; bit++) if (byte & (0x80 >> bit)) out.push(i * 8 + bit);
  }
  return out;
}

/** TMDB's totals against the leaf windows of a discover or search run. */
async function coverageOf(ctx: RunContext, s: RunSummary, failed: FailedItems): Promise<NonNullable<AuditInput['coverage']>> {
  const k = ctx.keys(s.runId);
  const [leaves, splits, parents, returned, firstseen] = await Promise.all([
    ctx.redis.hgetall(k.leaves),
    ctx.redis.hgetall(k.splits),
    ctx.redis.hgetall(k.parents),
    ctx.redis.hgetall(k.returned),
    ctx.redis.hgetall(k.firstseen),
  ]);
  const n = (v: string | undefined) => Number(v ?? 0);
  const leafList: LeafAudit[] = Object.entries(leaves)
    .map(([window, total]) => ({ window, total: n(total), returned: n(returned[window]), discovered: n(firstseen[window]) }))
    .sort((a, b) => (a.window < b.window ? -1 : a.window > b.window ? 1 : 0));
  const root = windowKey(rootWindow(s.params));
  const lostWindows: LostWindow[] = failed.firstPages.map((window) => {
    const parent = parents[window];
    return {
      window,
      ...(window === root ? { total: s.expected } : {}),
      ...(parent !== undefined && splits[parent] !== undefined ? { parentTotal: n(splits[parent]) } : {}),
    };
  });
  // A search without --all-pages asked for its first page only: that page is the whole run.
  const firstPageOnly = s.params.source === 'search' && s.params.params.all_pages !== 'true';
  const rootTotal = firstPageOnly ? leafList.reduce((sum, l) => sum + l.total, 0) : s.expected;
  // A changes run's windows may list the same id (changed in both), and its adult entries are
  // skipped: its leaves are held to what their pages returned, not to ids first seen there.
  const changes = s.params.source === 'changes';
  return {
    rootTotal,
    leaves: leafList,
    lostWindows,
    undated: undatedMovies(s, root, leaves, splits, parents),
    leafReach: MAX_PAGES * pageSizeOf(s.params.source),
    compareDiscovered: !changes,
  };
}

/**
 * Movies no date window reaches, in a discover run without dates whose root was split: the
 * root's total less the totals of its two date halves (0 when either half is lost: its loss is
 * reported as a lost window instead).
 */
function undatedMovies(
  s: RunSummary,
  root: string,
  leaves: Record<string, string>,
  splits: Record<string, string>,
  parents: Record<string, string>,
): number {
  const p = s.params;
  if (p.kind !== 'movie' || (p.source ?? 'discover') !== 'discover' || p.from || p.to || splits[root] === undefined) return 0;
  const halves = Object.entries(parents).filter(([, parent]) => parent === root).map(([child]) => leaves[child] ?? splits[child]);
  if (halves.length === 0 || halves.some((t) => t === undefined)) return 0;
  return Math.max(0, Number(splits[root]) - halves.reduce((sum, t) => sum + Number(t), 0));
}

/** Audit operations of the run store. */
export function audit(ctx: RunContext) {
  return {
    /**
     * Audits a run whose work is over (its final write job, before the manifest): records the
     * movies no date window reaches as the uncovered window `undated`, builds the audit from the
     * run's bookkeeping, and keeps its verdict and shortfall lines on the run's hash.
     * @throws RunNotFoundError
     */
    async audit(runId: string): Promise<RunAudit> {
      const summary = await lifecycle(ctx).summary(runId);
      const kind = summary.kind;
      // Runs fed by listing pages (discover, search, changes) have windows to audit; enrich runs
      // (IMDB lookups) and export runs (one file read line by line) have none.
      const source = summary.params.source ?? 'discover';
      const listing = (kind === 'movie' || kind === 'tv') && source !== 'enrich' && source !== 'export';
      const failed = await failedItems(ctx, runId);
      const coverage = listing ? await coverageOf(ctx, summary, failed) : undefined;
      if (coverage && coverage.undated > 0) await windowTotals(ctx).uncovered(runId, 'undated', coverage.undated, 0);
      const result = buildAudit({
        summary,
        ...(coverage ? { coverage } : {}),
        failedPages: failed.pages,
        failedLookups: failed.lookups,
        failedIds: kind === 'movie' || kind === 'tv' ? await bitmapIds(ctx, ctx.keys(runId).failed, AUDIT_LIST_CAP) : [],
        files: kind === 'upload' ? await ledgers(ctx).files(runId) : undefined,
        copies: kind === 'sync' ? await ledgers(ctx).copies(runId) : undefined,
      });
      await ctx.redis.hset(ctx.keys(runId).run, 'verdict', result.verdict, 'shortfalls', JSON.stringify(result.shortfalls));
      return result;
    },
  };
}
