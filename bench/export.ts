/**
 * Scenario 4 of `npm run bench`: an export backfill of a 1,000,000-line daily ID export through
 * real processes (a fresh redis-server, s3rver, the fake TMDB serving the file gzip-streamed,
 * 2 `tmdb-fleet worker` processes, `tmdb-fleet backfill movie --source export --min-popularity …
 * --wait --json`). TMDB has details for the popular titles only, and the run keeps those
 * (`--min-popularity`), so it stays short while the reader still streams and classifies every
 * line. Samples Redis `used_memory` (target: under 128 MiB) and the reader's RSS, and reads the
 * lake back: every kept title that TMDB has, exactly once.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { FakeTitle } from '../src/sandbox/catalog.js';
import { daysAgo } from '../src/sandbox/days.js';
import { exportFileName } from '../src/sandbox/feeds.js';
import { startFakeTmdb } from '../src/sandbox/server.js';
import { cliArgs, lastJsonLine, startWorker, type WorkerProcess } from '../test/support/fleet-process.js';
import { readRun } from '../test/support/lake-reader.js';
import { startRedisServer } from '../test/support/redis-server.js';
import { s3Env, startS3Server } from '../test/support/s3-server.js';

const LINES = 1_000_000;
/** Popularity is uniform over 0..99.99; at or above this, 2.5 % of the lines are kept. */
const MIN_POPULARITY = 97.5;
const MIB = 1024 * 1024;

const popularity = (id: number) => (Math.imul(id, 0x9e3779b1) >>> 0) % 10_000 / 100;
const adult = (id: number) => id % 97 === 0;
/** Kept ids TMDB no longer has (every 50th): counted as not found. */
const stale = (id: number) => id % 50 === 7;

/** What scenario 4 measured. */
export interface ExportBenchResult {
  lines: number;
  kept: number;
  landed: number;
  notFound: number;
  wallS: number;
  baselineUsedMemory: number;
  peakUsedMemory: number;
  peakReaderRss: number;
  gzipBytes: number;
  verified: string;
  ok: boolean;
}

function rssBytes(pid: number | undefined): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1] ?? Number.NaN);
}

