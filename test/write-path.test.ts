/**
 * The write path's run-store guarantees against a real redis-server and a real (local) lake:
 * - reconcile: after Redis lost claims, the objects the lake holds are registered, their ids
 *   count as written and leave the staged list and open batches, and no new claim reuses a key;
 * - staging stops once the final job moved the run to finalizing (nothing counted and lost);
 * - tail flushes are armed by staging and disarmed by the claim that finds nothing left;
 * - the pending count (staged, not yet stored) that bounds staging.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeJsonLines } from '../src/lake/encode.js';
import { dataKey, dataKeyBase } from '../src/lake/keys.js';
import { LocalStore } from '../src/lake/local-store.js';
import type { ObjectStore } from '../src/lake/object-store.js';
import { newRunId } from '../src/runs/run-id.js';
import { openRunStore, type RunStore } from '../src/runs/store.js';
import type { Batch } from '../src/runs/types.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';

let server: RedisServer;
let redis: Redis;
let runs: RunStore;
let runId: string;
let lake: ObjectStore;
let keyBase: string;

const doc = (id: number) => JSON.stringify({ id, title: `Title ${id}`, genres: [{ id: 18, name: 'Drama' }] });
const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const idsOf = (body: string) => body.trimEnd().split('\n').map((l) => (JSON.parse(l) as { id: number }).id);
const claimOptions = (flush: boolean, extra: { upTo?: number; final?: boolean } = {}) => ({
  maxRecords: 40,
  flush,
  keyBase,
  seqDigits: 6,
  ...extra,
});

async function stage(list: number[]): Promise<void> {
  for (const id of list) expect((await runs.stage(runId, id, doc(id))).staged).toBe(true);
}

async function claimBatch(claimKey: string, flush = false): Promise<Batch> {
  const outcome = await runs.claimNext(runId, claimKey, claimOptions(flush));
  if (outcome.kind !== 'batch') throw new Error(`expected a batch, got ${outcome.kind}`);
  return outcome.batch;
}

/** Puts an object of these ids at seq in the lake, as a write job would. */
async function putObject(seq: number, list: number[]): Promise<void> {
  const body = list.map(doc).join('\n') + '\n';
  expect(await lake.putIfAbsent(dataKey(keyBase, seq), encodeJsonLines(body), 'application/gzip')).toBe('created');
}

const runLake = () => ({ store: lake, prefix: 'raw/tmdb', kind: 'movie' });

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
  runs = openRunStore(redis, `{t${randomUUID().slice(0, 8)}}`, { tailArmTtlMs: 60_000 });
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

