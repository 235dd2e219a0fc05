/**
 * `tmdb-fleet upload <path|glob>… --dataset <name>`: moves local files into the raw zone as one
 * run (one upload job per file). The files are on this machine, so the upload workers run in
 * this process (`--workers N` sets of them); the queue still gives run state, retries and Bull
 * Board visibility. Exit codes (`exit-codes.ts`): 0 every file uploaded or skipped, 3 the run
 * completed with files that failed (unless `--allow-partial`), 1 the run failed, 2 bad
 * arguments (before anything is enqueued).
 */
import { Command, InvalidArgumentError } from 'commander';
import type { GetConfig } from './private-redis.js';
import { openFleet, type Fleet } from '../fleet.js';
import { createLogger } from '../log.js';
import { manifestKey } from '../lake/keys.js';
import { planUpload, startUpload } from '../producers/upload.js';
import type { RunSummary, UploadedFile } from '../runs/types.js';
import { writeStderr } from '../terminal.js';
import { startWorkers, type WorkerSet } from '../workers/index.js';
import { TerminalBar, runIsOver } from './progress.js';
import { runExitCode } from './exit-codes.js';
import { ALLOW_PARTIAL_HELP } from './options.js';

interface UploadOptions {
  dataset?: string;
  prefix?: string;
  format?: string;
  delimiter?: string;
  header?: string;
  workers: number;
  force?: boolean;
  json?: boolean;
  allowPartial?: boolean;
}

const positiveInt = (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(`--workers "${value}" is not a whole number ≥ 1`);
  return Number(value);
};

/** Builds the `upload` command; `getConfig` reads the environment on first use. */
export function uploadCommand(getConfig: GetConfig): Command {
  return new Command('upload')
    .description('upload local files (csv exports) into the raw zone: <prefix>/<dataset>/YYYY/MM/DD/<file name>')
    .argument('<paths...>', 'files, directories or globs (*, ?, [...], **), e.g. ./exports/*.csv')
    .option('--dataset <name>', 'dataset the files belong to, e.g. movies (required)')
    .option('--prefix <prefix>', 'key prefix', 'raw/local/csv')
    .option('--format <format>', 'csv (header and rows checked, rows counted) or raw (bytes as they are)', 'csv')
    .option('--delimiter <char>', 'csv field delimiter', '|')
    .option('--header <columns>', 'csv: the exact header expected, columns joined by the delimiter')
    .option('--workers <n>', 'files uploaded at once (upload workers in this process)', positiveInt, 1)
    .option('--force', 'start even if the same upload is running')
    .option('--json', 'print the result as one JSON object on the last line of stdout')
    .option('--allow-partial', ALLOW_PARTIAL_HELP)
    .action(async (patterns: string[], opts: UploadOptions) => {
      const plan = await planUpload({
        patterns,
        dataset: opts.dataset,
        prefix: opts.prefix,
        format: opts.format,
        delimiter: opts.delimiter,
        header: opts.header,
      });
      const cfg = await getConfig();
      const log = createLogger(cfg);
      const fleet = openFleet(cfg, log, 'client');
      let workerFleet: Fleet | undefined;
      const sets: WorkerSet[] = [];
      try {
        if (cfg.lake.kind === 'local') writeStderr(`tmdb-fleet: S3_BUCKET is unset: the lake is the local directory ${cfg.lake.dir}\n`);
        const { runId } = await fleet.redisWatch.guard(startUpload(fleet, plan, { force: opts.force ?? false }));
        if (!opts.json) process.stdout.write(`${runId}\n`);
        workerFleet = openFleet(cfg, log, 'worker');
        for (let i = 0; i < opts.workers; i++) sets.push(startWorkers(workerFleet, ['upload', 'write'], 1));
        const totalBytes = plan.files.reduce((sum, f) => sum + f.size, 0);
        const summary = await fleet.redisWatch.guard(watchUpload(fleet, runId, totalBytes));
        const files = await fleet.redisWatch.guard(fleet.runs.files(runId));
        files.sort((a, b) => a.name.localeCompare(b.name));
        const manifest = `${fleet.store.location}/${manifestKey(cfg.lake.prefix, runId)}`;
        const count = (s: UploadedFile['status']) => files.filter((f) => f.status === s).length;
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify({
              runId,
              state: summary.state,
              error: summary.error,
              uploaded: count('uploaded'),
              skipped: count('skipped'),
              failed: count('failed'),
              verdict: summary.verdict ?? null,
              shortfalls: summary.shortfalls ?? [],
              bytes: totalBytes,
              manifest,
              files,
            })}\n`,
          );
        } else {
          for (const f of files) {
            const rows = f.rows !== undefined ? `, ${f.rows} rows` : '';
            const detail = f.status === 'failed' ? `: ${f.error ?? ''}` : ` (${f.bytes} bytes${rows}, sha256 ${f.sha256})`;
            process.stdout.write(`  ${f.status.padEnd(8)} ${fleet.store.location}/${f.key}${detail}\n`);
          }
          process.stdout.write(
            `run ${runId} ${summary.state}${summary.error ? `: ${summary.error}` : ''}: ${count('uploaded')} uploaded, ${count('skipped')} skipped, ${count('failed')} failed; manifest ${manifest}\n`,
          );
        }
        process.exitCode = runExitCode(summary, opts.allowPartial ?? false);
      } finally {
        await Promise.all(sets.map((s) => s.close(fleet.redisWatch.failure ? 0 : undefined)));
        await workerFleet?.close();
        await fleet.close();
      }
    });
}

/**
 * Follows an upload run until it ends: a progress bar by bytes on a TTY (cli-progress), a plain
 * line every 5 s otherwise. Each byte counts half when hashed and half when sent (or skipped).
 */
async function watchUpload(fleet: Fleet, runId: string, totalBytes: number): Promise<RunSummary> {
  const stream = process.stderr;
  const mb = (n: number) => (n / 1e6).toFixed(1);
  const started = Date.now();
  let lastLine = Date.now();
  let summary = await fleet.runs.summary(runId);
  const bar = stream.isTTY
    ? new TerminalBar(stream, '{bar} {done}/{total_mb} MB | {speed} MB/s | ETA {eta_formatted} | files {files}/{planned} | {state}', {
        done: '0.0',
        total_mb: mb(totalBytes),
        speed: '0.0',
        files: 0,
        planned: summary.pagesPlanned,
        state: summary.state,
      })
    : undefined;
  for (;;) {
    const over = runIsOver(summary);
    const bytes = over ? totalBytes : Math.min(await fleet.runs.bytesDone(runId), totalBytes);
    const speed = mb(bytes / Math.max((Date.now() - started) / 1000, 0.001));
    const values = { done: mb(bytes), total_mb: mb(totalBytes), speed, files: summary.pagesDone, planned: summary.pagesPlanned, state: summary.state };
    if (bar) bar.update(bytes, totalBytes, values);
    else if (Date.now() - lastLine >= 5_000 || over) {
      lastLine = Date.now();
      stream.write(`${runId} ${summary.state}: ${values.done}/${values.total_mb} MB, ${speed} MB/s, files ${summary.pagesDone}/${summary.pagesPlanned}\n`);
    }
    if (over) break;
    await new Promise((r) => setTimeout(r, 300));
    summary = await fleet.runs.summary(runId);
  }
  bar?.stop();
  return summary;
}
