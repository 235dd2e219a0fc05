/**
 * End to end through real processes: redis-server, s3rver, the fake TMDB over HTTP, two
 * `tmdb-fleet worker` processes and the `tmdb-fleet backfill` CLI.
 */
import { describe, expect, it } from 'vitest';
import { lastJsonLine, runCli } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';
import { readRun } from './support/lake-reader.js';

const NOT_FOUND = [17, 1234, 2999];

const h = useFleetHarness({
  tmdb: {
    movie: { count: 3_000, from: '2024-01-01', to: '2024-03-31', seed: 7 },
    tv: { count: 12_500, from: '2020-01-01', to: '2020-12-31', seed: 8 },
    notFoundIds: NOT_FOUND,
  },
  buckets: ['lake'],
});
const fleetEnv = () =>
  h.env({ TMDB_RATE_LIMIT_RPS: '2000', BATCH_MAX_RECORDS: '100', BATCH_MAX_WAIT_MS: '300', WORKER_CONCURRENCY: '16', JOB_BACKOFF_MS: '50' });

interface Summary {
  runId: string;
  state: string;
  error?: string;
  discovered: number;
  fetched: number;
  notFound: number;
  failed: number;
  objects: number;
  records: number;
  uncovered: number;
}

describe('backfill through two worker processes', () => {
  it('lands every title exactly once, in objects of at most 100 records, with a manifest, asking TMDB for each page and title once', async () => {
    const env = fleetEnv();
    h.startWorkers(env, 2);
    h.tmdb.resetStats();
    const res = await runCli(['backfill', 'movie', '--from', '2024-01-01', '--to', '2024-03-31', '--wait', '--json'], env);
    expect(res.stderr).not.toContain('test-token');
    expect(res.code, res.stderr).toBe(0);
    const summary = lastJsonLine<Summary>(res.stdout);
    expect(summary).toMatchObject({ state: 'completed', discovered: 3_000, fetched: 2_997, notFound: 3, failed: 0, records: 2_997 });

    const lake = await readRun(env, 'movie', summary.runId);
    const expectedIds = h.tmdb.titles('movie').map((t) => t.id).filter((id) => !NOT_FOUND.includes(id));
    expect([...lake.idCounts.keys()].sort((a, b) => a - b)).toEqual(expectedIds.sort((a, b) => a - b));
    expect([...lake.idCounts.values()].every((n) => n === 1)).toBe(true);
    for (const key of lake.keys) {
      expect(key).toMatch(new RegExp(`^raw/tmdb/movie/\\d{4}/\\d{2}/\\d{2}/${summary.runId}-\\d{6}\\.jsonl\\.gz$`));
    }
    const perObject = new Map<string, number>();
    for (const r of lake.records) perObject.set(r.key, (perObject.get(r.key) ?? 0) + 1);
    expect(Math.max(...perObject.values())).toBeLessThanOrEqual(100);
    expect(lake.manifest.objects.map((o) => o.key).sort()).toEqual(lake.keys);
    expect(lake.manifest.objects.reduce((s, o) => s + o.records, 0)).toBe(2_997);
    expect(lake.manifest.summary).toMatchObject({ fetched: 2_997, notFound: 3 });
    const doc = lake.records[0]?.doc;
    expect(doc).toHaveProperty('external_ids.imdb_id');
    expect(summary.objects).toBe(lake.keys.length);
    // Polite and lean: 150 pages and 3,000 titles, each asked once; the plan's probe of page 1
    // doubles as the credential check and is handed to page 1's job, not asked again.
    const stats = h.tmdb.stats();
    expect(stats.discoverRequests).toBe(150);
    expect(stats.detailsRequests).toBe(3_000);
    expect(stats.requests).toBe(150 + 3_000);
  });

  it('completes a window with more than 10,000 matches by splitting it', async () => {
    const env = fleetEnv();
    h.startWorkers(env, 2);
    const res = await runCli(['backfill', 'tv', '--from', '2020-01-01', '--to', '2020-12-31', '--wait', '--json'], env, 240_000);
    expect(res.code, res.stderr).toBe(0);
    const summary = lastJsonLine<Summary>(res.stdout);
    const total = h.tmdb.titles('tv').length;
    expect(total).toBeGreaterThan(10_000);
    const lost = h.tmdb.titles('tv').filter((t) => NOT_FOUND.includes(t.id)).length;
    expect(summary).toMatchObject({ state: 'completed', discovered: total, records: total - lost, uncovered: 0 });
    const lake = await readRun(env, 'tv', summary.runId);
    expect(lake.idCounts.size).toBe(total - lost);
    expect([...lake.idCounts.values()].every((n) => n === 1)).toBe(true);
  });
});
