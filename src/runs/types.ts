/**
 * The vocabulary of a run: its kinds, sources, states, parameters, counts and audit. Pure types
 * (and constants), so every layer may use them, the lake's manifest included.
 */

/** TMDB catalog kinds a backfill can move. */
export type Kind = 'movie' | 'tv';

/** What a run moves: a TMDB catalog kind, local files (`upload`) or S3 objects (`sync`). */
export type RunKind = Kind | 'upload' | 'sync';

/**
 * How a run finds its titles: discover windows, a search, the IMDB ids of a CSV (enrich),
 * TMDB's daily ID export (export) or the changes feed (changes).
 */
export type RunSource = 'discover' | 'search' | 'enrich' | 'export' | 'changes';

/** Lifecycle of a run. */
export type RunState = 'running' | 'finalizing' | 'completed' | 'failed' | 'cancelled';

/** The states a run ends in. */
export type FinishedState = 'completed' | 'failed' | 'cancelled';

/** States a run never leaves (but for `resume` of a failed run). */
export const FINISHED_STATES: readonly FinishedState[] = ['completed', 'failed', 'cancelled'];

/** Parameters a run was started with, as stored in its manifest. */
export interface RunParams {
  kind: RunKind;
  /** discover (a backfill, the default), search (`query`, `all_pages`), enrich (`csv`, …), export or changes. */
  source?: RunSource;
  /** Discover: first release (first-air) date. Changes: first day of the changes covered (start_date). */
  from?: string;
  /** Discover: last release (first-air) date. Changes: last day covered (end_date), the run's watermark. */
  to?: string;
  /**
   * Backfill: TMDB discover filters passed through (`--param`). Search: `query` and `all_pages`
   * ('true'/'false'). Enrich: `csv`, `id_column` and `filter` (`column=value`). Export: `file`
   * (the export's file name), `export_date` (YYYY-MM-DD), `min_popularity` (a number, '0' for
   * none) and `include_adult` ('true'/'false'). Changes: `include_adult`. Upload and sync: their
   * own arguments.
   */
  params: Record<string, string>;
}

/** Counts of a sync run's copies, by outcome. */
export interface CopyCounts {
  copied: number;
  skipped: number;
  failed: number;
  /** Outcomes counted but not listed in the manifest (past the ledger's cap; watch runs). */
  unlisted?: number;
}

/** Counts of an upload run's files, by outcome, with the bytes it wrote. */
export interface FileCounts {
  uploaded: number;
  /** Files whose same bytes were already at their key (nothing written). */
  skipped: number;
  failed: number;
  /** Bytes of the files uploaded (written to the lake) by the run. */
  bytes: number;
}

/** The counters of a run, as `status`, `--json` and the manifest's `summary` show them. */
export interface RunCounts {
  /** total_results TMDB reported for the whole query. */
  expected: number;
  discovered: number;
  fetched: number;
  notFound: number;
  failed: number;
  pagesPlanned: number;
  pagesDone: number;
  pagesFailed: number;
  objects: number;
  records: number;
  /** Titles TMDB reported that no window could reach (beyond the 500-page cap). */
  uncovered: number;
  /** Enrich runs: IMDB ids TMDB matched to no title. */
  unmatched: number;
  /** Sync runs: source objects copied, skipped (destination already equal, or source gone), failed. */
  copies?: CopyCounts;
  /** Upload runs: files uploaded, skipped, failed, and the bytes uploaded (each uploaded file is one object). */
  files?: FileCounts;
  /** Export runs: how far the export file was read and what its lines were. */
  export?: ExportCounts;
}

/**
 * How far an export run read its file, and what the lines read so far were. Saved in the run
 * hash as one checkpoint every few thousand lines (only after the ids of those lines were
 * discovered), so a resume continues from `line`/`byte`.
 */
export interface ExportCounts {
  /** Lines read (and handled) so far. */
  line: number;
  /** Bytes of the decompressed file read so far: where line `line + 1` starts. */
  byte: number;
  /** Lines kept (their ids fed to the details queue); the run's `expected` once the file is read. */
  kept: number;
  /** Lines skipped as `"adult": true` (without --include-adult). */
  adult: number;
  /** Lines skipped below --min-popularity. */
  belowPopularity: number;
  /** Lines that are not a JSON object with a positive integer `id`. */
  malformed: number;
  /** True once the whole file was read. */
  done: boolean;
}

/** What `status` and `backfill --json` print. */
export interface RunSummary extends RunCounts {
  runId: string;
  kind: RunKind;
  state: RunState;
  error: string | undefined;
  params: RunParams;
  createdAt: string;
  finishedAt: string | undefined;
  /** The run's own audit, once it finished: complete, or partial (see `shortfalls`). */
  verdict?: Verdict | undefined;
  /** One line per shortfall the audit found, with counts (empty when complete or running). */
  shortfalls?: string[];
}

