/**
 * What producers share before and while they feed a run: date arguments, today's UTC date,
 * and backpressure (waiting while a queue is deeper than DETAILS_QUEUE_MAX_DEPTH).
 */
import type { Queue } from 'bullmq';
import type { Fleet } from '../fleet.js';
import { isIsoDate } from '../dates.js';
import { UsageError } from '../errors.js';

/**
 * Checks a YYYY-MM-DD argument.
 * @param name - the flag, e.g. `--from`, named in the message.
 * @throws UsageError naming the flag and the value when it is not a real date.
 */
export function checkDate(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!isIsoDate(value)) throw new UsageError(`${name} "${value}" is not a date: expected YYYY-MM-DD, e.g. 2024-01-31`);
  return value;
}

/** The UTC date of `now`, YYYY-MM-DD. */
export function todayUtc(now = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/** How often a producer waiting for room looks at the queue again, ms. */
const ROOM_POLL_MS = 500;

/**
 * Waits while `queue` holds more waiting, prioritized or delayed jobs than
 * DETAILS_QUEUE_MAX_DEPTH (the workers drain it), calling `tick` before each look (it may throw
 * to stop waiting).
 */
export async function waitForRoom(fleet: Fleet, queue: Queue, tick: () => void = () => undefined): Promise<void> {
  for (;;) {
    tick();
    if ((await queue.getJobCountByTypes('wait', 'prioritized', 'delayed')) <= fleet.config.jobs.detailsMaxDepth) return;
    await new Promise((r) => setTimeout(r, ROOM_POLL_MS));
  }
}
