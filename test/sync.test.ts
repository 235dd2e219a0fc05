/**
 * `tmdb-fleet sync` end to end: s3rver with buckets `src`, `dst` and `lake`, a real Redis, a
 * real worker process (copy and write queues), the CLI as a process and a dashboard in this
 * process receiving S3 event notifications the way MinIO posts them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type HeadObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { loadConfig } from '../src/config.js';
import { openFleet, type Fleet } from '../src/fleet.js';
import { createLogger } from '../src/log.js';
import { startDashboard, type Dashboard } from '../src/dashboard/server.js';
import { copyObject, headObject, sameObject } from '../src/lake/s3-copy.js';
import { checkNoOverlap, decodeEventKey, parseS3Url } from '../src/lake/s3-url.js';
import type { Manifest } from '../src/lake/manifest.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { startS3Server, s3Env, type S3Server } from './support/s3-server.js';
import { cliArgs, lastJsonLine, runCli, startWorker, type WorkerProcess } from './support/fleet-process.js';
import { startS3PartCopyProxy } from './support/s3-part-copy-proxy.js';

const SECRET = 'test-webhook-secret-0123456789';
/** A short watch lease, so a dead watch is noticed within seconds. */
const LEASE_MS = 3_000;

/** Keys with spaces, `+`, unicode and a deep hierarchy. */
const KEYS = [
  'source/ana maria/2026-11-21/09/task.txt',
  'source/joão/2026-11-21/10/task +1 é.txt',
  'source/bob/2026-11-22/23/deep/er/still/task%20literal.txt',
];

/** Encodes a key like S3 event notifications do (form URL encoding: space → `+`). */
const encodeEventKey = (key: string) => encodeURIComponent(key).replace(/%20/g, '+');

const event = (key: string, etag: string, size: number) => ({
  Records: [
    {
      eventVersion: '2.0',
      eventSource: 'minio:s3',
      eventName: 's3:ObjectCreated:Put',
      s3: { bucket: { name: 'src' }, object: { key: encodeEventKey(key), size, eTag: etag } },
    },
  ],
});

let redis: RedisServer;
let s3: S3Server;
let client: S3Client;
let env: Record<string, string>;
let worker: WorkerProcess;
let fleet: Fleet;
let dashboard: Dashboard;

const head = (Bucket: string, Key: string): Promise<HeadObjectCommandOutput | undefined> =>
  client.send(new HeadObjectCommand({ Bucket, Key })).catch(() => undefined);

async function text(Bucket: string, Key: string): Promise<string> {
  const res = await client.send(new GetObjectCommand({ Bucket, Key }));
  return (await res.Body?.transformToString('utf8')) ?? '';
}

async function put(key: string, body: string) {
  return client.send(
    new PutObjectCommand({
      Bucket: 'src',
      Key: key,
      Body: body,
      ContentType: 'text/plain; charset=utf-8',
      Metadata: { employee: 'yes', shift: 'early' },
    }),
  );
}

const post = (body: unknown, auth = `Bearer ${SECRET}`) =>
  fetch(`${dashboard.url}/webhooks/s3`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: auth },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  [redis, s3] = await Promise.all([startRedisServer(), startS3Server(['src', 'dst', 'lake'])]);
  env = {
    ...s3Env(s3, 'lake'),
    REDIS_URL: redis.url,
    TMDB_ACCESS_TOKEN: 'unused-by-sync-token',
    SYNC_WEBHOOK_SECRET: SECRET,
    LOG_LEVEL: 'warn',
    WORKER_CONCURRENCY: '4',
    SYNC_WATCH_LEASE_MS: String(LEASE_MS),
  };
  client = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  for (const [i, key] of KEYS.entries()) await put(key, `task ${i}\n`);
  await put('elsewhere/not-copied.txt', 'no');
  worker = startWorker(env, ['--queues', 'copy,write']);
  const config = loadConfig(env);
  fleet = openFleet(config, createLogger({ logLevel: 'silent' }), 'worker');
  dashboard = await startDashboard(fleet, {
    host: '127.0.0.1',
    port: 0,
    auth: undefined,
    webhookSecret: config.sync.webhookSecret,
  });
});