/** Runs the export backfill CLI to its end, sampling Redis `used_memory` and the CLI's RSS every 200 ms. */
async function runReader(env: Record<string, string>, monitor: Redis, baselineUsedMemory: number) {
  const started = Date.now();
  const nodeOptions = process.env.BENCH_READER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_READER_NODE_OPTIONS } : {};
  const cli = spawn(process.execPath, cliArgs('backfill', 'movie', '--source', 'export', '--min-popularity', String(MIN_POPULARITY), '--wait', '--json'), {
    env: { ...process.env, ...env, ...nodeOptions },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  cli.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  cli.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let peakUsedMemory = baselineUsedMemory;
  let peakReaderRss = 0;
  const sampler = setInterval(() => {
    peakReaderRss = Math.max(peakReaderRss, rssBytes(cli.pid));
    void usedMemory(monitor).then((m) => (peakUsedMemory = Math.max(peakUsedMemory, m)), () => undefined);
  }, 200);
  const killer = setTimeout(() => cli.kill('SIGKILL'), 300_000);
  const [code] = (await once(cli, 'exit')) as [number | null];
  clearInterval(sampler);
  clearTimeout(killer);
  return { code, stdout, stderr, wallS: (Date.now() - started) / 1000, peakUsedMemory, peakReaderRss };
}

/** Runs scenario 4; `log` gets progress lines. */
export async function runExportBench(log: (line: string) => void): Promise<ExportBenchResult> {
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());
    const s3 = await startS3Server(['lake']);
    cleanups.push(() => s3.close());
    const titles: FakeTitle[] = [];
    for (let id = 1; id <= LINES; id++) {
      if (popularity(id) >= MIN_POPULARITY && !adult(id) && !stale(id)) titles.push({ id, date: '2019-06-01', voteCount: 10, originalLanguage: 'en' });
    }
    const file = exportFileName('movie', daysAgo(0));
    function* lines(): Generator<string> {
      for (let id = 1; id <= LINES; id++) {
        yield `{"adult":${adult(id)},"id":${id},"original_title":"Title ${id}","popularity":${popularity(id)},"video":false}`;
      }
    }
    const fake = await startFakeTmdb({ movie: { titles }, exports: { [file]: lines } });
    cleanups.push(() => fake.close());
    const env: Record<string, string> = {
      REDIS_URL: redis.url,
      REDIS_PREFIX: '{bench-export}',
      TMDB_API_BASE_URL: fake.url,
      TMDB_FILES_BASE_URL: fake.filesUrl,
      TMDB_ACCESS_TOKEN: 'test-token',
      TMDB_RATE_LIMIT_RPS: '2000',
      WORKER_CONCURRENCY: '64',
      BATCH_MAX_WAIT_MS: '1000',
      LOG_LEVEL: 'warn',
      ...s3Env(s3, 'lake'),
    };
    const workers: WorkerProcess[] = [startWorker(env), startWorker(env)];
    cleanups.push(() => Promise.all(workers.map((w) => w.kill())));
    const monitor = new Redis(redis.url);
    cleanups.push(async () => monitor.disconnect());
    await new Promise((r) => setTimeout(r, 2_000));
    const baselineUsedMemory = await usedMemory(monitor);
    log(`scenario 4: ${LINES.toLocaleString('en-US')}-line export, ${titles.length} titles with details, baseline used_memory ${(baselineUsedMemory / MIB).toFixed(1)} MiB ...`);

    const { code, stdout, stderr, wallS, peakUsedMemory, peakReaderRss } = await runReader(env, monitor, baselineUsedMemory);
    const s = code === 0 ? lastJsonLine<{ runId: string; expected: number; records: number; notFound: number; state: string }>(stdout) : undefined;
    let verified = `CLI exit ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
    let landed = 0;
    if (s) {
      const lake = await readRun(env, 'movie', s.runId);
      landed = lake.idCounts.size;
      const twice = [...lake.idCounts.values()].filter((n) => n !== 1).length;
      const missing = titles.filter((t) => !lake.idCounts.has(t.id)).length;
      verified = twice === 0 && missing === 0 && landed === titles.length && s.state === 'completed'
        ? `verified: ${landed} titles once each in ${lake.keys.length} objects`
        : `WRONG: ${missing} missing, ${twice} more than once, state ${s.state}`;
    }
    return {
      lines: fake.stats().exportLinesServed,
      kept: s?.expected ?? 0,
      landed,
      notFound: s?.notFound ?? 0,
      wallS,
      baselineUsedMemory,
      peakUsedMemory,
      peakReaderRss,
      gzipBytes: fake.stats().exportBytesServed,
      verified,
      ok: verified.startsWith('verified') && peakUsedMemory < 128 * MIB,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  }
}

/** Scenario 4 as Markdown. */
export function exportBenchTable(r: ExportBenchResult): string {
  const mib = (b: number) => `${(b / MIB).toFixed(1)} MiB`;
  return [
    '| scenario | export lines | kept (--min-popularity) | landed | not found | gzip served | peak Redis used_memory | peak reader RSS | wall time | verified |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    `| 4. 1,000,000-line export, 2 workers | ${r.lines.toLocaleString('en-US')} | ${r.kept.toLocaleString('en-US')} | ${r.landed.toLocaleString('en-US')} | ${r.notFound} | ${mib(r.gzipBytes)} | **${mib(r.peakUsedMemory)}** (baseline ${mib(r.baselineUsedMemory)}) | ${mib(r.peakReaderRss)} | ${r.wallS.toFixed(1)} s | ${r.verified} |`,
  ].join('\n');
}