beforeEach(async () => {
  runId = newRunId('movie');
  lake = new LocalStore(mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-wp-')));
  keyBase = dataKeyBase('raw/tmdb', 'movie', runId, new Date());
  await runs.create(runId, { kind: 'movie', params: {} }, { lakePrefix: 'raw/tmdb', force: true });
  await runs.discovered(runId, ids(1, 200));
});

describe('reconcile after Redis lost claims', () => {
  it('registers the lake objects Redis lost, counts their ids written, and claims past them', async () => {
    await stage(ids(1, 120));
    const first = await claimBatch('w-1');
    await putObject(first.seq, idsOf(first.body));
    expect(await runs.commit(runId, first)).toBe('committed');
    // Before the rollback the fleet also wrote seq 2 (ids 41-80) and seq 3 (ids 81-90 and 150-155,
    // whose staging Redis lost too); Redis came back knowing only seq 1.
    await putObject(2, ids(41, 80));
    await putObject(3, [...ids(81, 90), ...ids(150, 155)]);
    const before = await runs.summary(runId);

    const r = await runs.reconcile(runId, runLake());
    expect(r).toMatchObject({ registered: 2, fetched: 6, removed: 50, restaged: 0 });
    const after = await runs.summary(runId);
    expect(after.fetched - before.fetched).toBe(6);
    expect([after.objects, after.records]).toEqual([3, 40 + 40 + 16]);
    expect((await runs.objects(runId)).map((o) => [o.seq, o.records])).toEqual([[1, 40], [2, 40], [3, 16]]);
    expect(await runs.stagedLength(runId)).toBe(30); // 91-120 remain
    expect(await runs.pending(runId)).toBe(30);
    // The next claim takes 91-120 under seq 4, never a key the lake holds; ids in the lake are never staged again.
    const next = await claimBatch('w-2', true);
    expect([next.seq, idsOf(next.body)]).toEqual([4, ids(91, 120)]);
    expect((await runs.stage(runId, 152, doc(152))).staged).toBe(false);
    // A commit Redis knows nothing of (a lost claim's) is reported, for the writer to reconcile.
    expect(await runs.commit(runId, { seq: 9, key: dataKey(keyBase, 9), count: 3 })).toBe('unknown');
    // Idempotent: a second reconcile changes nothing.
    expect(await runs.reconcile(runId, runLake())).toMatchObject({ registered: 0, fetched: 0, removed: 0, restaged: 0 });
  });

  it('drops an open batch whose key the lake holds with other records, re-stages the rest and frees its claim', async () => {
    await stage(ids(1, 60));
    const batch = await claimBatch('w-7'); // seq 1: ids 1-40
    await putObject(1, [...ids(21, 40), ...ids(170, 179)]); // a lost claim's object under the same key
    const r = await runs.reconcile(runId, runLake());
    expect(r).toMatchObject({ registered: 1, fetched: 10, removed: 20, restaged: 20 });
    expect(await runs.openBatches(runId)).toEqual([]);
    // ids 1-20 are back at the head of the staged list; the same claim key claims anew, past seq 1.
    const again = await claimBatch('w-7');
    expect(again.seq).toBe(2);
    expect(idsOf(again.body)).toEqual([...ids(1, 20), ...ids(41, 60)]);
    expect(batch.seq).toBe(1);
  });

  it('drops an open batch the lake already holds as it is (its own PUT) and counts it once', async () => {
    await stage(ids(1, 40));
    const batch = await claimBatch('w-1');
    await putObject(batch.seq, idsOf(batch.body)); // stored, commit lost
    expect(await runs.reconcile(runId, runLake())).toMatchObject({ registered: 1, fetched: 0, removed: 40, restaged: 0 });
    expect(await runs.commit(runId, batch)).toBe('before');
    expect(await runs.claim(runId, 'w-1', claimOptions(false))).toBe('stored');
    const s = await runs.summary(runId);
    expect([s.objects, s.records, await runs.pending(runId)]).toEqual([1, 40, 0]);
  });

  it('rewrites an open batch without the ids the lake holds elsewhere', async () => {
    await stage(ids(1, 40));
    await claimBatch('w-1'); // seq 1, not stored yet
    await putObject(5, ids(11, 15));
    await runs.reconcile(runId, runLake());
    const [open] = await runs.openBatches(runId);
    expect(open && [open.seq, open.count, idsOf(open.body)]).toEqual([1, 35, [...ids(1, 10), ...ids(16, 40)]]);
    expect((await runs.claimNext(runId, 'w-2', claimOptions(true))).kind).toBe('empty');
    await stage([41]);
    expect((await claimBatch('w-3', true)).seq).toBe(6);
  });
});

describe('staging and the final write job', () => {
  it('refuses to stage, and counts nothing, once the run is finalizing', async () => {
    await runs.transition(runId, { from: 'running', to: 'finalizing' });
    const r = await runs.stage(runId, 7, doc(7));
    expect(r).toMatchObject({ staged: false, active: false });
    expect((await runs.summary(runId)).fetched).toBe(0);
    expect(await runs.stagedLength(runId)).toBe(0);
  });

  it('lets only the final job claim once the run is finalizing', async () => {
    await stage(ids(1, 50));
    await runs.transition(runId, { from: 'running', to: 'finalizing' });
    expect((await runs.claimNext(runId, 'tail-1', claimOptions(true))).kind).toBe('none');
    expect((await runs.claimNext(runId, 'final-1', claimOptions(true, { final: true }))).kind).toBe('batch');
  });
});

describe('tail flush arming', () => {
  it('is armed by the first document staged and disarmed by the flush that finds nothing left', async () => {
    const first = await runs.stage(runId, 1, doc(1));
    const second = await runs.stage(runId, 2, doc(2));
    expect([first.tailArm, second.tailArm]).toEqual([1, 0]);
    expect((await runs.claimNext(runId, 'tail.1#0', claimOptions(true))).kind).toBe('batch');
    expect((await runs.claimNext(runId, 'tail.1#1', claimOptions(true))).kind).toBe('empty');
    expect((await runs.stage(runId, 3, doc(3))).tailArm).toBe(2);
  });

  it('arms the next tail flush when documents were staged after the flush started', async () => {
    await stage(ids(1, 5));
    const upTo = await runs.stagedTotal(runId);
    expect((await runs.claimNext(runId, 'tail.1#0', claimOptions(true, { upTo }))).kind).toBe('batch');
    await stage(ids(6, 8)); // staged meanwhile: not this flush's, and the tail is still armed
    expect((await runs.claimNext(runId, 'tail.1#1', claimOptions(true, { upTo })))).toEqual({ kind: 'more', arm: 2 });
    expect(await runs.stagedLength(runId)).toBe(3);
  });
});

describe('pending count (the staging bound)', () => {
  it('counts documents staged and not yet in a stored object', async () => {
    const r = await runs.stage(runId, 1, doc(1));
    expect(r.pending).toBe(1);
    await stage(ids(2, 45));
    expect(await runs.pending(runId)).toBe(45);
    const batch = await claimBatch('w-1');
    expect(await runs.pending(runId)).toBe(45); // claimed is not stored
    await runs.commit(runId, batch);
    expect(await runs.pending(runId)).toBe(5);
  });
});
