/**
 * The finalization race: a document staged while the final write job finishes a run (a stalled
 * duplicate job, a dead letter retried from Bull Board) must be written, or not counted as
 * fetched — never counted and lost. The final job is frozen (fault point `final:drained=stop`,
 * SIGSTOP) right after it stored everything staged; a title that had failed for good is retried
 * then, as an operator would from Bull Board, and succeeds; the final job goes on (SIGCONT).
 * Real processes: two workers, s3rver, the fake TMDB, BullMQ's own retry.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { closeQueues, openQueues } from '../src/queues.js';
import { openRunStore } from '../src/runs/store.js';
import type { RunSummary } from '../src/runs/types.js';
import { lastJsonLine, runCli, type WorkerProcess } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';
import { readRun } from './support/lake-reader.js';
import { until } from './support/until.js';

const TITLES = 200;
const FROM = '2022-01-01';
const TO = '2022-12-31';
const h = useFleetHarness({ tmdb: { movie: { count: TITLES, from: FROM, to: TO, seed: 41 } }, buckets: ['lake'] });

describe('a document staged while the final job finishes the run', () => {
  it('is written, or not counted as fetched: never counted and lost', async () => {
    const failing = h.tmdb.titles('movie')[7]?.id ?? 0;
    h.tmdb.configure({ failingIds: [failing] });
    const env = h.env({ JOB_ATTEMPTS: '1', FAULT_POINTS: 'final:drained=stop' });
    const workers = h.startWorkers(env, 2);
    const res = await runCli(['backfill', 'movie', '--from', FROM, '--to', TO, '--json'], env);
    expect(res.code, res.stderr).toBe(0);
    const { runId } = lastJsonLine<{ runId: string }>(res.stdout);

    const config = loadConfig(env);
    const client = new Redis(config.redis.url, { maxRetriesPerRequest: null });
    const queues = openQueues(config, client);
    const runs = openRunStore(client, config.redis.prefix);
    let frozen: WorkerProcess | undefined;
    try {
      frozen = await until('the final job to reach final:drained', 60_000, () =>
        workers.find((w) => w.output().includes('fault point final:drained reached')),
      );
      expect((await runs.summary(runId)).failed).toBe(1);
      // The operator retries the dead letter; TMDB answers now; the other worker runs it.
      h.tmdb.configure({ failingIds: [] });
      const deadLetter = await queues.details.getJob(`t.${runId}.${failing}`);
      expect(await deadLetter?.getState()).toBe('failed');
      await deadLetter?.retry('failed');
      await until('the retried job to finish', 20_000, async () => {
        const job = await queues.details.getJob(`t.${runId}.${failing}`);
        const state = await job?.getState();
        return job === undefined || state === 'completed' || state === 'failed' ? true : undefined;
      });
    } finally {
      if (frozen?.child.pid) process.kill(frozen.child.pid, 'SIGCONT');
    }
    let summary: RunSummary;
    try {
      summary = await until('the run to end', 60_000, async () => {
        const s = await runs.summary(runId);
        return s.state === 'completed' || s.state === 'failed' ? s : undefined;
      });
    } finally {
      await closeQueues(queues);
      client.disconnect();
    }
    expect(summary.state, summary.error).toBe('completed');

    const lake = await readRun(env, 'movie', runId);
    const landed = lake.idCounts.has(failing);
    const served = h.tmdb.stats().detailsIdsServed[`movie:${failing}`] ?? 0;
    process.stdout.write(
      `\nretried title ${failing} (TMDB served it ${served} times): ${landed ? 'written' : 'not in the lake'}; manifest ${JSON.stringify(lake.manifest.summary)}\n`,
    );
    // Every title counted as fetched is in the lake, once; the retried one is written or still failed.
    expect(lake.manifest.summary.fetched).toBe(lake.records.length);
    expect(lake.manifest.summary.records).toBe(lake.records.length);
    expect([...lake.idCounts.values()].every((n) => n === 1)).toBe(true);
    expect(lake.manifest.summary.failed).toBe(landed ? 0 : 1);
    expect(lake.records.length).toBe(TITLES - (landed ? 0 : 1));
  });
});
