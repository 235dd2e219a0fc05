/**
 * What a process does when its Redis connection goes away, decided in one place.
 *
 * - A CLI command (`failFast`, a `waitMs` bound) that never reached Redis fails at once; one
 *   that loses Redis says so once and waits up to REDIS_WAIT_MS for it to come back (its
 *   commands queue meanwhile), then gives up: the connection is closed and what the command
 *   awaits through {@link RedisWatch.guard} fails with one {@link RedisUnavailableError}. (ioredis
 *   alone does not reject a command that was sent just before Redis died once it stops
 *   reconnecting, so the guard, not the connection, ends the wait.)
 * - A worker (no bound) waits for ever; each outage is reported once, not every reconnection
 *   attempt.
 *
 * Messages name REDIS_URL's host and port, never its password.
 */
import type { Redis } from 'ioredis';
import { FleetError } from '../errors.js';

/** Redis could not be reached, or did not come back within REDIS_WAIT_MS. */
export class RedisUnavailableError extends FleetError {
  constructor(message: string) {
    super('REDIS_UNAVAILABLE', message);
  }
}

/** `host:port` of a REDIS_URL (a unix socket: its path), what messages name (never the password). */
export function redisEndpoint(url: string): string {
  if (url.startsWith('/')) return url;
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '6379'}`;
  } catch {
    return 'an unparsable address';
  }
}

/** What a {@link RedisWatch} reports. */
export type RedisEvent =
  /** The connection is lost (or, for a worker, was never made); once per outage. */
  | { kind: 'lost'; endpoint: string; cause: string; waitMs: number | undefined; message: string }
  /** It is back after an announced outage. */
  | { kind: 'back'; endpoint: string; downMs: number; message: string };

/** Options of a {@link RedisWatch}. */
export interface RedisWatchOptions {
  /** REDIS_URL (only its host and port are ever printed). */
  url: string;
  /** Give up after Redis has been gone this long, ms (REDIS_WAIT_MS); undefined: wait for ever. */
  waitMs: number | undefined;
  /** Fail at once when the first connection attempt fails (nothing listening, refused password). */
  failFast: boolean;
  /** Where outages and recoveries are told. */
  report: (event: RedisEvent) => void;
}

/** A close without an error is announced if no reconnection attempt fails or succeeds sooner, ms. */
const ANNOUNCE_CLOSE_AFTER_MS = 1_000;

/** Watches one connection's `ready`, `error` and `close` events; see the module comment. */
export class RedisWatch {
  /** Set once the watch has given up; every later failure of the process is this one. */
  failure: RedisUnavailableError | undefined;
  readonly endpoint: string;
  private everReady = false;
  private downSince: number | undefined;
  private announced = false;
  private lastCause: string | undefined;
  private giveUpTimer: NodeJS.Timeout | undefined;
  private announceTimer: NodeJS.Timeout | undefined;
  private disposed = false;
  private rejectFailed: (err: RedisUnavailableError) => void = () => undefined;
  private readonly failed = new Promise<never>((_, reject) => {
    this.rejectFailed = reject;
  });

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisWatchOptions,
  ) {
    this.endpoint = redisEndpoint(options.url);
    this.failed.catch(() => undefined); // rejected even when nothing is guarded
    redis.on('ready', this.onReady);
    redis.on('error', this.onError);
    redis.on('close', this.onClose);
  }

  /**
   * True while the connection is ready and no outage is under way. Listeners that repeat the
   * connection's errors (queues, workers) stay quiet while it is false: this watch tells the
   * outage once. (It sees an error first: it listens from before those listeners exist.)
   */
  get up(): boolean {
    return this.downSince === undefined && !this.failure && this.redis.status === 'ready';
  }

  /**
   * `work`'s result, or the watch's {@link RedisUnavailableError} as soon as it gives up on Redis
   * (a command may otherwise wait for ever on a connection that stopped reconnecting).
   */
  guard<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.failed]).catch((err: unknown) => {
      throw this.explain(err);
    });
  }

  /** `err`, or the watch's {@link RedisUnavailableError} when Redis was given up on. */
  explain(err: unknown): unknown {
    return this.failure ?? err;
  }

  /** Stops watching (before the process closes the connection itself). */
  dispose(): void {
    this.disposed = true;
    this.clearTimers();
    this.redis.off('ready', this.onReady);
    this.redis.off('error', this.onError);
    this.redis.off('close', this.onClose);
  }

  private readonly onReady = (): void => {
    if (this.downSince !== undefined && this.announced) {
      const downMs = Date.now() - this.downSince;
      const message = `Redis at ${this.endpoint} is back after ${(downMs / 1000).toFixed(1)} s`;
      this.options.report({ kind: 'back', endpoint: this.endpoint, downMs, message });
    }
    this.everReady = true;
    this.downSince = undefined;
    this.announced = false;
    this.lastCause = undefined;
    this.clearTimers();
  };

  private readonly onError = (err: Error): void => {
    if (this.disposed || this.failure) return;
    this.lastCause = err.message;
    if (!this.everReady && this.options.failFast) {
      this.fail(`cannot connect to Redis at ${this.endpoint} (REDIS_URL): ${err.message}`);
      return;
    }
    this.markDown();
    this.announce();
  };

  private readonly onClose = (): void => {
    if (this.disposed || this.failure || !this.everReady) return;
    this.markDown();
    this.announceTimer ??= setTimeout(() => this.announce(), ANNOUNCE_CLOSE_AFTER_MS);
  };

  private markDown(): void {
    if (this.downSince !== undefined) return;
    this.downSince = Date.now();
    const waitMs = this.options.waitMs;
    if (waitMs === undefined) return;
    this.giveUpTimer = setTimeout(() => {
      const cause = this.lastCause ?? 'the connection closed';
      this.fail(`Redis at ${this.endpoint} (REDIS_URL) did not come back within ${seconds(waitMs)} s (REDIS_WAIT_MS): ${cause}`);
    }, waitMs);
  }

  private announce(): void {
    if (this.announced || this.failure || this.disposed) return;
    this.announced = true;
    const cause = this.lastCause ?? 'the connection closed';
    const waitMs = this.options.waitMs;
    const message = !this.everReady
      ? `cannot connect to Redis at ${this.endpoint} (REDIS_URL): ${cause}; retrying until it answers`
      : waitMs === undefined
        ? `lost Redis at ${this.endpoint} (REDIS_URL): ${cause}; reconnecting until it comes back`
        : `lost Redis at ${this.endpoint} (REDIS_URL): ${cause}; waiting up to ${seconds(waitMs)} s for it to come back (REDIS_WAIT_MS)`;
    this.options.report({ kind: 'lost', endpoint: this.endpoint, cause, waitMs, message });
  }

  /** Gives up: pending and later commands fail, and {@link explain} names this failure. */
  private fail(message: string): void {
    this.failure = new RedisUnavailableError(message);
    this.clearTimers();
    this.rejectFailed(this.failure);
    this.redis.disconnect();
  }

  private clearTimers(): void {
    clearTimeout(this.giveUpTimer);
    clearTimeout(this.announceTimer);
    this.giveUpTimer = undefined;
    this.announceTimer = undefined;
  }
}

/** ms as whole seconds when whole, else with one decimal. */
function seconds(ms: number): string {
  return ms % 1000 === 0 ? String(ms / 1000) : (ms / 1000).toFixed(1);
}
