/**
 * Queue names, job shapes, default job options and Redis connections. Every queue and run key
 * lives under the config's `{hash tag}` prefix, so a Redis Cluster keeps them in one slot; we
 * never use ioredis `keyPrefix` (BullMQ does not support it).
 */
import { Queue, type DefaultJobOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from './config.js';

/**
 * The fleet's queues: discover (1 job = 1 listing request: a discover, search or find page),
 * details (1 job = 1 title), write (1 job = 1 object), upload (1 job = 1 local file), copy
 * (1 job = 1 S3 object copied).
 */
export const QUEUE_NAMES = ['discover', 'details', 'write', 'upload', 'copy'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** TMDB catalog kinds a backfill can move. */
export type Kind = 'movie' | 'tv';

/**
 * A slice of the catalog that one discover query covers: release (movie) or first-air (tv)
 * dates, inclusive, and an optional vote_count range used to split a single crowded day.
 */
export interface Window {
  from?: string;
  to?: string;
  voteMin?: number;
  voteMax?: number;
}

/** Data of a discover job: one page of one window (discover or search), or one IMDB id to find. */
export interface DiscoverJobData {
  runId: string;
  window: Window;
  page: number;
  /** Pages this window has (≤ 500), known once page 1 was read; 0 for a page-1 job. */
  pages: number;
  /** Enrich runs: the IMDB id to look up with `GET /find/{imdb_id}` (window and page unused). */
  find?: string;
}

/** Data of a details job: one title. */
export interface DetailsJobData {
  runId: string;
  kind: Kind;
  id: number;
}

/**
 * Data of a write job:
 * - `full`: one object of exactly BATCH_MAX_RECORDS staged documents;
 * - `tail`: after BATCH_MAX_WAIT_MS, objects for documents staged up to `upTo`, however few;
 * - `final`: every staged document and open batch, then the run's manifest.
 */
export type WriteJobData =
  | { runId: string; mode: 'full' }
  | { runId: string; mode: 'tail'; upTo: number }
  | { runId: string; mode: 'final' };

/** Retention and retry options shared by every queue. */
export function defaultJobOptions(config: Config): DefaultJobOptions {
  return {
    attempts: config.jobs.attempts,
    backoff: { type: 'exponential', delay: config.jobs.backoffMs, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
  };
}

/** ioredis options for a role: workers retry forever (BullMQ guidance), the CLI fails fast. */
export function redisOptions(role: 'worker' | 'client'): RedisOptions {
  return role === 'worker'
    ? { maxRetriesPerRequest: null, enableReadyCheck: true }
    : { maxRetriesPerRequest: 3, enableOfflineQueue: true, connectTimeout: 5_000 };
}

/** Opens a Redis connection from `REDIS_URL` (redis:// or rediss://, with password if given). */
export function connectRedis(config: Config, role: 'worker' | 'client'): Redis {
  return new Redis(config.redis.url, redisOptions(role));
}

/** The three queues, sharing one connection. */
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
