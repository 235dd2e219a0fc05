#!/usr/bin/env -S node --max-semi-space-size=2
/**
 * `tmdb-fleet`: the one entry point. The shebang gives Node a 2 MiB young generation
 * (`--max-semi-space-size=2`): the fleet's processes are I/O bound, and a small nursery keeps
 * their memory flat (a 300 MB upload peaks under 150 MiB; see README, "Uploading local files"). Subcommands map to producers (backfill), workers
 * (worker), run state (status) and the dashboard. Exit codes: 0 success, 1 a run failed or a
 * runtime error, 2 bad arguments or configuration.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig, type Config } from './config.js';
import { UsageError, ConfigError } from './errors.js';
import { createLogger, scrubSecrets, secretValues } from './log.js';
import { openFleet } from './fleet.js';
import { QUEUE_NAMES, type QueueName } from './queues.js';
import { parseBackfillArgs, startBackfill } from './producers/backfill.js';
import { humanSummary, startAndFollow, summaryLine } from './commands/run-output.js';
import { searchCommand } from './commands/search.js';
import { positiveInt } from './commands/options.js';
import { enrichCommand } from './commands/enrich.js';
import { reportCommand } from './commands/report.js';
import { syncCommand } from './commands/sync.js';
import { uploadCommand } from './commands/upload.js';
import { cancelRun, resumeRun } from './producers/run-control.js';
import { startWorkers } from './workers/index.js';
import { watchRun } from './progress.js';
import type { RunParams } from './runs.js';

interface BackfillOptions {
  from?: string;
  to?: string;
  param: string[];
  resume?: string;
  force?: boolean;
  wait?: boolean;
  json?: boolean;
  workers?: number;
}

const port = (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) > 65_535) throw new InvalidArgumentError(`port "${value}" is not 0-65535`);
  return Number(value);
};

const queueList = (value: string): QueueName[] => {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(QUEUE_NAMES as readonly string[]).includes(n)) {
      throw new InvalidArgumentError(`queue "${n}" is unknown: expected some of ${QUEUE_NAMES.join(',')}`);
    }
  }
  return names as QueueName[];
};

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Waits for SIGTERM/SIGINT, then runs `stop`, then exits 0. */
function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`tmdb-fleet: ${signal} received, shutting down\n`);
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
}

