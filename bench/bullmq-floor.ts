/**
 * BullMQ's own Redis cost of one job, with the fleet's queue options (`defaultJobOptions`, the
 * events stream's maxLen, the workers' lock and stalled-check settings) and a processor that does
 * nothing: the floor under the fleet's "Redis commands per title", since 1 details job = 1 title.
 * Jobs are enqueued 20 at a time with `addBulk`, as a discover page enqueues its titles.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.js';
import { defaultJobOptions } from '../src/queues.js';
import { JOB_LOCK_MS, JOB_STALLED_CHECK_MS } from '../src/workers/job-support.js';
import { startRedisServer } from '../test/support/redis-server.js';
import { callsPerTitle, commandCalls, fleetCallsPerTitle } from './probes.js';

/** Redis commands per job: to enqueue it, and to run it to completion. */
export interface BullmqFloor {
  enqueue: number;
  run: number;
}

/** Commands per job, this function's own INFO and CLIENT calls left out. */
const sum = (perJob: Record<string, number>): number => fleetCallsPerTitle(perJob).reduce((total, [, n]) => total + n, 0);

/**
 * Enqueues and runs `jobs` no-op jobs on a fresh redis-server (`concurrency` at once) and
 * counts Redis commands per job (`INFO commandstats` deltas, this function's own INFO calls left out).
 */
export async function measureBullmqFloor(jobs = 2_000, concurrency = 16): Promise<BullmqFloor> {
  const server = await startRedisServer();
  const connection = new Redis(server.url, { maxRetriesPerRequest: null });
  const config = loadConfig({ REDIS_URL: server.url });
  const queue = new Queue('floor', { connection, defaultJobOptions: defaultJobOptions(config), streams: { events: { maxLen: 1_000 } } });
  try {
    const start = await commandCalls(connection);
    for (let first = 0; first < jobs; first += 20) {
      const page = Array.from({ length: Math.min(20, jobs - first) }, (_, i) => ({ name: 'details', data: { id: first + i }, opts: { jobId: `d.${first + i}` } }));
      await queue.addBulk(page);
    }
    const enqueued = await commandCalls(connection);
    const workerConnection = new Redis(server.url, { maxRetriesPerRequest: null });
    const worker = new Worker('floor', async () => 'ok', {
      connection: workerConnection,
      concurrency,
      lockDuration: JOB_LOCK_MS,
      stalledInterval: JOB_STALLED_CHECK_MS,
      maxStalledCount: 3,
    });
    let done = 0;
    await new Promise<void>((resolve) => {
      worker.on('completed', () => {
        if (++done === jobs) resolve();
      });
    });
    await worker.close();
    workerConnection.disconnect();
    const ran = await commandCalls(connection);
    return { enqueue: sum(callsPerTitle(start, enqueued, jobs)), run: sum(callsPerTitle(enqueued, ran, jobs)) };
  } finally {
    await queue.close();
    connection.disconnect();
    await server.stop();
  }
}