/** What a finished run's audit concludes: everything it could reach is in the lake, or not. */
export type Verdict = 'complete' | 'partial';

/** One leaf window in the audit: TMDB's total against what its pages returned and discovered. */
export interface LeafAudit {
  window: string;
  /** total_results TMDB reported on its page 1. */
  total: number;
  /** Results its pages returned (pages done). */
  returned: number;
  /** Distinct ids first discovered by its pages. */
  discovered: number;
}

/** A window whose page 1 failed for good: none of its titles were listed. */
export interface LostWindow {
  window: string;
  /** TMDB's total for it, when known (the root window: from the run's first request). */
  total?: number;
  /** total_results of the window it was split from: an upper bound of its own. */
  parentTotal?: number;
}

/**
 * A run's audit, the manifest's `audit` section: what TMDB (or the source) said there was,
 * against what the run listed, fetched and wrote. Lists are capped at {@link AUDIT_LIST_CAP}
 * entries; counts are exact.
 */
export interface RunAudit {
  verdict: Verdict;
  /** One line per shortfall, with counts and, where known, ids, pages or windows. */
  shortfalls: string[];
  /** discover and search runs: TMDB's totals against the windows that read them. */
  coverage?: {
    /** TMDB's total_results for the whole query (search without --all-pages: its first page). */
    rootTotal: number;
    /** Leaf windows (windows whose pages were read). */
    leaves: number;
    /** Sum of the leaves' total_results. */
    leafTotal: number;
    /** Sum over leaves of min(total, 10,000): what the 500-page cap lets the run read. */
    reachable: number;
    /** Results the leaves' pages returned. */
    returned: number;
    /** Distinct ids first discovered in leaves. */
    discovered: number;
    /** Titles past the 500-page cap in leaves no filter can split. */
    beyondCap: number;
    /** Movies of a run without dates that no date window reaches (no release date, or outside 1870 … +20 y). */
    undated: number;
    /** max(0, rootTotal − leafTotal − undated): titles in no leaf window (lost windows, a catalog changing mid-run). */
    unreached: number;
    /** Leaves whose pages returned or discovered fewer titles than they could reach. */
    shortLeaves: LeafAudit[];
    /** Windows whose page 1 failed for good. */
    lostWindows: LostWindow[];
  };
  /** Planned items: listing pages (backfill, search), lookups (enrich), files (upload), copies (sync). */
  pages: {
    planned: number;
    done: number;
    failed: number;
    /** discover and search runs: the pages that failed for good. */
    failedPages?: { window: string; page: number }[];
    /** enrich runs: IMDB ids whose lookup failed for good. */
    failedLookups?: string[];
  };
  /** TMDB pipeline runs: title outcomes. */
  titles?: {
    discovered: number;
    fetched: number;
    notFound: number;
    failed: number;
    /** Discovered titles that reached no outcome (a cancelled or failed run). */
    unterminated: number;
    failedIds: number[];
  };
  /** TMDB pipeline runs: titles fetched against records written (the sum of object records). */
  written?: { fetched: number; records: number; objects: number };
  /** Upload runs. */
  files?: { planned: number; uploaded: number; skipped: number; failed: number; failedFiles: string[] };
  /** Sync runs. */
  copies?: { copied: number; skipped: number; failed: number; failedKeys: string[] };
}

/** Most entries of any list in a {@link RunAudit} (its counts stay exact). */
export const AUDIT_LIST_CAP = 1_000;

/** What a sync run did with one source object, as listed in its manifest. */
export interface CopyRecord {
  source: string;
  destination: string;
  status: 'copied' | 'skipped' | 'failed';
  /** Bytes. */
  size: number;
  /** Unquoted ETag of the source. */
  etag: string;
  /** Why it was skipped or failed. */
  reason?: string;
}

/** What an upload run did with one local file, as listed in its manifest. */
export interface UploadedFile {
  name: string;
  key: string;
  /** Bytes. */
  bytes: number;
  /** Data rows, header excluded (csv only). */
  rows?: number;
  /** SHA-256 of the file, hex (also the object's `x-amz-meta-sha256`). */
  sha256: string;
  /** The S3 `ChecksumSHA256` of the object (`<base64>-<parts>` when multipart). */
  checksum: string;
  status: 'uploaded' | 'skipped' | 'failed';
  error?: string;
}

/** A window that exceeds TMDB's page cap and cannot be split further. */
export interface UncoveredWindow {
  window: string;
  /** total_results TMDB reported. */
  total: number;
  /** Results the 500-page cap lets us read. */
  reachable: number;
  missed: number;
}

/** A data object of a run, as listed in its manifest. */
export interface RunObject {
  seq: number;
  key: string;
  records: number;
}

/** A claimed batch ready to be stored. */
export interface Batch {
  seq: number;
  key: string;
  /** JSON Lines, one document per line, newline-terminated. */
  body: string;
  count: number;
}
