/**
 * Worker liveness: every worker process writes a heartbeat into Redis every
 * {@link HEARTBEAT_INTERVAL_MS} (one hash `<prefix>:workers`, field = worker id, value = JSON of
 * {@link WorkerBeat}); the dashboard reads them for `tmdb_fleet_worker_last_seen_timestamp_seconds`
 * and `tmdb_fleet_workers_alive`. A worker that stops cleanly removes its beat; a killed one
 * stops beating, is counted dead after {@link WORKER_STALE_MS} and forgotten after
 * {@link WORKER_FORGET_MS}.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';

/** How often a worker process beats, ms. */
export const HEARTBEAT_INTERVAL_MS = 5_000;
/** A worker not seen for this long is not alive, ms (three missed beats). */
export const WORKER_STALE_MS = 3 * HEARTBEAT_INTERVAL_MS;
/** A worker not seen for this long is dropped from the hash, ms. */
export const WORKER_FORGET_MS = 3_600_000;

/** What one heartbeat says about a worker process. */
export interface WorkerBeat {
  /** `<host>:<pid>`. */
  id: string;
  host: string;
  pid: number;
  /** Queues this process works. */
  queues: string[];
  /** When the process started its workers, ISO 8601. */
  startedAt: string;
  /** When it last beat, ms since the epoch. */
  lastSeen: number;
  /** Its own Prometheus endpoint, when WORKER_METRICS_PORT is set. */
  metricsUrl?: string | undefined;
}

/** The hash of heartbeats under a fleet's key prefix. */
export function workersKey(prefix: string): string {
  return `${prefix}:workers`;
}

/** A running heartbeat. */
export interface Heartbeat {
  /** Changes what the next beats say (queues, metrics URL) and beats now. */
  update(patch: Partial<Pick<WorkerBeat, 'queues' | 'metricsUrl'>>): void;
  /** Stops beating and removes this worker's beat. */
  stop(): Promise<void>;
}

/**
 * Starts beating for this process (id `<host>:<pid>`); errors (Redis down) are passed to
 * `onError` and the next beat tries again.
 */
export function startHeartbeat(
  redis: Redis,
  prefix: string,
  queues: string[],
  onError: (err: Error) => void,
): Heartbeat {
  const host = hostname();
  const beat: WorkerBeat = { id: `${host}:${process.pid}`, host, pid: process.pid, queues, startedAt: new Date().toISOString(), lastSeen: 0 };
  const key = workersKey(prefix);
  const send = () => {
    beat.lastSeen = Date.now();
    redis.hset(key, beat.id, JSON.stringify(beat)).catch(onError);
  };
  send();
  const timer = setInterval(send, HEARTBEAT_INTERVAL_MS);
  timer.unref();
  return {
    update(patch) {
      Object.assign(beat, patch);
      send();
    },
    async stop() {
      clearInterval(timer);
      await redis.hdel(key, beat.id).catch(onError);
    },
  };
}

/**
 * Every worker that beat within {@link WORKER_FORGET_MS}, most recently seen first; older beats
 * are deleted.
 */
export async function readWorkers(redis: Redis, prefix: string, now = Date.now()): Promise<WorkerBeat[]> {
  const key = workersKey(prefix);
  const beats: WorkerBeat[] = [];
  const forgotten: string[] = [];
  for (const [id, raw] of Object.entries(await redis.hgetall(key))) {
    let beat: WorkerBeat | undefined;
    try {
      beat = JSON.parse(raw) as WorkerBeat;
    } catch {
      beat = undefined;
    }
    if (!beat || now - beat.lastSeen > WORKER_FORGET_MS) forgotten.push(id);
    else beats.push(beat);
  }
  if (forgotten.length > 0) await redis.hdel(key, ...forgotten);
  return beats.sort((a, b) => b.lastSeen - a.lastSeen);
}

/** True when the worker beat within {@link WORKER_STALE_MS} of `now`. */
export function isAlive(beat: WorkerBeat, now = Date.now()): boolean {
  return now - beat.lastSeen <= WORKER_STALE_MS;
}
