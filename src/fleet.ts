/**
 * The resources one process of the fleet holds: a Redis connection, the queues, run state,
 * the lake, and the rate-limited TMDB client. Producers, workers and the dashboard open one
 * with {@link openFleet} and close it with {@link Fleet.close}.
 */
import type { Redis } from 'ioredis';
import { requireTmdbCredential, type Config } from './config.js';
import type { Logger } from './log.js';
import { openStore, type ObjectStore } from './lake/store.js';
import { closeQueues, connectRedis, openQueues, type Queues } from './queues.js';
import { RunStore } from './runs.js';
import { TmdbClient } from './tmdb/client.js';
import { FleetRateLimiter } from './tmdb/limiter.js';

export interface Fleet {
  config: Config;
  log: Logger;
  redis: Redis;
  queues: Queues;
  runs: RunStore;
  store: ObjectStore;
  /** Opened on first use: the dashboard never needs TMDB. */
  tmdb(): TmdbClient;
  /** Requests answered 429 by TMDB in this process. */
  readonly rateLimited: { count: number };
  close(): Promise<void>;
}

/**
 * Opens a fleet process's resources.
 * @param role - `worker` connections retry forever; `client` (CLI) connections fail fast.
 */
export function openFleet(config: Config, log: Logger, role: 'worker' | 'client'): Fleet {
  const redis = connectRedis(config, role);
  redis.on('error', (err) => log.warn({ code: 'REDIS', err: err.message }, 'redis connection error'));
  const queues = openQueues(config, redis);
  for (const queue of Object.values(queues)) {
    queue.on('error', (err) => log.warn({ code: 'REDIS', queue: queue.name, err: err.message }, 'queue error'));
  }
  const runs = new RunStore(redis, config.redis.prefix);
  const store = openStore(config);
  let client: TmdbClient | undefined;
  let limiter: FleetRateLimiter | undefined;
  const rateLimited = { count: 0 };
  return {
    config,
    log,
    redis,
    queues,
    runs,
    store,
    rateLimited,
    tmdb() {
      if (!client) {
        limiter = new FleetRateLimiter({ redis, prefix: config.redis.prefix, rps: config.tmdb.rateLimitRps });
        client = new TmdbClient({
          baseUrl: config.tmdb.baseUrl,
          credential: requireTmdbCredential(config),
          limiter,
          language: config.tmdb.language,
          timeoutMs: config.tmdb.timeoutMs,
          on429: (ms) => {
            rateLimited.count++;
            log.warn({ code: 'TMDB_RATE_LIMITED', retryAfterMs: ms }, 'TMDB answered 429; fleet paused');
          },
        });
      }
      return client;
    },
    async close() {
      await closeQueues(queues);
      await client?.close();
      await limiter?.close();
      redis.disconnect();
    },
  };
}
