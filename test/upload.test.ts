/**
 * `tmdb-fleet upload` end to end: the real CLI process against a real redis-server and s3rver
 * (and the local lake), with a generated pipe-delimited IMDB-style extract.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandPaths, planUpload } from '../src/producers/upload.js';
import { runCli, lastJsonLine } from './support/fleet-process.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { s3Env, startS3Server, type S3Server } from './support/s3-server.js';

const HEADER =
  'id|tituloPincipal|tituloOriginal|anoLancamento|tempoMinutos|genero|notaMedia|numeroVotos|generoArtista|personagem|nomeArtista|anoNascimento|anoFalecimento|profissao|titulosMaisConhecidos';

/** An IMDB-style extract: the header, then `rows` rows with `\N` nulls. */
function imdbCsv(rows: number): string {
  const lines = [HEADER];
  for (let i = 1; i <= rows; i++) {
    lines.push(
      [`tt${String(i).padStart(7, '0')}`, `Filme ${i}`, `Movie ${i}`, 1950 + (i % 70), i % 3 === 0 ? '\\N' : 90 + (i % 60),
        'Drama,Action', (i % 100) / 10, i * 7, i % 2 ? 'actor' : 'actress', `["Role ${i}"]`, `Artist ${i}`,
        1900 + (i % 90), i % 5 === 0 ? 1990 + (i % 30) : '\\N', 'actor,producer', 'tt0000001,tt0000002'].join('|'),
    );
  }
  return `${lines.join('\n')}\n`;
}

interface UploadResult {
  runId: string;
  state: string;
  uploaded: number;
  skipped: number;
  failed: number;
  files: { name: string; key: string; bytes: number; rows?: number; sha256: string; status: string; error?: string }[];
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function todayPrefix(prefix: string, dataset: string): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `${prefix}/${dataset}/${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())}`;
}

