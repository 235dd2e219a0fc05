/**
 * A run in human words, in the language of what it moved: TMDB runs speak of titles (and of the
 * discover or search pages, changes feed or export file that listed them), enrich runs of the
 * IMDB ids of their CSV and the titles those matched, upload runs of files, bytes and objects,
 * sync runs of objects copied and skipped. One table, {@link WORDING}, keyed by
 * {@link runLanguage}; `humanSummary` (status, `--wait`, cancel) and the progress lines of
 * `--wait` read it.
 */
import { runProgress, type RunProgress } from '../runs/history.js';
import type { RunSummary } from '../runs/types.js';

/** What a run is about, for its wording: its source for TMDB runs, else its kind. */
export type RunLanguage = 'discover' | 'search' | 'export' | 'changes' | 'enrich' | 'upload' | 'sync';

/** How one {@link RunLanguage} speaks. */
interface Wording {
  /** What the run is, after its id: `movie`, `movie search`, `upload`, … */
  label(s: RunSummary): string;
  /** The summary's lines between its header and its audit, two-space indented. */
  lines(s: RunSummary): string[];
  /** The counts in brackets after a progress line's done/total. */
  progress(s: RunSummary): string;
}

/** The language of a run: `upload` and `sync` runs by kind, TMDB runs by source. */
export function runLanguage(s: Pick<RunSummary, 'kind' | 'params'>): RunLanguage {
  return s.kind === 'upload' || s.kind === 'sync' ? s.kind : (s.params.source ?? 'discover');
}

/** `1,234,567 bytes (1.2 MB)`. */
function bytes(n: number): string {
  return `${n.toLocaleString('en-US')} bytes${n >= 1e6 ? ` (${(n / 1e6).toFixed(1)} MB)` : ''}`;
}

/** Titles of a TMDB run: discovered, their outcomes, and what the source said there was (`reported N`). */
const titles = (s: RunSummary, reported: string): string =>
  `  titles: ${s.discovered} discovered, ${s.fetched} fetched, ${s.notFound} not found, ${s.failed} failed (${reported} ${s.expected})`;
/** Listing pages of a TMDB run (discover, search or changes pages). */
const pages = (s: RunSummary, what: string): string => `  ${what}: ${s.pagesDone}/${s.pagesPlanned} done, ${s.pagesFailed} failed`;
/** Data objects and records of a TMDB run. */
const lake = (s: RunSummary): string => `  lake: ${s.objects} objects, ${s.records} records`;
/** Titles TMDB reported that no window could reach (beyond the 500-page cap). */
const uncovered = (s: RunSummary): string[] =>
  s.uncovered > 0 ? [`  uncovered: ${s.uncovered} titles beyond TMDB's 500-page cap (see manifest)`] : [];
/** Outcomes of a TMDB run's titles, for progress lines. */
const titleProgress = (s: RunSummary): string => `fetched ${s.fetched}, not found ${s.notFound}, failed ${s.failed}`;

/**
 * An enrich run's IMDB ids: distinct ids of the CSV (once read), those a lookup matched to a
 * title, those unmatched (no match, or not an IMDB title id) and lookups failed for good.
 * Lookups still pending are in none of them.
 */
function imdbIds(s: RunSummary): string {
  const pending = Math.max(0, s.pagesPlanned - s.pagesDone - s.pagesFailed);
  const matched = Math.max(0, s.expected - s.unmatched - s.pagesFailed - pending);
  const listed = s.unmatched > 0 ? ' (listed in the manifest)' : '';
  return `  IMDB ids: ${s.expected} in the CSV, ${matched} matched, ${s.unmatched} unmatched${listed}, ${s.pagesFailed} lookups failed`;
}

const NO_FILES = { uploaded: 0, skipped: 0, failed: 0, bytes: 0 };
const NO_COPIES = { copied: 0, skipped: 0, failed: 0 };

/** Every run language's wording: the one place a run's counts get their words. */
const WORDING: Record<RunLanguage, Wording> = {
  discover: {
    label: (s) => s.kind,
    lines: (s) => [titles(s, 'TMDB reported'), pages(s, 'pages'), lake(s), ...uncovered(s)],
    progress: titleProgress,
  },
  search: {
    label: (s) => `${s.kind} search`,
    lines: (s) => [titles(s, 'TMDB reported'), pages(s, 'search pages'), lake(s), ...uncovered(s)],
    progress: titleProgress,
  },
  changes: {
    label: (s) => `${s.kind} changes`,
    lines: (s) => [titles(s, 'the changes feed listed'), pages(s, 'changes pages'), lake(s), ...uncovered(s)],
    progress: titleProgress,
  },
  export: {
    label: (s) => `${s.kind} export`,
    lines: (s) => [
      titles(s, 'the export file kept'),
      ...(s.export
        ? [`  export file: ${s.export.line} lines read${s.export.done ? ' (all)' : ''}, ${s.export.kept} kept, ${s.export.adult} adult skipped, ${s.export.belowPopularity} below --min-popularity, ${s.export.malformed} malformed`]
        : []),
      lake(s),
    ],
    progress: titleProgress,
  },
  enrich: {
    label: (s) => `${s.kind} enrich`,
    lines: (s) => [
      imdbIds(s),
      `  titles: ${s.discovered} matched, ${s.fetched} fetched, ${s.notFound} not found, ${s.failed} failed`,
      lake(s),
    ],
    progress: titleProgress,
  },
  upload: {
    label: () => 'upload',
    lines: (s) => {
      const f = s.files ?? NO_FILES;
      return [
        `  files: ${s.pagesPlanned} planned, ${f.uploaded} uploaded, ${f.skipped} skipped (already in the lake), ${f.failed} failed`,
        `  lake: ${f.uploaded} objects written, ${bytes(f.bytes)}`,
      ];
    },
    progress: (s) => {
      const f = s.files ?? NO_FILES;
      return `uploaded ${f.uploaded}, skipped ${f.skipped}, failed ${f.failed}`;
    },
  },
  sync: {
    label: () => 'sync',
    lines: (s) => {
      const c = s.copies ?? NO_COPIES;
      const unlisted = s.copies?.unlisted ? `; ${s.copies.unlisted} not listed in the manifest` : '';
      return [`  objects: ${c.copied} copied, ${c.skipped} skipped (already at the destination, or gone), ${c.failed} failed${unlisted}`];
    },
    progress: (s) => {
      const c = s.copies ?? NO_COPIES;
      return `copied ${c.copied}, skipped ${c.skipped}, failed ${c.failed}`;
    },
  },
};

/** The summary as a few human lines: header, the lines of its language, its audit. */
export function humanSummary(s: RunSummary): string {
  const wording = WORDING[runLanguage(s)];
  const lines = [`run ${s.runId} (${wording.label(s)}) ${s.state}${s.error ? `: ${s.error}` : ''}`, ...wording.lines(s)];
  if (s.verdict) lines.push(`  audit: ${s.verdict}`, ...(s.shortfalls ?? []).map((line) => `    - ${line}`));
  return lines.join('\n');
}

/** A run's progress (done of total, in its unit: titles, files or objects) and its counts in words. */
export function progressOf(s: RunSummary): RunProgress & { counts: string } {
  return { ...runProgress(s), counts: WORDING[runLanguage(s)].progress(s) };
}
