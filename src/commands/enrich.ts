/**
 * `tmdb-fleet enrich --csv movies.csv --id-column id [--filter genero=Action]…`: TMDB details for
 * every IMDB id of a CSV, through the same details and write queues as a backfill (same layout,
 * its own run and manifest, unmatched ids listed there).
 */
import { Command } from 'commander';
import type { Config } from '../config.js';
import { parseEnrichArgs, startEnrich } from '../producers/enrich.js';
import { positiveInt } from './options.js';
import { startAndFollow, type FollowOptions } from './run-output.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The `enrich` command. */
export function enrichCommand(getConfig: () => Config): Command {
  return new Command('enrich')
    .description('collect TMDB details for every IMDB id in a CSV (GET /find, then details)')
    .requiredOption('--csv <file>', 'the CSV (| , or tab delimited, header on the first line)')
    .requiredOption('--id-column <name>', 'the column holding IMDB ids (tt0258463)')
    .option('--filter <column=value>', 'keep rows whose column equals value (or lists it, comma-separated); repeatable', collect, [])
    .option('--kind <kind>', 'movie or tv: which TMDB titles to match', 'movie')
    .option('--force', 'start even if a run with the same parameters is running')
    .option('--wait', 'block until the run ends; exit 0 when completed, 1 otherwise')
    .option('--json', 'print the run summary as one JSON object on the last line of stdout')
    .option('--workers <n>', 'with --wait: also run N workers in this process', positiveInt('--workers'))
    .action(async (opts: FollowOptions & { csv: string; idColumn: string; filter: string[]; kind: string; force?: boolean }) => {
      const params = parseEnrichArgs({ csv: opts.csv, idColumn: opts.idColumn, filter: opts.filter, kind: opts.kind });
      await startAndFollow(getConfig(), opts, async (fleet) => {
        const r = await startEnrich(fleet, params, { force: opts.force ?? false });
        process.stderr.write(`tmdb-fleet: ${r.rows} rows read, ${r.kept} kept by the filter, ${r.ids} distinct IMDB ids\n`);
        return r.runId;
      });
    });
}
