/**
 * The schedule queue's contract (1 job = 1 tick of a schedule): BullMQ job schedulers
 * (`Queue.upsertJobScheduler`, BullMQ ≥ 5.16) on the `schedule` queue, one per schedule, whose
 * id is the schedule's name. A scheduler puts one tick job in the queue per cron (or `every`)
 * occurrence, fleet-wide, whichever worker is up; the tick starts the schedule's run with the
 * run command's own arguments (`argv`, e.g. `["changes", "movie"]`), through the same producer
 * functions as the CLI. Each schedule's latest run is kept in `<prefix>:schedules:last`, so a tick
 * can skip while that run is still going.
 */
import type { Fleet } from '../fleet.js';
import { UsageError } from '../errors.js';
import { scheduleRunsKey } from '../runs/keys.js';

/** Data of a tick: the schedule and the run command it starts. */
export interface ScheduleJobData {
  name: string;
  /** A run command and its arguments, as typed after `--`. */
  argv: string[];
}

/** When a schedule ticks: a cron pattern (5 fields, or 6 with seconds) in a time zone, or every n ms. */
export type ScheduleRepeat = { pattern: string; tz: string } | { every: number };

/** A schedule as `schedule list` shows it. */
export interface ScheduleInfo extends ScheduleJobData {
  repeat: ScheduleRepeat;
  /** Next tick, ms since the epoch, if known. */
  next: number | undefined;
  /** The latest run it started, if any. */
  lastRunId: string | undefined;
}

/** Hooks a tick gives the starter: where to record the run as soon as it exists. */
export interface TickHooks {
  onCreated: (runId: string) => Promise<void>;
}

/**
 * Starts the run a schedule's `argv` describes, through the CLI's own producers; resolves with
 * its id once the producer is done. Given to the schedule worker by the command layer.
 * @throws UsageError for arguments that no longer parse; RunRunningError when a run with the
 * same parameters is running; whatever the producer throws.
 */
export type StartScheduledRun = (fleet: Fleet, argv: readonly string[], hooks: TickHooks) => Promise<string>;

/** Schedule names: letters, digits, `-` and `_`, up to 64, starting with a letter or digit. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Ticks kept after they complete, per queue, so their outcome stays visible in Bull Board. */
const TICKS_KEPT = 100;

/**
 * Checks a schedule name.
 * @throws UsageError naming the value and what is expected.
 */
export function checkScheduleName(name: string): string {
  if (!NAME.test(name)) throw new UsageError(`schedule name "${name}" is not 1-64 letters, digits, - or _ (starting with a letter or digit)`);
  return name;
}

/**
 * Creates or replaces a schedule (`Queue.upsertJobScheduler`, id = name). Ticks are tried once
 * (a failed tick stays failed, visible; the next tick starts afresh) and the latest
 * {@link TICKS_KEPT} completed ones are kept with their return value.
 * @throws UsageError when BullMQ refuses the pattern.
 */
export async function upsertSchedule(fleet: Fleet, name: string, repeat: ScheduleRepeat, argv: readonly string[]): Promise<void> {
  try {
    await fleet.queues.schedule.upsertJobScheduler(name, repeat, {
      name: 'tick',
      data: { name, argv: [...argv] } satisfies ScheduleJobData,
      opts: { attempts: 1, removeOnComplete: { count: TICKS_KEPT }, removeOnFail: { count: TICKS_KEPT } },
    });
  } catch (err) {
    if ('pattern' in repeat) throw new UsageError(`--cron "${repeat.pattern}" is not a cron pattern (${(err as Error).message}): e.g. "0 9 * * *"`);
    throw err;
  }
}

/** Every schedule, soonest tick first, with its latest run. */
export async function listSchedules(fleet: Fleet): Promise<ScheduleInfo[]> {
  const all = await fleet.queues.schedule.getJobSchedulers(0, -1, true);
  const last = await fleet.redis.hgetall(scheduleRunsKey(fleet.config.redis.prefix));
  return all.map((s) => {
    const data = (s.template?.data ?? { name: s.key, argv: [] }) as ScheduleJobData;
    const repeat: ScheduleRepeat = s.pattern ? { pattern: s.pattern, tz: s.tz ?? 'UTC' } : { every: s.every ?? 0 };
    return { name: s.key, argv: data.argv, repeat, next: s.next, lastRunId: last[s.key] };
  });
}

/** Removes a schedule and its pending tick. @returns false when there was none by that name. */
export async function removeSchedule(fleet: Fleet, name: string): Promise<boolean> {
  const removed = await fleet.queues.schedule.removeJobScheduler(name);
  await fleet.redis.hdel(scheduleRunsKey(fleet.config.redis.prefix), name);
  return removed;
}

/** Records the latest run a schedule started. */
export async function recordScheduledRun(fleet: Fleet, name: string, runId: string): Promise<void> {
  await fleet.redis.hset(scheduleRunsKey(fleet.config.redis.prefix), name, runId);
}

/** The latest run a schedule started, if any. */
export async function lastScheduledRun(fleet: Fleet, name: string): Promise<string | undefined> {
  return (await fleet.redis.hget(scheduleRunsKey(fleet.config.redis.prefix), name)) ?? undefined;
}
