/**
 * The audit of a finished run, computed from what its bookkeeping counted (pure: no I/O; the
 * inputs are read by `audit.ts`). Every shortfall is one line with its counts and, where known,
 * its ids, pages or windows; the verdict is `complete` only when there is none. What is not a
 * shortfall: titles TMDB answers 404 for (removed), IMDB ids TMDB matches to nothing, files or
 * copies skipped because the destination already holds them.
 */
import { MAX_RESULTS } from '../tmdb/types.js';
import {
  AUDIT_LIST_CAP,
  type CopyRecord,
  type LeafAudit,
  type LostWindow,
  type RunAudit,
  type RunSummary,
  type UploadedFile,
} from './types.js';

/** What the audit is computed from. Lists may be capped; the summary's counts are exact. */
export interface AuditInput {
  summary: RunSummary;
  /** discover and search runs: TMDB's totals and every leaf window's counts. */
  coverage?: {
    rootTotal: number;
    leaves: LeafAudit[];
    lostWindows: LostWindow[];
    /** Movies no date window reaches in a split run without dates. */
    undated: number;
    /** Results the pages of one leaf window can list (500 pages of the listing's page size); default 10,000. */
    leafReach?: number;
    /** Whether each leaf's ids first seen there must reach its total (false: changes, whose windows overlap). */
    compareDiscovered?: boolean;
  };
  failedPages: { window: string; page: number }[];
  failedLookups: string[];
  failedIds: number[];
  files?: UploadedFile[] | undefined;
  copies?: CopyRecord[] | undefined;
}

/** Shown in a shortfall line; the full (capped) list is in the audit. */
const SHOWN = 5;

