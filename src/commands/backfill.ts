/**
 * `tmdb-fleet backfill <movie|tv> [--from …] [--to …] [--param k=v]…` (discover windows),
 * `tmdb-fleet backfill <movie|tv> --source export [--export-date …] [--min-popularity N]
 * [--include-adult]` (TMDB's daily ID export), or `--resume <runId>`: plans and enqueues a
 * backfill, or re-drives one that stopped.
 */
import { Command } from 'commander';
import type { Config } from '../config.js';
import type { GetConfig } from './private-redis.js';
import { UsageError } from '../errors.js';
import { createInterface } from 'node:readline/promises';
import { openFleet } from '../fleet.js';
import { createLogger } from '../log.js';
import { parseBackfillArgs, startBackfill } from '../producers/backfill.js';
import { parseExportArgs, startExport } from '../producers/export.js';
import { formatDuration, planBackfill } from '../producers/backfill-plan.js';
import type { RunParams } from '../runs/types.js';
import { resumeRun } from '../producers/run-control.js';
import { collect, withFollowOptions } from './options.js';
import { startAndFollow, type FollowOptions } from './run-output.js';
import { cliHooks, type RunStarter } from './starters.js';
import { followWithWorkersFirst } from './workers-first.js';

/** Options of `backfill`. */
export interface BackfillOptions extends FollowOptions {
  from?: string;
  to?: string;
  param: string[];
  resume?: string;
  force?: boolean;
  source?: string;
  exportDate?: string;
  minPopularity?: string;
  includeAdult?: boolean;
  dryRun?: boolean;
  yes?: boolean;
}

/**
 * Confirms a big backfill (no dates, or more than BACKFILL_CONFIRM_TITLES): `--yes`, else a
 * question on a terminal (unless not `interactive`), else a UsageError saying to pass --yes.
 */
function confirmer(config: Config, params: RunParams, opts: BackfillOptions, interactive: boolean) {
  return async (expected: number): Promise<boolean> => {
    const undated = !params.from && !params.to;
    if (opts.yes || (!undated && expected <= config.backfillConfirmTitles)) return true;
    const eta = formatDuration(Math.ceil(expected / config.tmdb.rateLimitRps));
    const what = `${expected.toLocaleString('en-US')} titles${undated ? ' (no --from/--to: the whole catalog)' : ''}, about ${eta} at ${config.tmdb.rateLimitRps} requests/s`;
    if (!interactive || !process.stdin.isTTY || !process.stderr.isTTY) {
      throw new UsageError(`this backfill would fetch ${what}: pass --yes to start it (or --dry-run to see its plan)`);
    }
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return /^y(es)?$/i.test((await rl.question(`tmdb-fleet: backfill ${what}. Start it? [y/N] `)).trim());
    } finally {
      rl.close();
    }
  };
}

/** Prints a backfill's plan (page-1 requests only) and enqueues nothing. */
async function dryRun(config: Config, params: RunParams, json: boolean): Promise<void> {
  const fleet = openFleet(config, createLogger(config), 'client');
  try {
    const plan = await planBackfill(fleet, params);
    if (json) {
      process.stdout.write(`${JSON.stringify(plan)}\n`);
      return;
    }
    process.stdout.write(
      [
        `backfill ${params.kind}${params.from ? ` from ${params.from}` : ''}${params.to ? ` to ${params.to}` : ''} (dry run: nothing enqueued)`,
        `  titles: ${plan.expected} expected by TMDB, ${plan.reachable} in ${plan.leaves} windows, ${plan.unreachable} no window reaches`,
        `  requests: ${plan.requests} (${plan.pages} discover pages + ${plan.reachable} details); this plan used ${plan.planRequests}`,
        `  duration: about ${formatDuration(plan.etaSeconds)} at ${config.tmdb.rateLimitRps} requests/s`,
      ].join('\n') + '\n',
    );
  } finally {
    await fleet.close();
  }
}

/** Adds the options of `backfill` to a command named `backfill`. */
export function defineBackfill(command: Command): Command {
  return command
    .description('plan and enqueue a backfill run (or resume one); prints its run id')
    .argument('[kind]', 'movie or tv (not with --resume)')
    .option('--source <source>', 'discover (windows of GET /discover, the default) or export (TMDB\'s daily ID export file)', 'discover')
    .option('--from <date>', 'discover: first release (movie) or first-air (tv) date, YYYY-MM-DD')
    .option('--to <date>', 'discover: last release or first-air date, YYYY-MM-DD')
    .option('--param <key=value>', 'discover: TMDB discover filter, repeatable (with_genres=28, vote_count.gte=10, ...)', collect, [])
    .option('--export-date <date>', 'export: the file of this day, YYYY-MM-DD (default: the newest, today UTC or yesterday)')
    .option('--min-popularity <n>', 'export: keep lines whose popularity is at least n')
    .option('--include-adult', 'export: keep lines marked "adult": true (skipped by default)')
    .option('--resume <runId>', 'continue a run after its processes were stopped or its failure was fixed')
    .option('--dry-run', 'discover: plan the windows with page-1 requests only; print titles, requests and duration; enqueue nothing')
    .option('--yes', 'discover: start a backfill without dates or over BACKFILL_CONFIRM_TITLES without asking');
}

