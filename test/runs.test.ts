/**
 * RunStore against a real redis-server: staging is idempotent, claims are stable under
 * re-delivery, commits are counted once, and completion is reached exactly when every page is
 * done and every discovered id is terminal.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openRunStore, type RunStore } from '../src/runs/store.js';
import type { Batch } from '../src/runs/types.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';

let server: RedisServer;
let redis: Redis;
let runs: RunStore;
let runId: string;

const KEY_BASE = 'raw/tmdb/movie/2024/01/02/run-';
const claimOptions = (flush: boolean, upTo?: number) => ({
  maxRecords: 100,
  flush,
  keyBase: KEY_BASE,
  seqDigits: 6,
  ...(upTo === undefined ? {} : { upTo }),
});
const doc = (id: number) => JSON.stringify({ id, title: `Title ${id}` });
const idsOf = (batch: Batch) =>
  batch.body
    .trimEnd()
    .split('\n')
    .map((line) => (JSON.parse(line) as { id: number }).id);

async function stageRange(from: number, to: number): Promise<void> {
  for (let id = from; id <= to; id++) expect((await runs.stage(runId, id, doc(id))).staged).toBe(true);
}

function asBatch(value: Batch | 'stored' | undefined): Batch {
  if (value === undefined || value === 'stored') throw new Error(`expected a batch, got ${String(value)}`);
  return value;
}

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
  runs = openRunStore(redis, `{t${randomUUID().slice(0, 8)}}`);
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

beforeEach(async () => {
  runId = `movie-${randomUUID().slice(0, 8)}`;
  // force: every test starts a run with the same parameters while the last one is still running.
  await runs.create(runId, { kind: 'movie', params: {} }, { lakePrefix: 'raw/tmdb', force: true });
});

describe('stage', () => {
  it('is idempotent: the same id twice is staged once and counted once', async () => {
    const first = await runs.stage(runId, 42, doc(42));
    expect(first).toMatchObject({ staged: true, active: true, stagedTotal: 1, stagedLength: 1 });
    const again = await runs.stage(runId, 42, JSON.stringify({ id: 42, title: 'a re-delivered copy' }));
    expect(again.staged).toBe(false);
    expect(again.active).toBe(true);
    expect(await runs.stagedLength(runId)).toBe(1);
    expect((await runs.summary(runId)).fetched).toBe(1);
  });

  it('stages nothing for a run that is over', async () => {
    await runs.fail(runId, 'TMDB refused the credential');
    const r = await runs.stage(runId, 1, doc(1));
    expect(r).toMatchObject({ staged: false, active: false });
    expect(await runs.stagedLength(runId)).toBe(0);
  });

  it('does not stage an id already recorded as not found', async () => {
    await runs.terminal(runId, 7, 'notFound');
    expect((await runs.stage(runId, 7, doc(7))).staged).toBe(false);
    const s = await runs.summary(runId);
    expect([s.notFound, s.fetched]).toEqual([1, 0]);
    expect(await runs.stagedLength(runId)).toBe(0);
  });
});

describe('claim and commit', () => {
  it('claims full batches of maxRecords, nothing partial without flush, the tail with flush', async () => {
    await stageRange(1, 250);
    const b1 = asBatch(await runs.claim(runId, 'full-1', claimOptions(false)));
    const b2 = asBatch(await runs.claim(runId, 'full-2', claimOptions(false)));
    expect([b1.count, b2.count]).toEqual([100, 100]);
    expect(await runs.claim(runId, 'full-3', claimOptions(false))).toBeUndefined();
    const tail = asBatch(await runs.claim(runId, 'tail-1', claimOptions(true)));
    expect(tail.count).toBe(50);
    expect(await runs.claim(runId, 'tail-2', claimOptions(true))).toBeUndefined();

    expect([b1.seq, b2.seq, tail.seq]).toEqual([1, 2, 3]);
    expect(b1.key).toBe(`${KEY_BASE}000001.jsonl.gz`);
    expect(tail.key).toBe(`${KEY_BASE}000003.jsonl.gz`);
    // Every staged document is in exactly one batch, in staging order, one per line.
    const all = [...idsOf(b1), ...idsOf(b2), ...idsOf(tail)];
    expect(all).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(idsOf(b1)).toHaveLength(b1.count);
    expect(await runs.stagedLength(runId)).toBe(0);
  });

  it('gives a re-delivered claim the same batch (same seq, key and body)', async () => {
    await stageRange(1, 120);
    const first = asBatch(await runs.claim(runId, 'job-9', claimOptions(false)));
    await stageRange(121, 230); // more work arrives before the re-delivery
    const again = asBatch(await runs.claim(runId, 'job-9', claimOptions(false)));
    expect(again).toEqual(first);
    // ...and did not take a second batch of documents.
    expect(await runs.stagedLength(runId)).toBe(130);
  });

  it('after commit, the same claim answers "stored" and the object is listed once', async () => {
    await stageRange(1, 100);
    const batch = asBatch(await runs.claim(runId, 'job-1', claimOptions(false)));
    await runs.commit(runId, batch);
    expect(await runs.claim(runId, 'job-1', claimOptions(false))).toBe('stored');
    await runs.commit(runId, batch); // a re-delivered commit
    expect(await runs.objects(runId)).toEqual([{ seq: batch.seq, key: batch.key, records: 100 }]);
    const s = await runs.summary(runId);
    expect([s.objects, s.records]).toEqual([1, 100]);
  });

  it('lists a claimed, uncommitted batch as open, and no longer once committed', async () => {
    await stageRange(1, 30);
    const batch = asBatch(await runs.claim(runId, 'final-1', claimOptions(true)));
    expect(await runs.openBatches(runId)).toEqual([batch]);
    await runs.commit(runId, batch);
    expect(await runs.openBatches(runId)).toEqual([]);
  });

  it('a tail flush bounded by upTo claims nothing once that many documents were claimed', async () => {
    await stageRange(1, 250);
    asBatch(await runs.claim(runId, 'full-1', claimOptions(false)));
    asBatch(await runs.claim(runId, 'full-2', claimOptions(false)));
    // 200 documents were claimed so far; 50 remain staged.
    expect(await runs.claim(runId, 'tail-a', claimOptions(true, 150))).toBeUndefined();
    expect(await runs.claim(runId, 'tail-b', claimOptions(true, 200))).toBeUndefined();
    expect(await runs.stagedLength(runId)).toBe(50);
    const tail = asBatch(await runs.claim(runId, 'tail-c', claimOptions(true, 201)));
    expect(tail.count).toBe(50);
  });
});

describe('completion', () => {
  it('is reached when every planned page is done and every discovered id is terminal', async () => {
    expect(await runs.plan(runId, ['p#1'])).toBe(1);
    await runs.discovered(runId, [1, 2]);
    expect((await runs.stage(runId, 1, doc(1))).complete).toBe(false);
    expect(await runs.terminal(runId, 2, 'notFound')).toBe(false); // the page is not done yet
    expect(await runs.pageDone(runId, 'p#1')).toBe(true);
    const s = await runs.summary(runId);
    expect(s).toMatchObject({ pagesPlanned: 1, pagesDone: 1, discovered: 2, fetched: 1, notFound: 1 });
  });

  it('is not reached while a discovered id is not terminal', async () => {
    await runs.plan(runId, ['p#1']);
    await runs.discovered(runId, [1, 2]);
    await runs.stage(runId, 1, doc(1));
    expect(await runs.pageDone(runId, 'p#1')).toBe(false);
    expect((await runs.stage(runId, 2, doc(2))).complete).toBe(true);
  });

  it('counts a page done twice once', async () => {
    await runs.plan(runId, ['p#1', 'p#2']);
    await runs.discovered(runId, [1]);
    await runs.stage(runId, 1, doc(1));
    await runs.pageDone(runId, 'p#1');
    await runs.pageDone(runId, 'p#1'); // re-delivered discover job
    expect(await runs.pageDone(runId, 'p#2')).toBe(true);
    const s = await runs.summary(runId);
    expect([s.pagesPlanned, s.pagesDone]).toEqual([2, 2]);
  });

  it('counts a re-planned page once', async () => {
    await runs.plan(runId, ['p#1']);
    expect(await runs.plan(runId, ['p#1', 'p#2'])).toBe(1);
    expect((await runs.summary(runId)).pagesPlanned).toBe(2);
  });

  it('does not double count a second pageDone of the same page', async () => {
    await runs.plan(runId, ['p#1']);
    await runs.discovered(runId, [1, 2]);
    await runs.stage(runId, 1, doc(1));
    await runs.terminal(runId, 2, 'notFound');
    expect(await runs.pageDone(runId, 'p#1')).toBe(true);
    await runs.pageDone(runId, 'p#1');
    expect((await runs.summary(runId)).pagesDone).toBe(1);
  });
});

describe('create', () => {
  it('refuses a run id that exists, leaving that run as it was (two runs never merge)', async () => {
    await runs.stage(runId, 1, doc(1));
    const before = await runs.summary(runId);
    await expect(runs.create(runId, { kind: 'tv', params: {} }, { lakePrefix: 'other', force: true })).rejects.toThrow(/is taken/);
    expect(await runs.summary(runId)).toEqual(before);
    expect((await runs.describe(runId)).lakePrefix).toBe('raw/tmdb');
  });
});

describe('copy ledger', () => {
  it('lists at most its cap of objects and still counts every outcome once', async () => {
    const rec = (i: number, status: 'copied' | 'skipped') =>
      ({ source: `k${i}`, destination: `d${i}`, status, size: 1, etag: 'e' }) as const;
    const syncRun = `sync-${randomUUID().slice(0, 8)}`;
    await runs.create(syncRun, { kind: 'sync', params: {} }, { lakePrefix: 'raw/tmdb', force: true });
    for (let i = 0; i < 5; i++) await runs.recordCopy(syncRun, rec(i, 'copied'), 3);
    await runs.recordCopy(syncRun, rec(0, 'skipped'), 3); // a replayed event for a listed object
    expect((await runs.copies(syncRun)).map((c) => c.source)).toEqual(['k0', 'k1', 'k2']);
    const s = await runs.summary(syncRun);
    expect(s.copies).toEqual({ copied: 5, skipped: 0, failed: 0, unlisted: 2 });
  });
});

describe('audit counters', () => {
  const W = '2024-01-01_2024-01-31';

  it('adds what a leaf page returned once, when the page turns done (a re-delivered job, or a failed page done later)', async () => {
    await runs.plan(runId, [`${W}#1`, `${W}#2`]);
    await runs.leaf(runId, W, 40);
    await runs.pageDone(runId, `${W}#1`, 'done', { window: W, results: 20 });
    await runs.pageDone(runId, `${W}#1`, 'done', { window: W, results: 20 }); // re-delivered
    await runs.pageDone(runId, `${W}#2`, 'failed', { window: W, results: 0 });
    let audit = await runs.audit(runId);
    expect(audit.coverage?.shortLeaves).toEqual([{ window: W, total: 40, returned: 20, discovered: 0 }]);
    await runs.pageDone(runId, `${W}#2`, 'done', { window: W, results: 20 }); // resumed and read
    audit = await runs.audit(runId);
    expect(audit.coverage).toMatchObject({ returned: 40 });
  });

  it('counts an id for the first window that discovers it, once', async () => {
    await runs.discovered(runId, [1, 2, 3], W);
    await runs.discovered(runId, [3, 4], 'undated');
    await runs.discovered(runId, [1, 2, 3], W); // re-delivered page
    await runs.leaf(runId, W, 3);
    await runs.leaf(runId, 'undated', 2);
    const audit = await runs.audit(runId);
    expect(audit.coverage?.shortLeaves).toEqual([
      { window: W, total: 3, returned: 0, discovered: 3 },
      { window: 'undated', total: 2, returned: 0, discovered: 1 },
    ]);
    expect((await runs.summary(runId)).discovered).toBe(4);
  });

  it('lists failed ids and failed pages from the bitmaps and the plan, and keeps the verdict on the run for status', async () => {
    await runs.plan(runId, [`${W}#1`, `${W}#3`, 'start_end#1']);
    await runs.discovered(runId, [5, 900, 70_000], W);
    for (const id of [900, 5]) await runs.terminal(runId, id, 'failed');
    await runs.stage(runId, 70_000, doc(70_000));
    await runs.pageDone(runId, `${W}#3`, 'failed');
    await runs.pageDone(runId, 'start_end#1', 'failed');
    const audit = await runs.audit(runId);
    expect(audit.titles).toMatchObject({ failed: 2, failedIds: [5, 900] });
    expect(audit.pages).toMatchObject({ planned: 3, failed: 2, failedPages: [{ window: W, page: 3 }, { window: 'start_end', page: 1 }] });
    // The root window ({} in a run without dates) lost at page 1: TMDB's total is the run's expected.
    expect(audit.coverage?.lostWindows).toEqual([{ window: 'start_end', total: 0 }]);
    expect(await runs.summary(runId)).toMatchObject({ verdict: 'partial', shortfalls: audit.shortfalls });
  });
});
