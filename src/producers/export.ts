/**
 * Export producer: the whole catalog of a kind from TMDB's daily ID export
 * (`<TMDB_FILES_BASE_URL>/p/exports/movie_ids_MM_DD_YYYY.json.gz`, see `tmdb/export-file.ts`).
 * The file is streamed (undici → gunzip → lines); its ids go to the details queue a few
 * thousand lines at a time, deduplicated by the run's discovered bitmap, and only while the
 * details queue is no deeper than DETAILS_QUEUE_MAX_DEPTH, so Redis stays bounded for a file of
 * a million lines. Same run, details and write path, summary, manifest and exactly-once
 * guarantees as a discover backfill.
 *
 * The run stays open while the file is read (its `guard#export` plan key). Every
 * {@link CHECKPOINT_LINES} lines, once their ids are discovered, the reader saves how far it got
 * (line and byte of the decompressed file, and its counts) in the run hash; `backfill --resume`
 * continues from there. The reader holds the run's lease while it reads, so two processes never
 * read one export at once.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Fleet } from '../fleet.js';
import { RunRunningError, UsageError } from '../errors.js';
import { fanOut } from '../jobs/details.js';
import { formatPlanKey } from '../jobs/plan-key.js';
import { enqueueFinal } from '../jobs/write.js';
import { EXPORT_START } from '../runs/feeds.js';
import { newRunId } from '../runs/run-id.js';
import type { ExportCounts, Kind, RunParams } from '../runs/types.js';
import {
  ExportFileError,
  exportExists,
  exportFileName,
  exportUrl,
  findNewestExport,
  newestExportDates,
  parseExportLine,
  readExportFile,
} from '../tmdb/export-file.js';
import { checkDate, waitForRoom } from './preflight.js';

/** The plan key that keeps an export run open until its file was read to the end. */
export const EXPORT_GUARD = formatPlanKey({ type: 'guard', guard: 'export' });
/** Lines read between two checkpoints (and the most ids fed to the details queue at once). */
export const CHECKPOINT_LINES = 2_000;
/** How long the reader's lease outlives its process (SIGKILL, lost host), ms; renewed every third. */
export const EXPORT_LEASE_MS = 10_000;
/** Tries of one read, each from the last checkpoint, before the reader gives up. */
const READ_TRIES = 5;

/** Raw `backfill --source export` arguments. */
export interface ExportArgs {
  kind: string;
  exportDate?: string | undefined;
  minPopularity?: string | undefined;
  includeAdult?: boolean | undefined;
}

/** Validated export arguments; the file is chosen when the run starts. */
export interface ExportRequest {
  kind: Kind;
  /** YYYY-MM-DD; undefined: the newest file published (today UTC, else yesterday). */
  exportDate: string | undefined;
  /** Lines with a lower `popularity` (or none) are skipped; 0 keeps every line. */
  minPopularity: number;
  includeAdult: boolean;
}

/**
 * Validates export arguments.
 * @throws UsageError naming the bad value and what was expected.
 */
export function parseExportArgs(args: ExportArgs): ExportRequest {
  if (args.kind !== 'movie' && args.kind !== 'tv') throw new UsageError(`kind "${args.kind}" is not supported: expected movie or tv`);
  const exportDate = checkDate('--export-date', args.exportDate);
  let minPopularity = 0;
  if (args.minPopularity !== undefined) {
    minPopularity = Number(args.minPopularity);
    if (!/^\d+(\.\d+)?$/.test(args.minPopularity.trim()) || !Number.isFinite(minPopularity)) {
      throw new UsageError(`--min-popularity "${args.minPopularity}" is not a number ≥ 0, e.g. 5 or 0.6`);
    }
  }
  return { kind: args.kind, exportDate, minPopularity, includeAdult: args.includeAdult ?? false };
}

/**
 * The export file to read: the given date's, or the newest published (today UTC, then yesterday).
 * @throws UsageError when that file is not published; TmdbTransientError when the files host
 * cannot be reached.
 */
