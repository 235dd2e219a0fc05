/**
 * The run commands a schedule may start, and how a schedule's arguments become a run: the
 * arguments are parsed by the command's own definition (commander, the same options and
 * checks as typed by hand) into its {@link RunStarter}, which calls the command's producer. Used
 * by `schedule add` (to refuse bad arguments before anything is stored) and by every worker's
 * schedule queue (to start the run of a tick).
 */
import { Command, CommanderError } from 'commander';
import { UsageError } from '../errors.js';
import type { StartScheduledRun } from '../jobs/schedule.js';
import { backfillStarter, defineBackfill, type BackfillOptions } from './backfill.js';
import { changesStarter, defineChanges, type ChangesOptions } from './changes.js';
import { defineEnrich, enrichStarter, type EnrichOptions } from './enrich.js';
import { withFollowOptions } from './options.js';
import type { FollowOptions } from './run-output.js';
import { defineSearch, searchStarter, type SearchOptions } from './search.js';
import type { RunStarter } from './starters.js';

/** How each schedulable command defines its arguments and makes its starter. */
const SCHEDULABLE: Record<string, { define: (c: Command) => Command; starter: (args: string[], opts: FollowOptions) => RunStarter }> = {
  backfill: {
    define: defineBackfill,
    starter: (args, opts) => {
      const o = opts as BackfillOptions;
      if (o.resume) throw new UsageError('backfill --resume cannot be scheduled: schedule a new backfill');
      if (o.dryRun) throw new UsageError('backfill --dry-run cannot be scheduled: run it by hand to see the plan');
      if ((o.source ?? 'discover') === 'discover' && !o.from && !o.to && !o.yes) {
        throw new UsageError('backfill without --from/--to fetches the whole catalog: pass --yes to schedule it');
      }
      // A tick asks no one: a backfill over BACKFILL_CONFIRM_TITLES without --yes is refused then.
      return backfillStarter(args[0], o, false);
    },
  },
  changes: { define: defineChanges, starter: (args, opts) => changesStarter(args[0] ?? '', opts as ChangesOptions) },
  search: { define: defineSearch, starter: (args, opts) => searchStarter(args[0] ?? '', opts as SearchOptions) },
  enrich: { define: defineEnrich, starter: (_args, opts) => enrichStarter(opts as EnrichOptions) },
};

/** The run commands a schedule may start. */
export const SCHEDULABLE_COMMANDS = Object.keys(SCHEDULABLE);

/**
 * Parses a schedule's run command (`["changes", "movie", "--since", "2026-11-01"]`) with that
 * command's own definition.
 * @returns the starter of its run.
 * @throws UsageError naming the command, the bad value, or the option that has no place in a
 * schedule (`--wait`, `--json`, `--workers`).
 */
export function scheduledStarter(argv: readonly string[]): RunStarter {
  const [name = '', ...rest] = argv;
  const spec = SCHEDULABLE[name];
  if (!spec) {
    throw new UsageError(`"${name}" cannot be scheduled: expected one of ${SCHEDULABLE_COMMANDS.join(', ')} and its arguments after --, e.g. -- changes movie`);
  }
  let starter: RunStarter | undefined;
  const command = withFollowOptions(spec.define(new Command(name)))
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined })
    .action((...parts: unknown[]) => {
      const opts = parts[parts.length - 2] as FollowOptions;
      if (opts.wait || opts.json || opts.workers) {
        throw new UsageError(`${name}: --wait, --json and --workers have no place in a schedule (a tick starts the run; the fleet's workers run it)`);
      }
      starter = spec.starter(parts.slice(0, -2).filter((p): p is string => typeof p === 'string'), opts);
    });
  try {
    command.parse([...rest], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) throw new UsageError(`${name}: ${err.message.replace(/^error: /, '')}`);
    throw err;
  }
  if (!starter) throw new UsageError(`${name}: no run to start`);
  return starter;
}

/** Starts a schedule's run in this process (the schedule worker's hook). */
export const startScheduledRun: StartScheduledRun = (fleet, argv, hooks) => scheduledStarter(argv)(fleet, { onCreated: hooks.onCreated });
