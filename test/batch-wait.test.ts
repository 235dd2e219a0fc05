/**
 * BATCH_MAX_WAIT_MS is a bound, not a hint: titles trickle in (20 a second, batches of 100
 * never fill in time), and every document lands in a stored object within BATCH_MAX_WAIT_MS
 * (+ {@link SLACK_MS}) of TMDB serving it, also those staged after a partial flush; tail
 * flushes still batch (they never chase single documents). Real processes: two workers, the
 * CLI, s3rver (its PUT log times each object) and the fake TMDB (it times each title served).
 */
import { describe, expect, it } from 'vitest';
import { lastJsonLine, runCli } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';
import { readRun } from './support/lake-reader.js';

const WAIT_MS = 1_000;
/** Delayed-job pickup, claim, gzip and PUT after the wait, ms. */
const SLACK_MS = 500;
const TITLES = 150;

const h = useFleetHarness({ tmdb: { movie: { count: TITLES, from: '2023-01-01', to: '2023-12-31', seed: 31 } }, buckets: ['lake'] });

describe('BATCH_MAX_WAIT_MS', () => {
  it(`bounds every document's wait for its object (${WAIT_MS} ms + ${SLACK_MS} ms)`, async () => {
    const env = h.env({ TMDB_RATE_LIMIT_RPS: '20', BATCH_MAX_RECORDS: '100', BATCH_MAX_WAIT_MS: String(WAIT_MS) });
    h.startWorkers(env, 2);
    const res = await runCli(['backfill', 'movie', '--from', '2023-01-01', '--to', '2023-12-31', '--wait', '--json'], env);
    expect(res.code, res.stderr).toBe(0);
    const { runId } = lastJsonLine<{ runId: string }>(res.stdout);
    const lake = await readRun(env, 'movie', runId);
    expect(lake.idCounts.size).toBe(TITLES);
    expect([...lake.idCounts.values()].every((n) => n === 1)).toBe(true);

    const storedAt = new Map(
      (h.s3?.puts() ?? []).filter((p) => p.status === 200).map((p) => [p.path.replace(/^\/lake\//, ''), p.at]),
    );
    const served = h.tmdb.stats().detailsServedAt;
    const waits = lake.records.map((r) => (storedAt.get(r.key) ?? Infinity) - (served[`movie:${String(r.doc.id)}`] ?? 0));
    const worst = Math.max(...waits);
    process.stdout.write(`\nBATCH_MAX_WAIT_MS=${WAIT_MS}: longest wait ${worst} ms over ${waits.length} documents in ${lake.keys.length} objects\n`);
    expect(worst).toBeLessThanOrEqual(WAIT_MS + SLACK_MS);
    // Still batches: tail flushes take what a wait gathered (about 20 titles a second), not one at a time.
    expect(lake.keys.length).toBeLessThanOrEqual(TITLES / 8);
  });
});
