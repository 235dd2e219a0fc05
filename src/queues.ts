/**
 * The fleet's BullMQ queues: names, default job options and how they are opened. What each
 * queue's jobs carry, and their ids, live in `src/jobs/` (one module per queue).
 */
import { Queue, type DefaultJobOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';

/**
 * The fleet's queues: discover (1 job = 1 listing request: a discover, search, changes or find
 * page), details (1 job = 1 title), write (1 job = 1 object), upload (1 job = 1 local file), copy
 * (1 job = 1 S3 object copied), schedule (1 job = 1 tick of a schedule: start its run).
 */
export const QUEUE_NAMES = ['discover', 'details', 'write', 'upload', 'copy', 'schedule'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** Retention and retry options shared by every queue. */
export function defaultJobOptions(config: Config): DefaultJobOptions {
  return {
    attempts: config.jobs.attempts,
    backoff: { type: 'exponential', delay: config.jobs.backoffMs, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
  };
}

/** Every queue of the fleet, sharing one connection. */
export type Queues = Record<QueueName, Queue>;

/** Opens the fleet's queues on one shared connection. */
export function openQueues(config: Config, connection: Redis): Queues {
  const open = (name: QueueName) =>
    new Queue(name, {
      connection,
      prefix: config.redis.prefix,
      defaultJobOptions: defaultJobOptions(config),
      streams: { events: { maxLen: 1_000 } },
    });
  return Object.fromEntries(QUEUE_NAMES.map((name) => [name, open(name)])) as Queues;
}

/** Closes every queue (not the shared connection). */
export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((q) => q.close()));
}
