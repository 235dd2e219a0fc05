/**
 * Bench-only limiters for the fleet, each shared across processes through the fleet's Redis the
 * way one would share a limit with that library, for README's limiter table:
 *
 * - `bottleneck`: Bottleneck 2 in clustering mode (`datastore: 'ioredis'`, one limiter id for
 *   the fleet), `minTime` = 1000 / ceiling ms, no `maxConcurrent`; a 429 sets a pause key that
 *   every job reads (PTTL) before it sends its request.
 * - `rate-limiter-flexible`: RateLimiterRedis with `points` = ceiling per `duration` 1 s (a fixed
 *   window, the library's model), behind a RateLimiterQueue per process so callers wait for a
 *   point rather than being refused; a 429 `block`s the key for Retry-After (whole seconds).
 *
 * {@link installBenchLimiter} swaps them in without touching src/: the TMDB client calls only
 * `schedule`, `pauseFleet` and `close` of the limiter `openFleet` constructs, so those three
 * methods of FleetRateLimiter's prototype are pointed at the library's limiter (one per
 * process, created on first use from REDIS_URL, REDIS_PREFIX and TMDB_RATE_LIMIT_RPS).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import Bottleneck from 'bottleneck';
import { Redis } from 'ioredis';
import { RateLimiterQueue, RateLimiterRedis } from 'rate-limiter-flexible';
import { FleetRateLimiter } from '../src/tmdb/limiter.js';

/** What the TMDB client asks of its limiter. */
export interface SharedLimiter {
  schedule<T>(request: () => Promise<T>): Promise<T>;
  pauseFleet(ms: number): Promise<void>;
  close(): Promise<void>;
}

/** Where the shared limit lives and how high it is. */
export interface LimiterSettings {
  redisUrl: string;
  /** The fleet's key prefix (REDIS_PREFIX): the limiter's keys go under it. */
  prefix: string;
  rps: number;
}

/** Names of the bench limiters (BENCH_LIMITER). */
export const BENCH_LIMITERS = ['bottleneck', 'rate-limiter-flexible'] as const;
/** One of {@link BENCH_LIMITERS}. */
export type BenchLimiterName = (typeof BENCH_LIMITERS)[number];

/** Bottleneck in clustering mode plus a fleet-wide pause key. */
export function bottleneckLimiter(s: LimiterSettings): SharedLimiter {
  const client = new Redis(s.redisUrl, { maxRetriesPerRequest: null });
  const connection = new Bottleneck.IORedisConnection({ client });
  const limiter = new Bottleneck({
    id: `${s.prefix}:tmdb-bottleneck`,
    datastore: 'ioredis',
    connection,
    clearDatastore: false,
    minTime: 1000 / s.rps,
    maxConcurrent: null,
  });
  const pauseKey = `${s.prefix}:tmdb:bench-pause`;
  return {
    schedule: <T>(request: () => Promise<T>) =>
      limiter.schedule(async () => {
        const pausedMs = await client.pttl(pauseKey);
        if (pausedMs > 0) await sleep(pausedMs);
        return request();
      }),
    async pauseFleet(ms) {
      const px = Math.max(1, Math.round(ms));
      // Never shortens a pause in force: create it, or lengthen it (PEXPIRE … GT).
      await client.set(pauseKey, '1', 'PX', px, 'NX');
      await client.pexpire(pauseKey, px, 'GT');
    },
    async close() {
      // With a connection of its own given, Bottleneck's disconnect only unregisters the
      // limiter (and returns nothing): the connection is closed here.
      await limiter.disconnect(false);
      await connection.disconnect(false);
    },
  };
}

/** RateLimiterRedis (fixed 1 s window of `rps` points) behind a per-process RateLimiterQueue. */
export function flexibleLimiter(s: LimiterSettings): SharedLimiter {
  const client = new Redis(s.redisUrl, { maxRetriesPerRequest: null });
  const limiter = new RateLimiterRedis({ storeClient: client, keyPrefix: `${s.prefix}:tmdb-rlf`, points: Math.max(1, Math.round(s.rps)), duration: 1 });
  const queue = new RateLimiterQueue(limiter, { maxQueueSize: 1_000_000 });
  /** RateLimiterQueue's key when none is given. */
  const key = 'limiter';
  return {
    async schedule<T>(request: () => Promise<T>) {
      await queue.removeTokens(1);
      return request();
    },
    async pauseFleet(ms) {
      await limiter.block(key, Math.max(1, Math.ceil(ms / 1000)));
    },
    async close() {
      client.disconnect();
    },
  };
}

/** The settings of this process's fleet, from the environment the CLI reads. */
export function limiterSettings(env: NodeJS.ProcessEnv = process.env): LimiterSettings {
  if (!env.REDIS_URL || !env.TMDB_RATE_LIMIT_RPS) throw new Error('REDIS_URL and TMDB_RATE_LIMIT_RPS must be set');
  return { redisUrl: env.REDIS_URL, prefix: env.REDIS_PREFIX ?? '{tmdb-fleet}', rps: Number(env.TMDB_RATE_LIMIT_RPS) };
}

/**
 * Makes every FleetRateLimiter of this process delegate to the named library's limiter (one per
 * process, created on first use).
 * @throws Error when `name` is not one of {@link BENCH_LIMITERS}.
 */
export function installBenchLimiter(name: string, settings: () => LimiterSettings = limiterSettings): void {
  const make = name === 'bottleneck' ? bottleneckLimiter : name === 'rate-limiter-flexible' ? flexibleLimiter : undefined;
  if (!make) throw new Error(`BENCH_LIMITER=${name}: expected one of ${BENCH_LIMITERS.join(', ')}`);
  let shared: SharedLimiter | undefined;
  const get = () => (shared ??= make(settings()));
  const proto = FleetRateLimiter.prototype;
  proto.schedule = function schedule<T>(request: () => Promise<T>): Promise<T> {
    return get().schedule(request);
  };
  proto.pauseFleet = (ms: number) => get().pauseFleet(ms);
  proto.close = async () => {
    const closing = shared;
    shared = undefined;
    await closing?.close();
  };
}
