/**
 * Redis connections. Every queue and run key lives under the config's `{hash tag}` prefix, so a
 * Redis Cluster keeps them in one slot; we never use ioredis `keyPrefix` (BullMQ does not
 * support it).
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config.js';

/**
 * Who holds a connection. Both keep a command waiting while they reconnect
 * (`maxRetriesPerRequest: null`, BullMQ's guidance for workers): a worker for ever, a CLI
 * command until its `RedisWatch` gives up (REDIS_WAIT_MS; at once if Redis was never
 * reached), see `availability.ts`.
 */
export type ConnectionRole = 'worker' | 'client';

/** ioredis options for a role. */
export function redisOptions(role: ConnectionRole): RedisOptions {
  return role === 'worker'
    ? { maxRetriesPerRequest: null, enableReadyCheck: true }
    : {
        maxRetriesPerRequest: null,
        enableOfflineQueue: true,
        enableReadyCheck: true,
        connectTimeout: 5_000,
        // Back within a second of Redis: a user is watching.
        retryStrategy: (attempt: number) => Math.min(attempt * 100, 1_000),
      };
}

/** Opens a Redis connection from `REDIS_URL` (redis:// or rediss://, with password if given). */
export function connectRedis(config: Config, role: ConnectionRole): Redis {
  return new Redis(config.redis.url, redisOptions(role));
}
