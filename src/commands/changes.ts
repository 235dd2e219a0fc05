/**
 * `tmdb-fleet changes <movie|tv> [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--include-adult]`:
 * refreshes every title TMDB changed in those days (`GET /{kind}/changes`), once each, through
 * the details and write queues; without --since it continues from the last completed changes
 * run of that kind.
 */
import { Command } from 'commander';
import type { GetConfig } from './private-redis.js';
import { parseChangesArgs, startChanges } from '../producers/changes.js';
import { withFollowOptions } from './options.js';
import { startAndFollow, type FollowOptions } from './run-output.js';
import { cliHooks, type RunStarter } from './starters.js';

/** Options of `changes`. */
export interface ChangesOptions extends FollowOptions {
  since?: string;
  until?: string;
  includeAdult?: boolean;
  force?: boolean;
}

/** Adds the arguments and options of `changes` to a command named `changes`. */
export function defineChanges(command: Command): Command {
  return command
    .description('refresh the titles TMDB changed in a range of days (GET /movie/changes, /tv/changes)')
    .argument('<kind>', 'movie or tv')
    .option('--since <date>', 'first day, YYYY-MM-DD (default: where the last completed changes run of this kind ended)')
    .option('--until <date>', 'last day, YYYY-MM-DD (default: today, UTC)')
    .option('--include-adult', 'also refresh titles the feed marks "adult": true (skipped by default, like the export)');
}

/**
 * The starter of a changes run.
 * @throws UsageError naming a bad value.
 */
export function changesStarter(kind: string, opts: ChangesOptions): RunStarter {
  const req = parseChangesArgs({ kind, since: opts.since, until: opts.until, includeAdult: opts.includeAdult });
  return async (fleet, hooks) => {
    const r = await startChanges(fleet, req, { force: opts.force ?? false });
    const from = r.continuedFrom ? ` (continued from ${r.continuedFrom})` : '';
    hooks.report?.(`${kind} changes ${r.since} to ${r.until}${from}: ${r.windows} window${r.windows === 1 ? '' : 's'} of at most 14 days`);
    return r.runId;
  };
}

/** The `changes` command. */
export function changesCommand(getConfig: GetConfig): Command {
  return withFollowOptions(defineChanges(new Command('changes'))).action(async (kind: string, opts: ChangesOptions) => {
    const starter = changesStarter(kind, opts);
    await startAndFollow(await getConfig(), opts, (fleet) => starter(fleet, cliHooks));
  });
}