afterAll(async () => {
  await dashboard?.close();
  await fleet?.close();
  await worker?.stop();
  client?.destroy();
  await Promise.all([redis?.stop(), s3?.close()]);
});

describe('s3:// URLs and event keys', () => {
  it('reads a prefix as a folder and refuses overlapping locations', () => {
    expect(parseS3Url('s3://src/source', 'source')).toEqual({ bucket: 'src', prefix: 'source/' });
    expect(parseS3Url('s3://src', 'source')).toEqual({ bucket: 'src', prefix: '' });
    const at = (url: string) => parseS3Url(url, 'location');
    expect(() => checkNoOverlap(at('s3://bkt/a'), at('s3://bkt/a/b'))).toThrow(/overlap/);
    expect(() => checkNoOverlap(at('s3://bkt'), at('s3://bkt/x'))).toThrow(/overlap/);
    expect(() => checkNoOverlap(at('s3://bkt/a'), at('s3://bkt/ab'))).not.toThrow();
    expect(() => checkNoOverlap(at('s3://bkt/a'), at('s3://other/a'))).not.toThrow();
  });

  it('decodes keys like S3 encodes them: + is a space, %2B a plus', () => {
    expect(decodeEventKey('source%2Fana+maria%2F2026-11-21%2F09%2Ftask+%2B1+%C3%A9.txt')).toBe(
      'source/ana maria/2026-11-21/09/task +1 é.txt',
    );
  });
});

describe('tmdb-fleet sync (one run over the source)', () => {
  it('refuses bad URLs and overlapping locations with exit 2, a missing bucket with exit 1', async () => {
    for (const args of [
      ['s3:/x', 's3://dst/a'],
      ['http://src/a', 's3://dst/a'],
      ['s3://src/a', 's3://src/a/b'],
      ['s3://src/a'],
    ]) {
      const r = await runCli(['sync', ...args], env, 20_000);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const missing = await runCli(['sync', 's3://no-such-bucket/a', 's3://dst/a'], env, 20_000);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/source bucket "no-such-bucket" does not exist/);
  });

  it('copies every object below the destination prefix with content type and metadata, then skips them all', async () => {
    const first = await runCli(['sync', 's3://src/source', 's3://dst/dest', '--wait', '--json'], env, 30_000);
    expect(first.code, first.stderr).toBe(0);
    const s1 = lastJsonLine<{ runId: string; state: string; copies: { copied: number; skipped: number; failed: number } }>(first.stdout);
    expect(s1.state).toBe('completed');
    expect(s1.copies).toEqual({ copied: KEYS.length, skipped: 0, failed: 0 });
    for (const [i, key] of KEYS.entries()) {
      const dstKey = `dest/${key.slice('source/'.length)}`;
      const h = await head('dst', dstKey);
      expect(h?.ContentType, dstKey).toBe('text/plain; charset=utf-8');
      expect(h?.Metadata).toEqual({ employee: 'yes', shift: 'early' });
      expect(await text('dst', dstKey)).toBe(`task ${i}\n`);
    }
    expect(await head('dst', 'dest/elsewhere/not-copied.txt')).toBeUndefined();
    const manifest = JSON.parse(await text('lake', `raw/tmdb/_runs/${s1.runId}/manifest.json`)) as Manifest;
    expect(manifest.state).toBe('completed');
    expect(manifest.copies?.map((c) => [c.source, c.destination, c.status])).toEqual(
      [...KEYS].sort().map((k) => [k, `dest/${k.slice('source/'.length)}`, 'copied']),
    );

    const before = await head('dst', `dest/${KEYS[0]?.slice('source/'.length)}`);
    const second = await runCli(['sync', 's3://src/source/', 's3://dst/dest/', '--wait', '--json'], env, 30_000);
    expect(second.code, second.stderr).toBe(0);
    const s2 = lastJsonLine<{ runId: string; copies: { copied: number; skipped: number } }>(second.stdout);
    expect(s2.copies).toEqual({ copied: 0, skipped: KEYS.length, failed: 0 });
    const after = await head('dst', `dest/${KEYS[0]?.slice('source/'.length)}`);
    expect(after?.LastModified).toEqual(before?.LastModified);
    // status speaks of objects copied and skipped, not of TMDB titles.
    const status = await runCli(['status', s2.runId], env, 20_000);
    expect(status.stdout.trimEnd().split('\n')).toEqual([
      `run ${s2.runId} (sync) completed`,
      `  objects: 0 copied, ${KEYS.length} skipped (already at the destination, or gone), 0 failed`,
      '  audit: complete',
    ]);
  });
});

