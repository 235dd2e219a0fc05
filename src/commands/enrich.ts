/**
 * `tmdb-fleet enrich --csv movies.csv --id-column id [--filter genero=Action]…`: TMDB details for
 * every IMDB id of a CSV, through the same details and write queues as a backfill (same layout,
 * its own run and manifest, unmatched ids listed there).
 */
import { Command } from 'commander';
import type { GetConfig } from './private-redis.js';
import { parseEnrichArgs, startEnrich } from '../producers/enrich.js';
import { collect, withFollowOptions } from './options.js';
import { startAndFollow, type FollowOptions } from './run-output.js';
import { cliHooks, type RunStarter } from './starters.js';

/** Options of `enrich`. */
export interface EnrichOptions extends FollowOptions {
  csv: string;
  idColumn: string;
  filter: string[];
  kind: string;
  force?: boolean;
}

/** Adds the options of `enrich` to a command named `enrich`. */
export function defineEnrich(command: Command): Command {
  return command
    .description('collect TMDB details for every IMDB id in a CSV (GET /find, then details)')
    .requiredOption('--csv <file>', 'the CSV (| , or tab delimited, header on the first line)')
    .requiredOption('--id-column <name>', 'the column holding IMDB ids (tt0258463)')
    .option('--filter <column=value>', 'keep rows whose column equals value (or lists it, comma-separated); repeatable', collect, [])
    .option('--kind <kind>', 'movie or tv: which TMDB titles to match', 'movie');
}

/** The starter of an enrich run. @throws UsageError naming a bad value. */
export function enrichStarter(opts: EnrichOptions): RunStarter {
  const params = parseEnrichArgs({ csv: opts.csv, idColumn: opts.idColumn, filter: opts.filter, kind: opts.kind });
  return async (fleet, hooks) => {
    const r = await startEnrich(fleet, params, { force: opts.force ?? false });
    hooks.report?.(`${r.rows} rows read, ${r.kept} kept by the filter, ${r.ids} distinct IMDB ids`);
    return r.runId;
  };
}

/** The `enrich` command. */
export function enrichCommand(getConfig: GetConfig): Command {
  return withFollowOptions(defineEnrich(new Command('enrich'))).action(async (opts: EnrichOptions) => {
    const starter = enrichStarter(opts);
    await startAndFollow(await getConfig(), opts, (fleet) => starter(fleet, cliHooks));
  });
}
