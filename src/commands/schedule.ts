/**
 * `tmdb-fleet schedule add <name> --cron "0 9 * * *" -- changes movie`, `schedule list`,
 * `schedule remove <name>`: BullMQ job schedulers on the `schedule` queue (see
 * `jobs/schedule.ts`), so the fleet starts runs by itself, once per tick fleet-wide, on whichever
 * `tmdb-fleet worker` is up.
 */
import { Command } from 'commander';
import type { Config } from '../config.js';
import type { GetConfig } from './private-redis.js';
import { UsageError } from '../errors.js';
import { openFleet, type Fleet } from '../fleet.js';
import { checkScheduleName, listSchedules, removeSchedule, upsertSchedule, type ScheduleInfo, type ScheduleRepeat } from '../jobs/schedule.js';
import { createLogger } from '../log.js';
import { SCHEDULABLE_COMMANDS, scheduledStarter } from './scheduled-runs.js';

/** Options of `schedule add`. */
interface AddOptions {
  cron?: string;
  every?: string;
  tz?: string;
}

/**
 * When a schedule ticks, from `--cron`/`--tz` or `--every`.
 * @throws UsageError unless exactly one is given, for an `--every` that is not a whole number ≥ 1
 * or a `--tz` the runtime's Intl does not know (the cron pattern itself is checked by BullMQ).
 */
function repeatOf(opts: AddOptions): ScheduleRepeat {
  if ((opts.cron === undefined) === (opts.every === undefined)) {
    throw new UsageError('schedule add needs exactly one of --cron "<pattern>" (e.g. "0 9 * * *") or --every <ms>');
  }
  if (opts.every !== undefined) {
    if (!/^\d+$/.test(opts.every) || Number(opts.every) < 1) throw new UsageError(`--every "${opts.every}" is not a whole number of milliseconds ≥ 1`);
    if (opts.tz) throw new UsageError('--tz applies to --cron only');
    return { every: Number(opts.every) };
  }
  const tz = opts.tz ?? 'UTC';
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    throw new UsageError(`--tz "${tz}" is not an IANA time zone, e.g. UTC or Europe/Paris`);
  }
  return { pattern: opts.cron ?? '', tz };
}

const describeRepeat = (r: ScheduleRepeat) => ('pattern' in r ? `cron "${r.pattern}" (${r.tz})` : `every ${r.every} ms`);

async function withFleet<T>(config: Config, use: (fleet: Fleet) => Promise<T>): Promise<T> {
  const fleet = openFleet(config, createLogger(config), 'client');
  try {
    return await use(fleet);
  } finally {
    await fleet.close();
  }
}

/** One line per schedule: name, when, next tick, command, latest run and its state. */
async function describeSchedule(fleet: Fleet, s: ScheduleInfo): Promise<Record<string, unknown>> {
  const lastRunState = s.lastRunId ? ((await fleet.runs.state(s.lastRunId)) ?? 'expired') : undefined;
  return {
    name: s.name,
    ...s.repeat,
    next: s.next ? new Date(s.next).toISOString() : undefined,
    command: s.argv,
    lastRunId: s.lastRunId,
    lastRunState,
  };
}

/** The `schedule` command and its `add`, `list` and `remove` subcommands. */
export function scheduleCommand(getConfig: GetConfig): Command {
  const schedule = new Command('schedule').description('runs the fleet starts by itself: BullMQ job schedulers on the schedule queue');
  schedule
    .command('add')
    .description(`create or replace a schedule; after -- the run command (${SCHEDULABLE_COMMANDS.join(', ')}) and its arguments`)
    .argument('<name>', 'the schedule name (letters, digits, - or _)')
    .argument('<command...>', 'after --: the run command and its arguments, e.g. -- changes movie')
    .option('--cron <pattern>', 'cron pattern, 5 fields (or 6 with seconds first), e.g. "0 9 * * *"')
    .option('--every <ms>', 'tick every n milliseconds instead of a cron pattern')
    .option('--tz <zone>', 'IANA time zone of --cron (default UTC)')
    .action(async (name: string, argv: string[], opts: AddOptions) => {
      checkScheduleName(name);
      const repeat = repeatOf(opts);
      scheduledStarter(argv);
      await withFleet(await getConfig(), async (fleet) => {
        await upsertSchedule(fleet, name, repeat, argv);
        const next = (await listSchedules(fleet)).find((s) => s.name === name)?.next;
        process.stdout.write(
          `schedule ${name}: ${describeRepeat(repeat)} → tmdb-fleet ${argv.join(' ')}${next ? `; next tick ${new Date(next).toISOString()}` : ''}\n`,
        );
      });
    });
  schedule
    .command('list')
    .description('every schedule: when it ticks, its next tick, its command and its latest run')
    .option('--json', 'one JSON array on stdout')
    .action(async (opts: { json?: boolean }) => {
      await withFleet(await getConfig(), async (fleet) => {
        const rows = await Promise.all((await listSchedules(fleet)).map((s) => describeSchedule(fleet, s)));
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(rows)}\n`);
          return;
        }
        if (rows.length === 0) process.stdout.write('no schedules\n');
        for (const r of rows) {
          const when = r.pattern ? `cron "${String(r.pattern)}" (${String(r.tz)})` : `every ${String(r.every)} ms`;
          const last = r.lastRunId ? `last run ${String(r.lastRunId)} (${String(r.lastRunState)})` : 'no run yet';
          process.stdout.write(`${String(r.name)}  ${when}  next ${String(r.next ?? '-')}  tmdb-fleet ${(r.command as string[]).join(' ')}  ${last}\n`);
        }
      });
    });
  schedule
    .command('remove')
    .description('remove a schedule (its pending tick too; runs it started go on)')
    .argument('<name>', 'the schedule name')
    .action(async (name: string) => {
      await withFleet(await getConfig(), async (fleet) => {
        if (!(await removeSchedule(fleet, name))) throw new UsageError(`no schedule named "${name}": see tmdb-fleet schedule list`);
        process.stdout.write(`schedule ${name} removed\n`);
      });
    });
  return schedule;
}
