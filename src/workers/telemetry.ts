/**
 * What a worker process tells operators about itself: a heartbeat in Redis (liveness, the
 * queues it works, its metrics URL), its own `/metrics` on WORKER_METRICS_PORT when set, and
 * the duration and outcome of every job it runs. One per process however many worker sets it
 * starts (`--workers N` shares one fleet): the first set starts it, the last one to close stops it.
 */
import { hostname } from 'node:os';
import type { Worker } from 'bullmq';
import type { Fleet } from '../fleet.js';
import { startHeartbeat, type Heartbeat } from '../metrics/heartbeat.js';
import { serveMetrics, type MetricsServer } from '../metrics/server.js';

interface Shared {
  sets: number;
  queues: Set<string>;
  heartbeat: Heartbeat;
  server: Promise<MetricsServer | undefined>;
}

const byFleet = new WeakMap<Fleet, Shared>();

/** Records how long each job of `worker` ran and how it ended. */
export function observeJobs(fleet: Fleet, queue: string, worker: Worker): void {
  const seconds = (processedOn: number | undefined) => (processedOn ? (Date.now() - processedOn) / 1_000 : 0);
  worker.on('completed', (job) => fleet.metrics.jobFinished(queue, 'completed', seconds(job.processedOn)));
  worker.on('failed', (job) => fleet.metrics.jobFinished(queue, 'failed', seconds(job?.processedOn)));
}

/** Starts the metrics endpoint when configured; a port that cannot be bound is logged, not fatal. */
async function startServer(fleet: Fleet): Promise<MetricsServer | undefined> {
  const { port, host } = fleet.config.workerMetrics;
  if (port === undefined) return undefined;
  try {
    const server = await serveMetrics(fleet.metrics.registry, host, port);
    fleet.log.info({ url: server.url }, 'worker metrics listening');
    return server;
  } catch (err) {
    fleet.log.error(
      { code: 'WORKER_METRICS', err: err instanceof Error ? err.message : String(err) },
      `worker metrics could not listen on ${host}:${port} (WORKER_METRICS_PORT); the worker runs without them`,
    );
    return undefined;
  }
}

/** The URL other hosts use: a wildcard bind is advertised under this host's name. */
function advertised(url: string): string {
  return url.replace(/^http:\/\/(0\.0\.0\.0|\[::\])/, `http://${hostname()}`);
}

/**
 * Starts (or joins) this process's telemetry for a worker set working `queues`.
 * @returns a function that leaves it; the last one out stops the heartbeat and the endpoint.
 */
export function joinTelemetry(fleet: Fleet, queues: readonly string[]): () => Promise<void> {
  let shared = byFleet.get(fleet);
  if (shared) {
    shared.sets++;
    for (const q of queues) shared.queues.add(q);
    shared.heartbeat.update({ queues: [...shared.queues] });
  } else {
    const onError = (err: Error) => fleet.log.warn({ code: 'HEARTBEAT', err: err.message }, 'could not write the worker heartbeat');
    const heartbeat = startHeartbeat(fleet.redis, fleet.config.redis.prefix, [...queues], onError);
    const server = startServer(fleet).then((s) => {
      if (s) heartbeat.update({ metricsUrl: advertised(s.url) });
      return s;
    });
    shared = { sets: 1, queues: new Set(queues), heartbeat, server };
    byFleet.set(fleet, shared);
  }
  const joined = shared;
  let left = false;
  return async () => {
    if (left) return;
    left = true;
    if (--joined.sets > 0) return;
    byFleet.delete(fleet);
    await joined.heartbeat.stop();
    await (await joined.server)?.close();
  };
}
