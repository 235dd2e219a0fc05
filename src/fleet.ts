/**
 * The resources one process of the fleet holds: a Redis connection, the queues, run state,
 * the lake, and the rate-limited TMDB client. Producers, workers and the dashboard open one
 * with {@link openFleet} and close it with {@link Fleet.close}.
 */
import type { Redis } from 'ioredis';
import { requireTmdbCredential, type Config } from './config.js';
import { armFaultPoints } from './fault-points.js';
import { scrubSecrets, secretValues, type Logger } from './log.js';
import { writeStderr } from './terminal.js';
import { meteredStore } from './lake/metered-store.js';
import { openStore, type ObjectStore } from './lake/store.js';
import { createProcessMetrics, type ProcessMetrics } from './metrics/process.js';
import { closeQueues, openQueues, type Queues } from './queues.js';
import { RedisWatch, type RedisEvent } from './redis/availability.js';
import { connectRedis, type ConnectionRole } from './redis/connection.js';
import { openRunStore, type RunStore } from './runs/store.js';
import { TmdbClient } from './tmdb/client.js';
import { FleetRateLimiter } from './tmdb/limiter.js';

/** How long an armed tail flush outlives BATCH_MAX_WAIT_MS without its tail job, ms (see RunStoreOptions). */
const TAIL_ARM_GRACE_MS = 30_000;

export interface Fleet {
  config: Config;
  log: Logger;
  redis: Redis;
  /** Outages of `redis`: told once each; a CLI command gives up after REDIS_WAIT_MS. */
  redisWatch: RedisWatch;
  queues: Queues;
  runs: RunStore;
  store: ObjectStore;
  /** This process's metrics (TMDB requests, lake writes, jobs): served by workers and the dashboard. */
  metrics: ProcessMetrics;
  /** Opened on first use: the dashboard never needs TMDB. */
  tmdb(): TmdbClient;
  /** Requests answered 429 by TMDB in this process. */
  readonly rateLimited: { count: number };
  close(): Promise<void>;
}

/**
 * How a process tells a Redis outage: a CLI command in one plain line on stderr (scrubbed of
 * secrets), a worker in one log line per outage and one when Redis is back.
 */
function redisReporter(config: Config, log: Logger, role: ConnectionRole): (event: RedisEvent) => void {
  if (role === 'client') {
    const secrets = secretValues(config);
    return (event) => writeStderr(`tmdb-fleet: ${scrubSecrets(event.message, secrets)}\n`);
  }
  return (event) =>
    event.kind === 'lost'
      ? log.warn({ code: 'REDIS', endpoint: event.endpoint, err: event.cause }, event.message)
      : log.info({ code: 'REDIS', endpoint: event.endpoint, downMs: event.downMs }, event.message);
}

/**
 * Opens a fleet process's resources.
 * @param role - `worker` connections wait for Redis for ever; `client` (CLI) connections fail at
 * once when Redis was never reached, and after REDIS_WAIT_MS when it went away.
 */
export function openFleet(config: Config, log: Logger, role: ConnectionRole): Fleet {
  armFaultPoints(config.faultPoints);
  const redis = connectRedis(config, role);
  const redisWatch = new RedisWatch(redis, {
    url: config.redis.url,
    waitMs: role === 'client' ? config.redis.waitMs : undefined,
    failFast: role === 'client',
    report: redisReporter(config, log, role),
  });
  // Connection errors are the watch's to tell (once per outage); the queues repeat them.
  redis.on('error', (err) => log.debug({ code: 'REDIS', err: err.message }, 'redis connection error'));
  const queues = openQueues(config, redis);
  for (const queue of Object.values(queues)) {
    queue.on('error', (err) => {
      if (redisWatch.up) log.warn({ code: 'REDIS', queue: queue.name, err: err.message }, 'queue error');
    });
  }
  const runs = openRunStore(redis, config.redis.prefix, { tailArmTtlMs: config.batch.maxWaitMs + TAIL_ARM_GRACE_MS });
  const metrics = createProcessMetrics();
  const store = meteredStore(openStore(config), metrics);
  let client: TmdbClient | undefined;
  let limiter: FleetRateLimiter | undefined;
  const rateLimited = { count: 0 };
  return {
    config,
    log,
    redis,
    redisWatch,
    queues,
    runs,
    store,
    metrics,
    rateLimited,
    tmdb() {
      if (!client) {
        limiter = new FleetRateLimiter({ redis, prefix: config.redis.prefix, rps: config.tmdb.rateLimitRps });
        metrics.ceiling(config.tmdb.rateLimitRps);
        client = new TmdbClient({
          baseUrl: config.tmdb.baseUrl,
          credential: requireTmdbCredential(config),
          limiter,
          language: config.tmdb.language,
          timeoutMs: config.tmdb.timeoutMs,
          metrics,
          on429: (ms) => {
            rateLimited.count++;
            log.warn({ code: 'TMDB_RATE_LIMITED', retryAfterMs: ms }, 'TMDB answered 429; fleet paused');
          },
        });
      }
      return client;
    },
    async close() {
      redisWatch.dispose();
      await closeQueues(queues);
      await client?.close();
      await limiter?.close();
      redis.disconnect();
    },
  };
}