async function chooseFile(fleet: Fleet, req: ExportRequest, now: Date): Promise<{ file: string; date: string }> {
  const base = fleet.config.tmdb.filesBaseUrl;
  const timeout = fleet.config.tmdb.timeoutMs;
  if (req.exportDate) {
    const file = exportFileName(req.kind, req.exportDate);
    if (await exportExists(exportUrl(base, file), timeout)) return { file, date: req.exportDate };
    throw new UsageError(
      `--export-date ${req.exportDate}: ${exportUrl(base, file)} does not exist (TMDB keeps exports 3 months; pass another date)`,
    );
  }
  const newest = await findNewestExport(base, req.kind, timeout, now);
  if (newest) return newest;
  throw new UsageError(
    `no ${req.kind} export for ${newestExportDates(now).join(' or ')} at ${base}/p/exports/ (TMDB_FILES_BASE_URL): pass --export-date YYYY-MM-DD`,
  );
}

/** Options of {@link startExport}. */
export interface StartExportOptions {
  force?: boolean;
  /** Called with the run id and the file's name as soon as the run exists (before the file is read). */
  onCreated?: (runId: string, file: string) => Promise<void>;
  now?: Date;
}

/**
 * Starts an export run: checks the lake and the TMDB credential (one discover request), picks
 * the file, records the run, then reads the whole file into it (returns when it was read).
 * @returns the run id, the file read and the reader's final counts.
 * @throws UsageError (bad date, no file, a run with the same parameters running); LakeError,
 * TmdbAuthError before anything is recorded; TmdbTransientError when the file keeps failing
 * (the run stays resumable from its checkpoint).
 */
export async function startExport(
  fleet: Fleet,
  req: ExportRequest,
  options: StartExportOptions = {},
): Promise<{ runId: string; file: string; counts: ExportCounts }> {
  await fleet.store.check();
  await fleet.tmdb().checkCredential();
  const { file, date } = await chooseFile(fleet, req, options.now ?? new Date());
  const params: RunParams = {
    kind: req.kind,
    source: 'export',
    params: { file, export_date: date, min_popularity: String(req.minPopularity), include_adult: String(req.includeAdult) },
  };
  const runId = newRunId(req.kind);
  const running = await fleet.runs.create(runId, params, { lakePrefix: fleet.config.lake.prefix, force: options.force ?? false });
  if (running) {
    throw new RunRunningError(running, `run ${running} reads the same export with the same filters and is still running: follow it with "tmdb-fleet status ${running}" or pass --force`);
  }
  await fleet.runs.plan(runId, [EXPORT_GUARD]);
  await options.onCreated?.(runId, file);
  fleet.log.info({ runId, file }, 'export run started');
  return { runId, file, counts: await readExport(fleet, runId, params, { ...EXPORT_START }) };
}

/**
 * Continues reading an export run's file from its checkpoint (resume). Waits up to
 * {@link EXPORT_LEASE_MS} for a previous reader's lease to lapse.
 * @returns where the read started and the final counts.
 * @throws UsageError when another live process is reading it.
 */
