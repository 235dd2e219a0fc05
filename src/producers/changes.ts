/**
 * Changes producer: refreshes the titles TMDB changed in a range of days, read from
 * `GET /{kind}/changes?start_date&end_date&page` (100 ids a page; TMDB refuses a range over 14
 * days with HTTP 422, status_code 20, so the range is cut into windows of at most 14 days). Each
 * window's pages are discover-queue jobs like a backfill's (planned a few ahead, split by date
 * past the 500-page cap); each distinct id is fetched once through the same details and write
 * queues (the run's discovered bitmap), so one run refreshes an id changed on many days once.
 *
 * Without `--since` a run continues where the last completed changes run of its kind ended (its
 * `--until`; a completed export run counts too, from its file's date): the watermark in Redis,
 * or, when Redis lost it, the newest such manifest in the lake. The day is read again (the
 * previous run could not see changes made later that day); a title changed twice is simply
 * fetched again.
 */
import type { Fleet } from '../fleet.js';
import { RunRunningError, UsageError } from '../errors.js';
import { enqueuePages } from '../jobs/discover.js';
import { newestFromManifests } from '../lake/run-manifests.js';
import { watermarkOf } from '../runs/lifecycle.js';
import { newRunId } from '../runs/run-id.js';
import type { Kind, RunParams } from '../runs/types.js';
import { changesWindows } from '../tmdb/windows.js';
import { checkDate, todayUtc } from './preflight.js';

/** Raw `changes` arguments. */
export interface ChangesArgs {
  kind: string;
  since?: string | undefined;
  until?: string | undefined;
  includeAdult?: boolean | undefined;
}

/** Validated `changes` arguments; the days are settled when the run starts. */
export interface ChangesRequest {
  kind: Kind;
  /** First day (YYYY-MM-DD); undefined: the watermark. */
  since: string | undefined;
  /** Last day (YYYY-MM-DD); undefined: today (UTC) when the run starts. */
  until: string | undefined;
  includeAdult: boolean;
}

/**
 * Validates `changes` arguments.
 * @throws UsageError naming the bad value and what was expected.
 */
export function parseChangesArgs(args: ChangesArgs): ChangesRequest {
  if (args.kind !== 'movie' && args.kind !== 'tv') throw new UsageError(`kind "${args.kind}" is not supported: expected movie or tv`);
  const since = checkDate('--since', args.since);
  const until = checkDate('--until', args.until);
  if (since && until && since > until) throw new UsageError(`--since ${since} is after --until ${until}`);
  return { kind: args.kind, since, until, includeAdult: args.includeAdult ?? false };
}

/**
 * Where a changes run of `kind` continues: the watermark in Redis, else the newest completed
 * changes (or export) manifest of that kind in the lake.
 * @returns the day and where it was found, or undefined.
 */
export async function changesWatermark(fleet: Fleet, kind: Kind): Promise<{ day: string; from: string } | undefined> {
  const day = await fleet.runs.watermark(kind);
  if (day) return { day, from: 'Redis' };
  const found = await newestFromManifests(fleet.store, fleet.config.lake.prefix, kind, (m) =>
    m.state === 'completed' ? watermarkOf(m.params) : undefined,
  );
  return found ? { day: found.value, from: `the manifest of ${found.runId}` } : undefined;
}

/**
 * Starts a changes run: checks the lake and the TMDB credential (one discover request), settles
 * its days, records the run and enqueues page 1 of each window.
 * @returns the run id, its days and windows.
 * @throws UsageError without --since and no watermark, for days out of order, or when a run
 * over the same days is running; LakeError, TmdbAuthError before anything is recorded.
 */
export async function startChanges(
  fleet: Fleet,
  req: ChangesRequest,
  options: { force?: boolean; now?: Date } = {},
): Promise<{ runId: string; since: string; until: string; windows: number; continuedFrom?: string }> {
  await fleet.store.check();
  let since = req.since;
  let continuedFrom: string | undefined;
  if (!since) {
    const mark = await changesWatermark(fleet, req.kind);
    if (!mark) {
      throw new UsageError(
        `no completed ${req.kind} changes or export run to continue from (none in Redis, none under ${fleet.store.location}/${fleet.config.lake.prefix}/_runs/): pass --since YYYY-MM-DD`,
      );
    }
    since = mark.day;
    continuedFrom = mark.from;
  }
  const until = req.until ?? todayUtc(options.now);
  if (since > until) throw new UsageError(`--until ${until} is before ${req.since ? '--since' : 'the watermark'} ${since}`);
  await fleet.tmdb().checkCredential();
  const params: RunParams = { kind: req.kind, source: 'changes', from: since, to: until, params: { include_adult: String(req.includeAdult) } };
  const runId = newRunId(req.kind);
  const running = await fleet.runs.create(runId, params, { lakePrefix: fleet.config.lake.prefix, force: options.force ?? false });
  if (running) {
    throw new RunRunningError(running, `run ${running} reads the same ${req.kind} changes (${since} to ${until}) and is still running: follow it with "tmdb-fleet status ${running}" or pass --force`);
  }
  const windows = changesWindows(since, until);
  await enqueuePages(fleet, runId, windows.map((window) => ({ window, page: 1, pages: 0 })));
  fleet.log.info({ runId, since, until, windows: windows.length }, 'changes run enqueued');
  return { runId, since, until, windows: windows.length, ...(continuedFrom ? { continuedFrom } : {}) };
}