/** Builds the command-line program (without running it). */
export function buildProgram(env: NodeJS.ProcessEnv = process.env): Command {
  let config: Config | undefined;
  const getConfig = () => (config ??= loadConfig(env));
  const program = new Command('tmdb-fleet')
    .description('Moves the TMDB catalog into the raw zone of an S3 data lake: complete, exactly once, under one fleet-wide rate limit.')
    .showHelpAfterError()
    .configureOutput({ outputError: (str, write) => write(str) });

  program
    .command('worker')
    .description('run workers (long-running) for the given queues')
    .addOption(new Option('--queues <names>', 'comma-separated queues').default([...QUEUE_NAMES], QUEUE_NAMES.join(',')).argParser(queueList))
    .option('--concurrency <n>', 'jobs per queue at once (default WORKER_CONCURRENCY)', positiveInt('--concurrency'))
    .action(async (opts: { queues: QueueName[]; concurrency?: number }) => {
      const cfg = getConfig();
      const log = createLogger(cfg);
      const fleet = openFleet(cfg, log, 'worker');
      if (cfg.lake.kind === 'local') log.warn({ dir: cfg.lake.dir }, 'S3_BUCKET is unset: writing the lake to a local directory (LAKE_DIR)');
      await fleet.store.check().catch(async (err: unknown) => {
        await fleet.close();
        throw err;
      });
      fleet.tmdb();
      const set = startWorkers(fleet, opts.queues, opts.concurrency ?? cfg.jobs.concurrency);
      onShutdown(async () => {
        await set.close();
        await fleet.close();
      });
    });

  program
    .command('backfill')
    .description('plan and enqueue a backfill run (or resume one); prints its run id')
    .argument('[kind]', 'movie or tv (not with --resume)')
    .option('--from <date>', 'first release (movie) or first-air (tv) date, YYYY-MM-DD')
    .option('--to <date>', 'last release or first-air date, YYYY-MM-DD')
    .option('--param <key=value>', 'TMDB discover filter, repeatable (with_genres=28, vote_count.gte=10, ...)', collect, [])
    .option('--resume <runId>', 'continue a run after its processes were stopped or its failure was fixed')
    .option('--force', 'start even if a run with the same parameters is running')
    .option('--wait', 'block until the run ends; exit 0 when completed, 1 when failed or cancelled')
    .option('--json', 'print the run summary as one JSON object on the last line of stdout')
    .option('--workers <n>', 'with --wait: also run N workers in this process', positiveInt('--workers'))
    .action(async (kind: string | undefined, opts: BackfillOptions) => {
      const params = opts.resume ? undefined : parseBackfillArgs({ kind: kind ?? '', from: opts.from, to: opts.to, params: opts.param });
      if (opts.resume && (kind || opts.from || opts.to || opts.param.length > 0)) {
        throw new UsageError('--resume takes the run id only: the run keeps the kind, dates and filters it started with');
      }
      await startAndFollow(getConfig(), opts, async (fleet) => {
        if (!opts.resume) return (await startBackfill(fleet, params as RunParams, { force: opts.force ?? false })).runId;
        const r = await resumeRun(fleet, opts.resume);
        process.stderr.write(
          `tmdb-fleet: resumed ${opts.resume}: ${r.retried} dead letters retried, ${r.pages} pages and ${r.titles} titles enqueued again\n`,
        );
        return opts.resume;
      });
    });

  program.addCommand(searchCommand(getConfig));
  program.addCommand(enrichCommand(getConfig));

  program
    .command('cancel')
    .description('cancel a run: queued jobs removed, staged documents flushed, manifest marked cancelled')
    .argument('<runId>')
    .option('--wait', 'block until the manifest is written')
    .option('--json', 'print the run summary as one JSON object on the last line of stdout')
    .action(async (runId: string, opts: { wait?: boolean; json?: boolean }) => {
      const cfg = getConfig();
      const fleet = openFleet(cfg, createLogger(cfg), 'client');
      try {
        const { removed } = await cancelRun(fleet, runId);
        process.stderr.write(`tmdb-fleet: cancelling ${runId}: ${removed} queued jobs removed\n`);
        const s = opts.wait ? await watchRun(fleet.runs, runId) : await fleet.runs.summary(runId);
        process.stdout.write(opts.json ? `${summaryLine(s)}\n` : `${humanSummary(s)}\n`);
      } finally {
        await fleet.close();
      }
    });

  program
    .command('status')
    .description('print the summary of a run')
    .argument('<runId>')
    .option('--json', 'one JSON object')
    .action(async (runId: string, opts: { json?: boolean }) => {
      const cfg = getConfig();
      const fleet = openFleet(cfg, createLogger(cfg), 'client');
      try {
        const s = await fleet.runs.summary(runId);
        process.stdout.write(opts.json ? `${summaryLine(s)}\n` : `${humanSummary(s)}\n`);
      } finally {
        await fleet.close();
      }
    });

  program
    .command('dashboard')
    .description('serve Bull Board over every queue, /healthz and /metrics')
    .option('--port <port>', 'TCP port (default DASHBOARD_PORT)', port)
    .action(async (opts: { port?: number }) => {
      const cfg = getConfig();
      const log = createLogger(cfg);
      const fleet = openFleet(cfg, log, 'worker');
      // Express and Bull Board load only for the dashboard, not for every command.
      const { startDashboard } = await import('./dashboard/server.js');
      const dashboard = await startDashboard(fleet, {
        host: cfg.dashboard.host,
        port: opts.port ?? cfg.dashboard.port,
        auth: cfg.dashboard.auth,
        readOnly: cfg.dashboard.readOnly,
        webhookSecret: cfg.sync.webhookSecret,
      }).catch(async (err: unknown) => {
        await fleet.close();
        throw err;
      });
      log.info({ url: dashboard.url }, 'dashboard listening');
      process.stderr.write(`tmdb-fleet: dashboard at ${dashboard.url}\n`);
      onShutdown(async () => {
        await dashboard.close();
        await fleet.close();
      });
    });

  // Commands of other producers (one module each under src/commands/).
  program.addCommand(uploadCommand(getConfig));
  program.addCommand(syncCommand(getConfig));
  program.addCommand(reportCommand(getConfig));

  return program;
}

/** Runs the CLI; prints one clear line for expected errors, never a secret. */
export async function main(argv: string[] = process.argv): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    let secrets: string[] = [];
    try {
      secrets = secretValues(loadConfig());
    } catch {
      /* config errors carry no secret values */
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`tmdb-fleet: ${scrubSecrets(message, secrets)}\n`);
    const code = err instanceof UsageError || err instanceof ConfigError ? 2 : 1;
    process.exitCode = code;
    // A connection opened before the error (a worker's Redis, say) must not keep us alive.
    setTimeout(() => process.exit(code), 1_000).unref();
  }
}

/**
 * The AWS SDK warns on every start under Node 20 that future releases need Node 22; the Docker
 * image runs Node 24. Other warnings still print.
 */
function quietSdkNodeWarning(): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    // The SDK emits a plain Warning whose message starts with "NodeVersionSupportWarning".
    if (!`${warning.name}: ${warning.message}`.includes('NodeVersionSupportWarning')) {
      process.stderr.write(`${warning.name}: ${warning.message}\n`);
    }
  });
}

const invokedDirectly = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
})();
if (invokedDirectly) {
  quietSdkNodeWarning();
  void main();
}
