/**
 * `tmdb-fleet report <runId> [--format md|json] [--out <dir>]`: reads a finished run back from
 * the lake (its manifest, then every listed object as a stream) and reports mean revenue and
 * budget, revenue and budget by release year, the top-grossing title against the biggest
 * budget and Pearson correlations of popularity with revenue and with release year; writes an
 * SVG chart of revenue and budget by year to `<out>/<runId>-revenue-budget.svg`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import type { Config } from '../config.js';
import type { GetConfig } from './private-redis.js';
import { RunNotFoundError, UsageError } from '../errors.js';
import { openFleet } from '../fleet.js';
import { manifestKey } from '../lake/keys.js';
import { openStore } from '../lake/store.js';
import { createLogger } from '../log.js';
import { readManifest } from '../lake/manifest.js';
import { collectRunRows, RunNotReportableError } from '../report/read-run.js';
import { renderJson, renderMarkdown, type RunReport } from '../report/render.js';
import { computeRunStats } from '../report/stats.js';

const FORMATS = ['md', 'json'] as const;
type Format = (typeof FORMATS)[number];

/** File name of a run's chart inside the `--out` directory. */
export function chartFileName(runId: string): string {
  return `${runId}-revenue-budget.svg`;
}

/**
 * Why a run has no manifest, for the error message: its state in Redis when Redis knows it.
 * Never throws: an unreachable Redis is said in the returned text.
 */
async function describeMissingRun(config: Config, runId: string): Promise<string> {
  const fleet = openFleet(config, createLogger(config), 'client');
  try {
    const s = await fleet.redisWatch.guard(fleet.runs.summary(runId));
    return s.state === 'running' || s.state === 'finalizing'
      ? `it is ${s.state} (not finished yet: a report needs the manifest a finished run writes)`
      : `Redis says it is ${s.state}, but its manifest is missing from the lake (check S3_PREFIX, S3_BUCKET or LAKE_DIR)`;
  } catch (err) {
    if (err instanceof RunNotFoundError) return 'Redis does not know it either (it never ran, or its state expired)';
    return `its state could not be read from Redis (${(fleet.redisWatch.explain(err) as Error).message})`;
  } finally {
    await fleet.close();
  }
}

/**
 * Builds the report of a finished run.
 * @param out - directory for the SVG chart (created if missing).
 * @throws RunNotReportableError naming the run and its state when it has no manifest.
 * @throws UsageError for a run that moved no TMDB titles (upload, sync).
 * @throws LakeError when an object listed in the manifest cannot be read or disagrees with it.
 */
export async function buildRunReport(config: Config, runId: string, out: string): Promise<RunReport> {
  const store = openStore(config);
  const prefix = config.lake.prefix;
  const manifest = await readManifest(store, prefix, runId);
  if (!manifest) {
    const why = await describeMissingRun(config, runId);
    throw new RunNotReportableError(
      `run "${runId}" has no manifest at ${store.location}/${manifestKey(prefix, runId)}: ${why}`,
    );
  }
  if (manifest.kind !== 'movie' && manifest.kind !== 'tv') {
    throw new UsageError(
      `run "${runId}" is ${manifest.kind === 'upload' ? 'an upload' : 'a sync'} run: report covers TMDB title runs (backfill, search, enrich); see "tmdb-fleet status ${runId}" for its files or copies`,
    );
  }
  const { rows, names } = await collectRunRows(store, manifest);
  const stats = computeRunStats(rows, names);
  let chart: string | null = null;
  // vega and vega-lite weigh ~50 MiB: loaded only when a chart is drawn, not by every command.
  const { chartData, renderRevenueBudgetSvg } = await import('../report/chart.js');
  if (chartData(stats.years).length > 0) {
    const svg = await renderRevenueBudgetSvg(runId, stats.years);
    await mkdir(out, { recursive: true });
    chart = path.resolve(out, chartFileName(runId));
    await writeFile(chart, svg);
  }
  return { runId, kind: manifest.kind, state: manifest.state, objects: manifest.objects.length, stats, chart };
}

/** The `report` command. */
export function reportCommand(getConfig: GetConfig): Command {
  return new Command('report')
    .description('report on a finished run from the lake: revenue and budget (USD), by release year, correlations; SVG chart')
    .argument('<runId>', 'the run to report on (it must have finished: its manifest is read)')
    .option('--format <format>', 'md (Markdown tables) or json', 'md')
    .option('--out <dir>', 'directory for the chart <runId>-revenue-budget.svg', '.')
    .action(async (runId: string, opts: { format: string; out: string }) => {
      if (!(FORMATS as readonly string[]).includes(opts.format)) {
        throw new UsageError(`--format "${opts.format}" is unknown: expected md or json`);
      }
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(runId)) {
        throw new UsageError(`run id "${runId}" is not a run id: expected letters, digits, ".", "_" or "-" (e.g. movie-20261121T051200-3f9a)`);
      }
      const format = opts.format as Format;
      const report = await buildRunReport(await getConfig(), runId, opts.out);
      if (format === 'json') {
        process.stdout.write(renderJson(report));
        if (report.chart) process.stderr.write(`tmdb-fleet: chart written to ${report.chart}\n`);
      } else {
        process.stdout.write(renderMarkdown(report));
        process.stdout.write(
          report.chart
            ? `\nChart: ${report.chart}\n`
            : `\nChart: none (${report.stats.hasMoney ? 'no title of this run has a known revenue or budget' : 'tv documents have no revenue or budget'})\n`,
        );
      }
    });
}
