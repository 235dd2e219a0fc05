/**
 * Create-only data objects (DESIGN guarantee 8): `putIfAbsent` stores a key once and never
 * replaces it, on the local lake (a temporary file hard-linked to its name) and on S3
 * (PutObject `If-None-Match: *`; s3rver behind the conditional-write proxy of test/support),
 * also when many writers race for one key.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { LocalStore } from '../src/lake/local-store.js';
import { openStore, type ObjectStore } from '../src/lake/store.js';
import { s3Env, startS3Server, type S3Server } from './support/s3-server.js';

const KEY = 'raw/tmdb/movie/2026/01/02/movie-20260102T030405-a1b2-000001.jsonl.gz';

/** Every file under `dir`, relative, sorted. */
function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as { isFile(): boolean; parentPath: string; name: string }[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** The create-only contract, for any store. */
function createOnlyContract(open: () => ObjectStore) {
  it('creates a missing key, then answers "exists" and keeps the first bytes', async () => {
    const store = open();
    expect(await store.putIfAbsent(KEY, Buffer.from('first'), 'application/gzip')).toBe('created');
    expect(await store.putIfAbsent(KEY, Buffer.from('second, different'), 'application/gzip')).toBe('exists');
    expect(await store.putIfAbsent(KEY, Buffer.from('first'), 'application/gzip')).toBe('exists');
    expect((await store.get(KEY)).toString()).toBe('first');
    expect(await store.list('raw/tmdb/')).toEqual([KEY]);
  });

  it('lets exactly one of 20 racing writers of a key create it; the object holds its bytes', async () => {
    const store = open();
    const key = KEY.replace('000001', '000002');
    const bodies = Array.from({ length: 20 }, (_, i) => Buffer.from(`writer ${i}`));
    const outcomes = await Promise.all(bodies.map((b) => store.putIfAbsent(key, b, 'application/gzip')));
    const winners = outcomes.flatMap((o, i) => (o === 'created' ? [i] : []));
    expect(winners).toHaveLength(1);
    expect((await store.get(key)).toString()).toBe(`writer ${winners[0]}`);
  });
}

describe('local lake (LAKE_DIR)', () => {
  let dir = '';
  createOnlyContract(() => {
    dir ||= mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-store-'));
    return new LocalStore(dir);
  });

  it('leaves no temporary file behind', () => {
    expect(filesUnder(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('plain put still replaces (manifests)', async () => {
    const store: ObjectStore = new LocalStore(mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-store-')));
    await store.put('raw/tmdb/_runs/r/manifest.json', 'v1', 'application/json');
    await store.put('raw/tmdb/_runs/r/manifest.json', 'v2', 'application/json');
    expect((await store.get('raw/tmdb/_runs/r/manifest.json')).toString()).toBe('v2');
  });
});

describe('S3 (s3rver behind the conditional-write proxy)', () => {
  let s3: S3Server;
  beforeAll(async () => {
    s3 = await startS3Server(['lake']);
  });
  afterAll(async () => {
    await s3?.close();
  });
  createOnlyContract(() => openStore(loadConfig(s3Env(s3, 'lake'))));

  it('sends If-None-Match: * and gets 412 for an existing key', () => {
    const answered = s3.puts().filter((p) => p.path === `/lake/${KEY}`);
    expect(answered.map((p) => [p.conditional, p.status])).toEqual([
      [true, 200],
      [true, 412],
      [true, 412],
    ]);
  });
});