/** Starts `sync --watch <source> <destination>` and waits until it watches; returns its run id. */
async function startWatch(source: string, destination: string): Promise<{ child: ChildProcess; runId: string; output: () => string }> {
  let log = '';
  const child = spawn(process.execPath, cliArgs('sync', '--watch', source, destination), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const deadline = Date.now() + 15_000;
  while (!/watching/.test(log) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const runId = /(sync-\S+)/.exec(log)?.[1] ?? '';
  expect(runId, log).not.toBe('');
  return { child, runId, output: () => log };
}

describe('tmdb-fleet sync --watch (S3 event notifications)', () => {
  let watch: ChildProcess;
  let output: () => string = () => '';
  let runId = '';

  beforeAll(async () => {
    const started = await startWatch('s3://src/source', 's3://dst/live');
    watch = started.child;
    runId = started.runId;
    output = started.output;
  });

  afterAll(() => {
    if (watch.exitCode === null && watch.signalCode === null) watch.kill('SIGKILL');
  });

  const key = 'source/ana maria/2026-11-21/09/task +1 é.txt';
  const dstKey = 'live/ana maria/2026-11-21/09/task +1 é.txt';

  it('refuses a wrong or missing secret with 401', async () => {
    expect((await post(event(key, 'x', 1), 'Bearer not-the-secret')).status).toBe(401);
    expect((await post(event(key, 'x', 1), '')).status).toBe(401);
  });

  it('copies a new object within 2 s of its event, and a replayed event copies nothing twice', async () => {
    const body = 'new task\n';
    const written = await put(key, body);
    const etag = (written.ETag ?? '').replace(/"/g, '');
    const started = Date.now();
    const res = await post(event(key, etag, Buffer.byteLength(body)));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ enqueued: 1, ignored: 0 });
    // Done when the run counts the copy (its CopyObject has returned). Polling HeadObject alone
    // races s3rver, whose CopyObject writes the bytes before the metadata file.
    while ((await fleet.runs.summary(runId)).copies?.copied !== 1 && Date.now() - started < 5_000) {
      await new Promise((r) => setTimeout(r, 25));
    }
    const elapsed = Date.now() - started;
    const copied: HeadObjectCommandOutput | undefined = await head('dst', dstKey);
    expect(copied, 'the copy never appeared').toBeDefined();
    expect(elapsed).toBeLessThan(2_000);
    expect(copied?.ContentType).toBe('text/plain; charset=utf-8');
    expect(await text('dst', dstKey)).toBe(body);

    // Replay after the job was removed (completed): the worker finds the same ETag and skips.
    await new Promise((r) => setTimeout(r, 1_100)); // LastModified has 1 s resolution
    expect((await post(event(key, etag, Buffer.byteLength(body)))).status).toBe(200);
    // And one for a key no watch covers.
    expect(await (await post({ Records: [{ eventName: 's3:ObjectCreated:Put', s3: { bucket: { name: 'dst' }, object: { key: 'x' } } }] })).json()).toEqual({
      enqueued: 0,
      ignored: 1,
    });
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await head('dst', dstKey))?.LastModified).toEqual(copied?.LastModified);
    const summary = await fleet.runs.summary(runId);
    expect(summary.copies).toEqual({ copied: 1, skipped: 0, failed: 0 });
  });

  it('stops on SIGTERM and writes the manifest listing the copy', async () => {
    watch.kill('SIGTERM');
    const [code] = (await once(watch, 'exit')) as [number | null];
    expect(code, output()).toBe(0);
    const manifest = JSON.parse(await text('lake', `raw/tmdb/_runs/${runId}/manifest.json`)) as Manifest;
    expect(manifest.state).toBe('completed');
    expect(manifest.params.params).toMatchObject({ source: 's3://src/source/', destination: 's3://dst/live/', mode: 'watch' });
    expect(manifest.copies).toEqual([
      expect.objectContaining({ source: key, destination: dstKey, status: 'copied' }),
    ]);
  });

  it('closes a watch whose process was SIGKILLed once its lease lapses: the run completes, new events are ignored', async () => {
    const { child: dead, runId: deadRun } = await startWatch('s3://src/lapse', 's3://dst/lapse');
    dead.kill('SIGKILL');
    await once(dead, 'exit');
    const killedAt = Date.now();

    let manifest: Manifest | undefined;
    while (!manifest && Date.now() - killedAt < 20_000) {
      manifest = await text('lake', `raw/tmdb/_runs/${deadRun}/manifest.json`)
        .then((t) => JSON.parse(t) as Manifest)
        .catch(() => undefined);
      if (!manifest) await new Promise((r) => setTimeout(r, 100));
    }
    const elapsed = Date.now() - killedAt;
    expect(manifest?.state, `no manifest ${elapsed} ms after the kill`).toBe('completed');
    // The lease lapses after LEASE_MS; the copy worker sweeps every LEASE_MS / 3.
    expect(elapsed).toBeLessThan(LEASE_MS + LEASE_MS / 3 + 2_000);
    expect((await fleet.runs.summary(deadRun)).state).toBe('completed');
    expect(await (await post(event('lapse/new.txt', 'e', 1))).json()).toEqual({ enqueued: 0, ignored: 1 });
  });
});

