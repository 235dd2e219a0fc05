/**
 * The dashboard's fleet-wide metrics, read from Redis at scrape time: jobs by queue and state,
 * worker liveness (heartbeats), and the progress and state of every recent run. Each worker
 * process serves its own request, latency and write metrics (WORKER_METRICS_PORT); these are
 * the ones only the shared state can tell.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Fleet } from '../fleet.js';
import { isAlive, readWorkers, type WorkerBeat } from '../metrics/heartbeat.js';
import { QUEUE_NAMES } from '../queues.js';
import { runProgress } from '../runs/history.js';
import { runIndexKey } from '../runs/keys.js';
import { FINISHED_STATES, type RunState, type RunSummary } from '../runs/types.js';

/** Job states exported by the `tmdb_fleet_queue_jobs` gauge. */
const JOB_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;
const RUN_STATES: readonly RunState[] = ['running', 'finalizing', 'completed', 'failed', 'cancelled'];
/** Runs started within this window are exported (at most {@link MAX_RUNS}), ms. */
const RUN_WINDOW_MS = 24 * 3_600_000;
/** A finished run stays exported this long after it ended, ms (so its last values are scraped). */
const FINISHED_GRACE_MS = 3_600_000;
const MAX_RUNS = 100;
/** Redis reads are shared by every gauge of one scrape. */
const SNAPSHOT_TTL_MS = 1_000;
const READ_TIMEOUT_MS = 2_000;

interface Snapshot {
  counts: Record<string, Record<string, number>>;
  workers: WorkerBeat[];
  runs: RunSummary[];
  at: number;
}

/** Resolves with `promise`, or rejects after `ms` (the late outcome is swallowed). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Recent runs: started within a day, unfinished or finished within the hour. */
async function recentRuns(fleet: Fleet, now: number): Promise<RunSummary[]> {
  const ids = await fleet.redis.zrevrangebyscore(runIndexKey(fleet.config.redis.prefix), '+inf', now - RUN_WINDOW_MS, 'LIMIT', 0, MAX_RUNS);
  const summaries = await Promise.all(ids.map((id) => fleet.runs.summary(id).catch(() => undefined)));
  return summaries.filter((s): s is RunSummary => {
    if (!s) return false;
    if (!(FINISHED_STATES as readonly string[]).includes(s.state)) return true;
    return s.finishedAt !== undefined && now - Date.parse(s.finishedAt) < FINISHED_GRACE_MS;
  });
}

async function readSnapshot(fleet: Fleet): Promise<Snapshot> {
  const at = Date.now();
  const [counts, workers, runs] = await Promise.all([
    Promise.all(QUEUE_NAMES.map((name) => fleet.queues[name].getJobCounts(...JOB_STATES))),
    readWorkers(fleet.redis, fleet.config.redis.prefix, at),
    recentRuns(fleet, at),
  ]);
  return { counts: Object.fromEntries(QUEUE_NAMES.map((q, i) => [q, counts[i] ?? {}])), workers, runs, at };
}

/**
 * Registers the fleet-wide gauges in `register`; each scrape reads Redis once (shared by every
 * gauge, within 2 s or the scrape goes on without them and a warning is logged).
 */
export function registerFleetMetrics(fleet: Fleet, register: Registry): void {
  let cached: { at: number; value: Promise<Snapshot | undefined> } | undefined;
  const snapshot = (): Promise<Snapshot | undefined> => {
    if (cached && Date.now() - cached.at < SNAPSHOT_TTL_MS) return cached.value;
    const value = withTimeout(readSnapshot(fleet), READ_TIMEOUT_MS, 'fleet metrics').catch((err: unknown) => {
      fleet.log.warn({ code: 'DASHBOARD_METRICS', err: err instanceof Error ? err.message : String(err) }, 'could not read fleet metrics');
      return undefined;
    });
    cached = { at: Date.now(), value };
    return value;
  };
  const registers = [register];
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (g: Gauge<L>, s: Snapshot) => void) =>
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        const s = await snapshot();
        this.reset();
        if (s) fill(this, s);
      },
    });

  gauge('tmdb_fleet_queue_jobs', 'Jobs in each fleet queue by state, read from Redis at scrape time.', ['queue', 'state'], (g, s) => {
    for (const queue of QUEUE_NAMES) for (const state of JOB_STATES) g.set({ queue, state }, s.counts[queue]?.[state] ?? 0);
  });
  gauge('tmdb_fleet_workers_alive', 'Worker processes whose heartbeat is at most 15 s old, by queue they work.', ['queue'], (g, s) => {
    for (const queue of QUEUE_NAMES) g.set({ queue }, s.workers.filter((w) => isAlive(w, s.at) && w.queues.includes(queue)).length);
  });
  gauge(
    'tmdb_fleet_worker_last_seen_timestamp_seconds',
    'Last heartbeat of each worker process (host:pid) seen within the hour, seconds since the epoch.',
    ['worker'],
    (g, s) => {
      for (const w of s.workers) g.set({ worker: w.id }, w.lastSeen / 1_000);
    },
  );
  registerRunGauges(gauge);
}

type GaugeFactory = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (g: Gauge<L>, s: Snapshot) => void) => Gauge<L>;

/** Per-run gauges, labelled run_id, kind and source. */
function registerRunGauges(gauge: GaugeFactory): void {
  const labels = ['run_id', 'kind', 'source'] as const;
  const of = (r: RunSummary) => ({ run_id: r.runId, kind: r.kind, source: r.kind === 'upload' || r.kind === 'sync' ? r.kind : (r.params.source ?? 'discover') });
  const perRun = (name: string, help: string, value: (r: RunSummary) => number) =>
    gauge(name, help, labels, (g, s) => {
      for (const r of s.runs) g.set(of(r), value(r));
    });
  perRun('tmdb_fleet_run_items_expected', 'Items a recent run has to do: titles (TMDB runs), files (upload) or objects (sync).', (r) => runProgress(r).total);
  perRun('tmdb_fleet_run_items_done', 'Items a recent run has done (fetched, not found or failed for good).', (r) => runProgress(r).done);
  perRun('tmdb_fleet_run_items_fetched', 'Titles fetched (files uploaded, objects copied) by a recent run.', (r) =>
    r.kind === 'sync' ? (r.copies?.copied ?? 0) : r.kind === 'upload' ? r.pagesDone : r.fetched,
  );
  perRun('tmdb_fleet_run_items_failed', 'Titles, pages, files or objects of a recent run that failed for good (dead letters).', (r) =>
    r.failed + r.pagesFailed + (r.copies?.failed ?? 0),
  );
  perRun('tmdb_fleet_run_records', 'Records a recent run has written to the lake.', (r) => r.records);
  perRun('tmdb_fleet_run_start_time_seconds', 'When a recent run started, seconds since the epoch.', (r) => Date.parse(r.createdAt) / 1_000);
  gauge('tmdb_fleet_run_state', 'State of a recent run: 1 for its current state, 0 for the others.', [...labels, 'state'], (g, s) => {
    for (const r of s.runs) for (const state of RUN_STATES) g.set({ ...of(r), state }, r.state === state ? 1 : 0);
  });
}