/**
 * The starter of a new backfill run (not a resume). A discover backfill without dates or over
 * BACKFILL_CONFIRM_TITLES is confirmed (`--yes`, else a question when `interactive` and on a
 * terminal); an export run reads one file whose size it does not know beforehand and asks nothing.
 * @param interactive - false in a schedule's tick: never ask, refuse without --yes.
 * @throws UsageError naming the bad value or the option that does not fit the source.
 */
export function backfillStarter(kind: string | undefined, opts: BackfillOptions, interactive = true): RunStarter {
  const source = opts.source ?? 'discover';
  const force = { force: opts.force ?? false };
  if (source === 'export') {
    if (opts.dryRun) throw new UsageError('--dry-run plans discover windows: an export run has none (it reads the file it is given)');
    if (opts.from || opts.to || opts.param.length > 0) {
      throw new UsageError('--from, --to and --param filter discover windows: an export run reads the whole file (filter it with --min-popularity, --include-adult)');
    }
    const req = parseExportArgs({ kind: kind ?? '', exportDate: opts.exportDate, minPopularity: opts.minPopularity, includeAdult: opts.includeAdult });
    return async (fleet, hooks) => {
      const onCreated = async (runId: string, file: string): Promise<void> => {
        hooks.report?.(`run ${runId} started: reading ${file}`);
        await hooks.onCreated?.(runId);
      };
      const r = await startExport(fleet, req, { ...force, onCreated });
      const c = r.counts;
      hooks.report?.(
        `${r.file}: ${c.line} lines read, ${c.kept} kept (${c.adult} adult skipped, ${c.belowPopularity} below --min-popularity, ${c.malformed} malformed)`,
      );
      return r.runId;
    };
  }
  if (source !== 'discover') throw new UsageError(`--source "${source}" is not supported: expected discover or export`);
  if (opts.exportDate || opts.minPopularity !== undefined || opts.includeAdult) {
    throw new UsageError('--export-date, --min-popularity and --include-adult need --source export');
  }
  const params = parseBackfillArgs({ kind: kind ?? '', from: opts.from, to: opts.to, params: opts.param });
  return async (fleet) => {
    const confirm = confirmer(fleet.config, params, opts, interactive);
    return (await startBackfill(fleet, params, { ...force, confirm })).runId;
  };
}

/** The `backfill` command. */
export function backfillCommand(getConfig: GetConfig): Command {
  return withFollowOptions(defineBackfill(new Command('backfill'))).action(async (kind: string | undefined, opts: BackfillOptions) => {
    const resume = opts.resume;
    if (resume) {
      if (opts.dryRun) throw new UsageError('--dry-run plans a new backfill: it does not go with --resume');
      if (kind || opts.from || opts.to || opts.param.length > 0 || opts.source !== 'discover' || opts.exportDate || opts.minPopularity) {
        throw new UsageError('--resume takes the run id only: the run keeps the kind, source, dates and filters it started with');
      }
      await followWithWorkersFirst(await getConfig(), opts, async (fleet) => {
        const r = await resumeRun(fleet, resume);
        const from = r.export ? `; export read again from line ${r.export.from.line} (byte ${r.export.from.byte}), ${r.export.counts.line - r.export.from.line} lines read this time` : '';
        process.stderr.write(
          `tmdb-fleet: resumed ${resume}: ${r.retried} dead letters retried, ${r.pages} pages and ${r.titles} titles enqueued again${from}\n`,
        );
        return resume;
      });
      return;
    }
    const starter = backfillStarter(kind, opts);
    if (opts.dryRun) {
      const params = parseBackfillArgs({ kind: kind ?? '', from: opts.from, to: opts.to, params: opts.param });
      await dryRun(await getConfig(), params, opts.json ?? false);
      return;
    }
    const follow = opts.source === 'export' ? followWithWorkersFirst : startAndFollow;
    await follow(await getConfig(), opts, (fleet) => starter(fleet, cliHooks));
  });
}