describe('multipart copy (UploadPartCopy)', () => {
  it('copies in parts above the threshold, keeping content type and metadata', async () => {
    // s3rver answers UploadPartCopy with NotImplemented; this proxy implements it over s3rver.
    const proxy = await startS3PartCopyProxy(s3.endpoint);
    const viaProxy = new S3Client({
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    try {
      const body = 'abcdefghijklmnopqrstuvwxyz0123456789';
      await put('big/a+b é.bin', body);
      const src = { bucket: 'src', key: 'big/a+b é.bin' };
      const dst = { bucket: 'dst', key: 'big-copy/a+b é.bin' };
      const info = await headObject(viaProxy, src);
      expect(info).toBeDefined();
      if (!info) return;
      const result = await copyObject(viaProxy, src, info, dst, { multipartThresholdBytes: 8, partSizeBytes: 10 });
      expect(result.multipart).toBe(true);
      expect(proxy.partCopies).toEqual([
        { partNumber: 1, range: 'bytes=0-9' },
        { partNumber: 2, range: 'bytes=10-19' },
        { partNumber: 3, range: 'bytes=20-29' },
        { partNumber: 4, range: 'bytes=30-35' },
      ]);
      expect(await text('dst', dst.key)).toBe(body);
      const copied = await headObject(client, dst);
      expect(copied?.contentType).toBe('text/plain; charset=utf-8');
      expect(copied?.metadata).toMatchObject({ employee: 'yes', shift: 'early', 'source-etag': info.etag });
      // On S3 a multipart ETag differs from the source's (s3rver keeps an MD5); either way the
      // recorded source ETag says "same object", so a later sync skips it.
      expect(sameObject(info, copied ? { ...copied, etag: 'abc-4' } : undefined)).toBe(true);
      // s3rver alone does not implement UploadPartCopy: the copy fails (and is aborted).
      await expect(copyObject(client, src, info, { bucket: 'dst', key: 'big-direct' }, { multipartThresholdBytes: 8 })).rejects.toThrow();
    } finally {
      viaProxy.destroy();
      await proxy.close();
    }
  });
});
