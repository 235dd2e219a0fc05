/**
 * Sync watches: which running `sync --watch` run copies the new objects under a source
 * bucket/prefix. A watch holds a lease (`<run>:lease`, renewed by its `sync --watch` process
 * every third of `SYNC_WATCH_LEASE_MS`): a watch whose process died (SIGKILL, lost host) stops
 * receiving events when its lease lapses, and the next worker sweep closes it, so its run
 * completes with a manifest instead of staying `running` forever.
 *
 * Registry: the Redis hash `<prefix>:sync:watches`, field `<bucket>/<prefix>` of the source →
 * JSON {@link Watch}.
 */
import { hostname } from 'node:os';
import type { Fleet } from '../fleet.js';
import { watchesKey } from '../runs/keys.js';
import { formatPlanKey } from './plan-key.js';
import { enqueueFinal } from './write.js';

/** An S3 bucket and a key prefix (`''` or ending in `/`). */
export interface WatchedLocation {
  bucket: string;
  prefix: string;
}

/** A registered watch: where new source objects go, and the run that copies them. */
export interface Watch {
  source: WatchedLocation;
  destination: WatchedLocation;
  runId: string;
}

/** The plan key that keeps a watch run open until its watch is closed. */
export const WATCH_GUARD = formatPlanKey({ type: 'guard', guard: 'watch' });

const field = (loc: WatchedLocation) => `${loc.bucket}/${loc.prefix}`;
const leaseKey = (fleet: Fleet, runId: string) => fleet.runs.keysOf(runId).lease;

/** Every registered watch. */
export async function listWatches(fleet: Fleet): Promise<Watch[]> {
  const all = await fleet.redis.hgetall(watchesKey(fleet.config.redis.prefix));
  return Object.values(all).map((v) => JSON.parse(v) as Watch);
}

/** The watch registered for a source, if any. */
export async function watchOf(fleet: Fleet, source: WatchedLocation): Promise<Watch | undefined> {
  const raw = await fleet.redis.hget(watchesKey(fleet.config.redis.prefix), field(source));
  return raw ? (JSON.parse(raw) as Watch) : undefined;
}

/** Registers a watch and takes its lease. */
export async function registerWatch(fleet: Fleet, watch: Watch): Promise<void> {
  await renewLease(fleet, watch.runId);
  await fleet.redis.hset(watchesKey(fleet.config.redis.prefix), field(watch.source), JSON.stringify(watch));
}

/** Renews a watch's lease for `SYNC_WATCH_LEASE_MS` (call every third of it). */
export async function renewLease(fleet: Fleet, runId: string): Promise<void> {
  await fleet.redis.set(leaseKey(fleet, runId), `${hostname()}:${process.pid}`, 'PX', fleet.config.sync.watchLeaseMs);
}

/** True while the watch's process holds its lease. */
export async function holdsLease(fleet: Fleet, runId: string): Promise<boolean> {
  return (await fleet.redis.exists(leaseKey(fleet, runId))) === 1;
}

/**
 * Closes a watch: unregisters it (if still this run's), drops its lease and closes the run's
 * guard, so the run completes — and its manifest is written — once the copies in flight are
 * done. Idempotent.
 */
export async function closeWatch(fleet: Fleet, runId: string): Promise<void> {
  const key = watchesKey(fleet.config.redis.prefix);
  for (const w of await listWatches(fleet)) if (w.runId === runId) await fleet.redis.hdel(key, field(w.source));
  await fleet.redis.del(leaseKey(fleet, runId));
  if (await fleet.runs.pageDone(runId, WATCH_GUARD)) await enqueueFinal(fleet, runId);
}

/**
 * Closes every watch whose lease lapsed (its process died) or whose run is no longer running.
 * @returns the run ids closed.
 */
export async function closeLapsedWatches(fleet: Fleet): Promise<string[]> {
  const closed: string[] = [];
  for (const w of await listWatches(fleet)) {
    const running = (await fleet.runs.state(w.runId)) === 'running';
    if (running && (await holdsLease(fleet, w.runId))) continue;
    await closeWatch(fleet, w.runId);
    fleet.log.warn({ runId: w.runId }, running ? 'sync watch lease lapsed (its process died); watch closed' : 'watch of an ended run removed');
    closed.push(w.runId);
  }
  return closed;
}