export async function continueExport(fleet: Fleet, runId: string, params: RunParams): Promise<{ from: ExportCounts; counts: ExportCounts }> {
  const deadline = Date.now() + EXPORT_LEASE_MS + 2_000;
  for (let holder = await fleet.runs.leaseHolder(runId); holder; holder = await fleet.runs.leaseHolder(runId)) {
    if (Date.now() > deadline) {
      throw new UsageError(`run ${runId}'s export is being read by ${holder}: stop that process, or wait for it to finish`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const from = await fleet.runs.exportCheckpoint(runId);
  return { from, counts: await readExport(fleet, runId, params, from) };
}

/** Reads the file from checkpoint `from` to its end, then closes the run's guard. */
async function readExport(fleet: Fleet, runId: string, params: RunParams, from: ExportCounts): Promise<ExportCounts> {
  const holder = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  if (!(await fleet.runs.lease(runId, holder, EXPORT_LEASE_MS))) {
    throw new UsageError(`run ${runId}'s export is being read by ${await fleet.runs.leaseHolder(runId)}`);
  }
  let lost = false;
  const renew = setInterval(() => {
    void fleet.runs.lease(runId, holder, EXPORT_LEASE_MS).then((held) => (lost ||= !held), () => undefined);
  }, EXPORT_LEASE_MS / 3);
  const reader = new ExportReader(fleet, runId, params, holder, () => lost);
  try {
    let cp = from;
    for (let attempt = 1; !cp.done; attempt++) {
      try {
        cp = await reader.read(cp);
      } catch (err) {
        if (err instanceof RunStopped) {
          fleet.log.warn({ runId, line: cp.line }, 'run ended while its export was read; reading stopped');
          return await fleet.runs.exportCheckpoint(runId);
        }
        if (err instanceof ExportFileError || err instanceof UsageError || attempt >= READ_TRIES) throw err;
        cp = await fleet.runs.exportCheckpoint(runId);
        fleet.log.warn({ runId, line: cp.line, err: (err as Error).message }, 'export read failed; reading again from the checkpoint');
        await new Promise((r) => setTimeout(r, 1_000 * attempt));
      }
    }
    if (await fleet.runs.pageDone(runId, EXPORT_GUARD)) await enqueueFinal(fleet, runId);
    fleet.log.info({ runId, ...cp }, 'export read to the end');
    return cp;
  } finally {
    clearInterval(renew);
    await fleet.runs.lease(runId, holder, 0).catch(() => false);
  }
}

/** The run ended (cancelled, failed) while its file was being read: the reader stops. */
class RunStopped extends Error {}

/** One pass over the file from a checkpoint: keeps, counts and feeds lines, checkpointing as it goes. */
class ExportReader {
  private readonly kind: Kind;
  private readonly minPopularity: number;
  private readonly includeAdult: boolean;
  private readonly url: string;

  constructor(
    private readonly fleet: Fleet,
    private readonly runId: string,
    params: RunParams,
    private readonly holder: string,
    private readonly leaseLost: () => boolean,
  ) {
    this.kind = params.kind as Kind;
    this.minPopularity = Number(params.params.min_popularity ?? 0);
    this.includeAdult = params.params.include_adult === 'true';
    this.url = exportUrl(fleet.config.tmdb.filesBaseUrl, params.params.file ?? '');
  }

  /** Reads from `from` to the end of the file; returns the final (done) checkpoint. */
  async read(from: ExportCounts): Promise<ExportCounts> {
    const cp: ExportCounts = { ...from };
    let ids: number[] = [];
    let lines = 0;
    for await (const chunk of readExportFile(this.url, { fromByte: from.byte, timeoutMs: this.fleet.config.tmdb.timeoutMs })) {
      for (const line of chunk.lines) {
        cp.line++;
        const id = this.keep(line, cp);
        if (id !== undefined) ids.push(id);
      }
      lines += chunk.lines.length;
      cp.byte = chunk.end;
      if (lines >= CHECKPOINT_LINES) {
        await this.feed(ids, cp);
        ids = [];
        lines = 0;
      }
    }
    cp.done = true;
    await this.feed(ids, cp);
    return cp;
  }

  /** Classifies a line into `cp`'s counts; returns its id when kept. */
  private keep(line: string, cp: ExportCounts): number | undefined {
    const parsed = parseExportLine(line);
    if (!parsed) {
      if (cp.malformed++ < 5) this.fleet.log.warn({ runId: this.runId, line: cp.line }, 'export line is not a title; skipped');
      return undefined;
    }
    if (parsed.adult === true && !this.includeAdult) {
      cp.adult++;
      return undefined;
    }
    if (this.minPopularity > 0 && (parsed.popularity ?? 0) < this.minPopularity) {
      cp.belowPopularity++;
      return undefined;
    }
    cp.kept++;
    return parsed.id;
  }

  /** Feeds ids to the details queue (waiting for room), then saves the checkpoint. */
  private async feed(ids: number[], cp: ExportCounts): Promise<void> {
    const { fleet, runId } = this;
    await waitForRoom(fleet, fleet.queues.details, () => {
      if (this.leaseLost()) throw new UsageError(`run ${runId}: another process took over reading its export`);
    });
    if ((await fleet.runs.state(runId)) !== 'running') throw new RunStopped();
    await fanOut(fleet, runId, this.kind, ids);
    if (!(await fleet.runs.saveExport(runId, this.holder, EXPORT_LEASE_MS, cp))) {
      throw new UsageError(`run ${runId}: another process took over reading its export`);
    }
  }
}
