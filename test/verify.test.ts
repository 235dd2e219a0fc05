/**
 * `tmdb-fleet verify <runId>` re-reads a run from S3 as a downstream job would: it passes a
 * clean run (exit 0), names what is wrong in a lake someone tampered with (exit 1: a deleted
 * object, a line duplicated into another object), reports a run whose own audit found a
 * shortfall (exit 3), and refuses a bad or unknown run id with one line (exit 2).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createS3Client } from '../src/lake/store.js';
import { lastJsonLine, runCli } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';
import { readRun } from './support/lake-reader.js';

const FROM = '2023-01-01';
const TO = '2023-03-31';
const BUCKET = 'verify-lake';

const h = useFleetHarness({ tmdb: { movie: { count: 600, from: FROM, to: TO, seed: 21 } }, buckets: [BUCKET] });
const env = (extra: Record<string, string> = {}) =>
  h.env({ TMDB_RATE_LIMIT_RPS: '1000', BATCH_MAX_RECORDS: '100', BATCH_MAX_WAIT_MS: '300', JOB_ATTEMPTS: '2', JOB_BACKOFF_MS: '20', LOG_LEVEL: 'error', ...extra });

interface Verified {
  verdict: string;
  exitCode: number;
  objects: number;
  listedRecords: number;
  recordsRead: number;
  missingObjects: string[];
  wrongCounts: { key: string; listed: number; read: number }[];
  duplicateIds: { id: number; keys: string[] }[];
  problems: string[];
  audit: { verdict: string; shortfalls: string[] };
}

async function backfill(e: Record<string, string>, ...extra: string[]): Promise<string> {
  h.startWorkers(e, 2);
  const res = await runCli(['backfill', 'movie', '--from', FROM, '--to', TO, '--wait', '--json', ...extra], e);
  expect(res.code, res.stderr).toBe(0);
  return lastJsonLine<{ runId: string }>(res.stdout).runId;
}

it('passes a clean run: every object read, no id twice, exit 0', async () => {
  const e = env();
  const runId = await backfill(e);
  const human = await runCli(['verify', runId], e);
  expect(human.code, human.stderr).toBe(0);
  expect(human.stdout).toContain('audit: complete');
  expect(human.stdout).toContain('verify: the lake matches the manifest of a complete run');
  const json = await runCli(['verify', runId, '--json'], e);
  expect(json.code, json.stderr).toBe(0);
  const { manifest } = await readRun(e, 'movie', runId);
  expect(lastJsonLine<Verified>(json.stdout)).toMatchObject({
    verdict: 'clean',
    exitCode: 0,
    objects: manifest.objects.length,
    listedRecords: 600,
    recordsRead: 600,
    missingObjects: [],
    wrongCounts: [],
    duplicateIds: [],
    problems: [],
    audit: { verdict: 'complete', shortfalls: [] },
  });
});

it('names what is wrong in a tampered lake: a deleted object, a line duplicated into another object (exit 1)', async () => {
  const e = env();
  const runId = await backfill(e);
  const { manifest } = await readRun(e, 'movie', runId);
  const [, gone, from, into] = manifest.objects;
  if (!gone || !from || !into) throw new Error('expected at least four objects');
  const [deleted, source, target] = [gone.key, from.key, into.key];

  const config = loadConfig(e);
  const s3 = createS3Client(config.s3);
  const read = async (key: string) => {
    const res = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return gunzipSync(await res.Body!.transformToByteArray()).toString('utf8');
  };
  const line = (await read(source)).split('\n')[0]!;
  const id = (JSON.parse(line) as { id: number }).id;
  const grown = `${await read(target)}${line}\n`;
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: target, Body: gzipSync(grown), ContentType: 'application/gzip' }));
  await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: deleted }));
  s3.destroy();

  const human = await runCli(['verify', runId], e);
  expect(human.code, human.stderr).toBe(1);
  expect(human.stdout).toContain(`problem: object ${deleted} is listed in the manifest but missing from the lake`);
  expect(human.stdout).toContain(`problem: object ${target} holds ${into.records + 1} records, the manifest lists ${into.records}`);
  expect(human.stdout).toContain(`problem: id ${id} appears 2 times, in ${source} and ${target}`);
  expect(human.stdout).toContain('verify: the lake contradicts the manifest (3 problems)');

  const json = await runCli(['verify', runId, '--json'], e);
  expect(json.code).toBe(1);
  expect(lastJsonLine<Verified>(json.stdout)).toMatchObject({
    verdict: 'contradicted',
    exitCode: 1,
    recordsRead: 600 - gone.records + 1,
    missingObjects: [deleted],
    wrongCounts: [{ key: target, listed: into.records, read: into.records + 1 }],
    duplicateIds: [{ id, keys: [source, target] }],
  });
});

it('exits 3 for a run whose own audit reports a shortfall, printing it', async () => {
  h.tmdb.configure({ failingPages: [{ kind: 'movie', page: 7, where: { 'primary_release_date.gte': FROM } }] });
  try {
    const e = env({ RUN_FAILURE_THRESHOLD: '0.05' });
    const runId = await backfill(e, '--allow-partial');
    const res = await runCli(['verify', runId], e);
    expect(res.code, res.stderr).toBe(3);
    expect(res.stdout).toContain('audit: partial');
    expect(res.stdout).toContain(`1 of 30 listing pages failed for good: ${FROM}_${TO} page 7`);
    expect(res.stdout).toContain('verify: the lake matches the manifest, but the run reports a shortfall');
  } finally {
    h.tmdb.configure({ failingPages: [] });
  }
});

it.each([
  ['a malformed run id', 'not-a-run', /run id "not-a-run" is not a run id/],
  ['a run id with no manifest', 'movie-20200101T000000-abcd1234', /run "movie-20200101T000000-abcd1234" has no manifest at s3:\/\/verify-lake\//],
])('exits 2 for %s, with one line naming it', async (_label, runId, message) => {
  const res = await runCli(['verify', runId], env());
  expect(res.code).toBe(2);
  // Node 20 only: the AWS SDK prints its own multi-line NodeVersionSupportWarning first.
  const lines = res.stderr.trim().split('\n').filter((l) => l.startsWith('tmdb-fleet:'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(message);
  expect(res.stdout).toBe('');
});
