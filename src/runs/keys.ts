/**
 * Every Redis key of the fleet's run state, formatted here and nowhere else (the way BullMQ's
 * `queue-keys.ts` lists a queue's keys). All of them live under the config's `{hash tag}`
 * prefix, so a Redis Cluster keeps a run's keys, and its scripts, in one slot.
 *
 * One run, `<prefix>:run:<runId>` and suffixes:
 * | key            | type   | holds                                                              |
 * |----------------|--------|--------------------------------------------------------------------|
 * | (none)         | hash   | parameters, state, counters; export runs: their checkpoint (`export.*`) |
 * | `:discovered`, `:fetched`, `:notfound`, `:failed` | bitmaps | indexed by TMDB id (a million titles cost ~125 KB each); a counter moves only when its bit flips |
 * | `:pages`       | hash   | plan key → 0 planned / 1 done / 2 failed                           |
 * | `:leaves`      | hash   | window key → total_results of a leaf window (its pages are read)   |
 * | `:splits`      | hash   | window key → total_results of a window that was split              |
 * | `:parents`     | hash   | window key → key of the window it was split from                   |
 * | `:returned`    | hash   | leaf window key → results its done pages returned (audit)          |
 * | `:firstseen`   | hash   | window key → ids first discovered by its pages (audit)             |
 * | `:uncovered`   | hash   | window key → {total, reachable, missed}                            |
 * | `:staged`      | list   | documents waiting for an object                                    |
 * | `:claims`      | hash   | write-job claim → batch seq                                        |
 * | `:open`        | set    | batch seqs claimed, not yet stored                                 |
 * | `:batches`     | hash   | `<seq>:key`, `<seq>:body`, `<seq>:count`, `<seq>:claim` of open batches |
 * | `:objects`     | hash   | seq (or `<seq>:<key>`, see reconcile-11.lua) → {key, records} of stored objects |
 * | `:tail`        | string | the armed tail flush (its arm number), with an expiry              |
 * | `:lock`        | string | the run's reconcile lock (a holder's token), with an expiry        |
 * | `:copies`      | hash   | sync: source key → copy record                                     |
 * | `:files`       | hash   | upload: file name → outcome                                        |
 * | `:bytes`       | hash   | upload: file name → bytes read so far                              |
 * | `:unmatched`   | hash   | enrich: IMDB id → 1                                                |
 * | `:lease`       | string | held by the process a run depends on (sync --watch, an export's reader); expires |
 *
 * Fleet-wide: `<prefix>:runs` (sorted set of run ids by start time), `<prefix>:active:<sha1>`
 * (the running run of a parameter set), `<prefix>:sync:watches` (registered sync watches),
 * `<prefix>:watermark:<kind>` (the day the changes feed of a kind is read from next) and
 * `<prefix>:schedules:last` (each schedule's latest run).
 *
 * Channels (PUBLISH, not keys): `<prefix>:run:<runId>:state-changes` carries a run's new state
 * each time it changes (transition-1.lua), so a `--wait` wakes when its run ends.
 */

/** The suffixes of a run's keys, each with what happens to it when the run ends. */
const RUN_KEY_SUFFIXES = {
  discovered: 'drop',
  fetched: 'drop',
  notfound: 'drop',
  failed: 'drop',
  pages: 'drop',
  leaves: 'keep',
  splits: 'drop',
  parents: 'drop',
  returned: 'drop',
  firstseen: 'drop',
  uncovered: 'keep',
  staged: 'drop',
  claims: 'drop',
  open: 'drop',
  batches: 'drop',
  objects: 'keep',
  tail: 'drop',
  lock: 'drop',
  copies: 'keep',
  files: 'keep',
  bytes: 'drop',
  unmatched: 'keep',
  lease: 'drop',
} as const;

/** Names of a run's keys besides its hash. */
export type RunKeyName = keyof typeof RUN_KEY_SUFFIXES;

/** Every key of one run: `run` (its hash) and one per {@link RunKeyName}. */
export type RunKeys = { run: string } & Record<RunKeyName, string>;

/** The keys of run `runId` under `prefix`. */
export function runKeys(prefix: string, runId: string): RunKeys {
  const run = `${prefix}:run:${runId}`;
  const keys = { run } as RunKeys;
  for (const name of Object.keys(RUN_KEY_SUFFIXES) as RunKeyName[]) keys[name] = `${run}:${name}`;
  return keys;
}

/**
 * What happens to a run's keys when it ends: working state is dropped, what the summary and
 * the manifest listing need is kept (with the run hash) until it expires. A run that may be
 * resumed (`resumable`: it failed) keeps everything until it expires.
 */
export function keysAtEnd(keys: RunKeys, options: { resumable?: boolean } = {}): { drop: string[]; keep: string[] } {
  const drop: string[] = [];
  const keep: string[] = [keys.run];
  for (const [name, fate] of Object.entries(RUN_KEY_SUFFIXES) as [RunKeyName, 'drop' | 'keep'][]) {
    (fate === 'drop' && !options.resumable ? drop : keep).push(keys[name]);
  }
  return { drop, keep };
}

/** Every key of a run, its hash first. */
export function allRunKeys(keys: RunKeys): string[] {
  return [keys.run, ...(Object.keys(RUN_KEY_SUFFIXES) as RunKeyName[]).map((name) => keys[name])];
}

/** The channel a run's state changes are published on (the new state as the message). */
export function runStateChannel(prefix: string, runId: string): string {
  return `${prefix}:run:${runId}:state-changes`;
}

/** The sorted set of every run id, scored by start time (ms). */
export function runIndexKey(prefix: string): string {
  return `${prefix}:runs`;
}

/** The key naming the running run of a parameter set (`fingerprint`: a sha1, hex). */
export function activeRunKey(prefix: string, fingerprint: string): string {
  return `${prefix}:active:${fingerprint}`;
}

/** The hash of registered sync watches (`<bucket>/<prefix>` of the source → watch JSON). */
export function watchesKey(prefix: string): string {
  return `${prefix}:sync:watches`;
}

/**
 * The changes watermark of a kind (a string, YYYY-MM-DD): the last day a completed changes run
 * covered (or the date of a completed export run's file), where the next changes run starts.
 */
export function watermarkKey(prefix: string, kind: string): string {
  return `${prefix}:watermark:${kind}`;
}

/** The hash of each schedule's latest run (schedule name → run id). */
export function scheduleRunsKey(prefix: string): string {
  return `${prefix}:schedules:last`;
}
