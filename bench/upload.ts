/**
 * `npm run bench:upload`: generates a 300 MB pipe-delimited IMDB-style extract in a temporary
 * directory, uploads it through the real CLI process (`dist/src/cli.js upload`) to s3rver with a
 * fresh redis-server, samples the CLI process's RSS from /proc/<pid>/status, and prints peak
 * RSS, MB/s and whether the object's checksum matches; then runs the same upload again and
 * prints that nothing was uploaded. A script, not a test. `BENCH_UPLOAD_MB` changes the size.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { cliArgs } from '../test/support/fleet-process.js';
import { startRedisServer } from '../test/support/redis-server.js';
import { s3Env, startS3Server } from '../test/support/s3-server.js';

const HEADER =
  'id|tituloPincipal|tituloOriginal|anoLancamento|tempoMinutos|genero|notaMedia|numeroVotos|generoArtista|personagem|nomeArtista|anoNascimento|anoFalecimento|profissao|titulosMaisConhecidos';

/** Writes an extract of about `mb` MB (10^6 bytes), streaming; returns its bytes and rows. */
async function generate(file: string, mb: number): Promise<{ bytes: number; rows: number }> {
  const out = createWriteStream(file);
  let bytes = 0;
  let rows = 0;
  const write = async (s: string) => {
    bytes += Buffer.byteLength(s);
    if (!out.write(s)) await once(out, 'drain');
  };
  await write(`${HEADER}\n`);
  while (bytes < mb * 1e6) {
    let chunk = '';
    for (let j = 0; j < 1_000; j++) {
      const i = ++rows;
      chunk += `tt${String(i).padStart(8, '0')}|Filme número ${i}|Movie number ${i}|${1900 + (i % 125)}|${i % 7 === 0 ? '\\N' : 60 + (i % 120)}|Drama,Romance|${(i % 100) / 10}|${i * 13}|${i % 2 ? 'actor' : 'actress'}|["Personagem ${i}"]|Artista Exemplo ${i}|${1880 + (i % 120)}|${i % 3 === 0 ? '\\N' : 1950 + (i % 70)}|actor,soundtrack|tt${String(i % 99991).padStart(7, '0')},tt${String((i * 7) % 99991).padStart(7, '0')}\n`;
    }
    await write(chunk);
  }
  out.end();
  await once(out, 'finish');
  return { bytes, rows };
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Runs the CLI, sampling its VmRSS every 50 ms. */
async function runSampled(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string; peakRssMb: number; seconds: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, cliArgs(...args), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let peakKb = 0;
  const timer = setInterval(() => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      /* exited */
    }
  }, 50);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearInterval(timer);
  return { code, stdout, stderr, peakRssMb: peakKb / 1024, seconds: (Date.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const mb = Number(process.env.BENCH_UPLOAD_MB ?? 300);
  const dir = mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-bench-upload-'));
  const file = path.join(dir, 'movies.csv');
  const redis = await startRedisServer();
  const s3 = await startS3Server(['lake']);
  try {
    const { bytes, rows } = await generate(file, mb);
    const localSha = await sha256Of(file);
    console.log(`generated ${file}: ${(bytes / 1e6).toFixed(1)} MB, ${rows} rows, sha256 ${localSha}`);
    const env = { REDIS_URL: redis.url, LOG_LEVEL: 'warn', ...s3Env(s3, 'lake') };
    const args = ['upload', file, '--dataset', 'movies', '--json'];

    const first = await runSampled(args, env);
    if (first.code !== 0) throw new Error(`upload exited ${first.code}: ${first.stderr}`);
    const r1 = JSON.parse(first.stdout.trim().split('\n').pop() ?? '{}') as { uploaded: number; skipped: number; files: { key: string; rows: number; sha256: string }[] };
    const f = r1.files[0];
    const client = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    const head = await client.send(new HeadObjectCommand({ Bucket: 'lake', Key: f?.key }));
    const match = head.ContentLength === bytes && head.Metadata?.sha256 === localSha && f?.sha256 === localSha;
    console.log(`upload 1: ${r1.uploaded} uploaded, ${r1.skipped} skipped, ${f?.rows} rows counted (generated ${rows})`);
    console.log(`  key ${f?.key}`);
    console.log(`  peak CLI RSS ${first.peakRssMb.toFixed(1)} MiB, ${first.seconds.toFixed(1)} s wall, ${(bytes / 1e6 / first.seconds).toFixed(1)} MB/s (process start, hash + row check, upload, verify)`);
    console.log(`  checksum match: ${match} (object ${head.ContentLength} bytes, x-amz-meta-sha256 ${head.Metadata?.sha256})`);

    const second = await runSampled(args, env);
    const r2 = JSON.parse(second.stdout.trim().split('\n').pop() ?? '{}') as { uploaded: number; skipped: number };
    const head2 = await client.send(new HeadObjectCommand({ Bucket: 'lake', Key: f?.key }));
    console.log(`upload 2 (re-run): ${r2.uploaded} uploaded, ${r2.skipped} skipped, LastModified unchanged: ${head2.LastModified?.getTime() === head.LastModified?.getTime()}, peak RSS ${second.peakRssMb.toFixed(1)} MiB, ${second.seconds.toFixed(1)} s`);
    client.destroy();
  } finally {
    await s3.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
