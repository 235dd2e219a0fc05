/**
 * The fleet-wide TMDB rate limit: one Redis key holds the time of the next free request slot
 * for the whole fleet (GCRA-style spacing, `1000 / rps` ms apart). A request reserves its slot
 * with one atomic Lua call (`lua/reserve-1.lua`), however far ahead the slot lies, then waits
 * for it locally: a crowd of waiting callers costs one script call per request, never a re-poll.
 *
 * A 429 pauses the whole fleet (`lua/pause-1.lua`): the next free slot goes to the end of
 * `Retry-After` and the pause *epoch* goes up, which voids every reservation handed out before.
 * The script publishes the new epoch; each process's limiter subscribes (one extra connection,
 * opened on first use), wakes its waiting callers of older epochs at once and they reserve again
 * behind the pause. A process that missed messages (its subscriber reconnected) treats every
 * reservation it holds as void. Only requests already on their way go out during a pause.
 *
 * We measured Bottleneck (clustering mode) first, as the design asked: it held 40 requests/s
 * exactly, but cost about 7 Lua calls and 1.7 ms of worker CPU per request, which capped the
 * fleet at ~1,000 requests/s on 2 cores against a 2,000 ceiling (README, "Rate limit").
 */
import type { Redis } from 'ioredis';
import { LuaScript, reply } from '../redis/lua.js';

/** Options of {@link FleetRateLimiter}. */
export interface FleetRateLimiterOptions {
  /** Redis connection of the process (the subscriber for pauses is a duplicate of it). */
  redis: Redis;
  /** Key prefix (the fleet's hash tag); the limiter key and pause channel derive from it. */
  prefix: string;
  /** Ceiling for the whole fleet, requests/s. */
  rps: number;
}

/** The limiter's Redis key and pause channel under a fleet prefix (one home for both names). */
export function limiterKeys(prefix: string): { state: string; pauses: string } {
  return { state: `${prefix}:tmdb:rate-limit`, pauses: `${prefix}:tmdb:rate-limit:pauses` };
}

const dir = new URL('./lua/', import.meta.url);
const RESERVE = new LuaScript(dir, 'reserve-1.lua', reply.numbers);
const PAUSE = new LuaScript(dir, 'pause-1.lua', reply.number);

/** A caller waiting locally for its reserved slot. */
interface Waiter {
  epoch: number;
  timer: NodeJS.Timeout;
  /** true: the slot came; false: the reservation is void (a pause), reserve again. */
  resolve(inForce: boolean): void;
}

/** A fleet-wide limiter; create one per process. */
export class FleetRateLimiter {
  private readonly redis: Redis;
  private readonly keys: { state: string; pauses: string };
  private readonly intervalUs: number;
  private readonly waiters = new Set<Waiter>();
  /** Highest pause epoch this process has seen. */
  private epoch = 0;
  private subscriber: Redis | undefined;
  private subscribed: Promise<void> | undefined;

  constructor(options: FleetRateLimiterOptions) {
    this.redis = options.redis;
    this.keys = limiterKeys(options.prefix);
    this.intervalUs = Math.max(1, Math.round(1_000_000 / options.rps));
  }

  /** Runs `request` in the next free slot of the fleet-wide limit (reserving again after a pause). */
  async schedule<T>(request: () => Promise<T>): Promise<T> {
    await (this.subscribed ??= this.subscribe().catch((err: unknown) => {
      this.subscribed = undefined; // the next request subscribes again
      throw err;
    }));
    for (;;) {
      const [waitUs = 0, epoch = 0] = await RESERVE.run(this.redis, [this.keys.state], [this.intervalUs]);
      this.learn(epoch);
      if (await this.waitFor(waitUs / 1_000, epoch)) return request();
    }
  }

  /**
   * Pauses every process of the fleet for `ms` (a 429's Retry-After): no slot is handed out
   * before then, and reservations handed out before are void. Never shortens a pause in force.
   */
  async pauseFleet(ms: number): Promise<void> {
    this.learn(await PAUSE.run(this.redis, [this.keys.state], [Math.max(1, Math.round(ms * 1_000)), this.keys.pauses]));
  }

  /** Closes the pause subscriber; callers already waiting keep their slots. */
  async close(): Promise<void> {
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }

  /** Subscribes to the fleet's pauses (resolves once Redis acknowledged). */
  private async subscribe(): Promise<void> {
    const sub = this.redis.duplicate();
    this.subscriber = sub;
    sub.on('error', () => undefined); // the process's main connection reports Redis outages
    sub.on('message', (_channel: string, message: string) => this.learn(Number(message)));
    let connected = false;
    sub.on('ready', () => {
      if (connected) this.voidAll(); // reconnected: pauses may have been missed
      connected = true;
    });
    try {
      await sub.subscribe(this.keys.pauses);
    } catch (err) {
      sub.disconnect();
      if (this.subscriber === sub) this.subscriber = undefined;
      throw err;
    }
  }

  /** Records a pause epoch; voids the reservations of older epochs. */
  private learn(epoch: number): void {
    if (!(epoch > this.epoch)) return;
    this.epoch = epoch;
    for (const w of this.waiters) if (w.epoch < epoch) this.settle(w, false);
  }

  private voidAll(): void {
    for (const w of this.waiters) this.settle(w, false);
  }

  private settle(w: Waiter, inForce: boolean): void {
    clearTimeout(w.timer);
    this.waiters.delete(w);
    w.resolve(inForce);
  }

  /** Waits `ms` for a slot of `epoch`: true when it came, false when a pause voided it first. */
  private waitFor(ms: number, epoch: number): Promise<boolean> {
    if (epoch < this.epoch) return Promise.resolve(false);
    if (ms < 1) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w: Waiter = { epoch, resolve, timer: setTimeout(() => this.settle(w, true), ms) };
      this.waiters.add(w);
    });
  }
}

/** What a {@link TmdbClient} asks of a limiter: a slot per request, and a pause on a 429. */
export type RequestGate = Pick<FleetRateLimiter, 'schedule' | 'pauseFleet'>;

/**
 * A gate outside the fleet's shared ceiling, for a process that sends a single request and no
 * more (`tmdb-fleet check`), so it needs no Redis: the request goes at once; a 429 waits
 * `Retry-After` in this process only.
 */
export const SINGLE_REQUEST_GATE: RequestGate = {
  schedule: (request) => request(),
  pauseFleet: (ms) => sleep(ms),
};

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
