/**
 * A claim Redis forgot lands late: while a run writes, objects appear in the lake under the
 * very keys the run claims next (`<runId>-<seq>` past Redis's sequence number), holding titles
 * the run has not written yet — what the PUT of a claim lost in a Redis rollback looks like when
 * it reaches S3 after Redis came back. The run's create-only PUTs meet those keys (412), the
 * run reconciles with the lake and claims again under new keys: the late objects are listed in
 * the manifest, their titles are never written again, every title lands once. One worker
 * process, so its reconcile-on-connect is done before the objects appear.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { encodeJsonLines } from '../../src/lake/encode.js';
import { dataKey, dataKeyBase } from '../../src/lake/keys.js';
import { openStore } from '../../src/lake/store.js';
import { runKeys } from '../../src/runs/keys.js';
import { lastJsonLine, runCli } from '../support/fleet-process.js';
import { useFleetHarness } from '../support/harness.js';
import { readRun } from '../support/lake-reader.js';

const TITLES = 1_000;
const FROM = '2019-01-01';
const TO = '2019-12-31';
const LATE_OBJECTS = 4;
const PER_OBJECT = 10;
const h = useFleetHarness({ tmdb: { movie: { count: TITLES, from: FROM, to: TO, seed: 53 } }, buckets: ['lake'] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('object keys taken in the lake by a forgotten claim', () => {
  it('are never overwritten; the run reconciles and lands every title once', async () => {
    const env = h.env({ TMDB_RATE_LIMIT_RPS: '200', BATCH_MAX_RECORDS: '40', LOG_LEVEL: 'warn' });
    const [worker] = h.startWorkers(env, 1);
    const started = await runCli(['backfill', 'movie', '--from', FROM, '--to', TO, '--json'], env);
    expect(started.code, started.stderr).toBe(0);
    const { runId } = lastJsonLine<{ runId: string }>(started.stdout);
    const config = loadConfig(env);
    const client = new Redis(config.redis.url);
    const run = runKeys(config.redis.prefix, runId).run;
    let seq = 0;
    try {
      const deadline = Date.now() + 60_000;
      while (Number(await client.hget(run, 'objects')) < 2) {
        if (Date.now() > deadline) throw new Error('no objects within 60 s');
        await sleep(50);
      }
      seq = Number(await client.hget(run, 'seq'));
    } finally {
      client.disconnect();
    }
    // The late objects: the next keys, holding the catalog's last titles as TMDB serves them.
    const lake = openStore(config);
    const base = dataKeyBase(config.lake.prefix, 'movie', runId, new Date());
    const late = h.tmdb.titles('movie').slice(-LATE_OBJECTS * PER_OBJECT).map((t) => t.id);
    const lateKey = (i: number) => dataKey(base, seq + 2 + i);
    for (let i = 0; i < LATE_OBJECTS; i++) {
      const docs = await Promise.all(
        late.slice(i * PER_OBJECT, (i + 1) * PER_OBJECT).map(async (id) => {
          const res = await fetch(`${h.tmdb.url}/movie/${id}?append_to_response=external_ids`, {
            headers: { Authorization: 'Bearer test-token' },
          });
          return res.text();
        }),
      );
      expect(await lake.putIfAbsent(lateKey(i), encodeJsonLines(`${docs.join('\n')}\n`), 'application/gzip')).toBe('created');
    }

    const deadline = Date.now() + 120_000;
    for (;;) {
      const s = lastJsonLine<{ state: string; error?: string }>((await runCli(['status', runId, '--json'], env)).stdout);
      if (s.state === 'completed' || s.state === 'failed') {
        expect(s.state, s.error).toBe('completed');
        break;
      }
      if (Date.now() > deadline) throw new Error(`run ${runId} did not end`);
      await sleep(500);
    }
    const refused = (h.s3?.puts() ?? []).filter((p) => p.status === 412 && p.path.includes(runId)).length;
    const lakeRun = await readRun(env, 'movie', runId);
    const lost = h.tmdb.titles('movie').filter((t) => !lakeRun.idCounts.has(t.id)).length;
    const duplicated = [...lakeRun.idCounts.values()].filter((n) => n > 1).length;
    process.stdout.write(`\ntaken keys: ${LATE_OBJECTS} late objects at seq ${seq + 2}..${seq + 1 + LATE_OBJECTS}; ${refused} create-only PUTs refused; lost ${lost}, duplicated ${duplicated}\n`);
    expect({ lost, duplicated }).toEqual({ lost: 0, duplicated: 0 });
    expect(lakeRun.manifest.objects.map((o) => o.key).sort()).toEqual(lakeRun.keys);
    expect(lakeRun.manifest.objects.reduce((n, o) => n + o.records, 0)).toBe(TITLES);
    // Each late object still holds exactly what it held: no key was overwritten.
    for (let i = 0; i < LATE_OBJECTS; i++) {
      const held = lakeRun.records.filter((r) => r.key === lateKey(i)).map((r) => r.doc.id);
      expect(held).toEqual(late.slice(i * PER_OBJECT, (i + 1) * PER_OBJECT));
    }
    expect(refused).toBeGreaterThan(0);
    expect(worker?.output()).toContain('run reconciled with the lake');
  });
});
