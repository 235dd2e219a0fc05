/**
 * The metrics of one fleet process (prom-client, its own registry): what this process asked of
 * TMDB and S3 and which jobs it ran. Every process opens one with its fleet (`fleet.metrics`);
 * a worker process serves it on `WORKER_METRICS_PORT` (`server.ts`), the dashboard adds it to its
 * fleet-wide `/metrics`. Callers record through the methods below and never see prom-client.
 *
 * Names follow Prometheus conventions: `tmdb_fleet_` prefix, counters end in `_total`, base
 * units (seconds, bytes). Labels are bounded: TMDB endpoints are templates (`/movie/{id}`),
 * statuses are HTTP codes or `error`, queues are the fleet's five.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What a fleet process records. */
export interface ProcessMetrics {
  /** The registry to serve (default process metrics included). */
  readonly registry: Registry;
  /**
   * One TMDB answer (or a failure to get one).
   * @param endpoint - a template such as `/movie/{id}` (see tmdb/client.ts endpointTemplate).
   * @param status - the HTTP status, or `error` when no answer came (reset, timeout).
   * @param seconds - from sending the request to its whole body, s.
   */
  tmdbRequest(endpoint: string, status: number | 'error', seconds: number): void;
  /** Time one request waited for its slot of the fleet-wide rate limit, s. */
  limiterWait(seconds: number): void;
  /** This process paused the whole fleet for a 429's Retry-After, s. */
  fleetPaused(seconds: number): void;
  /** The fleet-wide ceiling this process enforces (TMDB_RATE_LIMIT_RPS), requests/s. */
  ceiling(requestsPerSecond: number): void;
  /**
   * One S3 PutObject (or local write) of the lake.
   * @param seconds - the whole call, retries included, s.
   * @param bytes - body size, bytes.
   */
  lakePut(seconds: number, bytes: number, outcome: 'ok' | 'error'): void;
  /**
   * Records (JSON lines) in a data object this process stored and committed (a batch stored
   * again after a crash counts again).
   */
  recordsWritten(records: number): void;
  /** A job this process finished: `completed`, or `failed` (an attempt that threw). */
  jobFinished(queue: string, outcome: 'completed' | 'failed', seconds: number): void;
}

/** Seconds buckets for TMDB requests and S3 PUTs: 5 ms … 30 s. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Seconds buckets for the limiter wait: 1 ms … 60 s (a 429 pause shows at the top). */
const WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Seconds buckets for job durations: 10 ms … 5 min. */
const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** A new registry with this process's instruments and Node's default process metrics. */
export function createProcessMetrics(): ProcessMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const requests = new Counter({
    name: 'tmdb_fleet_tmdb_requests_total',
    help: 'TMDB API answers by endpoint template and HTTP status (error: no answer).',
    labelNames: ['endpoint', 'status'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'tmdb_fleet_tmdb_request_duration_seconds',
    help: 'Time from sending a TMDB request to reading its whole body, seconds.',
    labelNames: ['endpoint'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const wait = new Histogram({
    name: 'tmdb_fleet_limiter_wait_seconds',
    help: 'Time a TMDB request waited for its slot of the fleet-wide rate limit, seconds.',
    buckets: WAIT_BUCKETS,
    registers,
  });
  const paused = new Counter({
    name: 'tmdb_fleet_tmdb_pause_seconds_total',
    help: "Fleet-wide pauses this process set after TMDB answered 429 (Retry-After), seconds.",
    registers,
  });
  const ceiling = new Gauge({
    name: 'tmdb_fleet_tmdb_rate_limit_requests_per_second',
    help: 'Fleet-wide TMDB request ceiling this process enforces (TMDB_RATE_LIMIT_RPS), requests per second.',
    registers,
  });
  const puts = new Histogram({
    name: 'tmdb_fleet_lake_put_duration_seconds',
    help: 'Time of one PUT to the lake (S3 PutObject with SDK retries, or a local write), seconds.',
    labelNames: ['outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const bytes = new Counter({
    name: 'tmdb_fleet_lake_written_bytes_total',
    help: 'Bytes written to the lake by successful PUTs (data objects and manifests).',
    registers,
  });
  const records = new Counter({
    name: 'tmdb_fleet_lake_records_written_total',
    help: 'Records (JSON lines) in data objects this process stored and committed.',
    registers,
  });
  const jobs = new Histogram({
    name: 'tmdb_fleet_job_duration_seconds',
    help: 'Jobs this process finished, by queue and outcome (failed: an attempt that threw), and how long they ran, seconds.',
    labelNames: ['queue', 'outcome'] as const,
    buckets: JOB_BUCKETS,
    registers,
  });
  return {
    registry,
    tmdbRequest(endpoint, status, seconds) {
      requests.inc({ endpoint, status: String(status) });
      if (status !== 'error') latency.observe({ endpoint }, seconds);
    },
    limiterWait: (seconds) => wait.observe(seconds),
    fleetPaused: (seconds) => paused.inc(seconds),
    ceiling: (rps) => ceiling.set(rps),
    lakePut(seconds, size, outcome) {
      puts.observe({ outcome }, seconds);
      if (outcome === 'ok') bytes.inc(size);
    },
    recordsWritten: (n) => records.inc(n),
    jobFinished: (queue, outcome, seconds) => jobs.observe({ queue, outcome }, seconds),
  };
}
