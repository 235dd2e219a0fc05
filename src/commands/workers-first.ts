/**
 * `--workers N` for runs whose producer feeds the run for a long time before it returns (an
 * export read under backpressure, a resume that continues one): the in-process workers must
 * drain the details queue while the producer is still feeding it, so they start before it.
 */
import type { Config } from '../config.js';
import { UsageError } from '../errors.js';
import { openFleet, type Fleet } from '../fleet.js';
import { createLogger } from '../log.js';
import { QUEUE_NAMES } from '../queues.js';
import { startWorkers, type WorkerSet } from '../workers/index.js';
import { startAndFollow, type FollowOptions } from './run-output.js';

/**
 * Like `startAndFollow`, but the `--workers N` worker sets start before `start` runs.
 * @throws UsageError for `--workers` without `--wait`; whatever `start` throws.
 */
export async function followWithWorkersFirst(config: Config, opts: FollowOptions, start: (fleet: Fleet) => Promise<string>): Promise<void> {
  if (!opts.workers) return startAndFollow(config, opts, start);
  if (!opts.wait) throw new UsageError('--workers needs --wait (the workers stop when the run ends)');
  const fleet = openFleet(config, createLogger(config), 'worker');
  const sets: WorkerSet[] = [];
  try {
    for (let i = 0; i < opts.workers; i++) sets.push(startWorkers(fleet, QUEUE_NAMES, config.jobs.concurrency));
    await startAndFollow(config, { ...opts, workers: undefined }, start);
  } finally {
    await Promise.all(sets.map((s) => s.close()));
    await fleet.close();
  }
}
