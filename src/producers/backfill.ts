/**
 * Backfill producer: validates a backfill's arguments, checks the lake and the TMDB credential
 * before anything is enqueued, records the run and enqueues page 1 of its root window. The
 * discover workers plan the rest lazily (window splits, pages a few at a time).
 */
import type { Fleet } from '../fleet.js';
import { RunRunningError, UsageError } from '../errors.js';
import { answeredPage, enqueuePages } from '../jobs/discover.js';
import { newRunId } from '../runs/run-id.js';
import type { Kind, RunParams } from '../runs/types.js';
import { isDiscoverPage } from '../tmdb/types.js';
import { discoverQuery, rootWindow } from '../tmdb/windows.js';
import { checkDate } from './preflight.js';

/** TMDB discover filters a backfill passes through (`--param name=value`), per kind. */
const SHARED_PARAMS = [
  'include_adult', 'language', 'sort_by', 'vote_average.gte', 'vote_average.lte', 'vote_count.gte',
  'vote_count.lte', 'watch_region', 'with_companies', 'with_genres', 'with_keywords',
  'with_origin_country', 'with_original_language', 'with_runtime.gte', 'with_runtime.lte',
  'with_watch_monetization_types', 'with_watch_providers', 'without_companies', 'without_genres',
  'without_keywords', 'without_watch_providers',
];
export const DISCOVER_PARAMS: Record<Kind, readonly string[]> = {
  movie: [
    ...SHARED_PARAMS, 'certification', 'certification.gte', 'certification.lte', 'certification_country',
    'include_video', 'region', 'with_cast', 'with_crew', 'with_people', 'with_release_type',
  ],
  tv: [
    ...SHARED_PARAMS, 'include_null_first_air_dates', 'screened_theatrically', 'timezone', 'with_networks',
    'with_status', 'with_type',
  ],
};

/** Raw backfill arguments, as the CLI received them. */
export interface BackfillArgs {
  kind: string;
  from?: string | undefined;
  to?: string | undefined;
  /** `key=value` strings. */
  params?: string[] | undefined;
}

/**
 * Validates backfill arguments.
 * @throws UsageError naming the bad value and what was expected.
 */
export function parseBackfillArgs(args: BackfillArgs): RunParams {
  if (args.kind === '') throw new UsageError('a kind is required: expected movie or tv');
  if (args.kind !== 'movie' && args.kind !== 'tv') {
    throw new UsageError(`kind "${args.kind}" is not supported: expected movie or tv`);
  }
  const kind: Kind = args.kind;
  const from = checkDate('--from', args.from);
  const to = checkDate('--to', args.to);
  if (from && to && from > to) throw new UsageError(`--from ${from} is after --to ${to}`);
  const params: Record<string, string> = {};
  for (const pair of args.params ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param "${pair}" is not key=value, e.g. with_genres=28`);
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (!DISCOVER_PARAMS[kind].includes(key)) {
      const hint = /date|page/.test(key) ? ' (use --from/--to for dates; pages are planned by the fleet)' : '';
      throw new UsageError(`--param ${key} is not a TMDB /discover/${kind} filter${hint}`);
    }
    if (key.startsWith('vote_count.') && !/^\d+$/.test(value)) {
      throw new UsageError(`--param ${key}=${value}: expected a whole number`);
    }
    params[key] = value;
  }
  return { kind, ...(from ? { from } : {}), ...(to ? { to } : {}), params };
}

/**
 * Starts a backfill (or search) run: checks the lake (S3 HeadBucket or the local directory) and
 * the TMDB credential with page 1 of its root window (one discover or search request), records
 * the run, enqueues page 1's job with that answer (so page 1 is asked once).
 * @returns the run id and TMDB's total_results for the whole query.
 * @throws LakeError, TmdbAuthError, TmdbTransientError before anything is enqueued; UsageError
 * when a run with the same parameters is running and `force` is not set, or when `confirm` says no.
 */
export async function startBackfill(
  fleet: Fleet,
  params: RunParams,
  options: {
    force?: boolean;
    /**
     * Asked with TMDB's total before the run is recorded; false stops with nothing enqueued.
     * @throws UsageError to refuse with a message.
     */
    confirm?: (expected: number) => Promise<boolean>;
  } = {},
): Promise<{ runId: string; expected: number }> {
  await fleet.store.check();
  const root = rootWindow(params);
  // Page 1 checks the credential (no request of its own) and is handed to page 1's job.
  const first =
    params.source === 'search'
      ? await fleet.tmdb().checkCredential(`/search/${params.kind}`, { query: params.params.query, page: 1 })
      : await fleet.tmdb().checkCredential(`/discover/${params.kind}`, discoverQuery(params, root, 1));
  const answered = isDiscoverPage(first) ? first : undefined;
  const expected = answered?.total_results ?? 0;
  if (options.confirm && !(await options.confirm(expected))) throw new UsageError('backfill not started: not confirmed');
  const runId = newRunId(params.kind);
  const lakePrefix = fleet.config.lake.prefix;
  const running = await fleet.runs.create(runId, params, { lakePrefix, force: options.force ?? false });
  if (running) {
    throw new RunRunningError(
      running,
      `run ${running} with the same parameters is still running: follow it with "tmdb-fleet status ${running}", stop it with "tmdb-fleet cancel ${running}", or pass --force to start another`,
    );
  }
  await fleet.runs.setExpected(runId, expected);
  await enqueuePages(fleet, runId, [{ window: root, page: 1, pages: 0, ...(answered ? { answered: answeredPage(answered) } : {}) }]);
  fleet.log.info({ runId, params, expected }, 'backfill enqueued');
  return { runId, expected };
}