/** `a, b, c` — at most {@link SHOWN} items, then how many more. */
function some(items: readonly string[], total = items.length): string {
  const shown = items.slice(0, SHOWN).join(', ');
  return total > SHOWN ? `${shown}, … (${total - SHOWN} more in the audit)` : shown;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const cap = <T>(list: readonly T[]): T[] => list.slice(0, AUDIT_LIST_CAP);
const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/** What the run's planned items are called, by source. */
function itemName(s: RunSummary): string {
  if (s.kind === 'upload') return 'file';
  if (s.kind === 'sync') return 'copy';
  return s.params.source === 'enrich' ? 'IMDB lookup' : 'listing page';
}

/** TMDB's totals against the leaf windows: the coverage section and its shortfall lines. */
function coverageOf(c: NonNullable<AuditInput['coverage']>, out: string[]): NonNullable<RunAudit['coverage']> {
  const cap500 = c.leafReach ?? MAX_RESULTS;
  const listed = (l: LeafAudit) => (c.compareDiscovered === false ? l.returned : l.discovered);
  const reach = (l: LeafAudit) => Math.min(l.total, cap500);
  const leafTotal = sum(c.leaves.map((l) => l.total));
  const beyondCap = sum(c.leaves.map((l) => Math.max(0, l.total - cap500)));
  const unreached = Math.max(0, c.rootTotal - leafTotal - c.undated);
  const short = c.leaves.filter((l) => l.returned < reach(l) || listed(l) < reach(l));
  const missed = sum(short.map((l) => Math.max(0, reach(l) - listed(l))));
  if (c.lostWindows.length > 0) {
    const named = c.lostWindows.map((w) => {
      const bound = w.total !== undefined ? `TMDB total ${w.total}` : w.parentTotal !== undefined ? `≤ ${w.parentTotal}, its parent's total` : 'total unknown';
      return `${w.window} (${bound})`;
    });
    out.push(`${plural(c.lostWindows.length, 'window')} lost, page 1 failed for good so none of its titles were listed: ${some(named)}`);
  }
  if (beyondCap > 0) out.push(`${beyondCap} titles beyond TMDB's 500-page cap in windows no filter can split (see uncoveredWindows)`);
  if (c.undated > 0) {
    out.push(`${c.undated} movies without a release date (or dated outside the split range): TMDB discover has no filter that reaches them`);
  }
  if (unreached > 0) {
    out.push(`${unreached} of the ${c.rootTotal} titles TMDB counts for the whole query are in no leaf window (lost windows, or the catalog changed during the run)`);
  }
  if (missed > 0 || short.length > 0) {
    const named = short.map((l) => `${l.window} (total ${l.total}, returned ${l.returned}, discovered ${l.discovered})`);
    out.push(`${missed} titles listed by TMDB in ${plural(short.length, 'leaf window')} were not discovered: ${some(named)}`);
  }
  return {
    rootTotal: c.rootTotal,
    leaves: c.leaves.length,
    leafTotal,
    reachable: sum(c.leaves.map(reach)),
    returned: sum(c.leaves.map((l) => l.returned)),
    discovered: sum(c.leaves.map((l) => l.discovered)),
    beyondCap,
    undated: c.undated,
    unreached,
    shortLeaves: cap(short),
    lostWindows: cap(c.lostWindows),
  };
}

/** Planned items: the pages section and its shortfall lines. */
function pagesOf(input: AuditInput, out: string[]): RunAudit['pages'] {
  const s = input.summary;
  const name = itemName(s);
  const tmdb = s.kind === 'movie' || s.kind === 'tv';
  // Failed files and copies are named by their own lines (filesOf, copiesOf).
  if (s.pagesFailed > 0 && tmdb) {
    const listed = s.params.source === 'enrich' ? input.failedLookups : input.failedPages.map((p) => `${p.window} page ${p.page}`);
    out.push(`${s.pagesFailed} of ${plural(s.pagesPlanned, name)} failed for good: ${some(listed, s.pagesFailed)}`);
  }
  const unfinished = s.pagesPlanned - s.pagesDone;
  if (unfinished > 0) out.push(`${plural(unfinished, name)} planned but never finished (the run was ${s.state})`);
  return {
    planned: s.pagesPlanned,
    done: s.pagesDone,
    failed: s.pagesFailed,
    ...(tmdb && s.params.source !== 'enrich' ? { failedPages: cap(input.failedPages) } : {}),
    ...(s.params.source === 'enrich' ? { failedLookups: cap(input.failedLookups) } : {}),
  };
}

/** Title outcomes and fetched against written, for runs of the TMDB pipeline. */
function titlesOf(input: AuditInput, out: string[]): Pick<RunAudit, 'titles' | 'written'> {
  const s = input.summary;
  const unterminated = Math.max(0, s.discovered - s.fetched - s.notFound - s.failed);
  if (s.failed > 0) out.push(`${plural(s.failed, 'title')} failed for good: ${some(input.failedIds.map(String), s.failed)}`);
  if (unterminated > 0) out.push(`${plural(unterminated, 'discovered title')} never fetched (the run was ${s.state})`);
  if (s.fetched !== s.records) out.push(`${s.fetched} titles fetched but the run's objects hold ${s.records} records`);
  return {
    titles: { discovered: s.discovered, fetched: s.fetched, notFound: s.notFound, failed: s.failed, unterminated, failedIds: cap(input.failedIds) },
    written: { fetched: s.fetched, records: s.records, objects: s.objects },
  };
}

/** Upload runs: files by outcome. */
function filesOf(files: readonly UploadedFile[], planned: number, out: string[]): NonNullable<RunAudit['files']> {
  const by = (status: UploadedFile['status']) => files.filter((f) => f.status === status);
  const failed = by('failed');
  if (failed.length > 0) out.push(`${plural(failed.length, 'file')} not uploaded: ${some(failed.map((f) => `${f.name} (${f.error ?? 'failed'})`))}`);
  const missing = planned - files.length;
  if (missing > 0) out.push(`${plural(missing, 'planned file')} with no outcome`);
  return { planned, uploaded: by('uploaded').length, skipped: by('skipped').length, failed: failed.length, failedFiles: cap(failed.map((f) => f.name)) };
}

/** Sync runs: copies by outcome. */
function copiesOf(copies: readonly CopyRecord[], out: string[]): NonNullable<RunAudit['copies']> {
  const by = (status: CopyRecord['status']) => copies.filter((c) => c.status === status);
  const failed = by('failed');
  if (failed.length > 0) out.push(`${plural(failed.length, 'copy', 'copies')} failed: ${some(failed.map((c) => `${c.source} (${c.reason ?? 'failed'})`))}`);
  return { copied: by('copied').length, skipped: by('skipped').length, failed: failed.length, failedKeys: cap(failed.map((c) => c.source)) };
}

/** Builds a run's audit: its sections, its shortfall lines and the verdict. */
export function buildAudit(input: AuditInput): RunAudit {
  const s = input.summary;
  const shortfalls: string[] = [];
  const coverage = input.coverage ? coverageOf(input.coverage, shortfalls) : undefined;
  const pages = pagesOf(input, shortfalls);
  const pipeline = s.kind === 'movie' || s.kind === 'tv' ? titlesOf(input, shortfalls) : {};
  const files = s.kind === 'upload' ? filesOf(input.files ?? [], s.pagesPlanned, shortfalls) : undefined;
  const copies = s.kind === 'sync' ? copiesOf(input.copies ?? [], shortfalls) : undefined;
  return {
    verdict: shortfalls.length === 0 ? 'complete' : 'partial',
    shortfalls,
    ...(coverage ? { coverage } : {}),
    pages,
    ...pipeline,
    ...(files ? { files } : {}),
    ...(copies ? { copies } : {}),
  };
}
