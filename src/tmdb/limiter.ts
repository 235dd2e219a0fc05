/**
 * The fleet-wide TMDB rate limit: one Bottleneck limiter in clustering mode on the fleet's
 * Redis, shared by every process, spacing requests `1000 / rps` ms apart (Bottleneck `minTime`;
 * its reservoir mode stalled under clustering in our probe, see README "Rate limit"), plus a
 * fleet-wide pause: a 429 sets a Redis key that expires after `Retry-After`, and every request
 * checks it inside its limiter slot before going out.
 */
import Bottleneck from 'bottleneck';
import type { Redis } from 'ioredis';

/** Options of {@link FleetRateLimiter}. */
export interface FleetRateLimiterOptions {
  /** Redis connection of the process; the limiter duplicates it for its own use. */
  redis: Redis;
  /** Key prefix (the fleet's hash tag); the limiter id and pause key derive from it. */
  prefix: string;
  /** Ceiling for the whole fleet, requests/s. */
  rps: number;
}

/** A fleet-wide limiter; create one per process. */
export class FleetRateLimiter {
  private readonly limiter: Bottleneck;
  private readonly redis: Redis;
  private readonly pauseKey: string;
  private readonly ready: Promise<unknown>;
  private readonly connection: Bottleneck.IORedisConnection;

  constructor(options: FleetRateLimiterOptions) {
    this.redis = options.redis;
    this.pauseKey = `${options.prefix}:tmdb:pause`;
    this.connection = new Bottleneck.IORedisConnection({ client: options.redis.duplicate() });
    this.limiter = new Bottleneck({
      id: `${options.prefix}:tmdb`,
      datastore: 'ioredis',
      connection: this.connection,
      clearDatastore: false,
      maxConcurrent: null,
      minTime: 1000 / options.rps,
    });
    this.limiter.on('error', () => {
      /* surfaced to the caller through schedule() rejections */
    });
    this.ready = this.limiter
      .ready()
      .then(() => this.limiter.updateSettings({ minTime: 1000 / options.rps }));
  }

  /**
   * Runs `request` in the next free slot of the fleet-wide limit. While the fleet is paused by
   * a 429 the call waits (without holding a slot) and takes a new slot after the pause.
   */
  async schedule<T>(request: () => Promise<T>): Promise<T> {
    await this.ready;
    for (;;) {
      const outcome = await this.limiter.schedule(
        async (): Promise<{ pausedMs: number } | { value: T }> => {
          const pausedMs = await this.redis.pttl(this.pauseKey);
          if (pausedMs > 0) return { pausedMs };
          return { value: await request() };
        },
      );
      if ('value' in outcome) return outcome.value;
      await sleep(outcome.pausedMs);
    }
  }

  /**
   * Pauses every process of the fleet for `ms` (a 429's Retry-After). Never shortens a pause
   * already in force.
   */
  async pauseFleet(ms: number): Promise<void> {
    await this.redis.eval(
      "local t = redis.call('PTTL', KEYS[1]) if t < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end return 1",
      1,
      this.pauseKey,
      String(Math.max(1, Math.round(ms))),
    );
  }

  /** Releases this process's limiter and its own Redis connections. */
  async close(): Promise<void> {
    await this.connection.disconnect(false);
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