describe('upload', () => {
  let redis: RedisServer;
  let s3: S3Server;
  let env: Record<string, string>;
  let client: S3Client;
  const dir = mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-upload-'));
  const movies = path.join(dir, 'movies.csv');
  const series = path.join(dir, 'series.csv');

  beforeAll(async () => {
    writeFileSync(movies, imdbCsv(3_000));
    writeFileSync(series, imdbCsv(500));
    writeFileSync(path.join(dir, 'commas.csv'), 'id,titulo,ano\ntt1,A,2000\n');
    writeFileSync(path.join(dir, 'ragged.csv'), `${HEADER}\n${imdbCsv(10).split('\n')[1]}\ntt9|too|few\n`);
    [redis, s3] = await Promise.all([startRedisServer(), startS3Server(['lake'])]);
    env = { REDIS_URL: redis.url, LOG_LEVEL: 'warn', ...s3Env(s3, 'lake') };
    client = new S3Client({
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
  });
  afterAll(async () => {
    client?.destroy();
    await Promise.all([redis?.stop(), s3?.close()]);
  });

  it('uploads files to <prefix>/<dataset>/YYYY/MM/DD/<name> with sha256, rows and a manifest; a re-run skips them', async () => {
    const first = await runCli(['upload', path.join(dir, '[ms]*es.csv'), '--dataset', 'imdb', '--json'], env);
    expect(first.stderr).not.toMatch(/error/i);
    expect(first.code).toBe(0);
    const r1 = lastJsonLine<UploadResult>(first.stdout);
    expect(r1).toMatchObject({ state: 'completed', uploaded: 2, skipped: 0, failed: 0 });
    const key = `${todayPrefix('raw/local/csv', 'imdb')}/movies.csv`;
    const local = readFileSync(movies);
    expect(r1.files.find((f) => f.name === 'movies.csv')).toMatchObject({ key, bytes: local.length, rows: 3_000, sha256: sha256(local), status: 'uploaded' });
    expect(r1.files.find((f) => f.name === 'series.csv')).toMatchObject({ rows: 500, status: 'uploaded' });

    const head = await client.send(new HeadObjectCommand({ Bucket: 'lake', Key: key }));
    expect(head.ContentLength).toBe(local.length);
    expect(head.Metadata?.sha256).toBe(sha256(local));
    expect(head.Metadata?.rows).toBe('3000');
    const body = await (await client.send(new GetObjectCommand({ Bucket: 'lake', Key: key }))).Body?.transformToByteArray();
    expect(sha256(Buffer.from(body ?? []))).toBe(sha256(local));

    const manifestRes = await client.send(new GetObjectCommand({ Bucket: 'lake', Key: `raw/tmdb/_runs/${r1.runId}/manifest.json` }));
    const manifest = JSON.parse((await manifestRes.Body?.transformToString()) ?? '{}') as { state: string; kind: string; files: UploadResult['files'] };
    expect(manifest).toMatchObject({ state: 'completed', kind: 'upload' });
    expect(manifest.files.map((f) => [f.name, f.key, f.bytes, f.rows, f.status])).toEqual([
      ['movies.csv', key, local.length, 3_000, 'uploaded'],
      ['series.csv', `${todayPrefix('raw/local/csv', 'imdb')}/series.csv`, readFileSync(series).length, 500, 'uploaded'],
    ]);
    const status = await runCli(['status', r1.runId, '--json'], env);
    expect(lastJsonLine(status.stdout)).toMatchObject({ state: 'completed', pagesPlanned: 2, pagesDone: 2 });
    // Without --json, status speaks of files, bytes and objects, not of TMDB titles.
    const uploadedBytes = local.length + readFileSync(series).length;
    const human = await runCli(['status', r1.runId], env);
    expect(human.stdout.trimEnd().split('\n')).toEqual([
      `run ${r1.runId} (upload) completed`,
      '  files: 2 planned, 2 uploaded, 0 skipped (already in the lake), 0 failed',
      `  lake: 2 objects written, ${uploadedBytes.toLocaleString('en-US')} bytes`, // under 1 MB: no MB figure
      '  audit: complete',
    ]);

    await new Promise((r) => setTimeout(r, 1_100)); // LastModified has 1 s resolution
    const second = await runCli(['upload', movies, series, '--dataset', 'imdb', '--json'], env);
    expect(second.code).toBe(0);
    expect(lastJsonLine<UploadResult>(second.stdout)).toMatchObject({ state: 'completed', uploaded: 0, skipped: 2, failed: 0 });
    const again = await client.send(new HeadObjectCommand({ Bucket: 'lake', Key: key }));
    expect(again.LastModified?.getTime()).toBe(head.LastModified?.getTime());
  });

  it('refuses bad arguments with exit 2 and one line naming the file or value, before anything is enqueued', async () => {
    const cases: [string[], RegExp][] = [
      [[path.join(dir, 'commas.csv'), '--dataset', 'imdb'], /commas\.csv: the header has 1 column\(s\) when split on "\|".*delimited by ","/],
      [[movies, '--dataset', 'imdb', '--header', 'id|titulo'], /movies\.csv: the header is id\|tituloPincipal.*: expected id\|titulo$/m],
      [[path.join(dir, 'nope.csv'), '--dataset', 'imdb'], /nope\.csv: no such file or directory/],
      [[path.join(dir, '*.parquet'), '--dataset', 'imdb'], /\*\.parquet: the glob matches no file/],
      [[movies, '--dataset', '..'], /--dataset "\.\." cannot be part of an object key/],
      [[movies, '--dataset', 'a/../../b'], /--dataset "a\/\.\.\/\.\.\/b" cannot be part of an object key/],
      [[movies, '--dataset', 'imdb', '--prefix', 'raw/../../etc'], /--prefix "raw\/\.\.\/\.\.\/etc" is not a key prefix/],
      [[movies, '--dataset', 'imdb', '--prefix', '/abs'], /--prefix "\/abs" is not a key prefix/],
      [[movies], /--dataset is required/],
    ];
    // No Redis listens on port 1: nothing can be enqueued.
    const results = await Promise.all(cases.map(([args]) => runCli(['upload', ...args], { ...env, REDIS_URL: 'redis://127.0.0.1:1' })));
    for (const [i, [args, message]] of cases.entries()) {
      const res = results[i] as (typeof results)[number];
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr.trim().split('\n')).toHaveLength(1);
      expect(res.stderr).toMatch(message);
    }
  });

  it('fails the run for a file with a malformed row, uploading nothing for it', async () => {
    const res = await runCli(['upload', path.join(dir, 'ragged.csv'), '--dataset', 'bad', '--json'], env);
    expect(res.code).toBe(1);
    const r = lastJsonLine<UploadResult>(res.stdout);
    expect(r).toMatchObject({ state: 'failed', failed: 1 });
    expect(r.files[0]?.error).toMatch(/ragged\.csv is not valid delimited text: .*line 3/);
    await expect(client.send(new HeadObjectCommand({ Bucket: 'lake', Key: `${todayPrefix('raw/local/csv', 'bad')}/ragged.csv` }))).rejects.toThrow();
  });

  it('completes with a failed file under RUN_FAILURE_THRESHOLD: exit 3 naming it in the audit, 0 with --allow-partial', async () => {
    const files = [series, path.join(dir, 'ragged.csv')];
    const lenient = { ...env, RUN_FAILURE_THRESHOLD: '0.6' };
    const res = await runCli(['upload', ...files, '--dataset', 'half', '--json'], lenient);
    expect(res.code, res.stderr).toBe(3);
    const r = lastJsonLine<UploadResult & { verdict: string; shortfalls: string[] }>(res.stdout);
    expect(r).toMatchObject({ state: 'completed', verdict: 'partial', uploaded: 1, failed: 1 });
    expect(r.shortfalls).toEqual([expect.stringMatching(/^1 file not uploaded: ragged\.csv \(.*line 3/)]);
    const manifest = JSON.parse(
      (await (await client.send(new GetObjectCommand({ Bucket: 'lake', Key: `raw/tmdb/_runs/${r.runId}/manifest.json` }))).Body!.transformToString()),
    ) as { audit: { verdict: string; files: Record<string, unknown> } };
    expect(manifest.audit).toMatchObject({ verdict: 'partial', files: { planned: 2, uploaded: 1, failed: 1, failedFiles: ['ragged.csv'] } });
    const allowed = await runCli(['upload', ...files, '--dataset', 'half', '--json', '--allow-partial'], lenient);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(lastJsonLine<UploadResult>(allowed.stdout)).toMatchObject({ state: 'completed', skipped: 1, failed: 1 });
  });

  it('writes to the local lake when S3_BUCKET is unset, and skips on a re-run', async () => {
    const lakeDir = mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-lake-'));
    const localEnv = { REDIS_URL: redis.url, LOG_LEVEL: 'warn', LAKE_DIR: lakeDir, S3_BUCKET: '' };
    const first = await runCli(['upload', dir, '--dataset', 'imdb', '--format', 'raw', '--prefix', 'raw/local/files', '--json'], localEnv);
    expect(first.code).toBe(0);
    expect(lastJsonLine<UploadResult>(first.stdout)).toMatchObject({ state: 'completed', uploaded: 4, skipped: 0 });
    const stored = readFileSync(path.join(lakeDir, todayPrefix('raw/local/files', 'imdb'), 'movies.csv'));
    expect(sha256(stored)).toBe(sha256(readFileSync(movies)));
    const second = await runCli(['upload', dir, '--dataset', 'imdb', '--format', 'raw', '--prefix', 'raw/local/files', '--json'], localEnv);
    expect(lastJsonLine<UploadResult>(second.stdout)).toMatchObject({ state: 'completed', uploaded: 0, skipped: 4 });
  });
});

describe('expandPaths', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-expand-'));
  const files = ['movies.csv', 'series.csv', 'notes.tsv', '.hidden.csv', 'report (1).csv', 'sub/x.csv', 'sub/deep/y.csv'];
  for (const f of files) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), 'a|b\n');
  }
  mkdirSync(path.join(dir, 'empty'));
  const expand = async (...patterns: string[]) => (await expandPaths(patterns, dir)).map((f) => path.relative(dir, f).split(path.sep).join('/'));

  it('takes paths as they are and a directory as its files (not recursive, no dotfiles)', async () => {
    expect(await expand('movies.csv', path.join(dir, 'notes.tsv'))).toEqual(['movies.csv', 'notes.tsv']);
    expect(await expand('.')).toEqual(['movies.csv', 'notes.tsv', 'report (1).csv', 'series.csv']);
    expect(await expand('sub')).toEqual(['sub/x.csv']);
  });

  it('matches *, ?, […] within a segment and ** across segments', async () => {
    expect(await expand('*.csv')).toEqual(['.hidden.csv', 'movies.csv', 'report (1).csv', 'series.csv']);
    expect(await expand('[ms]*es.csv')).toEqual(['movies.csv', 'series.csv']);
    expect(await expand('[!m]*.csv', '[^.rm]*.csv')).toEqual(['.hidden.csv', 'report (1).csv', 'series.csv']);
    expect(await expand('?ovies.csv', 'movies.csv')).toEqual(['movies.csv']);
    expect(await expand('sub/*/y.csv', 'su?/*.csv')).toEqual(['sub/deep/y.csv', 'sub/x.csv']);
    expect(await expand('**/*.csv')).toEqual(['.hidden.csv', 'movies.csv', 'report (1).csv', 'series.csv', 'sub/deep/y.csv', 'sub/x.csv']);
    expect(await expand('sub/**/*.csv')).toEqual(['sub/deep/y.csv', 'sub/x.csv']);
    expect(await expand('report (1)*')).toEqual(['report (1).csv']);
  });

  it('throws a UsageError for a missing path, an empty directory or a glob matching no file', async () => {
    await expect(expand()).rejects.toMatchObject({ name: 'UsageError', message: expect.stringMatching(/^no file given/) });
    await expect(expand('nope.csv')).rejects.toThrow(/^nope\.csv: no such file or directory$/);
    await expect(expand('empty')).rejects.toThrow(/^empty: the directory holds no file$/);
    await expect(expand('*.parquet')).rejects.toThrow(/^\*\.parquet: the glob matches no file$/);
    await expect(expand('nowhere/*.csv')).rejects.toThrow(/^nowhere\/\*\.csv: the glob matches no file$/);
  });
});

describe('planUpload --header', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-header-'));
  writeFileSync(path.join(dir, 'quoted.csv'), '"id"|"titulo|original"\ntt1|"A|B"\n');

  it('reads --header in the file dialect, as the file header is read', async () => {
    const plan = await planUpload({ patterns: ['quoted.csv'], dataset: 'imdb', header: 'id|"titulo|original"' }, new Date(), dir);
    expect(plan.files.map((f) => f.name)).toEqual(['quoted.csv']);
    await expect(planUpload({ patterns: ['quoted.csv'], dataset: 'imdb', header: 'id|titulo' }, new Date(), dir)).rejects.toThrow(
      /quoted\.csv: the header is id\|titulo\|original: expected id\|titulo$/,
    );
    await expect(planUpload({ patterns: ['quoted.csv'], dataset: 'imdb', header: 'id|"titulo' }, new Date(), dir)).rejects.toThrow(
      /^--header "id\|\\"titulo" is not valid delimited text: Quote Not Closed/,
    );
  });
});
